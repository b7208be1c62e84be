"""The explicit list of targets tinyml knows. No plugin discovery: add a board here.

The emulated targets live in their own modules and are imported lazily, so a
broken or missing emulator module never hides the real boards.
"""
from __future__ import annotations

import importlib
from typing import Callable

from ..core.errors import ConfigError
from .base import Target

TARGET_NAMES: tuple[str, ...] = ("qemu_m4", "qemu_xtensa", "qemu_rv32", "esp32dev", "esp32s3",
                                  "esp32c3", "nucleo_l4r5zi", "nano33ble", "pico")
# Names people type for a board family -> the target that is that board.
ALIASES: dict[str, str] = {"esp32": "esp32dev", "esp32-s3": "esp32s3", "esp32-c3": "esp32c3"}


def _emulated(module: str) -> Callable[[], Target]:
    """An emulated target: tinyml.targets.<module>.TARGET."""
    def load() -> Target:
        return importlib.import_module(f"tinyml.targets.{module}").TARGET
    return load


def _board(name: str) -> Callable[[], Target]:
    def load() -> Target:
        from .boards import BOARDS
        return next(b for b in BOARDS if b.name == name)
    return load


_LOADERS: dict[str, Callable[[], Target]] = {
    "qemu_m4": _emulated("qemu"),
    "qemu_xtensa": _emulated("qemu_xtensa"),
    "qemu_rv32": _emulated("qemu_rv32"),
    "esp32dev": _board("esp32dev"),
    "esp32s3": _board("esp32s3"),
    "esp32c3": _board("esp32c3"),
    "nucleo_l4r5zi": _board("nucleo_l4r5zi"),
    "nano33ble": _board("nano33ble"),
    "pico": _board("pico"),
}
assert tuple(_LOADERS) == TARGET_NAMES


def get_target(name: str) -> Target:
    """The Target called `name` (its PlatformIO environment name, or an alias)."""
    loader = _LOADERS.get(ALIASES.get(name, name))
    if loader is None:
        raise ConfigError(f"unknown target '{name}'", hint=f"known targets: {', '.join(TARGET_NAMES)} "
                                                           f"(aliases: {', '.join(ALIASES)})")
    try:
        return loader()
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"target '{name}' is not available in this install ({e})",
                          hint="reinstall tinyml (pip install -e .)") from None


def all_targets() -> list[Target]:
    """Every target that loads, in registry order (a broken emulator module is skipped)."""
    out: list[Target] = []
    for name in TARGET_NAMES:
        try:
            out.append(get_target(name))
        except ConfigError:
            continue
    return out
