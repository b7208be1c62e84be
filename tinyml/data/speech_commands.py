"""`speech_commands`: Google Speech Commands v2, the 12-class keyword-spotting setup.

Classes: the ten keywords (data.keywords; MLPerf Tiny order by default), then
`_silence_` and `_unknown_`. Splits follow the dataset's own validation_list.txt
and testing_list.txt (speakers never cross splits); every other clip is training.
In each split, `_unknown_` is a seeded sample of the other words and `_silence_`
is seeded 1 s slices of `_background_noise_` at a random volume, each sized as a
fraction (data.unknown_fraction / silence_fraction) of that split's keyword clips,
as in the TensorFlow speech_commands recipe.

Features (features.py) are cached as .npz beside the download, keyed by every
setting that changes them, because decoding 40k+ WAVs takes minutes.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path
from ..core.errors import DataError
from .audio import read_wav
from .download import dataset_source, datasets_root, progress_bar
from .features import extract, spec_from_config
from .common import read_cache
from .dataset import Dataset
from .splits import shuffled

URL = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
SHA256 = "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58"
ENV_URL = "TINYML_SPEECH_COMMANDS_URL"
SILENCE, UNKNOWN, NOISE_DIR = "_silence_", "_unknown_", "_background_noise_"
SPLITS = ("train", "val", "test")
CACHE_VERSION = 1


def _find_root(root: Path) -> Path:
    for cand in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        if (cand / "validation_list.txt").is_file():
            return cand
    raise DataError(f"no validation_list.txt under {root}; not a Speech Commands folder",
                    hint="point [data] path at the extracted speech_commands_v0.02 folder")


def source_dir(cfg) -> Path:
    return dataset_source(cfg, "speech_commands", URL, SHA256, ENV_URL, _find_root,
                          hint="point [data] path at the extracted speech_commands_v0.02 folder")


def _read_list(path: Path) -> set[str]:
    if not path.is_file():
        raise DataError(f"Speech Commands split list {path} is missing",
                        hint="the dataset folder is incomplete; delete it and run again")
    return {ln.strip().replace("\\", "/") for ln in path.read_text().splitlines() if ln.strip()}


def plan(root: Path, cfg, seed: int) -> dict[str, list[tuple[str | None, int]]]:
    """Per split, a list of (relative wav path or None for silence, label index)."""
    keywords = list(cfg.keywords)
    if len(set(keywords)) != len(keywords) or not keywords:
        raise DataError(f"data.keywords {keywords} must be a non-empty list without repeats")
    words = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    missing = [k for k in keywords if k not in words]
    if missing:
        raise DataError(f"keyword folder(s) {', '.join(str(root / k) for k in missing)} not found",
                        hint=f"words present: {', '.join(words)}")
    val_set = _read_list(root / "validation_list.txt")
    test_set = _read_list(root / "testing_list.txt")
    kw = {s: [] for s in SPLITS}
    unk = {s: [] for s in SPLITS}
    for w in words:
        for f in sorted((root / w).glob("*.wav")):
            rel = f"{w}/{f.name}"
            split = "val" if rel in val_set else "test" if rel in test_set else "train"
            (kw if w in keywords else unk)[split].append((rel, keywords.index(w) if w in keywords else -1))
    n_kw = len(keywords)
    rng = np.random.default_rng(seed)
    out: dict[str, list[tuple[str | None, int]]] = {}
    cap = cfg.max_samples_per_class
    n_train_kw = max(1, len(kw["train"]))
    for s in SPLITS:
        items = kw[s]
        if cap is not None:   # same per-class cap in every split, scaled to its size
            c = cap if s == "train" else max(1, math.ceil(cap * len(items) / n_train_kw))
            items = _cap(items, c, rng)
        n_unknown = math.ceil(cfg.unknown_fraction * len(items))
        n_silence = math.ceil(cfg.silence_fraction * len(items))
        if cap is not None:
            n_unknown, n_silence = min(n_unknown, c), min(n_silence, c)
        pool = unk[s]
        pick = rng.choice(len(pool), min(n_unknown, len(pool)), replace=False) if pool else []
        items = items + [(pool[i][0], n_kw + 1) for i in sorted(pick)] + [(None, n_kw)] * n_silence
        out[s] = items
    return out


def _cap(items, cap, rng):
    out = []
    for label in sorted({lab for _, lab in items}):
        cls = [it for it in items if it[1] == label]
        if len(cls) > cap:
            cls = [cls[i] for i in sorted(rng.choice(len(cls), cap, replace=False))]
        out.extend(cls)
    return out


def _noise_clips(root: Path, sample_rate: int) -> list[np.ndarray]:
    d = root / NOISE_DIR
    return [read_wav(f, sample_rate) for f in sorted(d.glob("*.wav"))] if d.is_dir() else []


def _silence(noise: list[np.ndarray], n: int, rng) -> np.ndarray:
    """A slice of a random background-noise file at a random volume (zeros if none)."""
    if not noise:
        return np.zeros(n)
    src = noise[rng.integers(len(noise))]
    if len(src) <= n:
        clip = np.concatenate([src, np.zeros(n - len(src))])
    else:
        start = rng.integers(0, len(src) - n + 1)
        clip = src[start:start + n]
    return clip * rng.uniform(0.0, 1.0)


def _cache_key(root: Path, cfg, seed: int, items: dict) -> str:
    spec = spec_from_config(cfg)
    blob = json.dumps({"v": CACHE_VERSION, "root": str(root.resolve()), "spec": spec.to_dict(),
                       "seed": seed, "items": items}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_speech_commands(cfg, seed: int = 0) -> Dataset:
    root = source_dir(cfg)
    items = plan(root, cfg, seed)
    labels = list(cfg.keywords) + [SILENCE, UNKNOWN]
    spec = spec_from_config(cfg)
    cache = datasets_root(cfg) / "speech_commands" / f"features-{_cache_key(root, cfg, seed, items)}.npz"
    arrays = read_cache(cache)
    if not arrays:
        noise = _noise_clips(root, cfg.sample_rate)
        rng = np.random.default_rng(seed + 31)
        total = sum(len(v) for v in items.values())
        with progress_bar(total, "speech_commands features", None, "clip") as bar:
            for s in SPLITS:
                x = np.zeros((len(items[s]), spec.n_frames, spec.n_coeffs, 1), dtype=np.float32)
                y = np.zeros(len(items[s]), dtype=np.int64)
                for i, (rel, lab) in enumerate(items[s]):
                    wave = _silence(noise, spec.clip_samples, rng) if rel is None else read_wav(root / rel, cfg.sample_rate)
                    x[i, :, :, 0] = extract(wave, spec)
                    y[i] = lab
                    bar.update(1)
                order = shuffled(len(y), seed)
                arrays[f"x_{s}"], arrays[f"y_{s}"] = x[order], y[order]
        with atomic_path(cache) as tmp:
            np.savez(tmp, **arrays)
    counts = {s: {labels[c]: int(n) for c, n in enumerate(np.bincount(arrays[f"y_{s}"], minlength=len(labels)))}
              for s in SPLITS}
    return Dataset(name="speech_commands",
                   x_train=arrays["x_train"], y_train=arrays["y_train"],
                   x_val=arrays["x_val"], y_val=arrays["y_val"],
                   x_test=arrays["x_test"], y_test=arrays["y_test"],
                   labels=labels,
                   meta={"source": str(root), "seed": seed, "features": spec.to_dict(),
                         "cache": str(cache), "counts": counts,
                         "splits": "validation_list.txt / testing_list.txt"})
