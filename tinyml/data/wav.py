"""`wav`: a folder with one sub-folder of WAV clips per class -> log-mel/MFCC images."""
from __future__ import annotations

import numpy as np

from .audio import read_wav
from .download import progress_bar
from .common import class_folders, require_path, split_arrays
from .features import extract, spec_from_config
from .dataset import Dataset


def load_wav(cfg, seed: int = 0) -> Dataset:
    root = require_path(cfg, "wav", "a folder of class sub-folders of WAV files")
    classes = class_folders(root, {".wav"}, "WAV files")
    spec = spec_from_config(cfg)
    n = sum(len(files) for _, files in classes)
    x = np.zeros((n, spec.n_frames, spec.n_coeffs, 1), dtype=np.float32)
    y = np.zeros(n, dtype=np.int64)
    i = 0
    with progress_bar(n, "wav features", None, "clip") as bar:
        for ci, (_, files) in enumerate(classes):
            for f in files:
                x[i, :, :, 0] = extract(read_wav(f, cfg.sample_rate), spec)
                y[i] = ci
                i += 1
                bar.update(1)
    return split_arrays("wav", x, y, [c for c, _ in classes], cfg, seed,
                        meta={"path": str(root), "features": spec.to_dict()})
