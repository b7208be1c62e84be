"""Nordic Power Profiler Kit II, spoken to directly over its USB serial port.

We speak the PPK2's serial protocol ourselves (pyserial only) rather than
wrapping `ppk2-api`: the protocol is small, we need the raw 32-bit words
(digital inputs and the sample counter) vectorised with numpy, and the pty
simulator in the tests can then check every byte. Protocol facts, from
Nordic's nRF Connect Power Profiler (src/device/serialDevice.ts) and the
`ppk2-api` package, which follows it:

  host -> PPK2, one opcode byte plus arguments:
    0x19            GetMetadata; answer: "key: value" text lines ending in "END"
                    (R0..R4, GS0.., GI0.., O0.., S0.., I0.., UG0.., Calibrated, HW, IA)
    0x11 m          SetPowerMode: m=2 source meter (PPK2 supplies VOUT), m=1 ampere meter
    0x0d hi lo      RegulatorSet: VOUT in mV as a big-endian u16 (800..5000)
    0x0c 1 / 0      DeviceRunningSet: DUT power on / off
    0x06 / 0x07     AverageStart / AverageStop: start / stop the sample stream
  PPK2 -> host while running: 100 000 samples/s, one little-endian u32 each:
    bits 0-13  ADC code (x4 before use)     bits 14-16 current range 0..4
    bits 18-23 6-bit sample counter         bits 24-31 digital inputs D0..D7
  current [A] = UG*(x*(GS*x + GI) + S*VDD[V] + I),  x = (4*adc - O) * (1.8/163840) / R
  with the per-range modifiers from the metadata.

Nordic's app also runs a rolling-average "spike filter" after range switches;
we do not (energy over a window of many inferences does not need it), so
single samples right after a range switch may differ from the app's plot.
"""
from __future__ import annotations

import re
import time

import numpy as np

from ...core.errors import ConfigError, DeviceError
from ._serial import SerialLink
from .base import Meter, PowerTrace

GET_METADATA, SET_POWER_MODE, REGULATOR_SET, DEVICE_RUNNING_SET = 0x19, 0x11, 0x0D, 0x0C
AVERAGE_START, AVERAGE_STOP = 0x06, 0x07
SAMPLE_S = 10e-6                     # 100 kS/s
ADC_MULT = 1.8 / 163840
DEFAULTS = {                         # used where the metadata has no (or a NaN) value
    "r": [1031.64, 101.65, 10.15, 0.94, 0.043],
    "gs": [1.0] * 5, "gi": [1.0] * 5, "o": [0.0] * 5, "s": [0.0] * 5, "i": [0.0] * 5, "ug": [1.0] * 5,
}
_META_LINE = re.compile(r"^\s*([A-Za-z]+)(\d?)\s*:\s*(\S+)\s*$")


def parse_metadata(text: str) -> dict[str, list[float]]:
    """Calibration modifiers from the GetMetadata answer (defaults where missing)."""
    mods = {k: list(v) for k, v in DEFAULTS.items()}
    seen = 0
    for line in text.replace("\r", "").split("\n"):
        m = _META_LINE.match(line)
        if not m:
            continue
        seen += 1
        key, idx, value = m.group(1).lower(), m.group(2), m.group(3)
        if key in mods and idx:
            try:
                v = float(value)
            except ValueError:
                continue
            if np.isfinite(v) and not (key == "r" and v == 0):   # some units report R=0: keep default
                mods[key][int(idx)] = v
    if not seen:
        raise ValueError("no 'key: value' lines")
    return mods


def decode_samples(raw: bytes, mods: dict[str, list[float]], vdd_mv: float) -> dict[str, np.ndarray]:
    """u32 words -> current (A), digital byte, sample index (gaps where the counter skipped)."""
    n = len(raw) // 4
    w = np.frombuffer(raw[: n * 4], dtype="<u4").astype(np.int64)
    adc4 = (w & 0x3FFF) * 4
    rng = np.minimum((w >> 14) & 0x7, 4)
    counter = (w >> 18) & 0x3F
    digital = ((w >> 24) & 0xFF).astype(np.uint8)
    m = {k: np.asarray(v, dtype=np.float64)[rng] for k, v in mods.items()}
    x = (adc4 - m["o"]) * (ADC_MULT / m["r"])
    current = m["ug"] * (x * (m["gs"] * x + m["gi"]) + (m["s"] * (vdd_mv / 1000.0) + m["i"]))
    # The counter advances by one per sample; a larger step means lost samples.
    step = ((np.diff(counter) - 1) & 0x3F) + 1
    index = np.concatenate(([0], np.cumsum(step)))
    return {"current": current, "digital": digital, "index": index, "steps": step}


class PPK2Meter(Meter):
    """Options: port (required), supply_v (required: VOUT in source mode, the DUT's
    supply in ampere mode), mode "source" | "ampere", keep_power (leave the DUT
    powered after close), timeout (s to wait for the metadata answer)."""

    name = "ppk2"

    def __init__(self, port: str = "", supply_v: float | None = None, mode: str = "source",
                 keep_power: bool = False, timeout: float = 2.0):
        # No default voltage: a PPK2 in source mode feeds the board, and a wrong
        # guess can damage a 1.8 V part.
        if supply_v is None:
            raise ConfigError("ppk2: supply_v is required (the voltage the PPK2 supplies in source mode, "
                              "or the DUT's supply in ampere mode), e.g. supply_v=3.3")
        if not 0.8 <= float(supply_v) <= 5.0:
            raise ConfigError(f"ppk2: supply_v={supply_v} V is outside the PPK2's 0.8-5.0 V range")
        if mode not in ("source", "ampere"):
            raise ConfigError(f"ppk2: mode must be 'source' or 'ampere', not {mode!r}")
        self.port, self.mode, self.keep_power, self.timeout = port, mode, keep_power, float(timeout)
        self.vdd_mv = int(round(float(supply_v) * 1000))
        self.link: SerialLink | None = None
        self.mods: dict[str, list[float]] | None = None

    def _send(self, *data: int) -> None:
        assert self.link is not None
        self.link.write(bytes(data))

    def open(self) -> "PPK2Meter":
        self.link = SerialLink("ppk2", self.port, 115200)   # USB CDC: the baud rate is not used
        try:
            self._send(AVERAGE_STOP)            # a previous session may have left it streaming
            self.link.drain(max_s=0.5)
            self._send(GET_METADATA)
            text, found = self.link.read_until(b"END", self.timeout)
            if not found:
                got = "nothing" if not text else f"{len(text)} bytes without END"
                raise DeviceError(f"ppk2 on {self.port} did not answer the metadata request within "
                                  f"{self.timeout:g} s (got {got}); check that this is the PPK2's port and that "
                                  "nRF Connect Power Profiler is not holding it, then replug the PPK2")
            try:
                self.mods = parse_metadata(text.decode("ascii", "replace"))
            except ValueError:
                raise DeviceError(f"ppk2 on {self.port} answered the metadata request with something that is "
                                  f"not PPK2 metadata ({text[:40]!r}); is this really the PPK2's port?") from None
            self._send(SET_POWER_MODE, 2 if self.mode == "source" else 1)
            if self.mode == "source":           # the regulator value is VOUT in mV, big-endian
                self._send(REGULATOR_SET, self.vdd_mv >> 8, self.vdd_mv & 0xFF)
            self._send(DEVICE_RUNNING_SET, 1)
            self.link.drain(max_s=0.2)
        except BaseException:
            self.link.close()
            self.link = None
            raise
        return self

    def start(self) -> None:
        if self.link is None:
            raise DeviceError("ppk2: start() before open(); use `with meter:`")
        self.link.drain(max_s=0.2)
        self._host_t0 = time.monotonic()
        self.link.start_capture()
        self._send(AVERAGE_START)

    def stop(self) -> PowerTrace:
        if self.link is None:
            raise DeviceError("ppk2: stop() before open(); use `with meter:`")
        self._send(AVERAGE_STOP)
        raw, _ = self.link.stop_capture(until=None, timeout=2.0)
        if len(raw) < 8:
            raise DeviceError(f"ppk2 on {self.port} sent no samples after the start command; replug the PPK2")
        d = decode_samples(raw, self.mods or DEFAULTS, self.vdd_mv)
        bad = int(np.count_nonzero(d["steps"] != 1))
        # Random bytes step the 6-bit counter by 1 only 1 time in 64; real data
        # loss is rare bursts. Mostly broken steps means this is not sample data.
        if bad > 0.2 * len(d["steps"]):
            raise DeviceError(f"ppk2 on {self.port}: {bad} of {len(d['steps'])} sample counters out of sequence; "
                              "the stream is not PPK2 sample data (wrong port, or a stale stream: replug the PPK2)")
        t = d["index"] * SAMPLE_S
        v = self.vdd_mv / 1000.0
        return PowerTrace(t=t, power_w=d["current"] * v, voltage_v=v, current_a=d["current"],
                          digital=d["digital"], meter="ppk2",
                          meta={"port": self.port, "mode": self.mode, "sample_rate_hz": 100_000.0,
                                "lost_samples": int(d["index"][-1] + 1 - len(t)),
                                "host_t0": self._host_t0})

    def close(self) -> None:
        if self.link is None:
            return
        try:
            self._send(AVERAGE_STOP)
            if not self.keep_power:
                self._send(DEVICE_RUNNING_SET, 0)
        except DeviceError:
            pass                                # closing a meter that went away must not mask the real error
        self.link.close()
        self.link = None
