"""Joulescope JS110 / JS220 through the `joulescope` package (its v1 API).

Calls used, from the joulescope 1.x sources (joulescope/v1/driver.py,
device.py, stream_buffer.py) and MLPerf Tiny's JS220 power manager:
  joulescope.scan_require_one(config="auto") -> Device  (RuntimeError if 0 or >1 found)
  Device.open() / close()
  Device.parameter_set(name, value): "sampling_frequency" (Hz, e.g. 100000),
      "buffer_duration" (s), "i_range" ("auto"), and on the JS110 "current_lsb"
      = "gpi0" so GPI0 rides in the current's least significant bit
  Device.start() / stop()       stream into Device.stream_buffer
  stream_buffer.sample_id_range -> (start, end)
  stream_buffer.samples_get(start, end, fields=[...]) -> {"time": {..., "sampling_frequency":
      {"value": Hz}}, "signals": {field: {"value": array}}}; fields used: current (A),
      voltage (V), power (W, computed by the instrument), current_lsb (GPI0 level),
      voltage_lsb (GPI1 level).
The trigger GPIO goes to GPI0 (or GPI1 with trigger_gpi=1); its reference
voltage must match the board's I/O level (Joulescope UI or io_voltage=...).
"""
from __future__ import annotations

import importlib
import time

import numpy as np

from ...core.errors import ConfigError, DeviceError, ToolMissingError
from .base import Meter, PowerTrace


def _joulescope():
    try:
        return importlib.import_module("joulescope")
    except ImportError:
        raise ToolMissingError("joulescope meter: the `joulescope` package is not installed; "
                               "pip install 'tinyml[power]' (or pip install joulescope)") from None


class JoulescopeMeter(Meter):
    """Options: sampling_frequency (Hz, default 100000), trigger_gpi (0 or 1),
    buffer_duration (s kept in the instrument's buffer, default 30: make it
    longer than start()..stop()), io_voltage (e.g. "3.3V", optional)."""

    name = "joulescope"

    def __init__(self, sampling_frequency: int = 100_000, trigger_gpi: int = 0,
                 buffer_duration: float = 30.0, io_voltage: str | None = None):
        if trigger_gpi not in (0, 1):
            raise ConfigError(f"joulescope: trigger_gpi must be 0 or 1, not {trigger_gpi!r}")
        if not 1 <= int(sampling_frequency) <= 2_000_000:
            raise ConfigError(f"joulescope: sampling_frequency={sampling_frequency} Hz is out of range")
        self.fs, self.gpi, self.buffer_s, self.io_voltage = (int(sampling_frequency), trigger_gpi,
                                                              float(buffer_duration), io_voltage)
        self.device = None

    def _set(self, name: str, value, required: bool = True) -> None:
        try:
            self.device.parameter_set(name, value)
        except (KeyError, ValueError) as e:
            if required:
                raise DeviceError(f"joulescope {self._serial()}: parameter {name}={value!r} refused ({e}); "
                                  "update the joulescope package or change the option") from None

    def _serial(self) -> str:
        return str(getattr(self.device, "device_path", "") or getattr(self.device, "serial_number", "") or "")

    def open(self) -> "JoulescopeMeter":
        js = _joulescope()
        try:
            self.device = js.scan_require_one(config="auto")
        except RuntimeError as e:
            raise DeviceError(f"joulescope: {e} (scan_require_one); plug in exactly one Joulescope and close "
                              "the Joulescope UI, which holds the device") from None
        try:
            self.device.open()
        except Exception as e:
            self.device = None
            raise DeviceError(f"joulescope: cannot open the device ({e}); replug it and close the Joulescope "
                              "UI") from None
        try:
            self._set("buffer_duration", self.buffer_s, required=False)
            self._set("sampling_frequency", self.fs)
            self._set("i_range", "auto", required=False)
            if self.gpi == 0:                   # JS110 only; the JS220 streams its GPIs as their own signals
                self._set("current_lsb", "gpi0", required=False)
            else:
                self._set("voltage_lsb", "gpi1", required=False)
            if self.io_voltage:
                self._set("io_voltage", self.io_voltage)
        except BaseException:
            self.close()
            raise
        return self

    def start(self) -> None:
        if self.device is None:
            raise DeviceError("joulescope: start() before open(); use `with meter:`")
        self._host_t0 = time.monotonic()
        try:
            self.device.start()
        except Exception as e:
            raise DeviceError(f"joulescope {self._serial()}: could not start streaming ({e}); replug it") from None

    def stop(self) -> PowerTrace:
        if self.device is None:
            raise DeviceError("joulescope: stop() before open(); use `with meter:`")
        try:
            self.device.stop()
            buf = self.device.stream_buffer
            start, end = buf.sample_id_range
            gpi_field = "current_lsb" if self.gpi == 0 else "voltage_lsb"
            data = buf.samples_get(start, end, fields=["current", "voltage", "power", gpi_field])
        except Exception as e:
            raise DeviceError(f"joulescope {self._serial()}: reading the capture failed ({e}); "
                              "the device went away (USB cable?)") from None
        sig = data["signals"]
        fs = float(data["time"]["sampling_frequency"]["value"])
        i = np.asarray(sig["current"]["value"], dtype=np.float64)
        v = np.asarray(sig["voltage"]["value"], dtype=np.float64)
        p = np.asarray(sig["power"]["value"], dtype=np.float64) if "power" in sig else i * v
        gpi = sig.get(gpi_field, {}).get("value")
        # NaN marks samples the instrument did not deliver: drop them, integrate across the gap
        ok = np.isfinite(i) & np.isfinite(v) & np.isfinite(p)
        idx = np.arange(len(i))[ok]
        return PowerTrace(t=idx / fs, power_w=p[ok], voltage_v=v[ok], current_a=i[ok],
                          digital=None if gpi is None else np.asarray(gpi)[ok].astype(np.uint8) & 1,
                          meter="joulescope",
                          meta={"device": self._serial(), "sample_rate_hz": fs, "first_sample_id": int(start),
                                "lost_samples": int(len(i) - ok.sum()), "host_t0": self._host_t0})

    def close(self) -> None:
        if self.device is None:
            return
        try:
            self.device.close()
        except Exception:
            pass                                # closing a device that went away must not mask the real error
        self.device = None
