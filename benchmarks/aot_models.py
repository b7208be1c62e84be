"""AOT compiler vs TFLM on the four MLPerf Tiny reference models (random weights).

Prints, per model: MACs, generated flash (code + weights, arm-none-eabi-size of the
objects built for Cortex-M4), peak planned RAM of the AOT arena, the TFLM host
runtime's minimum arena (bisection) and their ratio; with QEMU, instructions per
inference (mps2-an386, -icount shift=0, APB timer: 1 tick = 40 instructions) and
MACs per instruction. Run:  .venv/bin/python benchmarks/aot_models.py [kws ic vww ad]
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "host"))
sys.path.insert(0, str(ROOT / "tests" / "emu"))

from aot_harness import tflm_min_arena  # noqa: E402
from tinyml.codegen.aot import RUNTIME_DIR, compile_tflite  # noqa: E402

ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
             "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-ffunction-sections",
             "-fdata-sections"]


def arm_flash_bytes(files: dict[str, str], workdir: Path) -> tuple[int, int]:
    """(text+data of model + the kernels it links, bss) via a --gc-sections link."""
    if shutil.which("arm-none-eabi-gcc") is None:
        return -1, -1
    for n, t in files.items():
        (workdir / n).write_text(t)
    (workdir / "main.c").write_text(
        '#include "tm_aot_model.h"\nstatic int8_t i[TM_MODEL_INPUT_BYTES], o[TM_MODEL_OUTPUT_BYTES];\n'
        "int main(void) { return tm_model_invoke(i, o); }\n"
        "void _exit(int c) { (void)c; for (;;) { } }\n")
    srcs = [workdir / "tm_aot_model.c", workdir / "main.c"] + sorted(
        p for p in RUNTIME_DIR.glob("tm_k_*.c"))
    elf = workdir / "m.elf"
    cmd = ["arm-none-eabi-gcc", *ARM_FLAGS, f"-I{workdir}", f"-I{RUNTIME_DIR}",
           f"-I{RUNTIME_DIR.parent}", *map(str, srcs), "-Wl,--gc-sections", "--specs=nosys.specs",
           "-nostartfiles", "-Wl,-e,main", "-o", str(elf)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], check=True,
                         capture_output=True, text=True).stdout
    sec = {ln.split()[0]: int(ln.split()[1]) for ln in out.splitlines()
           if ln.startswith(".") and len(ln.split()) >= 2}
    flash = sum(v for k, v in sec.items() if k in (".text", ".rodata", ".data", ".ARM.exidx"))
    return flash, sec.get(".bss", 0)


def main(names: list[str]) -> None:
    from tinyml.train.reference import reference_int8
    try:
        from aot_qemu import qemu_available, run_model_qemu
    except ImportError:  # pragma: no cover
        qemu_available = lambda: False  # noqa: E731
    rows = []
    for name in names:
        tfl = reference_int8(name)
        res = compile_tflite(tfl, name)
        with tempfile.TemporaryDirectory() as d:
            flash, _ = arm_flash_bytes(res.files, Path(d))
        tflm = tflm_min_arena(tfl)
        instr = None
        if qemu_available():
            x = np.random.default_rng(0).integers(-128, 128, res.graph.inputs[0].size).astype(np.int8)
            _, instr, cal = run_model_qemu(res, x[None])
            print(f"  {name}: QEMU calibration loop counted {cal[0]:,} of {cal[1]:,} "
                  "instructions", file=sys.stderr)
        rows.append((name, res.macs, flash, res.weights_bytes, res.peak_ram_bytes, tflm, instr))
        print(f"  done {name}", file=sys.stderr, flush=True)
    hdr = (f"{'model':<6}{'MACs':>12}{'flash B':>10}{'weights B':>11}{'AOT RAM B':>11}"
           f"{'TFLM arena B':>14}{'ratio':>7}{'instr/inf':>13}{'MAC/instr':>10}")
    print(hdr)
    print("-" * len(hdr))
    for name, macs, flash, wb, ram, tflm, instr in rows:
        ins = f"{instr:>13,}" if instr else f"{'n/a':>13}"
        mpi = f"{macs / instr:>10.3f}" if instr else f"{'n/a':>10}"
        print(f"{name:<6}{macs:>12,}{flash:>10,}{wb:>11,}{ram:>11,}{tflm:>14,}"
              f"{ram / tflm:>7.2f}{ins}{mpi}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["kws", "ic", "vww", "ad"])
