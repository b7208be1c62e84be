"""docs/OPS.md is the generated op table, up to date with the compiler's registry."""
from __future__ import annotations

import json
from pathlib import Path

from tinyml.codegen.aot.compiler import RUNTIME_DIR
from tinyml.codegen.aot.ops import LOWERINGS, supported_ops
from tinyml.codegen.aot.optable import KERNEL_FILES, aot_rows, render
from tinyml.convert.ops import TFLM_BUILTIN_OPS

DOC = Path(__file__).resolve().parents[2] / "docs" / "OPS.md"
COSTS = DOC.with_name("op_costs.json")


def test_ops_md_is_generated_and_current():
    assert DOC.read_text(encoding="utf-8") == render(TFLM_BUILTIN_OPS, json.loads(COSTS.read_text())), \
        "docs/OPS.md is stale: run `.venv/bin/python scripts/gen_ops_table.py`"


def test_every_lowering_has_its_kernel_files():
    for op, (module, _fn) in LOWERINGS.items():
        assert module in KERNEL_FILES, f"{op}: module {module} missing from optable.KERNEL_FILES"
    for files in KERNEL_FILES.values():
        for f in files or ():
            assert (RUNTIME_DIR / f).is_file(), f


def test_rows_cover_exactly_the_supported_ops():
    rows = aot_rows()
    assert [r["op"] for r in rows] == supported_ops()
    conv = next(r for r in rows if r["op"] == "CONV_2D")
    assert conv["dsp"] != "-" and next(r for r in rows if r["op"] == "MUL")["dsp"] == "-"
    text = render({"CONV_2D", "SVDF"})
    assert "Only with `--runtime tflm` (1 builtin ops)" in text and "\nSVDF\n" in text
    text = render(set(), {"CONV_2D": {"dsp": 1.5, "portable": 3.0, "unit": "MAC"}})
    assert "| Arm Cortex-M DSP (TM_AOT_DSP) | 1.5 / 3 per MAC |" in text
    assert "| MUL | int8 | tm_k_binary.c | - | - |" in text       # not measured


def test_check_summary_names_ops_the_aot_lacks():
    from types import SimpleNamespace

    from tinyml.flows.summary import pipeline_lines
    r = SimpleNamespace(name="check", skipped=False, seconds=1.0,
                        metrics={"ops": ["CONV_2D", "SVDF", "MADE_UP_OP"], "test_samples": 3})
    lines = pipeline_lines([r], Path("/tmp/run"))
    text = "\n".join(lines)
    assert "SVDF: not in the AOT runtime" in text and "--runtime tflm" in text
    assert "MADE_UP_OP: not in the AOT runtime" in text and "no runtime here runs it" in text
    assert "CONV_2D:" not in text
