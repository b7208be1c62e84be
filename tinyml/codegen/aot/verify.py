"""Plan checker: proves a finished memory plan safe before any C is emitted.

Independent of how the planner placed things, it checks that
  - every buffer lies inside the arena, 16-byte aligned, and every tensor an op
    touches has a place;
  - two buffers whose lifetimes meet never share a byte, unless one is an op's
    output over that op's dying input with a declared access pattern;
  - for each such overlap, replaying the kernel's read/write order (the pattern of
    the direction the op runs in) over the real byte ranges finds no input byte
    written over before its last read.
A plan that fails is refused (PlanError): emitting it would give wrong answers.
"""
from __future__ import annotations

from ...core.errors import BuildError
from .ir import Graph
from .planner import ALIGN, Buffer, Plan


class PlanError(BuildError):
    """The compiler produced a memory plan it cannot prove safe (a compiler bug)."""

    def __init__(self, message: str):
        super().__init__(f"AOT memory plan refused: {message}",
                         hint="this is a bug in tinyml's AOT compiler; please report it "
                              "with the model, and use `--runtime tflm` meanwhile")


def _overlap(a: Buffer, b: Buffer) -> bool:
    return (a.size > 0 and b.size > 0 and a.first <= b.last and b.first <= a.last
            and a.offset < b.offset + b.size and b.offset < a.offset + a.size)


def verify_plan(g: Graph, plan: Plan) -> None:
    """Raise PlanError unless every op of `g` is safe under `plan`."""
    for b in plan.buffers:
        if b.offset < 0 or b.offset + b.size > plan.arena_bytes or b.offset % ALIGN:
            raise PlanError(f"buffer {b.key} at [{b.offset}, {b.offset + b.size}) is outside "
                            f"the {plan.arena_bytes}-byte arena or not {ALIGN}-byte aligned")
    for op in g.ops:
        for t in [*op.inputs, *op.outputs]:
            if t is not None and not t.is_const and t.index not in plan.tensor_offsets:
                raise PlanError(f"op #{op.index} {op.builtin}: tensor '{t.name}' has no place")
    for t in (*g.inputs, *g.outputs):
        if t.index not in plan.tensor_offsets:
            raise PlanError(f"graph tensor '{t.name}' has no place")

    bufs = plan.buffers
    for i, a in enumerate(bufs):
        for b in bufs[i + 1:]:
            if _overlap(a, b):
                _check_overlap(g, plan, a, b)


def _check_overlap(g: Graph, plan: Plan, a: Buffer, b: Buffer) -> None:
    decl = plan.accesses.get((a.key, b.key))
    out, inp = (a, b) if decl is not None else (b, a)
    decl = decl or plan.accesses.get((b.key, a.key))
    if decl is None:
        raise PlanError(f"buffers {a.key} and {b.key} share bytes while both are live "
                        f"(ops {a.first}..{a.last} and {b.first}..{b.last})")
    op_i, fwd, rev = decl
    op = g.ops[[o.index for o in g.ops].index(op_i)]
    reverse = op_i in plan.reverse_ops
    pattern = rev if reverse else fwd
    where = f"op #{op_i} {op.builtin} (layer '{op.layer}')"
    if inp.last != op_i or out.first != op_i:
        raise PlanError(f"{where}: its output {out.key} overlaps input {inp.key}, "
                        f"which is still live after the op")
    if pattern is None:
        raise PlanError(f"{where} runs in reverse order but declares no reverse pattern")
    d = out.offset - inp.offset
    bad = pattern.conflicts(d)
    if bad.size:
        o = int(bad[0])
        raise PlanError(
            f"{where}, {'reverse' if reverse else 'forward'} order, output {d:+d} bytes from "
            f"its input: output byte {o} is written at step {int(pattern.first_write[o])}, "
            f"before input byte {o + d} is last read at step {int(pattern.last_read[o + d])} "
            f"({bad.size} such bytes)")
