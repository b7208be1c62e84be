"""Energy per inference: power meters, their captures, and labelled results.

    from tinyml.harness.power import get_meter, energy_per_inference, estimate_energy, not_measured

    meter = get_meter("ppk2", port="/dev/ttyACM0", supply_v=3.3)   # or "joulescope", "lpm01a", "none"
    with meter:                                  # open: connect, configure, power the board (ppk2/lpm01a)
        meter.start()
        dut.infer(n, warmup)                     # firmware pulses the trigger pin around the timed loop
        trace = meter.stop()                     # PowerTrace, or None for "none"
    result = (energy_per_inference(trace, inferences=n) if trace is not None
              else estimate_energy(latency_s, board="esp32dev"))   # or not_measured()
    result.to_dict()   # {status, meter, uj_per_inference, mean_power_mw, supply_v, window_s, inferences, basis}

API
  get_meter(name, **options) -> Meter          names: METER_NAMES = ppk2, joulescope, lpm01a, none
  Meter: open() / close() / context manager, start(), stop() -> PowerTrace | None
  PowerTrace: t, power_w, voltage_v, current_a, digital, events, interval_s, meta;
      energy_j(t0, t1), mean_power_w(t0, t1), mean_voltage_v(t0, t1),
      edges(channel=0, kind="falling"), trigger_window(channel=0) -> (t0, t1)
  energy_per_inference(trace, inferences, window=None, channel=0) -> EnergyResult ("measured")
  window_from_device_times(dev_t0_s, dev_t1_s, dev_anchor_s, meter_anchor_s, drift_ppm=0) -> (t0, t1)
  estimate_energy(latency_s, board=None, board_power_w=None, supply_v=None) -> EnergyResult ("estimated")
  not_measured(reason) -> EnergyResult ("not measured");  BOARD_POWER: datasheet table with sources

The window is marked by the board's trigger GPIO (falling edges at the start
and end of the timed loop) as the meter captured it: PPK2 digital input D0
(PowerTrace.digital bit n = Dn), Joulescope GPI0/1 (bit 0), LPM01A D7 events.
Errors are DeviceError / ToolMissingError / ConfigError, one line each,
naming the meter and port. Wiring and protocol notes: docs/POWER.md.
No TensorFlow here; vendor packages (joulescope, pyserial) load only on open().
"""
from .base import (ESTIMATED, MEASURED, NOT_MEASURED, EnergyResult, Meter, NoMeter, PowerTrace,
                   energy_per_inference, not_measured, window_from_device_times)
from .estimate import BOARD_POWER, BoardPower, estimate_energy
from .registry import METER_NAMES, get_meter

__all__ = ["get_meter", "METER_NAMES", "Meter", "NoMeter", "PowerTrace", "EnergyResult",
           "energy_per_inference", "not_measured", "window_from_device_times", "estimate_energy",
           "BOARD_POWER", "BoardPower", "MEASURED", "ESTIMATED", "NOT_MEASURED"]
