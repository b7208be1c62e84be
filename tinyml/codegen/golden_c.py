"""Golden vectors (golden.npz) as C: tm_golden.h/.c for the device self-test."""
from __future__ import annotations

import numpy as np

from ..core.errors import ModelError
from ..model.golden import Golden
from .carray import format_values, int8_rows, render


def golden_files(g: Golden, expect_in: int | None = None, expect_out: int | None = None,
                 source: str = "golden.npz") -> dict[str, str]:
    """tm_golden.h/.c with TM_GOLDEN_COUNT vectors of TM_GOLDEN_INPUT/OUTPUT_BYTES int8 values.

    expect_in / expect_out: the model's input/output element counts; a golden file
    made for another model is refused (ModelError) instead of producing a self-test
    that can only fail on the device.
    """
    n = len(g)
    if n < 1:
        raise ModelError(f"{source}: holds no golden vectors", hint="re-run `tinyml check`")
    ins = np.asarray(g.inputs, dtype=np.int8).reshape(n, -1)
    outs = np.asarray(g.outputs, dtype=np.int8).reshape(n, -1)
    if expect_in is not None and ins.shape[1] != expect_in:
        raise ModelError(f"{source}: inputs have {ins.shape[1]} values each, the model takes {expect_in}",
                         hint="golden.npz belongs to another model; re-run `tinyml check`")
    if expect_out is not None and outs.shape[1] != expect_out:
        raise ModelError(f"{source}: outputs have {outs.shape[1]} values each, the model gives {expect_out}",
                         hint="golden.npz belongs to another model; re-run `tinyml check`")
    labels = np.asarray(g.labels, dtype=np.int64).reshape(n)
    if labels.min() < -1 or labels.max() > 32767:
        raise ModelError(f"{source}: labels out of range ({labels.min()}..{labels.max()})")
    h = render("tm_golden.h.tmpl", sha256=g.model_sha256, count=n,
               in_bytes=ins.shape[1], out_bytes=outs.shape[1])
    c = render("tm_golden.c.tmpl", inputs=int8_rows(ins), outputs=int8_rows(outs),
               labels=format_values(labels.tolist(), per_line=16))
    return {"tm_golden.h": h, "tm_golden.c": c}
