"""Synthetic background noise and mixing at a signal-to-noise ratio (numpy only).

Offline there are no recorded noise files, so noise is made from seeded
random numbers: white, pink (1/f), brown (1/f^2), mains hum with harmonics,
and band-limited noise at a random centre frequency.
"""
from __future__ import annotations

import numpy as np

KINDS = ("white", "pink", "brown", "hum", "band")


def _shaped(n: int, rng: np.random.Generator, power_of_f: float) -> np.ndarray:
    """Gaussian noise whose power falls as 1/f**power_of_f (0 = white)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spec / f ** (power_of_f / 2.0), n)


def make(kind: str, n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of noise of one kind, scaled to unit RMS."""
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        x = _shaped(n, rng, 1.0)
    elif kind == "brown":
        x = _shaped(n, rng, 2.0)
    elif kind == "hum":
        t = np.arange(n) / sample_rate
        base = rng.choice([50.0, 60.0])
        x = sum(rng.uniform(0.2, 1.0) * np.sin(2 * np.pi * base * h * t + rng.uniform(0, 2 * np.pi))
                for h in range(1, 6)) + 0.1 * rng.standard_normal(n)
    elif kind == "band":
        spec = np.fft.rfft(rng.standard_normal(n))
        freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
        centre = rng.uniform(200.0, 0.4 * sample_rate)
        spec *= np.exp(-0.5 * ((freqs - centre) / (0.15 * centre)) ** 2)
        x = np.fft.irfft(spec, n)
    else:
        raise ValueError(f"unknown noise kind {kind!r}; one of {KINDS}")
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


def bank(pieces: int, piece_samples: int, sample_rate: int,
         rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per kind, `pieces` buffers of `piece_samples` (shape (pieces, piece_samples)),
    each drawn with its own parameters (hum base and harmonics, band centre, ...).
    Clips take random slices of them, which is much cheaper than shaping fresh
    noise for every clip. Several draws per kind matter: with one, a split saw a
    single band centre, and a model trained on one centre could fail on the
    held-out split's other centre (tts_kws seed 1)."""
    return {k: np.stack([make(k, piece_samples, sample_rate, rng) for _ in range(pieces)])
            for k in KINDS}


def slice_of(buffers: dict[str, np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples from a random place of a random piece of a random kind."""
    buf = buffers[KINDS[rng.integers(len(KINDS))]]
    piece = buf[rng.integers(len(buf))]
    at = int(rng.integers(0, len(piece) - n + 1))
    return piece[at:at + n]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def mix(signal: np.ndarray, noise: np.ndarray, snr_db: float, active: np.ndarray | None = None) -> np.ndarray:
    """signal + noise scaled so that RMS(speech) / RMS(noise) is `snr_db`.
    The speech RMS is taken over `active` samples (the word, not the padding)."""
    s = signal[active] if active is not None and np.any(active) else signal
    scale = rms(s) / (rms(noise) + 1e-12) / (10.0 ** (snr_db / 20.0))
    return signal + scale * noise
