"""`tts_kws`: SYNTHETIC speech, an offline stand-in for Speech Commands (12-class KWS).

Every clip is spoken by the espeak-ng formant synthesizer (espeak.py), never by
a person, so accuracies on it are not Speech Commands accuracies. The classes
and their order are those of `speech_commands`: the ten keywords
(data.keywords), then `_silence_` and `_unknown_`; the features are the same
(features.py, [data] settings), so the two datasets are interchangeable.

- Voices: espeak-ng base voices (English accents and other languages' voices
  reading the English words), each clip with a random voice variant, pitch,
  speed and intonation (the word followed by nothing, '?', '!' or ',').
- Speaker-independent split: every base voice belongs to exactly one of
  train / val / test (VOICES below), with all its variants.
- `_unknown_`: the other 25 Speech Commands words, `unknown_fraction` of each
  voice's keyword clips (twice that in training). `_silence_`: synthetic noise
  only (noise.py), `silence_fraction` of each split's keyword clips.
- Each word is cut from espeak-ng's silent margins, given a random gain,
  placed at a random time in the clip and mixed with synthetic noise at one of
  SNRS_DB (training from 5 dB, held-out voices from 10 dB). Training clips are
  rendered `tts_copies` times (other shift/noise).

Generation is deterministic for a seed and cached as .npz under the datasets
cache (datasets/tts_kws/), keyed by everything that changes it.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math

import numpy as np

from ..core.atomic import atomic_path
from ..core.errors import DataError
from ..core.progress import Progress
from . import espeak, noise
from .common import read_cache
from .dataset import Dataset
from .download import datasets_root
from .features import extract, spec_from_config
from .splits import cap_per_class, shuffled

NAME = "tts_kws"
SILENCE, UNKNOWN = "_silence_", "_unknown_"   # as in speech_commands
SPLITS = ("train", "val", "test")
CACHE_VERSION = 5

# Base voices per split, fixed so that no test voice is ever trained on.
# English accents first, then other languages' voices reading English words.
VOICES: dict[str, tuple[str, ...]] = {
    "train": ("en-us", "en-gb", "en-gb-x-rp", "en-gb-x-gbclan", "en-us-nyc",
              "de", "fr-fr", "es", "es-419", "pt", "pt-br", "fi", "hu", "el", "ro", "sv", "af", "id",
              "sk", "hr", "sr", "sl", "eo", "lv", "lt", "sq", "tr", "sw", "ca", "cy", "et", "eu", "ia", "mt"),
    "val": ("en-gb-x-gbcwmd", "da", "cs"),
    "test": ("en-gb-scotland", "en-029", "nl", "it", "pl"),
}
ALL_VOICES = tuple(v for s in SPLITS for v in VOICES[s])   # index = the stored voice id
# espeak-ng voice variants (timbre, formants, breathiness); '' = the voice as is.
VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt3", "Andy", "Annie", "Denis", "Gene", "Storm", "antonio",
            "john", "michel", "norbert", "paul", "quincy", "rob", "robert", "steph", "travis",
            "victor", "aunty", "boris", "linda")
# The 25 non-keyword words of Speech Commands v2 (with the default keywords).
OTHER_WORDS = ("backward", "bed", "bird", "cat", "dog", "eight", "five", "follow", "forward",
               "four", "happy", "house", "learn", "marvin", "nine", "one", "seven", "sheila",
               "six", "three", "tree", "two", "visual", "wow", "zero")
ENDINGS = ("", "?", "!", ",")   # punctuation after the word: another intonation each
# Held-out voices speak each word this many times more (steadier scores; the
# split stays small); training gets this many times more `_unknown_` clips
# (25 words share one class; held-out splits keep Speech Commands' balance).
HELD_OUT_RENDITIONS = 2
TRAIN_UNKNOWN_BOOST = 2
PITCH = (15, 85)          # espeak-ng -p range (0..99, 50 = the voice's own)
SPEED = (120, 210)        # espeak-ng -s range, words per minute
# Speech-to-noise ratios: training (augmentation) reaches 5 dB; the held-out
# clips stop at 10 dB, nearer Speech Commands, whose test clips get no added noise.
SNRS_DB = {"train": (5.0, 10.0, 15.0, 20.0, 30.0, 40.0), "held_out": (10.0, 15.0, 20.0, 30.0, 40.0)}
SILENCE_RMS = (1e-4, 0.1)  # noise level of `_silence_` clips, drawn log-uniformly
SPEECH_PEAK = (0.2, 0.95)  # peak of the spoken word after the random gain
NOISE_PIECES = 16         # independent draws of each noise kind per split
NOISE_PIECE_CLIPS = 2     # length of each draw, in clips
TRIM_LEVEL = 1e-3          # espeak-ng's margins are digital silence; cut them


def voices(cfg) -> dict[str, tuple[str, ...]]:
    """Base voices per split, the first `tts_voices` of each when set."""
    n = cfg.tts_voices
    return {s: VOICES[s][:n] if n else VOICES[s] for s in SPLITS}


def _unknown_pool(keywords: list[str]) -> list[str]:
    return [w for w in OTHER_WORDS if w not in keywords]


def plan(cfg, seed: int) -> dict[str, list[tuple[espeak.Utterance | None, int]]]:
    """Per split, a list of (utterance, or None for silence; label index)."""
    keywords = list(cfg.keywords)
    if not keywords or len(set(keywords)) != len(keywords):
        raise DataError(f"data.keywords {keywords} must be a non-empty list without repeats")
    bad = [k for k in keywords if not k.replace("'", "").isalpha()]
    if bad:
        raise DataError(f"data.keywords {bad} must be single words (letters only) for espeak-ng")
    n_kw = len(keywords)
    pool = _unknown_pool(keywords)
    rng = np.random.default_rng(seed)

    def utt(word: str, voice: str) -> espeak.Utterance:
        return espeak.Utterance(word, voice, VARIANTS[rng.integers(len(VARIANTS))],
                                int(rng.integers(PITCH[0], PITCH[1] + 1)),
                                int(rng.integers(SPEED[0], SPEED[1] + 1)),
                                ENDINGS[rng.integers(len(ENDINGS))])

    out: dict[str, list] = {}
    for s, vs in voices(cfg).items():
        items: list[tuple[espeak.Utterance | None, int]] = []
        reps = cfg.tts_renditions * (1 if s == "train" else HELD_OUT_RENDITIONS)
        for v in vs:
            for li, w in enumerate(keywords):
                items += [(utt(w, v), li) for _ in range(reps)]
            boost = TRAIN_UNKNOWN_BOOST if s == "train" else 1
            n_unknown = math.ceil(boost * cfg.unknown_fraction * n_kw * reps) if pool else 0
            items += [(utt(pool[rng.integers(len(pool))], v), n_kw + 1) for _ in range(n_unknown)]
        items += [(None, n_kw)] * math.ceil(cfg.silence_fraction * n_kw * reps * len(vs))
        out[s] = items
    return out


def _trim(x: np.ndarray) -> np.ndarray:
    on = np.flatnonzero(np.abs(x) > TRIM_LEVEL)
    return x[on[0]:on[-1] + 1] if len(on) else x


def render(word: np.ndarray | None, n: int, noises: dict[str, np.ndarray],
           rng: np.random.Generator, snrs_db: tuple[float, ...] = SNRS_DB["train"]) -> np.ndarray:
    """One clip of `n` samples: the word (or, for None, silence) at a random gain and
    time, plus a slice of synthetic noise (`noises`: noise.bank) at a random SNR."""
    bg = noise.slice_of(noises, n, rng)
    if word is None:
        lo, hi = np.log(SILENCE_RMS)
        return bg * np.exp(rng.uniform(lo, hi))
    w = _trim(word)
    if len(w) > n:   # a slow long word: keep its middle
        start = (len(w) - n) // 2
        w = w[start:start + n]
    w = w * (rng.uniform(*SPEECH_PEAK) / (np.max(np.abs(w)) + 1e-12))
    at = int(rng.integers(0, n - len(w) + 1))   # random time shift
    clip = np.zeros(n)
    clip[at:at + len(w)] = w
    active = np.zeros(n, dtype=bool)
    active[at:at + len(w)] = True
    return noise.mix(clip, bg, snrs_db[rng.integers(len(snrs_db))], active)


def _cache_key(cfg, seed: int, items: dict) -> str:
    blob = json.dumps({"v": CACHE_VERSION, "espeak": espeak.version(), "spec": spec_from_config(cfg).to_dict(),
                       "seed": seed, "copies": cfg.tts_copies, "cap": cfg.max_samples_per_class,
                       "items": {s: [[u.__dict__ if u else None, lab] for u, lab in v] for s, v in items.items()}},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _generate(cfg, seed: int, items: dict, progress: bool | None) -> dict[str, np.ndarray]:
    spoken = [u for s in SPLITS for u, _ in items[s] if u is not None]
    with Progress("tts_kws: espeak-ng words", total=len(spoken), unit="word",
                  enabled=progress is not False) as bar:
        waves = iter(espeak.speak_all(spoken, cfg.sample_rate, bar))
    arrays: dict[str, np.ndarray] = {}
    with _one_blas_thread():
        for si, s in enumerate(SPLITS):
            arrays.update(_render_split(cfg, seed, si, s, items[s], waves, progress))
    return arrays


def _one_blas_thread():
    """Small per-clip matrix products run 5-10x slower with a BLAS thread pool on a
    busy machine; one thread is fastest here (threadpoolctl comes with scikit-learn)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _render_split(cfg, seed: int, si: int, s: str, items: list, waves, progress) -> dict[str, np.ndarray]:
    """Features of one split; `waves` yields the spoken words in plan order."""
    spec = spec_from_config(cfg)
    copies = cfg.tts_copies if s == "train" else 1
    snrs = SNRS_DB["train" if s == "train" else "held_out"]
    rng = np.random.default_rng([seed, si, 1])   # per split: a smaller run changes no other split
    noises = noise.bank(NOISE_PIECES, NOISE_PIECE_CLIPS * spec.clip_samples, cfg.sample_rate, rng)
    split_waves = [(next(waves) if u is not None else None, lab) for u, lab in items]
    vid = np.array([ALL_VOICES.index(u.voice) if u is not None else -1 for u, _ in items] * copies)
    n = len(split_waves) * copies
    x = np.zeros((n, spec.n_frames, spec.n_coeffs, 1), dtype=np.float32)
    y = np.zeros(n, dtype=np.int64)
    with Progress(f"tts_kws: {s} features", total=n, unit="clip", enabled=progress is not False) as bar:
        for c in range(copies):
            for j, (w, lab) in enumerate(split_waves):
                i = c * len(split_waves) + j
                x[i, :, :, 0] = extract(render(w, spec.clip_samples, noises, rng, snrs), spec)
                y[i] = lab
                bar.update(1)
    keep = cap_per_class(y, cfg.max_samples_per_class, seed)
    order = keep[shuffled(len(keep), seed)]
    return {f"x_{s}": x[order], f"y_{s}": y[order], f"voice_{s}": vid[order]}


def load_tts_kws(cfg, seed: int = 0, progress: bool | None = None) -> Dataset:
    items = plan(cfg, seed)
    labels = list(cfg.keywords) + [SILENCE, UNKNOWN]
    cache = datasets_root(cfg) / NAME / f"features-{_cache_key(cfg, seed, items)}.npz"
    arrays = read_cache(cache)
    if not arrays:
        arrays = _generate(cfg, seed, items, progress)
        with atomic_path(cache) as tmp:
            np.savez(tmp, **arrays)
    speakers = {s: [ALL_VOICES[i] for i in sorted(set(arrays[f"voice_{s}"].tolist()) - {-1})] for s in SPLITS}
    counts = {s: {labels[c]: int(k) for c, k in enumerate(np.bincount(arrays[f"y_{s}"], minlength=len(labels)))}
              for s in SPLITS}
    return Dataset(name=NAME,
                   x_train=arrays["x_train"], y_train=arrays["y_train"],
                   x_val=arrays["x_val"], y_val=arrays["y_val"],
                   x_test=arrays["x_test"], y_test=arrays["y_test"],
                   labels=labels,
                   meta={"source": "synthetic speech: espeak-ng " + espeak.version().split(" Data")[0],
                         "synthetic": True, "stand_in_for": "speech_commands",
                         "voices": speakers,
                         "splits": "speaker-independent: disjoint espeak-ng base voices",
                         "seed": seed, "features": spec_from_config(cfg).to_dict(),
                         "cache": str(cache), "counts": counts,
                         # per sample: index into ALL_VOICES (-1 = silence), for per-voice scores
                         "voice_ids": {s: arrays[f"voice_{s}"] for s in SPLITS}})
