"""ST X-NUCLEO-LPM01A (PowerShield firmware) driven the way MLPerf Tiny's energy mode drives it.

Protocol facts (from mlcommons/tiny benchmark/runner: power_manager.py,
power_manager_lpm.py, main.py and a recorded session log; the command table
there is ST's PowerShield help text, UM2269):
  * USB virtual COM port at 3 686 400 baud (older runners: 921 600). Commands
    are text lines ended by CR LF; answers are lines such as
    "PowerShield > ack htc", or "... error <cmd>" followed by "Error detail: ...".
  * MLPerf's set-up, which we send too: htc (host takes control), pwr off,
    acqtime inf, trigdelay 0, trigsrc sw, eventsrc d7 fal (falling edges on the
    Arduino D7 pin become events), output energy, format ascii_dec, freq 1k,
    volt 3300m, then pwr on nostatus and start. At the end: stop (answered by
    an "Acquisition completed" line, not an ack), pwr off, hrc.
  * Data lines in ascii_dec: "dddd[+-]dd" = dddd x 10^(+-dd); with `output
    energy` each is the energy in J over one sample period. "event N ris" marks
    a D7 edge between two samples (N counts up from 0), and
    "TimeStamp: 001s 000ms, buff 00%" lines come every second of sampling.
  * MLPerf takes the energy between the last two events as the window's energy.
  * ascii_dec with an unlimited acquisition supports at most 5 kHz; energy
    output at most 10 kHz. volt accepts 1800m..3300m.
"""
from __future__ import annotations

import re
import time

import numpy as np

from ...core.errors import ConfigError, DeviceError
from ._serial import SerialLink
from .base import Meter, PowerTrace

PROMPT = "PowerShield >"
FREQS_HZ = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
_SAMPLE = re.compile(r"\d{4}[+-]\d{2}")
_EVENT = re.compile(r"^event\s+(\d+)\s+(ris|fal)", re.IGNORECASE)
_TIMESTAMP = re.compile(r"^TimeStamp:\s*[ ><]?\s*(\d+)s\s+(\d+)ms", re.IGNORECASE)
MAX_GARBLED = 0.01                    # more than 1% unreadable sample lines: refuse the capture


def _freq_arg(hz: int) -> str:
    return f"{hz // 1000}k" if hz >= 1000 else str(hz)


def _strip(line: str) -> str:
    line = line.replace("\0", "").strip()
    return line[len(PROMPT):].strip() if line.startswith(PROMPT) else line


def parse_stream(text: str, freq_hz: float) -> dict:
    """Sample values, event sample positions, messages and quality counters from captured text."""
    values: list[float] = []
    events: list[tuple[int, int]] = []          # (event number, samples before it)
    stamps: list[tuple[float, int]] = []        # (meter seconds, samples before it)
    messages: list[str] = []
    garbled = 0
    for raw in text.split("\n"):
        line = _strip(raw)
        if not line:
            continue
        if line[0].isdigit():
            found = _SAMPLE.findall(line)
            if found and "".join(found) == line.replace(" ", ""):
                values.extend(float(s[:4]) * 10.0 ** int(s[4:]) for s in found)
            else:                                # keep the time axis: a placeholder, filled in later
                values.append(np.nan)
                garbled += 1
            continue
        m = _EVENT.match(line)
        if m:
            events.append((int(m.group(1)), len(values)))
            continue
        m = _TIMESTAMP.match(line)
        if m:
            stamps.append((int(m.group(1)) + int(m.group(2)) / 1000.0, len(values)))
            continue
        messages.append(line)
    lost = 0
    for (ta, na), (tb, nb) in zip(stamps, stamps[1:]):
        lost += max(0, int(round((tb - ta) * freq_hz)) - (nb - na))
    return {"values": np.asarray(values, dtype=np.float64), "events": events, "messages": messages,
            "garbled": garbled, "lost": lost}


class LPM01AMeter(Meter):
    """Options: port (required), supply_v (required, 1.8-3.3: the PowerShield feeds the board),
    freq_hz (default 1000, as MLPerf), output "energy" | "current", baud (3686400),
    power_on (switch the DUT supply on at open, default True), keep_power, timeout."""

    name = "lpm01a"

    def __init__(self, port: str = "", supply_v: float | None = None, freq_hz: int = 1000,
                 output: str = "energy", baud: int = 3686400, power_on: bool = True,
                 keep_power: bool = False, timeout: float = 2.0):
        if supply_v is None:
            raise ConfigError("lpm01a: supply_v is required (the voltage the PowerShield feeds the board, "
                              "1.8-3.3 V), e.g. supply_v=3.3")
        if not 1.8 <= float(supply_v) <= 3.3:
            raise ConfigError(f"lpm01a: supply_v={supply_v} V is outside the PowerShield's 1.8-3.3 V range")
        if int(freq_hz) not in FREQS_HZ:
            raise ConfigError(f"lpm01a: freq_hz={freq_hz} is not one of {FREQS_HZ} (ascii output of an "
                              "unlimited acquisition is limited to 5 kHz)")
        if output not in ("energy", "current"):
            raise ConfigError(f"lpm01a: output must be 'energy' or 'current', not {output!r}")
        self.port, self.freq_hz, self.output, self.baud = port, int(freq_hz), output, int(baud)
        self.supply_mv = int(round(float(supply_v) * 1000))
        self.power_on, self.keep_power, self.timeout = power_on, keep_power, float(timeout)
        self.link: SerialLink | None = None
        self.supply_v_read: float | None = None
        self._capturing = False

    # ---------------------------------------------------------------- commands
    def _command(self, cmd: str) -> list[str]:
        """Send one command; return its ack line's words after the command. Errors name the command."""
        assert self.link is not None
        self.link.write(cmd.encode("ascii") + b"\r\n")
        deadline = time.monotonic() + self.timeout
        buf, other = "", []
        while time.monotonic() < deadline:
            buf += self.link.read(0.05).decode("ascii", "replace")
            *lines, buf = buf.split("\n")
            for i, raw in enumerate(lines):
                line = _strip(raw)
                if line.startswith("ack") and cmd.split()[0] in line:
                    return line[3:].replace(cmd, "", 1).split()
                if line.startswith("err") and cmd.split()[0] in line:
                    # "Error detail: ..." follows on the next line; it may still be in flight
                    rest = "\n".join(lines[i + 1:]) + buf + self.link.drain(0.1, 0.5).decode("ascii", "replace")
                    detail = next((_strip(x) for x in rest.split("\n") if "detail" in x.lower()), "")
                    raise DeviceError(f"lpm01a on {self.port} refused `{cmd}`: {detail or line}; check the "
                                      "PowerShield firmware (MLPerf's runner used 1.0.7) and the option value")
                if line:
                    other.append(line)
        got = "nothing" if not other else repr("; ".join(other[-2:])[:80])
        raise DeviceError(f"lpm01a on {self.port} did not acknowledge `{cmd}` within {self.timeout:g} s "
                          f"(got {got}); check the port, the baud rate ({self.baud}) and that "
                          "STM32CubeMonitor-Power is not holding the PowerShield")

    def open(self) -> "LPM01AMeter":
        self.link = SerialLink("lpm01a", self.port, self.baud)
        try:
            self._command("htc")
            self._command("pwr off")
            for cmd in ("acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal",
                        f"output {self.output}", "format ascii_dec", f"freq {_freq_arg(self.freq_hz)}",
                        f"volt {self.supply_mv}m"):
                self._command(cmd)
            got = self._command("volt get")          # the PowerShield regulates; report what it measured
            vals = [_SAMPLE.fullmatch(w) for w in got]
            vals = [float(m.group()[:4]) * 10.0 ** int(m.group()[4:]) for m in vals if m]
            self.supply_v_read = vals[-1] if vals and 1.0 < vals[-1] < 4.0 else None
            if self.power_on:
                self._command("pwr on nostatus")
        except BaseException:
            self.link.close()
            self.link = None
            raise
        return self

    def start(self) -> None:
        if self.link is None:
            raise DeviceError("lpm01a: start() before open(); use `with meter:`")
        self.link.drain(max_s=0.2)
        self._host_t0 = time.monotonic()
        self.link.start_capture()             # samples follow the ack at once: capture from the first byte
        self._capturing = True
        self.link.write(b"start\r\n")

    def stop(self) -> PowerTrace:
        if self.link is None or not self._capturing:
            raise DeviceError("lpm01a: stop() without start(); use `with meter:` then start()")
        self.link.write(b"stop\r\n")
        self._capturing = False
        raw, confirmed = self.link.stop_capture(until=b"Acquisition completed", timeout=self.timeout)
        text = raw.decode("ascii", "replace")
        errors = [_strip(x) for x in text.split("\n") if _strip(x).lower().startswith(("error", "err "))]
        if "ack start" not in text:
            raise DeviceError(f"lpm01a on {self.port} did not start the acquisition "
                              f"({'; '.join(errors[:2]) if errors else 'no ack for `start`'}); replug the PowerShield")
        d = parse_stream(text.split("ack start", 1)[1], self.freq_hz)
        vals, n = d["values"], len(d["values"])
        if n < 2:
            raise DeviceError(f"lpm01a on {self.port} sent {n} sample(s) between start and stop; "
                              "check the output/format/freq settings and the USB link")
        if d["garbled"] > MAX_GARBLED * n:
            raise DeviceError(f"lpm01a on {self.port}: {d['garbled']} of {n} sample lines unreadable; "
                              f"the serial link is losing bytes (cable, hub, or baud {self.baud})")
        if d["garbled"]:                       # a few bad lines: interpolate so the time axis stays right
            ok = np.isfinite(vals)
            vals = vals.copy()
            vals[~ok] = np.interp(np.nonzero(~ok)[0], np.nonzero(ok)[0], vals[ok])
        numbers = [k for k, _ in d["events"]]
        if any(b - a != 1 for a, b in zip(numbers, numbers[1:])):
            raise DeviceError(f"lpm01a on {self.port}: event numbers {numbers} are not consecutive; "
                              "a trigger edge was lost, measure again")
        dt = 1.0 / self.freq_hz
        v = self.supply_v_read or self.supply_mv / 1000.0
        power = vals / dt if self.output == "energy" else vals * v
        return PowerTrace(t=np.arange(n) * dt, power_w=power, voltage_v=v, interval_s=dt,
                          current_a=None if self.output == "energy" else vals,
                          events=np.array([pos for _, pos in d["events"]], dtype=np.float64) * dt,
                          meter="lpm01a",
                          meta={"port": self.port, "sample_rate_hz": float(self.freq_hz), "output": self.output,
                                "lost_samples": d["lost"], "garbled_lines": d["garbled"],
                                "stop_confirmed": confirmed, "messages": d["messages"][:20],
                                "supply_v_source": "volt get" if self.supply_v_read else "volt setting",
                                "host_t0": self._host_t0})

    def close(self) -> None:
        if self.link is None:
            return
        try:
            if self._capturing:
                self.link.write(b"stop\r\n")
                self.link.stop_capture(until=b"Acquisition completed", timeout=self.timeout)
                self._capturing = False
            if not self.keep_power:
                self._command("pwr off")
            self._command("hrc")
        except DeviceError:
            pass                                # closing a meter that went away must not mask the real error
        self.link.close()
        self.link = None
