"""Differential fuzzing of the AOT compiler against the TFLM host runtime.

Random small int8 Keras models (tests/host/aot_fuzz.py: gen_spec) are converted with
the real TFLiteConverter, compiled to C and run with host gcc (portable kernels) and,
with --dsp, on a Cortex-M4F in QEMU (SMLAD kernels, many models per image); every
output byte must equal the TFLM host runtime's. With --shrink every failing model is
minimised and saved as tests/host/aot_regressions/<name>.json (replayed by
tests/host/test_aot_fuzz.py). Conversions are cached in $TMPDIR/tm_aot_fuzz_cache.

    .venv/bin/python benchmarks/aot_fuzz.py [--models 2000] [--seed 0] [--dsp] [--shrink]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))          # after PYTHONPATH: lets a checkout of other code be fuzzed
sys.path.insert(0, str(ROOT / "tests" / "host"))

import aot_fuzz as F  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0, help="model i uses generator seed SEED+i")
    ap.add_argument("--dsp", action="store_true", help="also run every model in QEMU (Cortex-M4F)")
    ap.add_argument("--shrink", action="store_true", help="minimise failures, save regression JSONs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=200, help="models per round (progress, memory)")
    ap.add_argument("--regressions", type=Path, default=F.REGRESSION_DIR,
                    help="where --shrink saves the regression JSONs")
    args = ap.parse_args()

    t0 = time.perf_counter()
    results: list[F.FuzzResult] = []
    failures: list[F.FuzzResult] = []
    coverage: Counter = Counter()
    t_dsp = 0.0
    for start in range(0, args.models, args.chunk):
        specs = [F.gen_spec(args.seed + i) for i in range(start, min(args.models, start + args.chunk))]
        host = F.run_specs(specs, keep=args.dsp, workers=args.workers)
        rows = [(r, "host") for r in host]
        if args.dsp:
            t1 = time.perf_counter()
            rows += [(r, "dsp") for r in F.run_dsp(host, jobs=args.workers)]
            t_dsp += time.perf_counter() - t1
        for r, where in rows:
            if r.status != "ok":
                print(f"  [{where}] {r.summary()[:600]}", flush=True)
                if where == "host" or r.status == "mismatch":   # dsp errors echo host errors
                    failures.append(r)
            r.files = r.tflite = None                           # keep memory flat
        results += host
        coverage += F.coverage(host)
        n = len(results)
        kinds = Counter(r.status for r, _ in rows)
        print(f"{n}/{args.models} models, {time.perf_counter() - t0:.0f} s: {dict(kinds)}", flush=True)

    elapsed = time.perf_counter() - t0
    kinds = Counter(r.kind for r in failures)
    mism = sum(v for (s, _), v in kinds.items() if s == "mismatch")
    errs = sum(v for (s, _), v in kinds.items() if s == "error")
    inval = sum(v for (s, _), v in kinds.items() if s == "invalid")
    print(f"\nmodels tried: {len(results)}  mismatches: {mism}  errors: {errs}  "
          f"invalid (TFLM cannot run them): {inval}")
    print(f"time: {elapsed:.1f} s ({elapsed / max(1, len(results)):.2f} s/model"
          + (f"; QEMU part {t_dsp:.1f} s" if args.dsp else "") + f", {args.workers} workers)")
    print("coverage (models exercising each feature):")
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(coverage.items())))

    if args.shrink:
        saved: dict = {}
        host_bad = {json.dumps(r.spec, sort_keys=True) for r in failures if r.stage != "dsp"}
        for r in failures:
            if r.status == "invalid" or (r.stage == "dsp" and json.dumps(r.spec, sort_keys=True) in host_bad):
                continue                     # no reference / already caught on the host
            dsp = r.stage == "dsp"
            t1 = time.perf_counter()
            small = F.shrink(r.spec, F.same_failure(r, dsp=dsp, workers=args.workers),
                             log=lambda m: print("  " + m, flush=True))
            res = (F.check_specs_dsp([small]) if dsp else F.run_specs([small], keep=True))[0]
            if res.kind != r.kind:
                print(f"shrunk spec no longer fails like the original ({res.kind}); skipped")
                continue
            if res.tflite is None:           # failed before a .tflite existed: a generator defect
                print(f"shrunk (not saved, no .tflite): {res.summary()[:300]}\n  spec {json.dumps(small)}")
                continue
            sig = (res.kind, tuple(res.ops))
            if sig in saved:                 # same failure, same ops: most likely the same bug
                print(f"shrunk to {res.summary()[:300]}\n  (like {saved[sig].name}: not saved)")
                continue
            path = saved[sig] = F.save_regression(res, original=r.spec, directory=args.regressions)
            print(f"shrunk in {time.perf_counter() - t1:.0f} s: {res.summary()[:400]}\n  -> {path}")
    return 1 if mism or errs else 0


if __name__ == "__main__":
    sys.exit(main())
