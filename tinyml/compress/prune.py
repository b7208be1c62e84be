"""Magnitude pruning (tfmot `prune_low_magnitude`, polynomial schedule), a
fine-tune, `strip_pruning`, and a measurement of the sparsity achieved.

Note: the int8 .tflite stores weights densely, so pruning does not shrink the
file by itself; it makes the model compressible and sparse-kernel ready.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import tfcompat


def prunable_kernels(model: Any) -> list[tuple[str, np.ndarray]]:
    """(layer name, kernel) for every Conv2D / DepthwiseConv2D / Dense layer."""
    k = tfcompat.keras()
    L = k.layers
    out = []
    for layer in model.layers:
        if isinstance(layer, L.DepthwiseConv2D):
            out.append((layer.name, layer.depthwise_kernel.numpy()))
        elif isinstance(layer, (L.Conv2D, L.Dense)):
            out.append((layer.name, layer.kernel.numpy()))
    return out


def measure_sparsity(model: Any) -> dict[str, Any]:
    """Fraction of exact zeros over all prunable kernels, and per layer."""
    kernels = prunable_kernels(model)
    zeros = sum(int(np.count_nonzero(w == 0)) for _, w in kernels)
    total = sum(int(w.size) for _, w in kernels)
    return {"sparsity": zeros / total if total else 0.0, "zeros": zeros, "weights": total,
            "per_layer": {n: round(float(np.mean(w == 0)), 4) for n, w in kernels}}


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
