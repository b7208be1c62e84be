"""Pruning of a trained student, two ways:

- `channels` (default, `shrink_channels`): structured pruning. The least
  important output channels of every conv / dense layer are removed and a
  narrower model is built from the kept weights. The int8 .tflite gets smaller
  and faster in proportion: the pruning pays on the device.
- `magnitude` (`prune`): tfmot `prune_low_magnitude` zeroes single weights.
  The int8 .tflite stores weights densely and the runtimes have no sparse
  kernels, so the model is no smaller and no faster on a device.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core import tfcompat


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


# -- structured (channel) pruning -------------------------------------------
def _inbound(layer: Any) -> Any:
    """The one layer feeding `layer` (None for the input); channel pruning
    handles chains only."""
    nodes = layer._inbound_nodes
    if not nodes:
        return None
    prev = nodes[0].inbound_layers
    if isinstance(prev, (list, tuple)):
        if not prev:
            return None
        if len(prev) != 1:
            from ..core.errors import ModelError
            raise ModelError(f"channel pruning needs a chain of layers; '{layer.name}' has {len(prev)} inputs",
                             hint="use [prune] method = \"magnitude\" for this model")
        prev = prev[0]
    return prev


def channel_layers(model: Any) -> list[str]:
    """Layers whose output channels channel pruning may remove: every Conv2D
    and Dense except the one producing the model's output."""
    L = tfcompat.keras().layers
    last = model.layers[-1].name
    return [lay.name for lay in model.layers
            if isinstance(lay, (L.Conv2D, L.Dense)) and not isinstance(lay, L.DepthwiseConv2D)
            and lay.name != last]


def channel_importance(model: Any) -> dict[str, np.ndarray]:
    """Per prunable layer, the L1 norm of each output channel's weights, scaled
    by the BatchNorm that follows (what the converter folds into the kernel)."""
    L = tfcompat.keras().layers
    follows = {(_inbound(lay).name if _inbound(lay) else None): lay for lay in model.layers}
    out = {}
    for name in channel_layers(model):
        w = model.get_layer(name).kernel.numpy()
        score = np.abs(w).reshape(-1, w.shape[-1]).sum(axis=0)
        bn = follows.get(name)
        if isinstance(bn, L.BatchNormalization):
            gamma = bn.gamma.numpy() if bn.scale else 1.0
            score = score * np.abs(gamma) / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
        out[name] = score
    return out


def _walk(model: Any, keep: dict[str, np.ndarray]) -> dict[str, tuple[Any, Any]]:
    """Per layer: (kept input indices, kept output indices) along the last axis
    (flat indices after a Flatten); None means all."""
    L = tfcompat.keras().layers
    out_idx: dict[str, Any] = {}
    rows = {}
    for lay in model.layers:
        prev = _inbound(lay)
        idx_in = out_idx.get(prev.name) if prev is not None else None
        if lay.name in keep:
            idx_out = np.sort(keep[lay.name])
        elif isinstance(lay, (L.Conv2D, L.Dense)) and not isinstance(lay, L.DepthwiseConv2D):
            idx_out = None
        elif isinstance(lay, L.Flatten) and idx_in is not None:
            shape = tuple(int(v) for v in lay.input.shape[1:])
            c, pos = shape[-1], int(np.prod(shape[:-1]))
            idx_out = (np.arange(pos)[:, None] * c + idx_in[None, :]).reshape(-1)
        elif isinstance(lay, L.DepthwiseConv2D) and lay.depth_multiplier != 1 and idx_in is not None:
            from ..core.errors import ModelError
            raise ModelError(f"channel pruning: '{lay.name}' has depth_multiplier {lay.depth_multiplier}",
                             hint="use [prune] method = \"magnitude\" for this model")
        else:
            idx_out = idx_in   # element-wise, pooling, BatchNorm, depthwise: channels pass through
        rows[lay.name] = (idx_in, idx_out)
        out_idx[lay.name] = idx_out
    return rows


def _take(a: np.ndarray, idx: Any, axis: int) -> np.ndarray:
    return a if idx is None else np.take(a, idx, axis=axis)


def _kernel_sizes(model: Any, rows: dict[str, tuple[Any, Any]]) -> int:
    """Kernel weights (conv, depthwise, dense) left after keeping `rows`."""
    L = tfcompat.keras().layers
    total = 0
    for lay in model.layers:
        if not isinstance(lay, (L.Conv2D, L.Dense)):
            continue
        shape = list(lay.kernel.shape)
        i, o = rows[lay.name]
        in_axis, out_axis = (0, 1) if isinstance(lay, L.Dense) else (2, 3)
        if i is not None:
            shape[in_axis] = len(i)
        if o is not None and not isinstance(lay, L.DepthwiseConv2D):
            shape[out_axis] = len(o)
        total += int(np.prod(shape))
    return total


def plan_channels(model: Any, sparsity: float) -> dict[str, np.ndarray]:
    """Kept output channels per layer: the same fraction of the most important
    channels in every layer, the smallest fraction removed that takes away at
    least `sparsity` of all kernel weights."""
    imp = channel_importance(model)
    full = _kernel_sizes(model, _walk(model, {}))
    order = {n: np.argsort(-s, kind="stable") for n, s in imp.items()}

    def plan(drop: float) -> dict[str, np.ndarray]:
        return {n: o[: max(1, int(round(len(o) * (1 - drop))))] for n, o in order.items()}

    def removed(drop: float) -> float:
        return 1 - _kernel_sizes(model, _walk(model, plan(drop))) / full

    # Bisection over drop fractions in steps of 0.005: removal grows with the drop.
    lo, hi = 0, 192
    while lo < hi:
        mid = (lo + hi) // 2
        if removed(mid / 200) >= sparsity - 1e-9:
            hi = mid
        else:
            lo = mid + 1
    keep = plan(lo / 200)
    return keep


def shrink_channels(model: Any, keep: dict[str, np.ndarray]) -> Any:
    """A new, narrower model holding `model`'s weights for the kept channels."""
    k = tfcompat.keras()
    L = k.layers
    rows = _walk(model, keep)
    cfg = model.get_config()
    for lc in cfg["layers"]:
        name = lc["config"]["name"]
        if name in keep:
            lc["config"]["filters" if "filters" in lc["config"] else "units"] = int(len(keep[name]))
    new = k.Model.from_config(cfg)
    for lay in model.layers:
        w = lay.get_weights()
        if not w:
            continue
        i, o = rows[lay.name]
        if isinstance(lay, L.DepthwiseConv2D):
            w = [_take(w[0], i, 2)] + [_take(b, i, 0) for b in w[1:]]
        elif isinstance(lay, L.Conv2D):
            w = [_take(_take(w[0], i, 2), o, 3)] + [_take(b, o, 0) for b in w[1:]]
        elif isinstance(lay, L.Dense):
            w = [_take(_take(w[0], i, 0), o, 1)] + [_take(b, o, 0) for b in w[1:]]
        elif isinstance(lay, L.BatchNormalization):
            w = [_take(v, o, 0) for v in w]
        new.get_layer(lay.name).set_weights(w)
    return new


def kernel_weights(model: Any) -> int:
    """All kernel weights (conv, depthwise, dense): what channel pruning removes."""
    return _kernel_sizes(model, _walk(model, {}))
