"""Magnitude pruning (tfmot `prune_low_magnitude`, polynomial schedule), a
fine-tune, `strip_pruning`, and a measurement of the sparsity achieved.

Note: the int8 .tflite stores weights densely, so pruning does not shrink the
file by itself; it makes the model compressible and sparse-kernel ready.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import tfcompat


def prunable_kernels(model: Any, include_depthwise: bool = False) -> list[tuple[str, np.ndarray]]:
    """(layer name, kernel) for every layer tfmot prunes: Conv2D (incl. 1x1) and
    Dense. tfmot 0.8.1 registers DepthwiseConv2D with no prunable weights, so
    depthwise kernels are listed only with `include_depthwise`."""
    k = tfcompat.keras()
    L = k.layers
    out = []
    for layer in model.layers:
        if isinstance(layer, L.DepthwiseConv2D):
            if include_depthwise:
                out.append((layer.name, layer.depthwise_kernel.numpy()))
        elif isinstance(layer, (L.Conv2D, L.Dense)):
            out.append((layer.name, layer.kernel.numpy()))
    return out


def _zeros(kernels: list[tuple[str, np.ndarray]]) -> tuple[int, int]:
    return sum(int(np.count_nonzero(w == 0)) for _, w in kernels), sum(int(w.size) for _, w in kernels)


def measure_sparsity(model: Any) -> dict[str, Any]:
    """Fraction of exact zeros over the prunable kernels (and per layer); also
    over all kernels including the (unpruned) depthwise ones."""
    kernels = prunable_kernels(model)
    zeros, total = _zeros(kernels)
    z_all, t_all = _zeros(prunable_kernels(model, include_depthwise=True))
    return {"sparsity": zeros / total if total else 0.0, "zeros": zeros, "weights": total,
            "sparsity_all_kernels": z_all / t_all if t_all else 0.0,
            "per_layer": {n: round(float(np.mean(w == 0)), 4)
                          for n, w in prunable_kernels(model, include_depthwise=True)}}


def prune(model: Any, *, sparsity: float, steps_per_epoch: int, epochs: int, frequency: int,
          train_fn: Callable[[Any, list], None], ramp_fraction: float = 0.6) -> Any:
    """Wrap `model` for pruning, fine-tune it with `train_fn(wrapped, callbacks)`
    and return the stripped model (plain Keras layers, zeros in the kernels).

    Sparsity ramps 0 -> `sparsity` over the first `ramp_fraction` of the steps
    (PolynomialDecay); the remaining steps fine-tune at the final mask.
    """
    tfmot = tfcompat.tfmot()
    sp = tfmot.sparsity.keras
    total = max(1, steps_per_epoch * epochs)
    end = max(1, int(total * ramp_fraction))
    schedule = sp.PolynomialDecay(initial_sparsity=0.0, final_sparsity=float(sparsity),
                                  begin_step=0, end_step=end, frequency=max(1, min(frequency, end)))
    wrapped = sp.prune_low_magnitude(model, pruning_schedule=schedule)
    train_fn(wrapped, [sp.UpdatePruningStep()])
    return sp.strip_pruning(wrapped)
