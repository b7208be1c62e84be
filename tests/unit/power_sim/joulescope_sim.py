"""SIMULATOR of the `joulescope` package and a JS220 (not a real device; for CI).

A fake module with the subset of the joulescope 1.x v1 API that tinyml calls:
scan_require_one(), Device.open/close/parameter_set/start/stop and
stream_buffer.sample_id_range / samples_get(start, stop, fields). Tests put
it in sys.modules["joulescope"]. Samples: the waveform's current, a voltage
that sags with current, power = I*V, GPI0 = trigger level in `current_lsb`;
the first few samples are NaN (a real capture's start can have gaps) and the
buffer's sample ids do not start at 0.
"""
from __future__ import annotations

import types

import numpy as np

from .waveform import Waveform

PARAMETERS = {"sampling_frequency", "buffer_duration", "i_range", "current_lsb", "voltage_lsb", "io_voltage",
              "v_range", "gpo0", "gpo1", "reduction_frequency"}
UNITS = {"current": "A", "voltage": "V", "power": "W", "current_lsb": "", "voltage_lsb": ""}


class FakeStreamBuffer:
    def __init__(self, signals: dict[str, np.ndarray], fs: float, first_id: int):
        self.signals, self.fs, self.first_id = signals, fs, first_id

    @property
    def sample_id_range(self):
        return self.first_id, self.first_id + len(self.signals["current"])

    def samples_get(self, start, stop, fields=None):
        a, b = start - self.first_id, stop - self.first_id
        return {"time": {"sample_id_range": {"value": [start, stop], "units": "samples"},
                         "sampling_frequency": {"value": self.fs, "units": "Hz"}},
                "signals": {f: {"value": self.signals[f][a:b], "units": UNITS[f]} for f in fields}}


class FakeJS220:
    device_path = "u/js220/000415"

    def __init__(self, wave: Waveform, nan_head: int = 7, first_id: int = 123_456):
        self.wave, self.nan_head, self.first_id = wave, nan_head, first_id
        self.params: dict[str, object] = {}
        self.is_open = self.streaming = False
        self.stream_buffer = None

    def open(self, event_callback_fn=None, mode=None, timeout=None):
        self.is_open = True

    def close(self, timeout=None):
        self.is_open = False

    def parameter_set(self, name, value):
        if name not in PARAMETERS:
            raise KeyError(name)
        self.params[name] = value

    def start(self, stop_fn=None, duration=None, contiguous_duration=None):
        assert self.is_open, "start() on a closed device"
        fs = float(self.params.get("sampling_frequency", 1_000_000))
        t = np.arange(int(round(self.wave.duration * fs))) / fs
        i = self.wave.current(t).astype(np.float32)
        v = self.wave.voltage(t).astype(np.float32)
        sig = {"current": i, "voltage": v, "power": (i.astype(np.float64) * v).astype(np.float32),
               "current_lsb": self.wave.trigger_level(t), "voltage_lsb": np.ones(len(t), np.uint8)}
        for k in ("current", "voltage", "power"):
            sig[k][: self.nan_head] = np.nan
        self.stream_buffer = FakeStreamBuffer(sig, fs, self.first_id)
        self.streaming = True

    def stop(self):
        self.streaming = False


def fake_module(devices: list) -> types.ModuleType:
    mod = types.ModuleType("joulescope")
    mod.__doc__ = "SIMULATOR: fake joulescope package for tinyml's tests"

    def scan_require_one(name=None, config=None):
        if not devices:
            raise RuntimeError("no devices found")
        if len(devices) > 1:
            raise RuntimeError("multiple devices found")
        return devices[0]

    mod.scan_require_one = scan_require_one
    mod.scan = lambda name=None, config=None: list(devices)
    return mod
