"""Size a student to the user's budget (params / MACs / int8 bytes, any mix).

Each family is searched over a small width x depth grid; the candidate with the
most parameters (then most MACs) that meets every given limit wins. Costs come
from `models.model_stats`, i.e. the exact params/MACs and the calibrated int8
.tflite size estimate.

With channel pruning the limits apply to the deployed model, the student once
`prune_sparsity` of its kernel weights are cut away: pruning buys a wider
student within the same budget.
"""
from __future__ import annotations

from typing import Any

from ..core.errors import BudgetError
from .models import StudentSpec, archs_for, build_student, model_stats

WIDTHS = (4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40, 48, 64, 96, 128)
DEPTHS = {"dscnn": (1, 2, 3, 4), "cnn": (1, 2, 3), "mlp": (1, 2, 3)}
LIMITS = (("max_params", "params", "parameters"), ("max_macs", "macs", "MACs"),
          ("max_bytes", "int8_bytes_est", "int8 bytes (estimated)"))

# The families "auto" prefers, in order, for image-like input. On digits a
# plain cnn beat dscnn at the same int8 size (distilled, 2 seeds: 98.0-98.9 %
# at 7.6 KB vs 97.8-98.7 % at 8.2 KB); datasets that want DS-CNN say so.
AUTO_ORDER = ("cnn", "dscnn", "mlp")

_cache: dict[tuple, dict[str, int]] = {}


def candidate_stats(spec: StudentSpec, input_shape: tuple[int, ...], num_classes: int,
                    prune_sparsity: float = 0.0) -> dict[str, int]:
    """Costs of the deployed model: the student, or its channel-pruned form."""
    key = (spec, tuple(input_shape), num_classes, prune_sparsity)
    if key not in _cache:
        model = build_student(spec, input_shape, num_classes)
        if prune_sparsity > 0:
            # Channel counts depend on the layer shapes only, so untrained weights do.
            from ..compress.prune import plan_channels, shrink_channels
            model = shrink_channels(model, plan_channels(model, prune_sparsity))
        _cache[key] = model_stats(model)
    return _cache[key]


def _limits(cfg: Any) -> dict[str, int]:
    return {name: getattr(cfg, name) for name, _, _ in LIMITS if getattr(cfg, name, None) is not None}


def _arch_list(cfg: Any, input_shape: tuple[int, ...]) -> tuple[str, ...]:
    allowed = archs_for(input_shape)
    if cfg.arch == "auto":
        return tuple(a for a in AUTO_ORDER if a in allowed)
    return (cfg.arch,)


def size_student(cfg: Any, input_shape: tuple[int, ...], num_classes: int,
                 prune_sparsity: float = 0.0) -> tuple[StudentSpec, dict[str, int]]:
    """Largest student of `cfg.arch` (a StudentConfig) within every budget limit
    (once channel-pruned by `prune_sparsity`, if > 0).

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
                st = candidate_stats(spec, input_shape, num_classes, prune_sparsity)
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
