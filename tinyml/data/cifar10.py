"""`cifar10`: the CIFAR-10 python-pickle tarball (50,000 train + 10,000 test, 32x32x3).

Downloaded once into the cache (see download.py). The official test batch is the
test split (data.test_split does not apply); validation is cut from the training
batches. The pickles are read with an unpickler that only builds numpy arrays,
lists and dicts, so a tampered file cannot run code.
"""
from __future__ import annotations

import importlib
import pickle
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .download import dataset_source
from .dataset import Dataset
from .splits import cap_per_class, shuffled, split_from_train

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
ENV_URL = "TINYML_CIFAR10_URL"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


def _numpy_attr(modules: tuple[str, ...], name: str):
    for mod in modules:
        try:
            return getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"numpy has no {name}")


class _SafeUnpickler(pickle.Unpickler):
    """Only the globals a pickled numpy array (and py2-era bytes) need."""

    def find_class(self, module: str, name: str):
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in ("_reconstruct", "scalar"):
            return _numpy_attr(("numpy._core.multiarray", "numpy.core.multiarray"), name)
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if module == "_codecs" and name == "encode":
            import codecs
            return codecs.encode
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset pickle")


def _load_pickle(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"CIFAR-10 file {path} is missing",
                        hint="the extracted archive is incomplete; delete its folder and run again")
    try:
        with open(path, "rb") as f:
            obj = _SafeUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, OSError) as e:
        raise DataError(f"cannot read CIFAR-10 batch {path}: {e}",
                        hint="the file is damaged; delete the extracted folder and run again") from None
    if not isinstance(obj, dict):
        raise DataError(f"CIFAR-10 batch {path} is not a dict")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    d = _load_pickle(path)
    if "data" not in d or "labels" not in d:
        raise DataError(f"CIFAR-10 batch {path} lacks 'data' or 'labels' (keys: {sorted(d)})")
    data = np.asarray(d["data"], dtype=np.uint8)
    labels = np.asarray(d["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DataError(f"CIFAR-10 batch {path}: data shape {data.shape} / {len(labels)} labels, "
                        f"expected (N, 3072) and N labels")
    # Each row: 1024 red, 1024 green, 1024 blue values, row-major 32x32 -> NHWC.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _find_batches(root: Path) -> Path:
    for cand in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        if (cand / "batches.meta").is_file() or (cand / "data_batch_1").is_file():
            return cand
    raise DataError(f"no CIFAR-10 batches (data_batch_1, batches.meta) under {root}",
                    hint="point [data] path at the extracted cifar-10-batches-py folder")


def source_dir(cfg) -> Path:
    return dataset_source(cfg, "cifar10", URL, SHA256, ENV_URL, _find_batches,
                          hint="point [data] path at the extracted cifar-10-batches-py folder")


def _to_float(images: np.ndarray, cfg) -> np.ndarray:
    x = images
    if cfg.image_size and tuple(cfg.image_size) != (32, 32):
        from PIL import Image
        h, w = cfg.image_size
        x = np.stack([np.asarray(Image.fromarray(im).resize((w, h), Image.BILINEAR)) for im in x])
    x = x.astype(np.float32) / 255.0
    if cfg.grayscale:   # ITU-R BT.601 luma, as Pillow's "L" mode
        x = (x @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
    return x


def load_cifar10(cfg, seed: int = 0) -> Dataset:
    src = source_dir(cfg)
    parts = [_read_batch(src / b) for b in TRAIN_BATCHES]
    x_tr = np.concatenate([p[0] for p in parts])
    y_tr = np.concatenate([p[1] for p in parts])
    x_te, y_te = _read_batch(src / "test_batch")
    meta = _load_pickle(src / "batches.meta")
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in meta.get("label_names", [])]
    if len(names) != 10:
        raise DataError(f"{src / 'batches.meta'}: expected 10 label_names, found {len(names)}")
    bad = np.flatnonzero((y_tr < 0) | (y_tr > 9))
    if len(bad):
        raise DataError(f"CIFAR-10 training label {y_tr[bad[0]]} out of range 0..9 under {src}")
    cap = cfg.max_samples_per_class
    keep = cap_per_class(y_tr, cap, seed)
    x_tr, y_tr = x_tr[keep], y_tr[keep]
    keep_te = cap_per_class(y_te, None if cap is None else max(1, cap // 5), seed)  # keep the 5:1 ratio
    x_te, y_te = x_te[keep_te], y_te[keep_te]
    tr, va = split_from_train(y_tr, cfg.val_split, seed)
    order = shuffled(len(y_te), seed)
    return Dataset(name="cifar10",
                   x_train=_to_float(x_tr[tr], cfg), y_train=y_tr[tr],
                   x_val=_to_float(x_tr[va], cfg), y_val=y_tr[va],
                   x_test=_to_float(x_te[order], cfg), y_test=y_te[order],
                   labels=names,
                   meta={"source": str(src), "seed": seed, "test": "official test_batch",
                         "counts": {"train": int(len(tr)), "val": int(len(va)), "test": int(len(order))}})
