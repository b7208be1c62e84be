"""AOT compiler vs TFLM on the four MLPerf Tiny reference models (random weights).

Prints, per model: MACs, generated flash (code + weights, arm-none-eabi-size of the
objects built for Cortex-M4), peak planned RAM of the AOT arena, the TFLM host
runtime's minimum arena (bisection) and their ratio; with QEMU (-icount shift=3),
emulated instructions per inference on each ISA, mean of 5 random inputs that must
all be bit-exact with TFLM: Cortex-M4 DSP and portable kernels (mps2-an386), Xtensa
LX106 (qemu_xtensa) and RV32IMC (qemu_rv32); MACs per instruction on the M4 DSP
path. Run:  .venv/bin/python benchmarks/aot_models.py [kws ic vww ad | model.tflite]
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
sys.path.insert(0, str(ROOT / "tests"))          # reference_models (MLPerf Tiny architectures)
sys.path.insert(0, str(ROOT / "tests" / "host"))
sys.path.insert(0, str(ROOT / "tests" / "emu"))

from aot_harness import run_tflm, tflm_min_arena  # noqa: E402
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


ISA_COLUMNS = ("M4 DSP", "M4 portable", "Xtensa LX106", "RV32IMC")


def isa_instructions(name: str, res, x: np.ndarray, ref: np.ndarray) -> dict[str, int | None]:
    """Mean emulated instructions per inference on each ISA (None where its compiler or
    QEMU is missing): Cortex-M4 with the DSP (SMLAD) kernels and with the portable ones
    (mps2-an386), Xtensa LX106 (qemu_xtensa) and RV32IMC (qemu_rv32). Every ISA's
    outputs must equal `ref`, the TFLM host runtime's."""
    from aot_isa import available, run_model_isa
    from aot_qemu import qemu_available, run_model_qemu
    runs = {"M4 DSP": (qemu_available, lambda: run_model_qemu(res, x)),
            "M4 portable": (qemu_available,
                            lambda: run_model_qemu(res, x, extra_flags=("-DTM_AOT_FORCE_PORTABLE",))),
            "Xtensa LX106": (lambda: available("qemu_xtensa"), lambda: run_model_isa("qemu_xtensa", res, x)),
            "RV32IMC": (lambda: available("qemu_rv32"), lambda: run_model_isa("qemu_rv32", res, x))}
    out: dict[str, int | None] = {}
    for col, (have, run) in runs.items():
        if not have():
            out[col] = None
            continue
        y, out[col], cal = run()
        assert (y == ref.reshape(y.shape)).all(), f"{name} on {col}: output differs from TFLM"
        print(f"  {name} {col}: bit-exact on {len(x)} inputs; calibration loop counted "
              f"{cal[0]:,} of {cal[1]:,} instructions", file=sys.stderr)
    return out


def main(names: list[str]) -> None:
    from reference_models import reference_int8
    rows = []
    for name in names:
        # a reference model's name, or an int8 .tflite (e.g. runs/default/model_int8.tflite)
        tfl = Path(name).read_bytes() if name.endswith(".tflite") else reference_int8(name)
        label = Path(name).parent.name if name.endswith(".tflite") else name
        res = compile_tflite(tfl, label if label.isidentifier() else "model")
        with tempfile.TemporaryDirectory() as d:
            flash, _ = arm_flash_bytes(res.files, Path(d))
        tflm = tflm_min_arena(tfl)
        x = np.random.default_rng(0).integers(-128, 128, (5, res.graph.inputs[0].size)).astype(np.int8)
        instr = isa_instructions(label, res, x, run_tflm(tfl, x))
        rows.append((label, res.macs, flash, res.weights_bytes, res.peak_ram_bytes, tflm, instr))
        print(f"  done {label}", file=sys.stderr, flush=True)
    hdr = (f"{'model':<8}{'MACs':>12}{'flash B':>10}{'weights B':>11}{'AOT RAM B':>11}"
           f"{'TFLM arena B':>14}{'ratio':>7}" + "".join(f"{c:>14}" for c in ISA_COLUMNS)
           + f"{'MAC/instr':>10}")
    print("instructions per inference (emulated, QEMU -icount; not cycles of any chip); "
          "MAC/instr on the Cortex-M4 DSP path")
    print(hdr)
    print("-" * len(hdr))
    for name, macs, flash, wb, ram, tflm, instr in rows:
        ins = "".join(f"{instr[c]:>14,}" if instr[c] else f"{'n/a':>14}" for c in ISA_COLUMNS)
        dsp = instr["M4 DSP"]
        mpi = f"{macs / dsp:>10.3f}" if dsp else f"{'n/a':>10}"
        print(f"{name:<8}{macs:>12,}{flash:>10,}{wb:>11,}{ram:>11,}{tflm:>14,}"
              f"{ram / tflm:>7.2f}{ins}{mpi}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["kws", "ic", "vww", "ad"])
