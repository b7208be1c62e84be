#!/usr/bin/env python3
"""Emulated latency of an exported model on the QEMU Cortex-M4F (qemu_m4).

Builds the PlatformIO project (after `tinyml export --target qemu_m4`), boots
it in QEMU with -icount shift=0 and prints, per inference, the EMULATED
INSTRUCTION count (deterministic; not a cycle count of real silicon) and the
per-layer split. Usage:

    python benchmarks/qemu_latency.py [--project .] [--runs 10] [--no-build]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinyml.harness.client import DutClient  # noqa: E402
from tinyml.targets.qemu import QEMU_M4  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default=".", type=Path)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    with QEMU_M4.emulate(a.project, build=not a.no_build) as emu, DutClient(emu.open_transport()) as dut:
        dut.sync()
        info = dut.build_info()
        st = dut.selftest()
        import numpy as np
        x = np.zeros(int(info["input_bytes"]), np.int8).tobytes()
        dut.load_input(x)
        r = dut.infer(a.runs, 1)
        layers, unit = dut.layers()
    print(f"model {info['model']} ({info['model_sha256'][:12]}), runtime {info['runtime']}, "
          f"kernels {info['kernel_path']}, {info['macs']} MACs, {info['op_count']} ops, "
          f"arena {info['arena_bytes']} B")
    print(f"selftest: {'pass' if st.passed else 'FAIL'} ({st.vectors}/{st.total})")
    print(f"{r.per_inference:,.0f} {r.counter.unit} per inference (mean of {r.runs}); "
          f"{r.per_inference / max(1, int(info['macs'])):.2f} {unit} per MAC")
    for l in layers:
        print(f"  {l.index:3d} {l.op:24s} {l.count:12,d} {unit}")
    return 0 if st.passed else 1


if __name__ == "__main__":
    sys.exit(main())
