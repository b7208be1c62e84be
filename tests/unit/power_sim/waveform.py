"""SIMULATOR support: the synthetic supply current every meter simulator plays back.

The board idles at `idle_a`; between the two trigger falling edges (the timed
window) it draws `busy_a` plus a sine ripple. Edge times are deliberately not
on any meter's sample grid. Energies are computed analytically here, so the
drivers are checked against exact numbers, not against another integrator.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Waveform:
    supply_v: float = 3.3
    idle_a: float = 2.0e-3
    busy_a: float = 20.0e-3
    ripple_a: float = 5.0e-3
    ripple_hz: float = 137.0
    t_start: float = 0.0123457          # first falling edge of the trigger pin
    t_end: float = 0.2345671            # second falling edge
    duration: float = 0.3               # how long the meter streams
    pulse_s: float = 50e-6              # the pin stays low this long after each falling edge
    series_ohm: float = 0.0             # > 0: supply voltage sags by I*R (Joulescope measures it)

    def current(self, t) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        busy = (t >= self.t_start) & (t < self.t_end)
        ripple = self.ripple_a * np.sin(2 * np.pi * self.ripple_hz * t)
        return np.where(busy, self.busy_a + ripple, self.idle_a)

    def voltage(self, t) -> np.ndarray:
        return self.supply_v - self.series_ohm * self.current(t)

    def trigger_level(self, t) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        low = ((t >= self.t_start) & (t < self.t_start + self.pulse_s)) | \
              ((t >= self.t_end) & (t < self.t_end + self.pulse_s))
        return np.where(low, 0, 1).astype(np.uint8)

    # ---------------------------------------------------------------- exact integrals
    def _segments(self, a: float, b: float):
        """[a, b] cut at the window edges: (lo, hi, busy?)."""
        cuts = sorted({a, b, *(x for x in (self.t_start, self.t_end) if a < x < b)})
        for lo, hi in zip(cuts, cuts[1:]):
            yield lo, hi, self.t_start <= 0.5 * (lo + hi) < self.t_end

    def energy(self, a: float | None = None, b: float | None = None) -> float:
        """Exact integral of V(t)*I(t) over [a, b] (default: the trigger window)."""
        a = self.t_start if a is None else a
        b = self.t_end if b is None else b
        w = 2 * math.pi * self.ripple_hz
        total = 0.0
        for lo, hi, busy in self._segments(a, b):
            if not busy:
                q, q2 = self.idle_a * (hi - lo), self.idle_a ** 2 * (hi - lo)
            else:
                c, r = self.busy_a, self.ripple_a
                s1 = (math.cos(w * lo) - math.cos(w * hi)) / w                     # integral of sin
                s2 = 0.5 * (hi - lo) - (math.sin(2 * w * hi) - math.sin(2 * w * lo)) / (4 * w)   # of sin^2
                q = c * (hi - lo) + r * s1
                q2 = c * c * (hi - lo) + 2 * c * r * s1 + r * r * s2
            total += self.supply_v * q - self.series_ohm * q2
        return total
