"""SIMULATOR of a Nordic PPK2 on a pty (not a real device; for CI).

Speaks the PPK2 serial protocol as documented in tinyml/harness/power/ppk2.py:
answers GetMetadata with calibration text ending in END (with non-default
values, so a driver that ignores the metadata gets the energy wrong), and on
AverageStart streams the waveform as u32 words: auto-ranged ADC codes made by
inverting the calibration formula exactly, the 6-bit counter, and the trigger
level on digital input D0 (D3 held high to check channel selection).
"""
from __future__ import annotations

import numpy as np

from .pty_sim import PtySim
from .waveform import Waveform

SAMPLE_S = 10e-6
ADC_MULT = 1.8 / 163840
MODS = {                                 # deliberately unlike the defaults
    "R": [1003.2, 98.7, 10.05, 0.98, 0.045],
    "GS": [0.0, 2.0, 0.5, 0.05, 0.0],
    "GI": [1.0, 0.99, 1.01, 1.0, 1.0],
    "O": [30.0, 25.0, 20.0, 15.0, 10.0],
    "S": [1e-7, 2e-7, 1e-6, 0.0, 0.0],
    "I": [1e-8, 5e-8, 2e-6, 0.0, 0.0],
    "UG": [1.0, 1.0, 0.995, 1.0, 1.0],
}


def metadata_text() -> bytes:
    lines = ["Calibrated: 0"]
    for key, vals in MODS.items():
        lines += [f"{key}{i}: {v:.6g}" for i, v in enumerate(vals)]
    lines += ["S4: -nan", "HW: 9173", "IA: 56", "END"]     # -nan: real units send it for unset values
    return ("\n".join(lines) + "\n").encode()


def encode(current: np.ndarray, digital: np.ndarray, vdd_mv: float, first_counter: int = 0,
           counters: np.ndarray | None = None) -> bytes:
    """Currents -> PPK2 words, choosing the most sensitive range that holds each value."""
    m = {k: np.asarray(v) for k, v in MODS.items()}
    s_term = m["S"] * vdd_mv / 1000.0 + m["I"]
    code = np.zeros(len(current), dtype=np.int64)
    rng = np.full(len(current), -1)
    for r in range(5):
        todo = rng < 0
        c = s_term[r] - current[todo] / m["UG"][r]          # UG*(GS x^2 + GI x + s) = I
        if m["GS"][r]:
            x = (-m["GI"][r] + np.sqrt(m["GI"][r] ** 2 - 4 * m["GS"][r] * c)) / (2 * m["GS"][r])
        else:
            x = -c / m["GI"][r]
        k = np.round((x * m["R"][r] / ADC_MULT + m["O"][r]) / 4).astype(np.int64)
        fits = (k >= 0) & (k <= int(0.95 * 0x3FFF))
        idx = np.nonzero(todo)[0][fits]
        code[idx], rng[idx] = k[fits], r
    assert (rng >= 0).all(), "current out of the simulated PPK2's range"
    if counters is None:
        counters = (np.arange(len(current)) + first_counter) & 0x3F
    words = code | (rng << 14) | ((counters & 0x3F) << 18) | (digital.astype(np.int64) << 24)
    return words.astype("<u4").tobytes()


class PPK2Sim(PtySim):
    """behaviour: "ok", "silent" (never answers), "garbage_meta" (text without END),
    "garbage_stream" (random bytes instead of samples). drop: sample indices lost in transit."""

    def __init__(self, wave: Waveform, behaviour: str = "ok", drop: tuple[int, ...] = ()):
        super().__init__()
        self.wave, self.behaviour, self.drop = wave, behaviour, drop
        self.vdd_mv = None
        self.mode = None
        self.dut_power = None

    def stream(self) -> bytes:
        n = int(round(self.wave.duration / SAMPLE_S))
        t = np.arange(n) * SAMPLE_S
        digital = self.wave.trigger_level(t) | 0b1000
        counters = np.arange(n) & 0x3F
        keep = np.setdiff1d(np.arange(n), np.asarray(self.drop, dtype=np.int64))
        return encode(self.wave.current(t)[keep], digital[keep], self.vdd_mv or 3300, counters=counters[keep])

    def serve(self) -> None:
        pending = b""
        while not self.quitting:
            pending += self.read()
            while pending:
                op = pending[0]
                need = {0x11: 2, 0x0D: 3, 0x0C: 2}.get(op, 1)
                if len(pending) < need:
                    break
                cmd, pending = pending[:need], pending[need:]
                if self.behaviour == "silent":
                    continue
                if op == 0x19:
                    self.write(b"PPK2 says hello\n" * 3 if self.behaviour == "garbage_meta" else metadata_text())
                elif op == 0x11:
                    self.mode = {1: "ampere", 2: "source"}[cmd[1]]
                elif op == 0x0D:
                    self.vdd_mv = cmd[1] << 8 | cmd[2]
                elif op == 0x0C:
                    self.dut_power = bool(cmd[1])
                elif op == 0x06:
                    if self.behaviour == "garbage_stream":
                        self.write(np.random.default_rng(1).integers(0, 256, 40000, dtype=np.uint8).tobytes())
                    else:
                        self.write(self.stream())
                    self.done.set()
