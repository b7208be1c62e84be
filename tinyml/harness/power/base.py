"""The meter interface, the captured trace and the energy result.

A meter records supply current/voltage (or power, or energy per sample) from
`start()` to `stop()`. The timed window is marked on the same time axis by the
device's trigger GPIO (captured by the meter) or, failing that, by device
timestamps mapped onto meter time. Energy per inference is the integral of
power over that window divided by the inferences run inside it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ...core.errors import DeviceError

MEASURED, ESTIMATED, NOT_MEASURED = "measured", "estimated", "not measured"


@dataclass
class PowerTrace:
    """Samples from one meter capture, on the meter's own clock (s from the first sample).

    Two sample kinds, because meters report different things:
      * point samples (`interval_s=None`): instantaneous values; integrated with
        the trapezoid rule (PPK2, Joulescope).
      * interval samples (`interval_s=dt`): sample k is the mean over
        [t[k], t[k]+dt) (LPM01A energy output: joules per period). Integrated
        exactly as a step function, so summing whole samples matches the meter.
    """

    t: np.ndarray                       # s, increasing
    power_w: np.ndarray                 # W per sample
    voltage_v: np.ndarray | float       # supply voltage: per sample or one value
    current_a: np.ndarray | None = None
    interval_s: float | None = None
    digital: np.ndarray | None = None   # uint8 per sample; bit n = digital input n (PPK2 D0-D7, Joulescope GPI)
    events: np.ndarray = field(default_factory=lambda: np.zeros(0))   # meter-reported trigger times (LPM01A)
    meter: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=np.float64)
        self.power_w = np.asarray(self.power_w, dtype=np.float64)
        self.events = np.asarray(self.events, dtype=np.float64)
        if self.t.shape != self.power_w.shape or self.t.ndim != 1:
            raise ValueError("t and power_w must be 1-D arrays of the same length")
        if self.digital is not None and len(self.digital) != len(self.t):
            raise ValueError("digital must have one value per sample")
        if len(self.t) < 2:
            raise DeviceError(f"{self.meter or 'meter'}: captured {len(self.t)} sample(s); "
                              "nothing to integrate (did the capture run at all?)")
        if np.any(np.diff(self.t) <= 0):
            raise ValueError("sample times must increase")
        # One cumulative energy table serves every window query.
        if self.interval_s:
            self._edges = np.append(self.t, self.t[-1] + self.interval_s)
            self._cum = np.concatenate(([0.0], np.cumsum(self.power_w * np.diff(self._edges))))
        else:
            dt = np.diff(self.t)
            self._cum = np.concatenate(([0.0], np.cumsum(0.5 * (self.power_w[1:] + self.power_w[:-1]) * dt)))

    # ------------------------------------------------------------ time span
    @property
    def start_s(self) -> float:
        return float(self.t[0])

    @property
    def end_s(self) -> float:
        return float(self.t[-1] + (self.interval_s or 0.0))

    def _check(self, t0: float, t1: float) -> None:
        if not t1 > t0:
            raise ValueError(f"empty window [{t0}, {t1}]")
        tol = 1e-9 * max(1.0, abs(self.end_s))
        if t0 < self.start_s - tol or t1 > self.end_s + tol:
            raise DeviceError(f"{self.meter or 'meter'}: window [{t0:.6f}, {t1:.6f}] s lies outside the "
                              f"capture [{self.start_s:.6f}, {self.end_s:.6f}] s; start the meter before "
                              "the timed loop and stop it after")

    def _energy_to(self, x: float) -> float:
        """Energy from the first sample to time x (exact for the trace's sample model)."""
        if self.interval_s:
            return float(np.interp(x, self._edges, self._cum))   # power constant inside each interval
        t, p = self.t, self.power_w
        k = int(np.clip(np.searchsorted(t, x, side="right") - 1, 0, len(t) - 2))
        d = x - t[k]
        slope = (p[k + 1] - p[k]) / (t[k + 1] - t[k])
        # linear power between samples -> quadratic energy; a window edge between samples is exact
        return float(self._cum[k] + p[k] * d + 0.5 * slope * d * d)

    # ------------------------------------------------------------ helpers
    def energy_j(self, t0: float, t1: float) -> float:
        """Integral of power over [t0, t1] (s, meter time); edges may fall between samples."""
        self._check(t0, t1)
        return self._energy_to(t1) - self._energy_to(t0)

    def mean_power_w(self, t0: float, t1: float) -> float:
        return self.energy_j(t0, t1) / (t1 - t0)

    def mean_voltage_v(self, t0: float, t1: float) -> float:
        """Time-averaged supply voltage over [t0, t1]."""
        if np.ndim(self.voltage_v) == 0:
            return float(self.voltage_v)
        v = np.asarray(self.voltage_v, dtype=np.float64)
        inside = (self.t >= t0) & (self.t <= t1)
        return float(np.mean(v[inside])) if inside.any() else float(np.interp(0.5 * (t0 + t1), self.t, v))

    def edges(self, channel: int = 0, kind: str = "falling") -> np.ndarray:
        """Times of level changes on digital input `channel` (midway between the two samples).

        tinyml firmware idles the trigger pin high and pulls it low briefly at the
        start and at the end of the timed loop, so the window is between two
        falling edges (the EEMBC/MLPerf energy-mode convention)."""
        if self.digital is None:
            return np.zeros(0)
        level = (np.asarray(self.digital).astype(np.int64) >> channel) & 1
        step = np.diff(level)
        want = {"falling": step < 0, "rising": step > 0, "both": step != 0}.get(kind)
        if want is None:
            raise ValueError(f"edge kind must be falling, rising or both, not {kind!r}")
        k = np.nonzero(want)[0]
        return 0.5 * (self.t[k] + self.t[k + 1])

    def trigger_window(self, channel: int = 0) -> tuple[float, float]:
        """The timed window: the last two trigger marks of the capture.

        Meter-reported events (LPM01A) win over sampled digital inputs. The last
        two marks are used, as the MLPerf Tiny runner does, because a pin can
        glitch once at boot or when the port is configured."""
        marks = self.events if len(self.events) else self.edges(channel, "falling")
        if len(marks) < 2:
            where = "meter events" if self.digital is None else f"digital input {channel}"
            raise DeviceError(f"{self.meter or 'meter'}: found {len(marks)} trigger edge(s) on {where}, need 2; "
                              "check the wire from the board's trigger pin (TM_TRIGGER_PIN) to the meter's "
                              "trigger input and that the firmware is built in energy mode")
        return float(marks[-2]), float(marks[-1])


@dataclass(frozen=True)
class EnergyResult:
    """Energy per inference as reported everywhere (`to_dict()` keys are the report schema)."""

    status: str                      # "measured" | "estimated" | "not measured"
    meter: str | None
    uj_per_inference: float | None
    mean_power_mw: float | None
    supply_v: float | None
    window_s: float | None
    inferences: int | None
    basis: str                       # how the number was obtained, in words

    def __post_init__(self) -> None:
        if self.status not in (MEASURED, ESTIMATED, NOT_MEASURED):
            raise ValueError(f"status must be measured/estimated/not measured, not {self.status!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def energy_per_inference(trace: PowerTrace | None, inferences: int, window: tuple[float, float] | None = None,
                         channel: int = 0) -> EnergyResult:
    """Measured energy per inference from a capture (None, from the `none` meter: "not measured").

    `window` is (t0, t1) in meter seconds; None takes it from the trigger marks
    (see PowerTrace.trigger_window). `inferences` is the number of inferences
    run inside the window (the `infer N` count, warm-up excluded)."""
    if trace is None:
        return not_measured()
    if int(inferences) < 1:
        raise ValueError("inferences must be >= 1")
    how = "given window" if window is not None else "trigger-marked window"
    t0, t1 = window if window is not None else trace.trigger_window(channel)
    e = trace.energy_j(t0, t1)
    lost = int(trace.meta.get("lost_samples", 0) or 0)
    basis = (f"integral of supply power over the {how} ({t1 - t0:.6f} s) from {trace.meter}, "
             f"divided by {int(inferences)} inferences")
    if lost:
        basis += f"; {lost} sample(s) were missing from the capture (gaps bridged by interpolation)"
    return EnergyResult(status=MEASURED, meter=trace.meter, uj_per_inference=e / int(inferences) * 1e6,
                        mean_power_mw=e / (t1 - t0) * 1e3, supply_v=round(trace.mean_voltage_v(t0, t1), 6),
                        window_s=t1 - t0, inferences=int(inferences), basis=basis)


def not_measured(reason: str = "no energy meter was used", meter: str | None = None) -> EnergyResult:
    return EnergyResult(status=NOT_MEASURED, meter=meter, uj_per_inference=None, mean_power_mw=None,
                        supply_v=None, window_s=None, inferences=None, basis=reason)


def window_from_device_times(dev_t0_s: float, dev_t1_s: float, dev_anchor_s: float,
                             meter_anchor_s: float, drift_ppm: float = 0.0) -> tuple[float, float]:
    """Map a window in device time (e.g. the two m-lap-us values / 1e6) to meter time.

    Needs one instant known on both clocks (e.g. one trigger edge the meter saw
    and the device's timestamp of it). `drift_ppm` is the device clock's error
    (positive: the device clock runs fast)."""
    scale = 1.0 / (1.0 + drift_ppm * 1e-6)
    return (meter_anchor_s + (dev_t0_s - dev_anchor_s) * scale,
            meter_anchor_s + (dev_t1_s - dev_anchor_s) * scale)


class Meter:
    """One energy meter. Construct with options (validated, no I/O), then:

        with meter:                      # open(): connect and configure
            meter.start()                # begin sampling
            ...run the timed loop on the device...
            trace = meter.stop()         # PowerTrace (None for the `none` meter)
    """

    name = "meter"
    _host_t0: float | None = None      # time.monotonic() at start(), for mapping host events

    def open(self) -> "Meter":
        return self

    def close(self) -> None:
        pass

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> PowerTrace | None:
        raise NotImplementedError

    def __enter__(self) -> "Meter":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


class NoMeter(Meter):
    """`none`: no meter attached. stop() returns None; report `not_measured()` or an estimate."""

    name = "none"

    def start(self) -> None:
        pass

    def stop(self) -> None:
        return None

