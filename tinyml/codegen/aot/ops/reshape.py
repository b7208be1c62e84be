"""RESHAPE (and the converter's EXPAND_DIMS/SQUEEZE, same bytes): free, in place."""
from __future__ import annotations

from . import register
from .base import OpContext


def _lower_view(op, ctx: OpContext) -> None:
    x, y = op.inputs[0], op.outputs[0]
    ctx.require_int8(x, y)
    if x.is_const:
        ctx.unsupported("reshaping a constant tensor is not supported", x)
    if x.nbytes != y.nbytes:
        ctx.unsupported(f"input {list(x.shape)} and output {list(y.shape)} differ in size "
                        "(a dynamic shape?); only static reshapes are supported", y)
    if (x.scalar_scale(), x.scalar_zp()) != (y.scalar_scale(), y.scalar_zp()):
        ctx.unsupported("input and output quantization differ", y)
    ctx.alias(0, 0)   # output shares the input buffer: no code, no copy


for _name in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
    register(_name)(_lower_view)
