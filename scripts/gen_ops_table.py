"""Write docs/OPS.md from the AOT op registry (tinyml.codegen.aot.optable)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinyml.codegen.aot.optable import render  # noqa: E402
from tinyml.convert.ops import TFLM_BUILTIN_OPS  # noqa: E402

OUT = ROOT / "docs" / "OPS.md"
COSTS = ROOT / "docs" / "op_costs.json"      # written by benchmarks/op_costs.py

if __name__ == "__main__":
    OUT.write_text(render(TFLM_BUILTIN_OPS, json.loads(COSTS.read_text())), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
