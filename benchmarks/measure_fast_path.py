"""`tinyml measure`'s fast path on a large-input model: wall time for N samples.

Builds a run folder around one MLPerf Tiny reference model (random weights, real
int8 conversion; VWW by default: 96x96x3 = 27,648-byte inputs) with seeded random
int8 inputs and their TFLM host-runtime outputs, exports and builds it for
qemu_m4, then measures N samples through the fast path (the device reads samples
from a host file by semihosting) and, for comparison, a few through the UART.

    .venv/bin/python benchmarks/measure_fast_path.py [--model vww] [--samples 100] [--uart 3]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))          # reference_models
sys.path.insert(0, str(ROOT / "tests" / "emu"))  # conftest.copy_project
sys.path.insert(0, str(ROOT / "tests" / "host"))  # aot_harness.tflm_min_arena

from tinyml.model import golden
from tinyml.flows.measure import MeasureOptions, measure


def make_run(model: str, n: int, dest: Path) -> Path:
    """A run folder with model_int8.tflite, testset/golden.npz and check.json."""
    from reference_models import reference_int8
    from tflite_micro.python.tflite_micro import runtime
    tfl = reference_int8(model)
    run = dest / f"bench_{model}"
    run.mkdir(parents=True)
    (run / "model_int8.tflite").write_bytes(tfl)
    it = runtime.Interpreter.from_bytes(tfl, arena_size=4 << 20)
    ind, outd = it.get_input_details(0), it.get_output_details(0)
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, size=(n, *ind["shape"][1:]), dtype=np.int64).astype(np.int8)
    ys = []
    for i in range(n):
        it.set_input(x[i:i + 1], 0)
        it.invoke()
        ys.append(np.array(it.get_output(0))[0].copy())
    q_in, q_out = ind["quantization_parameters"], outd["quantization_parameters"]
    sha = hashlib.sha256(tfl).hexdigest()
    full = golden.Golden(inputs=x, outputs=np.stack(ys).astype(np.int8),
                         labels=np.full(n, -1, np.int64),       # random inputs: no true class
                         input_scale=float(q_in["scales"][0]), input_zero_point=int(q_in["zero_points"][0]),
                         output_scale=float(q_out["scales"][0]),
                         output_zero_point=int(q_out["zero_points"][0]), model_sha256=sha)
    golden.save(run / "testset.npz", full)
    first = golden.Golden(**{**full.__dict__, "inputs": x[:1], "outputs": full.outputs[:1],
                             "labels": full.labels[:1]})
    golden.save(run / "golden.npz", first)      # one self-test vector keeps flash small
    from aot_harness import tflm_min_arena          # the TFLM figure export records
    arena = tflm_min_arena(tfl)
    (run / "check.json").write_text(json.dumps({"model_sha256": sha, "labels": [], "arena": {
        "min_bytes": arena, "recommended_bytes": arena + arena // 10}}))
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="vww", choices=["kws", "ic", "vww", "ad"])
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--uart", type=int, default=3, help="samples to time through the UART too")
    a = ap.parse_args()
    from conftest import copy_project
    from tinyml.flows.export import export
    from tinyml.targets import get_target
    tmp = Path(tempfile.mkdtemp(prefix="tinyml-bench-measure-"))
    try:
        t = time.perf_counter()
        run = make_run(a.model, a.samples, tmp)
        print(f"run folder with {a.samples} random samples: {time.perf_counter() - t:.1f} s")
        proj = copy_project(tmp / "proj")
        export(run, "qemu_m4", proj)
        t = time.perf_counter()
        get_target("qemu_m4").build(proj)
        print(f"export + build: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        r = measure(run, "qemu_m4", project_dir=proj,
                    opts=MeasureOptions(samples=a.samples, latency_runs=3, progress=False))
        wall = time.perf_counter() - t
        ex = r["bit_exact"]
        print(f"fast path: {r['samples']['count']} samples of {r['model']['input_bytes']:,} B in "
              f"{r['wall_seconds']['samples']:.1f} s ({wall:.1f} s with boot and latency runs); "
              f"bit-exact {ex['compared'] - ex['mismatched_samples']}/{ex['compared']}; "
              f"{r['latency']['per_inference']['median']:,.0f} instructions per inference")
        if a.uart:
            uart_run = tmp / "uart" / run.name
            shutil.copytree(run, uart_run, ignore=shutil.ignore_patterns("results*", "report*"))
            r2 = measure(uart_run, "qemu_m4", project_dir=proj,
                         opts=MeasureOptions(samples=a.uart, latency_runs=1, fast=False, progress=False))
            per = r2["wall_seconds"]["samples"] / a.uart
            print(f"UART path: {a.uart} samples in {r2['wall_seconds']['samples']:.1f} s "
                  f"({per:.1f} s per sample; {a.samples} samples would take ~{per * a.samples / 60:.0f} min)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
