"""Shared helpers for loaders: class folders, array -> Dataset with splits."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .dataset import Dataset
from .splits import cap_per_class, train_val_test


def require_path(cfg, kind: str, what: str) -> Path:
    """cfg.path as an existing Path, or a DataError saying what was expected."""
    if not cfg.path:
        raise DataError(f"dataset '{kind}' needs a path to {what}",
                        hint="set [data] path = \"...\" in the config or pass --data-path")
    p = Path(cfg.path).expanduser()
    if not p.exists():
        raise DataError(f"dataset path {p} does not exist",
                        hint=f"point [data] path at {what}")
    return p


def class_folders(root: Path, exts: set[str], what: str) -> list[tuple[str, list[Path]]]:
    """[(class_name, sorted files)] for every sub-folder of `root` (hidden ones and
    loose files skipped). A class folder without a matching file is an error naming
    it; so is having fewer than two classes."""
    if not root.is_dir():
        raise DataError(f"{root} is not a folder",
                        hint=f"expected a folder with one sub-folder of {what} per class")
    classes = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(f for f in d.iterdir()
                       if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in exts)
        if not files:
            raise DataError(f"class folder {d} has no {what} ({', '.join(sorted(exts))})",
                            hint="add files to it or remove the folder")
        classes.append((d.name, files))
    if len(classes) < 2:
        found = ", ".join(c for c, _ in classes) or "none"
        raise DataError(f"{root} has {len(classes)} class folder(s) ({found}); at least 2 are needed",
                        hint=f"make one sub-folder of {what} per class: {root}/<class>/<file>")
    return classes


def split_arrays(name: str, x: np.ndarray, y: np.ndarray, labels: list[str], cfg, seed: int,
                 meta: dict | None = None) -> Dataset:
    """Cap per class, then stratified seeded train/val/test split into a Dataset."""
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    keep = cap_per_class(y, cfg.max_samples_per_class, seed)
    x, y = x[keep], y[keep]
    tr, va, te = train_val_test(y, cfg.test_split, cfg.val_split, seed)
    if len(tr) == 0 or len(te) == 0:
        raise DataError(f"dataset '{name}' has too few samples ({len(y)}) to split",
                        hint="add samples or change data.test_split")
    meta = dict(meta or {})
    meta.update(seed=seed, test_split=cfg.test_split, val_split=cfg.val_split,
                counts={"train": int(len(tr)), "val": int(len(va)), "test": int(len(te))})
    return Dataset(name=name, x_train=x[tr], y_train=y[tr], x_val=x[va], y_val=y[va],
                   x_test=x[te], y_test=y[te], labels=list(labels), meta=meta)


def read_cache(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a feature cache (.npz), or {} when it is missing or unreadable
    (the caller rebuilds it)."""
    if not path.is_file():
        return {}
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError):
        return {}
