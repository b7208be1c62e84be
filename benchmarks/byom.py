"""Models users bring, per format: `tinyml deploy --model F --dataset digits` on qemu_m4.

The same kind of digits CNN is trained here and saved in each format
(tests/user_models.py: .h5, SavedModel, float .tflite, an NCHW ONNX graph, and a
full-int8 .tflite converted from the .h5). Each goes through a real `tinyml
deploy` subprocess; printed per format: seconds per import step and per deploy
stage, float vs int8 accuracy on the whole digits test split (TFLM host), the
device's bit-exactness, and the layer that loses most. `--extra FILE` adds models of
your own (e.g. the MLPerf Tiny reference .h5 / float .tflite / SavedModel files),
deployed on seeded random inputs and calibrated on `--extra-calibration` (default:
random, so their int8 ranges are guesses and only bit-exactness and speed count).
Run:  .venv/bin/python benchmarks/byom.py [--samples N] [--extra FILE ...]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from deploy_time import fresh_project  # noqa: E402


def _int8_of(h5: Path, dst: Path) -> Path:
    """The user's network as a full-int8 .tflite, as a model zoo would ship it."""
    from tinyml.compress.quantize import representative_samples, to_int8_tflite
    from tinyml.core.tfcompat import keras
    from test_check_models import digits_dataset
    m = keras().models.load_model(str(h5), compile=False)
    dst.write_bytes(to_int8_tflite(m, representative_samples(digits_dataset().x_train, 300, 0)))
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", default="all", help="test samples measured on the device")
    ap.add_argument("--extra", action="append", default=[], help="another model file or SavedModel folder")
    ap.add_argument("--extra-calibration", default="random", help="--calibration for the --extra models")
    args = ap.parse_args()
    from user_models import user_models
    um = user_models()
    cases = [("int8 .tflite", _int8_of(um.h5, um.root / "user_cnn_int8.tflite"), None),
             ("float .tflite", um.float_tflite, None), ("Keras .h5", um.h5, None),
             ("SavedModel", um.saved_model, None), ("ONNX (NCHW)", um.onnx, str(um.calib_nchw)),
             ("ONNX flatten", um.onnx_flatten, str(um.calib_nchw))]
    cases += [(Path(e).name[:14], Path(e).resolve(), "extra") for e in args.extra]
    rows = []
    with tempfile.TemporaryDirectory(prefix="tm-byom-bench-") as tmp:
        tmp = Path(tmp)
        project = fresh_project(tmp / "proj")
        for i, (name, path, calib) in enumerate(cases):
            data = ["--calibration", args.extra_calibration] if calib == "extra" else \
                ["--dataset", "digits"] + (["--calibration", calib] if calib else [])
            cmd = [sys.executable, "-m", "tinyml.cli", "deploy", "--model", str(path), *data,
                   "--runs-dir", str(tmp / "runs"), "--run", f"r{i}", "--project", str(project),
                   "--samples", args.samples]
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                                 env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
            if out.returncode != 0:
                rows.append((name, f"FAILED ({out.returncode}): {out.stderr.strip().splitlines()[0]}"))
                continue
            run = tmp / "runs" / f"r{i}"
            check = json.loads((run / "check.json").read_text())
            res = json.loads((run / "results.json").read_text())
            imp = json.loads((run / "import.json").read_text())
            m = re.search(r"^\s+seconds\s+(.*)$", out.stdout, re.M)
            be = res["bit_exact"]
            worst = (imp.get("triage") or {}).get("worst") or {}
            rows.append((name, {
                "import s": imp["seconds"], "deploy s": m.group(1) if m else "?",
                "float": check["accuracy"]["float"], "int8": check["accuracy"]["int8_tflm"],
                "bit-exact": f"{be['compared'] - be['mismatched_samples']}/{be['compared']}",
                "worst layer": f"{worst.get('op')} {worst.get('sqnr_db')} dB" if worst else "-",
                "bytes": check["model"]["bytes"]}))
    print(f"{'format':<14} {'float':>7} {'int8':>7} {'bit-exact':>10} {'bytes':>6}  worst layer, import and deploy seconds")
    print("(accuracy in % on the digits test split; '-' without labels)")
    for name, r in rows:
        if isinstance(r, str):
            print(f"{name:<14} {r}")
            continue
        f = f"{100 * r['float']:.2f}" if r["float"] is not None else "-"
        i8 = f"{100 * r['int8']:.2f}" if r["int8"] is not None else "-"
        print(f"{name:<14} {f:>7} {i8:>7} {r['bit-exact']:>10} {r['bytes']:>6}  "
              f"{r['worst layer']}; import {r['import s']}; deploy {r['deploy s']}")


if __name__ == "__main__":
    main()
