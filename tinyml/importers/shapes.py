"""Static input shapes: the device needs every dimension known."""
from __future__ import annotations

from pathlib import Path

from ..core.errors import ModelError


def fixed_shape(path: Path, name: str, shape: tuple, given: list[int] | None) -> tuple[int, ...]:
    """`shape` (batch first, None / -1 / 0 / a name for unknown) with the batch fixed to 1
    and the other unknown dimensions from `given` (the per-sample shape, --input-shape)."""
    dims = [d if isinstance(d, int) and d > 0 else None for d in shape]
    if not dims:
        raise ModelError(f"{path}: input '{name}' is a scalar; the device needs a tensor input")
    per = dims[1:]
    if given is not None:
        if len(given) != len(per) or any(g < 1 for g in given) or \
                any(d is not None and d != g for d, g in zip(per, given)):
            raise ModelError(f"{path}: --input-shape {list(given)} does not fit input '{name}' of shape "
                             f"{_show(dims)}",
                             hint=f"give {len(per)} positive sizes for the dimensions after the batch")
        return (1, *given)
    if any(d is None for d in per):
        raise ModelError(f"{path}: input '{name}' has unknown dimensions {_show(dims)}",
                         hint=f"fix them with --input-shape (the {len(per)} sizes after the batch, "
                              "e.g. --input-shape " + ",".join(str(d or 32) for d in per) + ")")
    return (1, *per)


def _show(dims: list) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"
