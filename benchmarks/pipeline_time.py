"""Time the default digits pipeline end to end (fresh temp run folder).

    .venv/bin/python benchmarks/pipeline_time.py [--keep DIR]

Prints seconds per stage, the total, and the headline accuracies. Target: the
whole default pipeline in under 3 minutes on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinyml import config, pipeline  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="run folder parent to keep (default: a temp folder, deleted)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tinyml-bench-") as tmp:
        runs = args.keep or tmp
        cfg = config.load(None, {"run": {"runs_dir": runs, "name": "bench"}})
        t0 = time.perf_counter()
        results = pipeline.run_pipeline(cfg, progress=False)
        total = time.perf_counter() - t0
        print(f"{'stage':<10} {'seconds':>8}  {'test acc':>8}")
        for r in results:
            acc = r.metrics.get("accuracy")
            if r.name == "check":
                acc = r.metrics.get("accuracy_int8_tflm")
            acc_s = "-" if not isinstance(acc, float) else f"{acc:.2%}"
            print(f"{r.name:<10} {r.seconds:8.1f}  {acc_s:>8}")
        print(f"{'total':<10} {total:8.1f}  (target < 180 s on 2 cores)")
        q = next(r.metrics for r in results if r.name == "quantize")
        print(f"int8 model: {q['int8_bytes']} bytes, LiteRT test accuracy {q['accuracy_int8_litert']:.2%}, "
              f"float student {q['accuracy_float']:.2%}, sparsity {q['sparsity']:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
