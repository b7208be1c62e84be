"""`digits`: scikit-learn's copy of the UCI handwritten digits (1,797 8x8 images), offline."""
from __future__ import annotations

import numpy as np

from ..core.errors import DataError
from .common import split_arrays
from .dataset import Dataset


def load_digits(cfg, seed: int = 0) -> Dataset:
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        raise DataError("the 'digits' dataset needs scikit-learn",
                        hint="pip install 'tinyml[ml]' (or scikit-learn)") from None
    d = sk_load_digits()
    # Pixel values are 0..16 counts of set bits in 4x4 blocks of the original scan.
    x = (d.images.astype(np.float32) / 16.0)[..., None]
    y = d.target.astype(np.int64)
    return split_arrays("digits", x, y, [str(i) for i in range(10)], cfg, seed,
                        meta={"source": "sklearn.datasets.load_digits (UCI optdigits test part)"})
