"""Reading WAV files as mono float waveforms (soundfile if present, else stdlib `wave`)."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from ..core.errors import DataError


def _read_stdlib(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        rate, ch, width, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
        raw = w.readframes(n)
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0
    elif width == 4:
        data = np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648.0
    else:
        raise ValueError(f"unsupported sample width {width} bytes")
    return data.reshape(-1, ch), rate


def read_wav(path: str | Path, sample_rate: int | None = None) -> np.ndarray:
    """Mono float64 samples in [-1, 1]. A sample rate other than `sample_rate` is
    an error (we do not resample silently: features would shift in frequency)."""
    path = Path(path)
    try:
        try:
            import soundfile as sf
        except ImportError:   # light install: PCM WAV through the stdlib
            data, rate = _read_stdlib(path)
        else:
            data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except Exception as e:  # each backend raises its own types; all mean "unreadable"
        raise DataError(f"cannot read WAV file {path}: {e}",
                        hint="the file is corrupt or not a WAV; replace or delete it") from None
    if sample_rate is not None and rate != sample_rate:
        raise DataError(f"WAV file {path} has sample rate {rate} Hz, expected {sample_rate} Hz",
                        hint=f"resample it (e.g. `sox in.wav -r {sample_rate} out.wav`) or set "
                             f"[data] sample_rate = {rate} if all files use that rate")
    if data.shape[0] == 0:
        raise DataError(f"WAV file {path} has no samples", hint="replace or delete it")
    return data.mean(axis=1)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM mono WAV (stdlib only); used to make fixtures and demo clips."""
    pcm = np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
