"""Dataset registry: the explicit list of loaders, like tinyml.targets.registry.

A loader takes the [data] config and a seed and returns a `Dataset` whose
splits are deterministic for that seed. Loader modules are imported only when
their dataset is loaded (keeps `import tinyml.data` light) and never import
this module, so the package has no import cycle. Add a dataset here.
"""
from __future__ import annotations

import importlib
import tomllib
from pathlib import Path
from typing import Any, Callable

from ..core.errors import DataError
from .dataset import Dataset

# dataset name -> (module in tinyml.data, loader function)
LOADERS: dict[str, tuple[str, str]] = {
    "digits": ("digits", "load_digits"),
    "images": ("images", "load_images"),
    "wav": ("wav", "load_wav"),
    "csv": ("csv_windows", "load_csv"),
    "speech_commands": ("speech_commands", "load_speech_commands"),
    "tts_kws": ("tts_kws", "load_tts_kws"),   # synthetic speech (espeak-ng), offline
    "cifar10": ("cifar10", "load_cifar10"),
}

# dataset name -> TOML file beside this module with that dataset's config defaults
# (any section); a user's config file and CLI options override them key by key.
DEFAULTS: dict[str, str] = {
    "tts_kws": "tts_kws.toml",
}

# dataset name -> what it is, shown in metrics.json and the report next to the name
# (synthetic data must never pass for real recordings)
DESCRIPTIONS: dict[str, str] = {
    "tts_kws": "synthetic speech (espeak-ng voices, not people), an offline stand-in for Speech Commands",
}

Loader = Callable[..., Dataset]   # loader(cfg: DataConfig, seed: int) -> Dataset


def available() -> list[str]:
    return sorted(LOADERS)


def get_loader(name: str) -> Loader:
    if name not in LOADERS:
        raise DataError(f"unknown dataset '{name}'", hint=f"choose one of: {', '.join(available())}")
    module, fn = LOADERS[name]
    return getattr(importlib.import_module(f"{__package__}.{module}"), fn)


def load_dataset(cfg, seed: int = 0) -> Dataset:
    """Load the dataset named by `cfg.name` (a DataConfig)."""
    return get_loader(cfg.name)(cfg, seed)


def config_defaults(name: str) -> dict[str, dict[str, Any]]:
    """{section: {key: value}} defaults of dataset `name` ({} for most datasets)."""
    if name not in DEFAULTS:
        return {}
    return tomllib.loads((Path(__file__).parent / DEFAULTS[name]).read_text(encoding="utf-8"))


def describe(name: str) -> str | None:
    """One line saying what dataset `name` is, if more than its name is needed."""
    return DESCRIPTIONS.get(name)
