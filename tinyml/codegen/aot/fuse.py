"""Graph pass: a CONV_2D whose only reader is the next op, a residual ADD, can become
one CONV_2D+ADD op (tm_k_conv_direct) that writes the sum over the ADD's other input.

Why: in a residual block the skip tensor and the conv's input are both live while the
conv runs; a separate ADD also needs the conv's output, so the peak holds three
activations. Fused, the conv adds each output element to the skip element under it
and stores the sum in its place: two activations. The ADD must have an integer
linear form (ops/add.py linear_form, proven against TFLM on all 65,536 input pairs),
so the fused result is the same bytes as the two ops'. The compiler fuses a pair
where that lowers the arena's peak (elsewhere the faster unfused kernels stay).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from .ir import Graph, Op
from .ops.add import add_linear_form
from .quant import activation_range

FUSED_CONV_ADD = "CONV_2D+ADD"
_VIEW_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")    # lowered as aliases (ops/reshape.py)


def _skip_operand(conv: Op, add: Op, last_use: dict[int, int], pos: int,
                  excluded: set[int]) -> int | None:
    """Index (0/1) of the ADD input that is the skip tensor, if the pair can fuse."""
    y = conv.outputs[0]
    if len(add.inputs) != 2 or any(t is None for t in add.inputs):
        return None
    ins = [t.index for t in add.inputs]
    if ins.count(y.index) != 1 or last_use.get(y.index) != pos + 1 or y.index in excluded:
        return None
    k = 1 - ins.index(y.index)
    x, out = add.inputs[k], add.outputs[0]
    same = tuple(x.shape) == tuple(y.shape) == tuple(out.shape)
    int8 = all(t.dtype == "int8" and t.scale.size == 1 for t in (x, y, out))
    # the sum overwrites x: nothing may read x after the ADD, x is no graph edge nor
    # shares its buffer (`excluded`), and x is not the conv's own input (later pixels
    # still read it)
    if not (same and int8 and not x.is_const and last_use.get(x.index) == pos + 1
            and x.index not in excluded and x.index != conv.inputs[0].index
            and len(y.shape) == 4 and y.shape[0] == 1):
        return None
    return k


def fusable_pairs(g: Graph) -> dict[int, dict]:
    """conv op index -> fused-op options, for each (CONV_2D, ADD) pair that can fuse:
    the two original ops, the ADD's linear form with the skip coefficient first
    ("lin": skip, conv output, constant, shift) and its clamp ("act_range")."""
    last_use: dict[int, int] = defaultdict(lambda: -1)
    for pos, op in enumerate(g.ops):
        for t in op.inputs:
            if t is not None:
                last_use[t.index] = pos
    graph_io = {t.index for t in (*g.inputs, *g.outputs)}
    # tensors sharing a buffer with another (views: RESHAPE and kin alias their input);
    # a skip tensor among them could be read through its alias after the sum overwrote it
    shared = {t.index for op in g.ops if op.builtin in _VIEW_OPS
              for t in (*op.inputs[:1], *op.outputs) if t is not None}
    pairs: dict[int, dict] = {}
    for pos, (op, nxt) in enumerate(zip(g.ops, g.ops[1:])):
        if op.builtin != "CONV_2D" or nxt.builtin != "ADD":
            continue
        k = _skip_operand(op, nxt, last_use, pos, graph_io | shared)
        if k is None:
            continue
        out = nxt.outputs[0]
        try:
            lo, hi = activation_range(nxt.options.get("fused_activation", "NONE"),
                                      out.scalar_scale(), out.scalar_zp())
        except ValueError:        # the ADD's own lowering names it
            continue
        form = add_linear_form(nxt.inputs[0], nxt.inputs[1], out, lo, hi)
        if form is not None:
            ka, kb, kc, sh = form
            pairs[op.index] = {"conv": op, "add": nxt, "skip": k, "act_range": (lo, hi),
                               "lin": (ka, kb, kc, sh) if k == 0 else (kb, ka, kc, sh)}
    return pairs


def fuse_conv_add(g: Graph, pairs: dict[int, dict]) -> Graph:
    """g with each pair of `pairs` (from fusable_pairs) replaced by one CONV_2D+ADD op,
    which keeps the conv's index, options and inputs, adds the skip tensor as input 3
    and writes the ADD's output; its options also carry the pair's entries."""
    ops: list[Op] = []
    skip_next = False
    for op in g.ops:
        if skip_next:
            skip_next = False
            continue
        f = pairs.get(op.index)
        if f is None or f["conv"] is not op:
            ops.append(op)
            continue
        add = f["add"]
        ins = [*op.inputs[:3], *([None] * (3 - len(op.inputs[:3]))), add.inputs[f["skip"]]]
        ops.append(Op(op.index, FUSED_CONV_ADD, {**op.options, **f}, ins, [add.outputs[0]],
                      source_layer=add.layer))
        skip_next = True
    return replace(g, ops=ops)
