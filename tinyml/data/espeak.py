"""Speaking words with Debian's `espeak-ng` (a formant synthesizer) into 16 kHz waveforms.

One espeak-ng process per word (`--stdout` gives a 22,050 Hz WAV, ~25 ms per
word); several run at once because each is mostly process start-up. The output
of espeak-ng is deterministic for the same voice, pitch, speed and text.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..core.errors import DataError, ToolMissingError

BINARY = "espeak-ng"
INSTALL_HINT = "install it: `sudo apt-get install espeak-ng` (Debian/Ubuntu), or run scripts/setup.sh"


@dataclass(frozen=True)
class Utterance:
    """One word in one voice: base voice (`en-gb`), variant (`f3`, '' = none),
    pitch 0..99, speed in words per minute, and the punctuation after the word
    ('', '?', '!', ',': each gives another intonation)."""

    word: str
    voice: str
    variant: str
    pitch: int
    speed: int
    ending: str = ""

    @property
    def voice_arg(self) -> str:
        return f"{self.voice}+{self.variant}" if self.variant else self.voice


def binary() -> str:
    path = shutil.which(BINARY)
    if path is None:
        raise ToolMissingError(f"{BINARY} is not installed; the tts_kws dataset needs it to speak words",
                               hint=INSTALL_HINT)
    return path


def version() -> str:
    """The `espeak-ng --version` line (part of cache keys: another version speaks differently)."""
    out = subprocess.run([binary(), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def _decode(raw: bytes, what: str) -> tuple[np.ndarray, int]:
    try:
        with wave.open(io.BytesIO(raw), "rb") as w:
            rate, width, n = w.getframerate(), w.getsampwidth(), w.getnframes()
            data = w.readframes(n)
    except (wave.Error, EOFError) as e:
        raise DataError(f"{BINARY} gave no valid WAV for {what}: {e}",
                        hint="check that the voice exists: `espeak-ng --voices`") from None
    if width != 2:
        raise DataError(f"{BINARY} gave {8 * width}-bit samples for {what}; expected 16-bit PCM")
    return np.frombuffer(data, "<i2").astype(np.float64) / 32768.0, rate


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling (anti-aliased) from `rate` to `target` Hz."""
    if rate == target:
        return x
    try:
        from scipy.signal import resample_poly
    except ImportError:
        raise DataError("resampling espeak-ng output needs scipy",
                        hint="pip install 'tinyml[ml]' (or scipy)") from None
    g = np.gcd(rate, target)
    return resample_poly(x, target // g, rate // g)


def speak(u: Utterance, sample_rate: int) -> np.ndarray:
    """The waveform of one utterance at `sample_rate`, floats in [-1, 1]."""
    cmd = [binary(), "-v", u.voice_arg, "-p", str(u.pitch), "-s", str(u.speed), "--stdout", u.word + u.ending]
    what = f"'{u.word}' (voice {u.voice_arg})"
    try:
        out = subprocess.run(cmd, capture_output=True, check=False, timeout=60)
    except subprocess.TimeoutExpired:
        raise DataError(f"{BINARY} took over 60 s for {what}", hint="the machine is overloaded; run again") from None
    if out.returncode != 0 or not out.stdout:
        err = out.stderr.decode(errors="replace").strip().splitlines()
        raise DataError(f"{BINARY} failed for {what}: {err[-1] if err else f'exit code {out.returncode}'}",
                        hint="check the voice with `espeak-ng --voices` and `espeak-ng --voices=variant`")
    x, rate = _decode(out.stdout, what)
    return resample(x, rate, sample_rate)


def speak_all(utterances: list[Utterance], sample_rate: int, progress=None,
              workers: int | None = None) -> list[np.ndarray]:
    """Every utterance, in order, spoken by `workers` parallel espeak-ng processes
    (default: one per CPU). `progress` (a tinyml.core.progress.Progress) is advanced per word."""
    binary()   # fail early and clearly when the tool is missing
    workers = workers or os.cpu_count() or 1

    out: list[np.ndarray] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for x in pool.map(lambda u: speak(u, sample_rate), utterances):
            out.append(x)   # in order; progress advances here, in one thread
            if progress is not None:
                progress.update(1)
    return out
