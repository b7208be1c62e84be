"""Size a student to the user's budget (params / MACs / int8 bytes, any mix).

Each family is searched over a small width x depth grid; the candidate with the
most parameters (then most MACs) that meets every given limit wins. Costs come
from `models.model_stats`, i.e. the exact params/MACs and the calibrated int8
.tflite size estimate.
"""
from __future__ import annotations

from typing import Any

from ..errors import BudgetError
from .models import StudentSpec, archs_for, build_student, model_stats

WIDTHS = (4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 64, 96, 128)
DEPTHS = {"dscnn": (1, 2, 3, 4), "cnn": (1, 2, 3), "mlp": (1, 2, 3)}
LIMITS = (("max_params", "params", "parameters"), ("max_macs", "macs", "MACs"),
          ("max_bytes", "int8_bytes_est", "int8 bytes (estimated)"))

# The families "auto" prefers, in order, for image-like input.
AUTO_ORDER = ("dscnn", "cnn", "mlp")

_cache: dict[tuple, dict[str, int]] = {}


def candidate_stats(spec: StudentSpec, input_shape: tuple[int, ...], num_classes: int) -> dict[str, int]:
    key = (spec, tuple(input_shape), num_classes)
    if key not in _cache:
        _cache[key] = model_stats(build_student(spec, input_shape, num_classes))
    return _cache[key]


def _limits(cfg: Any) -> dict[str, int]:
    return {name: getattr(cfg, name) for name, _, _ in LIMITS if getattr(cfg, name, None) is not None}


def _arch_list(cfg: Any, input_shape: tuple[int, ...]) -> tuple[str, ...]:
    allowed = archs_for(input_shape)
    if cfg.arch == "auto":
        return tuple(a for a in AUTO_ORDER if a in allowed)
    return (cfg.arch,)


def size_student(cfg: Any, input_shape: tuple[int, ...], num_classes: int) -> tuple[StudentSpec, dict[str, int]]:
    """Largest student of `cfg.arch` (a StudentConfig) within every budget limit.

    With arch "auto" the first family (dscnn, cnn, mlp) that has any fitting
    candidate is used. Raises BudgetError naming the failed limit(s) and the
    smallest achievable params/MACs/bytes.
    """
    limits = _limits(cfg)
    archs = _arch_list(cfg, input_shape)
    tried: list[tuple[StudentSpec, dict[str, int]]] = []
    for arch in archs:
        widths = getattr(cfg, "widths", None) or WIDTHS
        depths = getattr(cfg, "depths", None) or DEPTHS[arch]
        fits = []
        for d in depths:
            # Every cost grows with width, so stop at the first width that fails.
            for w in sorted(widths):
                spec = StudentSpec(arch, w, d)
                st = candidate_stats(spec, input_shape, num_classes)
                tried.append((spec, st))
                if not all(st[key] <= limits[name] for name, key, _ in LIMITS if name in limits):
                    break
                fits.append((st["params"], st["macs"], -d, spec, st))
        if fits:
            fits.sort(key=lambda r: (r[0], r[1], r[2]))
            _, _, _, spec, st = fits[-1]
            return spec, st
    raise _no_fit(limits, tried, archs)


def _no_fit(limits: dict[str, int], tried: list[tuple[StudentSpec, dict[str, int]]],
            archs: tuple[str, ...]) -> BudgetError:
    smallest = {key: min(st[key] for _, st in tried) for _, key, _ in LIMITS}
    failed = [f"{name} = {limits[name]:,} (smallest {arch_word} achievable: {smallest[key]:,})"
              for name, key, arch_word in LIMITS if name in limits and smallest[key] > limits[name]]
    if not failed:
        # Each limit alone is achievable, but no single model meets them all at once.
        failed = [f"{name} = {limits[name]:,}" for name, _, _ in LIMITS if name in limits]
        what = "no single student meets all of these limits at once: " + "; ".join(failed)
    else:
        what = "the student budget is too small: " + "; ".join(failed)
    msg = (f"{what}. Smallest {'/'.join(archs)} student: {smallest['params']:,} params, "
           f"{smallest['macs']:,} MACs, {smallest['int8_bytes_est']:,} int8 bytes (estimated)")
    return BudgetError(msg, hint="raise [student] max_params / max_macs / max_bytes, or pick another arch")
