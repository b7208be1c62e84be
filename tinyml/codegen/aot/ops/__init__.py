"""Registry of op lowerings: builtin op name -> lowering function.

Add an op by dropping a module in this package that does

    from tinyml.codegen.aot.ops import register

    @register("MAX_POOL_2D")
    def lower_max_pool(op, ctx): ...

Every module here is imported by `load_all()` (sorted by name, so the registry is
deterministic). See `ops/base.py` for what a lowering receives and must do.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

REGISTRY: dict[str, Callable] = {}
_loaded = False


def register(builtin: str) -> Callable[[Callable], Callable]:
    """Decorator: make `fn(op, ctx)` the lowering of TFLite builtin `builtin`."""
    def deco(fn: Callable) -> Callable:
        if builtin in REGISTRY and REGISTRY[builtin] is not fn:
            raise RuntimeError(f"two AOT lowerings registered for {builtin}")
        REGISTRY[builtin] = fn
        return fn
    return deco


def load_all() -> dict[str, Callable]:
    """Import every op module of this package once; return the registry."""
    global _loaded
    if not _loaded:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.name != "base":
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return REGISTRY


def supported_ops() -> list[str]:
    return sorted(load_all())
