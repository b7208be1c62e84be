"""Write the generated C files from lowered ops and the memory plan (string.Template).

Output is deterministic: it depends only on the model bytes and the name.
"""
from __future__ import annotations

import re
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from ..carray import c_float
from .ir import Graph, Tensor
from .ops.base import OpContext
from .planner import Plan

TEMPLATES = Path(__file__).parent / "templates"
HEADER_NAME = "tm_aot_model.h"
SOURCE_NAME = "tm_aot_model.c"


def _tmpl(name: str) -> Template:
    return Template((TEMPLATES / name).read_text())


def c_value(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if v == -(1 << 31):
            return "(-2147483647 - 1)"
        return str(v)
    if isinstance(v, (float, np.floating)):
        return c_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple, np.ndarray)):
        return "{" + ", ".join(c_value(x) for x in v) + "}"
    raise TypeError(f"cannot emit {type(v).__name__} as C")


def c_array(ctype: str, name: str, values: np.ndarray) -> str:
    per_line = 16 if values.dtype.itemsize == 1 else 8
    vals = [c_value(v) for v in values.tolist()] or ["0"]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return (f"static const {ctype} {name}[{max(len(values), 1)}] TM_AOT_ALIGNED(16) = {{\n"
            f"    {body}\n}};")


def c_struct(ctype: str, name: str, fields: dict[str, Any]) -> str:
    inits = ",\n".join(f"    .{k} = {c_value(v)}" for k, v in fields.items())
    return f"static const {ctype} {name} = {{\n{inits}\n}};"


def _comment(text: str) -> str:
    """Tensor/layer names inside C comments: no `*/`, printable ASCII only."""
    return re.sub(r"[^A-Za-z0-9_.:;,+ -]", "_", text)[:80]


def _dims(t: Tensor) -> str:
    return ", ".join(str(d) for d in t.shape) or "1"


def emit(g: Graph, ctxs: list[OpContext], plan: Plan, name: str,
         macs: int, weights_bytes: int) -> dict[str, str]:
    gi, go = g.inputs[0], g.outputs[0]
    safe_name = re.sub(r"[^A-Za-z0-9_.+ -]", "_", name)[:64]   # goes into C strings/comments
    common = dict(model_name=safe_name, sha256=g.sha256,
                  header_name=HEADER_NAME, source_name=SOURCE_NAME,
                  arena_bytes=plan.arena_bytes, weights_bytes=weights_bytes,
                  op_count=len(g.ops), macs=macs)
    header = _tmpl("model.h.tmpl").substitute(
        common,
        in_bytes=gi.nbytes, in_rank=len(gi.shape), in_dims=_dims(gi),
        in_scale=c_float(gi.scalar_scale() if gi.scale.size else 0.0), in_zp=gi.scalar_zp() if gi.zero_point.size else 0,
        out_bytes=go.nbytes, out_rank=len(go.shape), out_dims=_dims(go),
        out_scale=c_float(go.scalar_scale() if go.scale.size else 0.0), out_zp=go.scalar_zp() if go.zero_point.size else 0)

    includes: list[str] = []
    for c in ctxs:
        for h in c.headers:
            if h not in includes:
                includes.append(h)

    macros = [f"#define TM_T{ti} (tm_arena + {off})" for ti, off in sorted(plan.tensor_offsets.items())]
    macros += [f"#define TM_S{oi} (tm_arena + {off})" for oi, off in sorted(plan.scratch_offsets.items())]
    macros += [f"#define TM_REV{c.op.index} {int(c.op.index in plan.reverse_ops)}"
               f"  /* 1: output placed above its input, run in reverse order */"
               for c in ctxs if c.wants_direction]
    plan_lines = [f" *   {b.key:>6}: [{b.offset:>7}, {b.offset + b.size:>7})  ops {b.first}..{b.last}"
                  for b in sorted(plan.buffers, key=lambda b: (b.offset, b.key))]

    consts, body = [], []
    for pos, (op, c) in enumerate(zip(g.ops, ctxs)):
        consts.append(f"/* op {op.index}: {op.builtin} (layer '{_comment(op.layer)}') */")
        consts += [c_array(ct, n, v) for ct, n, v in c.arrays]
        consts += [c_struct(ct, n, f) for ct, n, f in c.structs]
        body.append(f"    /* op {op.index}: {op.builtin} '{_comment(op.layer)}' */")
        body.append(f"    TM_PROFILE_BEGIN({pos});")
        body += [f"    {s}" for s in c.stmts]
        body.append(f"    TM_PROFILE_END({pos});")

    source = _tmpl("model.c.tmpl").substitute(
        common,
        plan_comment="\n".join(plan_lines),
        includes="\n".join(f'#include "{h}"' for h in includes),
        buffer_macros="\n".join(macros),
        constants="\n\n".join(consts),
        op_count_or_1=max(len(g.ops), 1),
        op_names="\n".join(f'    "{op.builtin}",' for op in g.ops) or '    ""',
        in_buf=f"TM_T{gi.index}", out_buf=f"TM_T{go.index}",
        body="\n".join(body))
    return {HEADER_NAME: header, SOURCE_NAME: source}
