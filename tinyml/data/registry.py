"""Dataset registry. A loader takes the [data] config and returns a `Dataset`
whose splits are deterministic for a given seed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import DataError


@dataclass
class Dataset:
    """Float32 features in NHWC (images, spectrograms) or N×F; int64 labels 0..C-1."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    labels: list[str]
    meta: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.labels)


Loader = Callable[..., Dataset]   # loader(cfg: DataConfig, seed: int) -> Dataset
_REGISTRY: dict[str, Loader] = {}


def register(name: str) -> Callable[[Loader], Loader]:
    def deco(fn: Loader) -> Loader:
        _REGISTRY[name] = fn
        return fn
    return deco


def available() -> list[str]:
    _import_builtin()
    return sorted(_REGISTRY)


def load_dataset(cfg, seed: int = 0) -> Dataset:
    """Load the dataset named by `cfg.name` (a DataConfig)."""
    _import_builtin()
    if cfg.name not in _REGISTRY:
        raise DataError(f"unknown dataset '{cfg.name}'", hint=f"choose one of: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[cfg.name](cfg, seed)


def _import_builtin() -> None:
    # Importing the modules registers them; done lazily to keep imports light.
    from . import builtin  # noqa: F401
