"""Glue: read -> lower each op -> plan memory -> emit C."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...core.errors import ModelError, UnsupportedOpError
from . import emitter, ops as ops_pkg
from .fuse import fusable_pairs, fuse_conv_add
from .ir import Graph
from .ops.base import TFLM_HINT, OpContext
from .planner import Plan, plan_memory
from .reader import read_tflite
from .verify import verify_plan

_KERNEL_CALL = re.compile(r"\b(tm_k_\w+)\(")

# firmware/runtime/aot in the repository (kernels the generated code calls).
RUNTIME_DIR = Path(__file__).resolve().parents[3] / "firmware" / "runtime" / "aot"


@dataclass
class AotResult:
    files: dict[str, str]          # file name -> C text (tm_aot_model.h / .c)
    peak_ram_bytes: int            # planned arena bytes (everything at run time)
    weights_bytes: int             # bytes of constant arrays (weights, biases, tables)
    macs: int
    op_count: int
    ops: list[str]                 # builtin name per op, execution order
    layers: list[str] = field(default_factory=list)
    plan: Plan | None = None
    graph: Graph | None = None
    op_macs: list[int] = field(default_factory=list)   # MACs per op, execution order
    kernels: list[str] = field(default_factory=list)   # kernel function(s) each op calls


def _check_graph(g: Graph) -> None:
    if len(g.inputs) != 1 or len(g.outputs) != 1:
        raise ModelError(f"the AOT runtime needs exactly one input and one output tensor "
                         f"(model has {len(g.inputs)} and {len(g.outputs)})", hint=TFLM_HINT)
    for t in (g.inputs[0], g.outputs[0]):
        if t.dtype == "float32":   # float edge: the QUANTIZE/DEQUANTIZE lowerings take it
            continue
        if t.dtype != "int8" or t.scale.size == 0:
            raise UnsupportedOpError(
                "INPUT" if t is g.inputs[0] else "OUTPUT",
                f"model {'input' if t is g.inputs[0] else 'output'} tensor '{t.name}' is "
                f"{t.dtype}; the AOT runtime needs full-int8 models (int8 input and output)",
                hint="convert with inference_input_type/inference_output_type = tf.int8, "
                     "or use --runtime tflm", tensor=t.name, layer=t.layer)


# Ops with an input that only carries a target shape (op -> input index); the output
# shape is static in the file, so the int32 ops computing it (Keras: SHAPE /
# STRIDED_SLICE / PACK of the batch size) are dead code.
_SHAPE_ARG_OPS = {"RESHAPE": 1, "TRANSPOSE_CONV": 0}


def prune_dead_ops(g: Graph) -> Graph:
    """Drop ops none of whose outputs reach the graph output (except as a shape)."""
    needed = {t.index for t in g.outputs}
    keep = []
    for op in reversed(g.ops):
        if not any(t.index in needed for t in op.outputs):
            continue
        keep.append(op)
        for i, t in enumerate(op.inputs):
            if t is not None and _SHAPE_ARG_OPS.get(op.builtin) != i:
                needed.add(t.index)
    keep.reverse()
    return replace(g, ops=keep)


def _check_ops_known(g: Graph, registry: dict) -> None:
    """Name the first op the runtime lacks (and any others) before dtype problems:
    a model with both should be told about the op, which is the harder fix."""
    unknown = [op for op in g.ops if op.builtin not in registry]
    if not unknown:
        return
    others = sorted({op.builtin for op in unknown[1:]} - {unknown[0].builtin})
    msg = (f"op {unknown[0].builtin} is not implemented by the AOT runtime"
           + (f" (nor {', '.join(others)})" if others else "")
           + f"; supported: {', '.join(ops_pkg.supported_ops())}")
    try:
        _check_graph(g)
    except ModelError as e:
        msg += f". Also: {e.message}"
    OpContext(unknown[0]).unsupported(msg)


def _lower(op, lowering) -> OpContext:
    ctx = OpContext(op)
    lowering(op, ctx)
    return ctx


def _plan(g: Graph, ctxs: list[OpContext]) -> Plan:
    return plan_memory(g, {c.op.index: c.aliases for c in ctxs},
                       {c.op.index: c.scratch_bytes for c in ctxs},
                       {c.op.index: c.overlaps for c in ctxs})


# Fuse every fusable (CONV_2D, ADD) pair, not only where the peak drops: the tests set
# it to run the fused kernel on every shape they build.
FUSE_ALL = False


def _choose_for_ram(g: Graph, registry: dict) -> tuple[Graph, list[OpContext], Plan]:
    """Lower g with the fastest kernels, then trade speed for RAM where that lowers the
    arena's peak, one change at a time (kept only if the peak drops):
    1. fuse a CONV_2D with its residual ADD (fuse.py), summing in place over the skip;
    2. give an op whose kernel scratch is part of the peak its low-RAM alternative
       (ops.LOW_RAM: a CONV_2D gets tm_k_conv_rows / tm_k_conv_direct, with one
       kernel row of a pixel pair, or one pixel, of scratch; a FULLY_CONNECTED reads
       its input in place instead of through a panel)."""
    def lower_all(graph: Graph) -> tuple[Graph, list[OpContext], Plan]:
        ctxs = [_lower(op, registry[op.builtin]) for op in graph.ops]
        return graph, ctxs, _plan(graph, ctxs)

    pairs = fusable_pairs(g)
    if FUSE_ALL:
        graph, ctxs, plan = lower_all(fuse_conv_add(g, pairs))
        return graph, ctxs, plan
    best = lower_all(fuse_conv_add(g, {}))
    chosen: dict[int, dict] = {}
    for conv_i, pair in pairs.items():
        trial = lower_all(fuse_conv_add(g, {**chosen, conv_i: pair}))
        if trial[2].arena_bytes < best[2].arena_bytes:
            best, chosen = trial, {**chosen, conv_i: pair}
    graph, ctxs, plan = best
    for i, c in enumerate(ctxs):
        alt = ops_pkg.low_ram(c.op.builtin)
        if alt is not None and c.scratch_bytes > alt[1](c.op):
            trial_ctxs = ctxs[:i] + [_lower(c.op, alt[0])] + ctxs[i + 1:]
            trial_plan = _plan(graph, trial_ctxs)
            if trial_plan.arena_bytes < plan.arena_bytes:
                ctxs, plan = trial_ctxs, trial_plan
    return graph, ctxs, plan


def compile_graph(g: Graph, name: str = "model") -> AotResult:
    registry = ops_pkg.load_all()
    g = prune_dead_ops(g)
    _check_ops_known(g, registry)
    _check_graph(g)
    g, ctxs, plan = _choose_for_ram(g, registry)
    verify_plan(g, plan)
    macs = sum(c.macs for c in ctxs)
    weights = sum(int(a.nbytes) for c in ctxs for _, _, a in c.arrays)
    files = emitter.emit(g, ctxs, plan, name, macs, weights)
    kernels = [",".join(sorted({m for s in c.stmts for m in _KERNEL_CALL.findall(s)}))
               for c in ctxs]
    return AotResult(files, plan.arena_bytes, weights, macs, len(g.ops),
                     [op.builtin for op in g.ops], [op.layer for op in g.ops], plan, g,
                     [c.macs for c in ctxs], kernels)


def compile_tflite(model_bytes: bytes, name: str = "model") -> AotResult:
    """Compile an int8 .tflite into C. Raises ModelError / UnsupportedOpError."""
    return compile_graph(read_tflite(model_bytes), name)
