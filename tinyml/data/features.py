"""Audio features in plain numpy: log-mel spectrogram and MFCC.

Written out step by step (framing, periodic Hann window, rfft power, HTK mel
filterbank, natural log, orthonormal DCT-II) so that device-side feature code
can mirror it exactly. `FeatureSpec` holds every parameter; `extract` is the
one entry point: a 1-D float waveform in, (frames, coeffs) float32 out.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

LOG_FLOOR = 1e-6   # added before the log so silence gives finite features


@dataclass(frozen=True)
class FeatureSpec:
    sample_rate: int = 16000
    clip_seconds: float = 1.0
    kind: Literal["logmel", "mfcc"] = "logmel"
    n_mels: int = 40
    n_mfcc: int = 10
    frame_ms: float = 40.0
    hop_ms: float = 20.0
    fmin: float = 20.0
    fmax: float | None = None    # None = sample_rate / 2

    @property
    def clip_samples(self) -> int:
        return int(round(self.sample_rate * self.clip_seconds))

    @property
    def frame_length(self) -> int:
        return int(round(self.sample_rate * self.frame_ms / 1000.0))

    @property
    def hop_length(self) -> int:
        return max(1, int(round(self.sample_rate * self.hop_ms / 1000.0)))

    @property
    def n_fft(self) -> int:
        """Smallest power of two holding one frame."""
        return 1 << max(0, (self.frame_length - 1).bit_length())

    @property
    def n_frames(self) -> int:
        return 1 + max(0, self.clip_samples - self.frame_length) // self.hop_length

    @property
    def n_coeffs(self) -> int:
        return self.n_mfcc if self.kind == "mfcc" else self.n_mels

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_frames, self.n_coeffs)

    def to_dict(self) -> dict:
        return asdict(self)


def spec_from_config(cfg) -> FeatureSpec:
    """FeatureSpec from a DataConfig."""
    return FeatureSpec(sample_rate=cfg.sample_rate, clip_seconds=cfg.clip_seconds,
                       kind=cfg.features, n_mels=cfg.n_mels, n_mfcc=cfg.n_mfcc,
                       frame_ms=cfg.frame_ms, hop_ms=cfg.hop_ms)


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window (the usual choice for STFT framing)."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float64)


def mel_filterbank(n_mels: int, n_fft: int, sample_rate: int,
                   fmin: float = 20.0, fmax: float | None = None) -> np.ndarray:
    """Triangular filters on the HTK mel scale, shape (n_mels, n_fft//2 + 1), peak 1.

    Filter m rises from mel point m to m+1 and falls to m+2, with n_mels+2 points
    evenly spaced in mel between fmin and fmax.
    """
    fmax = sample_rate / 2.0 if fmax is None else fmax
    bins_hz = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    points = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fb = np.zeros((n_mels, len(bins_hz)), dtype=np.float64)
    for m in range(n_mels):
        lo, mid, hi = points[m], points[m + 1], points[m + 2]
        rise = (bins_hz - lo) / (mid - lo)
        fall = (hi - bins_hz) / (hi - mid)
        fb[m] = np.maximum(0.0, np.minimum(rise, fall))
    return fb


def dct2_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II as a (n_out, n_in) matrix: y = D @ x."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    d = np.cos(np.pi * k * (2 * n + 1) / (2.0 * n_in)) * np.sqrt(2.0 / n_in)
    d[0] /= np.sqrt(2.0)
    return d


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """Trim to the first n samples or zero-pad at the end."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - len(x))])


def frames(x: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """(n_frames, frame_length) view-copy of overlapping frames (no padding)."""
    n = 1 + max(0, len(x) - frame_length) // hop_length
    if len(x) < frame_length:
        x = np.concatenate([x, np.zeros(frame_length - len(x))])
    idx = np.arange(frame_length)[None, :] + hop_length * np.arange(n)[:, None]
    return x[idx]


def power_spectrum(x: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """|rfft(frame * hann, n_fft)|^2, shape (n_frames, n_fft//2 + 1)."""
    fr = frames(fit_length(x, spec.clip_samples), spec.frame_length, spec.hop_length)
    spectrum = np.fft.rfft(fr * hann_window(spec.frame_length), n=spec.n_fft, axis=1)
    return spectrum.real ** 2 + spectrum.imag ** 2


_FB_CACHE: dict[tuple, np.ndarray] = {}


def _filterbank(spec: FeatureSpec) -> np.ndarray:
    key = (spec.n_mels, spec.n_fft, spec.sample_rate, spec.fmin, spec.fmax)
    if key not in _FB_CACHE:
        _FB_CACHE[key] = mel_filterbank(*key)
    return _FB_CACHE[key]


def log_mel(x: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Natural log of mel energies, shape (n_frames, n_mels)."""
    mel = power_spectrum(x, spec) @ _filterbank(spec).T
    return np.log(mel + LOG_FLOOR)


def mfcc(x: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """First n_mfcc orthonormal DCT-II coefficients of the log-mel rows."""
    return log_mel(x, spec) @ dct2_matrix(spec.n_mfcc, spec.n_mels).T


def extract(x: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Waveform (floats in [-1, 1], spec.sample_rate) -> float32 (frames, coeffs).
    The waveform is trimmed or zero-padded to spec.clip_seconds first."""
    out = mfcc(x, spec) if spec.kind == "mfcc" else log_mel(x, spec)
    return out.astype(np.float32)


def extract_batch(clips, spec: FeatureSpec) -> np.ndarray:
    """Stack `extract` over clips -> (N, frames, coeffs, 1) float32 (NHWC)."""
    out = np.zeros((len(clips), spec.n_frames, spec.n_coeffs, 1), dtype=np.float32)
    for i, c in enumerate(clips):
        out[i, :, :, 0] = extract(c, spec)
    return out
