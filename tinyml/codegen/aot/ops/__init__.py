"""Registry of op lowerings: the explicit list below, builtin op name -> lowering.

Add an op by writing its lowering in a module of this package and listing it in
LOWERINGS (same style as tinyml.targets.registry and tinyml.data.registry). The
`@register("OP")` line above a lowering is a check, not a registration: it
fails the import if LOWERINGS names another function for that op.

    @register("MAX_POOL_2D")
    def lower_max_pool(op, ctx): ...

See `ops/base.py` for what a lowering receives and must do.
"""
from __future__ import annotations

import importlib
from typing import Callable

# builtin op -> (module in this package, lowering function)
LOWERINGS: dict[str, tuple[str, str]] = {
    "ADD": ("add", "lower_add"),
    "AVERAGE_POOL_2D": ("pool", "lower_avg_pool"),
    "BATCH_MATMUL": ("batch_matmul", "lower_batch_matmul"),
    "CONCATENATION": ("concat", "lower_concat"),
    "CONV_2D": ("conv", "lower_conv2d"),
    "CONV_2D+ADD": ("conv_add", "lower_conv_add"),   # fused by fuse.py, not a .tflite op
    "DEPTHWISE_CONV_2D": ("depthwise", "lower_depthwise"),
    "DEQUANTIZE": ("quantize", "lower_dequantize"),
    "EXPAND_DIMS": ("reshape", "_lower_view"),
    "FULLY_CONNECTED": ("fully_connected", "lower_fully_connected"),
    "GATHER": ("movement", "lower_gather"),
    "HARD_SWISH": ("activation", "lower_hard_swish"),
    "LEAKY_RELU": ("activation", "lower_leaky_relu"),
    "LOGISTIC": ("logistic", "lower_logistic"),
    "MAXIMUM": ("binary", "lower_maximum"),
    "MAX_POOL_2D": ("pool", "lower_max_pool"),
    "MEAN": ("mean", "lower_mean"),
    "MINIMUM": ("binary", "lower_minimum"),
    "MUL": ("binary", "lower_mul"),
    "PACK": ("movement", "lower_pack"),
    "PAD": ("pad", "lower_pad"),
    "PRELU": ("binary", "lower_prelu"),
    "PADV2": ("pad", "lower_padv2"),
    "QUANTIZE": ("quantize", "lower_quantize"),
    "RELU": ("activation", "lower_relu"),
    "RELU6": ("activation", "lower_relu6"),
    "RESHAPE": ("reshape", "_lower_view"),
    "RESIZE_BILINEAR": ("resize", "lower_resize_bilinear"),
    "RESIZE_NEAREST_NEIGHBOR": ("resize", "lower_resize_nearest"),
    "SLICE": ("movement", "lower_slice"),
    "SOFTMAX": ("softmax", "lower_softmax"),
    "SPLIT": ("movement", "lower_split"),
    "SPLIT_V": ("movement", "lower_split_v"),
    "SQUARED_DIFFERENCE": ("binary", "lower_squared_difference"),
    "SQUEEZE": ("reshape", "_lower_view"),
    "STRIDED_SLICE": ("movement", "lower_strided_slice"),
    "SUB": ("add", "lower_sub"),
    "TANH": ("activation", "lower_tanh"),
    "TRANSPOSE": ("transpose", "lower_transpose"),
    "TRANSPOSE_CONV": ("transpose_conv", "lower_transpose_conv"),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ("lstm", "lower_lstm"),
    "UNPACK": ("movement", "lower_unpack"),
}
# Low-RAM alternatives the compiler may pick for an op where that lowers the arena's
# peak (compiler._choose_for_ram): builtin -> (module, lowering, function giving the
# alternative's scratch bytes for an op).
LOW_RAM: dict[str, tuple[str, str, str]] = {
    "CONV_2D": ("conv_add", "lower_conv_direct", "direct_scratch_bytes"),
    "FULLY_CONNECTED": ("fully_connected", "lower_fc_in_place", "fc_in_place_scratch"),
}
_registry: dict[str, Callable] = {}


def register(builtin: str) -> Callable[[Callable], Callable]:
    """Decorator: check that LOWERINGS lists `fn` as the lowering of `builtin`."""
    def deco(fn: Callable) -> Callable:
        module = fn.__module__.rsplit(".", 1)[-1]
        if LOWERINGS.get(builtin) != (module, fn.__name__):
            raise RuntimeError(f"{module}.{fn.__name__} lowers {builtin}, but ops/__init__.py "
                               f"LOWERINGS lists {LOWERINGS.get(builtin)}")
        return fn
    return deco


def load_all() -> dict[str, Callable]:
    """builtin op -> lowering function, for every op in LOWERINGS."""
    if not _registry:
        for builtin, (module, fn) in sorted(LOWERINGS.items()):
            _registry[builtin] = getattr(importlib.import_module(f"{__name__}.{module}"), fn)
    return _registry


def low_ram(builtin: str) -> tuple[Callable, Callable] | None:
    """(lowering, scratch bytes of an op) of builtin's low-RAM alternative, if any."""
    if builtin not in LOW_RAM:
        return None
    module, fn, scratch = LOW_RAM[builtin]
    mod = importlib.import_module(f"{__name__}.{module}")
    return getattr(mod, fn), getattr(mod, scratch)


def supported_ops() -> list[str]:
    """.tflite builtin ops the runtime compiles (fused ops of fuse.py excluded)."""
    return sorted(op for op in LOWERINGS if "+" not in op)
