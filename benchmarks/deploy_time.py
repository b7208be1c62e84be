"""Seconds of each stage of a cold and a warm `tinyml deploy` (default model, qemu_m4).

Cold: an empty runs folder and a fresh copy of the firmware project (PlatformIO's
own package cache stays warm: it is set up once by scripts/setup.sh). Warm: the
same command again, which reuses every unchanged stage. Each run is a real
`tinyml deploy` subprocess; the stage seconds come from its summary and the
run's manifest. Run:  .venv/bin/python benchmarks/deploy_time.py [--samples N]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinyml.core.stages import STAGES


def fresh_project(dst: Path) -> Path:
    dst.mkdir(parents=True)
    shutil.copy2(ROOT / "platformio.ini", dst / "platformio.ini")
    shutil.copytree(ROOT / "firmware", dst / "firmware",
                    ignore=shutil.ignore_patterns(".pio", "generated", "__pycache__"))
    (dst / "firmware" / "generated").mkdir()
    return dst


def deploy(runs: Path, project: Path, samples: str) -> tuple[float, dict, str]:
    cmd = [sys.executable, "-m", "tinyml.cli", "deploy", "--runs-dir", str(runs),
           "--project", str(project), "--samples", samples]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"deploy failed ({out.returncode}):\n{out.stderr[-3000:]}")
    m = re.search(r"^\s+seconds\s+(.*)$", out.stdout, re.M)
    stages = {k: float(v) for k, v in (p.split() for p in m.group(1).split(", "))} if m else {}
    return wall, stages, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", default="all", help="test samples measured on the device")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tm-deploy-bench-") as tmp:
        tmp = Path(tmp)
        runs, project = tmp / "runs", fresh_project(tmp / "proj")
        cold_wall, cold, summary = deploy(runs, project, args.samples)
        manifest = json.loads((runs / "default" / "manifest.json").read_text())
        warm_wall, warm, _ = deploy(runs, project, args.samples)
    print(f"{'stage':<12} {'cold s':>8} {'warm s':>8}")
    for k in cold:
        print(f"{k:<12} {cold[k]:>8.1f} {warm.get(k, float('nan')):>8.1f}")
    print(f"{'wall':<12} {cold_wall:>8.1f} {warm_wall:>8.1f}   (warm = {100 * warm_wall / cold_wall:.0f} % of cold)")
    print("\npipeline stages of the cold run (manifest):")
    for name in STAGES:
        if name in manifest["stages"]:
            print(f"  {name:<10} {manifest['stages'][name].get('seconds', 0):>7.1f} s")
    print("\nsummary of the cold run:\n" + summary.strip())


if __name__ == "__main__":
    main()
