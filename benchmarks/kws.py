"""Time the generation of the `tts_kws` synthetic-speech dataset, cold (fresh cache).

    .venv/bin/python benchmarks/kws.py [--voices N] [--seed S]

Prints the wall clock, the CPU count, the espeak-ng words, the clips per split
and per-class counts. Target (issue 11): under 2 minutes on 2 CPU cores with
the default settings. espeak-ng runs as child processes, so on a machine
shared with other work the wall clock is inflated.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinyml.config import schema as config
from tinyml.data import load_dataset, tts_kws  # noqa: E402

TARGET_SECONDS = 120.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", type=int, help="first N voices of each split (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tinyml-kws-") as tmp:
        over = {"data": {"name": "tts_kws", "cache_dir": tmp, "tts_voices": args.voices}}
        cfg = config.load(None, over).data
        words = sum(u is not None for s in tts_kws.SPLITS for u, _ in tts_kws.plan(cfg, args.seed)[s])
        t0 = time.perf_counter()
        ds = load_dataset(cfg, seed=args.seed)
        wall = time.perf_counter() - t0
    print(f"tts_kws (synthetic speech): {words} espeak-ng words, {wall:.1f} s wall on "
          f"{os.cpu_count()} CPUs (target < {TARGET_SECONDS:.0f} s on 2)")
    for s in tts_kws.SPLITS:
        y = getattr(ds, f"y_{s}")
        print(f"  {s:<5} {len(y):>6} clips, voices: {', '.join(ds.meta['voices'][s])}")
    return 0 if wall < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
