"""AOT compiler vs TFLM on the four MLPerf Tiny reference models (random weights).

Prints, per model: MACs; emulated instructions per inference on the Cortex-M4
(QEMU mps2-an386, -icount) with the DSP (SMLAD) kernels and with the portable ones,
mean of 5 random inputs that must all be bit-exact with the TFLM host runtime; the
fixed TFLM reference-kernel and TFLM+CMSIS-NN figures (REFERENCE below, with their
provenance), our ratio to CMSIS-NN and the issue-10 target; MAC/instr; planned RAM
against the TFLM host runtime's minimum arena (bisection); flash split into code
(kernels + generated model without its constants), weights (constant arrays) and
golden vectors (what `tinyml export` puts in the firmware, within its byte budget).

Options:
  --isa        also run Xtensa LX106 (qemu_xtensa) and RV32IMC (qemu_rv32)
  --profile    per-layer table (instructions, MAC/instr, kernel) on the M4 DSP and
               portable paths, from a -DTM_ENABLE_PROFILE=1 image (last input)
Run:  .venv/bin/python benchmarks/aot_models.py [--profile] [--isa] [kws ic vww ad | model.tflite]
"""
from __future__ import annotations

import re
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

# Fixed reference figures (instructions per inference, millions) from issue 10:
# upstream tflite-micro 90b983c with CMSIS-NN 4ab83cc, release build, arm-none-eabi-gcc
# 12.2 -O2, QEMU mps2-an386 -icount shift=0, this repository's harness and TFLM glue,
# on models of the same architectures and MAC counts. This repository cannot build
# TFLM (its C++ sources are in no reachable registry), so they are constants.
PROVENANCE = ("TFLM: tflite-micro 90b983c, CMSIS-NN 4ab83cc, release, arm-none-eabi-gcc 12.2 -O2, "
              "QEMU mps2-an386 -icount shift=0 (issue 10, fixed constants)")
REFERENCE = {            # model: (TFLM reference kernels, TFLM + CMSIS-NN, our target)
    "kws": (43.08e6, 7.70e6, 5.13e6),
    "ic": (107.44e6, 29.86e6, 19.9e6),
    "vww": (100.51e6, 24.10e6, 16.1e6),
    "ad": (1.69e6, 0.596e6, 0.40e6),
}


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
        p for p in RUNTIME_DIR.rglob("tm_k_*.c"))
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


def golden_flash_bytes(in_bytes: int, out_bytes: int, count: int = 10) -> tuple[int, int]:
    """(vectors, bytes) the firmware's golden self-test holds for `count` vectors
    (tinyml check's default), after the byte budget of tinyml.model.golden if it has one."""
    from tinyml.model import golden
    pick = getattr(golden, "firmware_count", None)
    n = pick(count, in_bytes, out_bytes) if pick else count
    return n, n * (in_bytes + out_bytes + 2)          # + int16 label


ISA_RUNS = ("M4 DSP", "M4 portable", "Xtensa LX106", "RV32IMC")
PORTABLE = ("-DTM_AOT_FORCE_PORTABLE",)


def isa_instructions(name: str, res, x: np.ndarray, ref: np.ndarray,
                     cols: tuple[str, ...]) -> dict[str, int | None]:
    """Mean emulated instructions per inference per ISA (None where its compiler or QEMU
    is missing). Every ISA's outputs must equal `ref`, the TFLM host runtime's."""
    from aot_isa import available, run_model_isa
    from aot_qemu import qemu_available, run_model_qemu
    runs = {"M4 DSP": (qemu_available, lambda: run_model_qemu(res, x)),
            "M4 portable": (qemu_available, lambda: run_model_qemu(res, x, extra_flags=PORTABLE)),
            "Xtensa LX106": (lambda: available("qemu_xtensa"), lambda: run_model_isa("qemu_xtensa", res, x)),
            "RV32IMC": (lambda: available("qemu_rv32"), lambda: run_model_isa("qemu_rv32", res, x))}
    out: dict[str, int | None] = {}
    for col in cols:
        have, run = runs[col]
        if not have():
            out[col] = None
            continue
        y, out[col], cal = run()
        assert (y == ref.reshape(y.shape)).all(), f"{name} on {col}: output differs from TFLM"
        print(f"  {name} {col}: bit-exact on {len(x)} inputs; calibration loop counted "
              f"{cal[0]:,} of {cal[1]:,} instructions", file=sys.stderr)
    return out


def layer_profile(res, x: np.ndarray, ref: np.ndarray, flags: tuple[str, ...]) -> list[int]:
    """Instructions per op (last input) from a TM_ENABLE_PROFILE=1 image."""
    from aot_qemu import run_model_qemu
    log: list[str] = []
    y, _, _ = run_model_qemu(res, x[-1:], extra_flags=("-DTM_ENABLE_PROFILE=1", *flags), log=log)
    assert (y == ref[-1:].reshape(y.shape)).all(), "profiled image differs from TFLM"
    prof = {int(i): int(n) for i, n in re.findall(r"aot-prof (\d+) \S+ (\d+)", log[0])}
    return [prof[i] for i in range(len(res.ops))]


def print_profile(label: str, res, dsp: list[int], port: list[int]) -> None:
    print(f"\nper-layer profile: {label} (instructions, last input; MAC/instr on the DSP path)")
    hdr = f"{'#':>3} {'op':<18}{'MACs':>11}{'DSP':>12}{'portable':>12}{'MAC/instr':>10}  kernel  [layer]"
    print(hdr)
    print("-" * len(hdr))
    for i, (op, m, d, p) in enumerate(zip(res.ops, res.op_macs, dsp, port)):
        mpi = f"{m / d:>10.3f}" if m and d else f"{'':>10}"
        kern = res.kernels[i] if res.kernels else ""
        print(f"{i:>3} {op:<18}{m:>11,}{d:>12,}{p:>12,}{mpi}  {kern}  [{res.layers[i]}]")
    print(f"{'':>3} {'total':<18}{sum(res.op_macs):>11,}{sum(dsp):>12,}{sum(port):>12,}")


def main(argv: list[str]) -> None:
    from reference_models import reference_int8
    profile = "--profile" in argv
    cols = ISA_RUNS if "--isa" in argv else ISA_RUNS[:2]
    names = [a for a in argv if not a.startswith("--")] or ["kws", "ic", "vww", "ad"]
    rows, profiles = [], []
    for name in names:
        # a reference model's name, or an int8 .tflite (e.g. runs/default/model_int8.tflite)
        tfl = Path(name).read_bytes() if name.endswith(".tflite") else reference_int8(name)
        label = Path(name).parent.name if name.endswith(".tflite") else name
        res = compile_tflite(tfl, label if label.isidentifier() else "model")
        with tempfile.TemporaryDirectory() as d:
            flash, _ = arm_flash_bytes(res.files, Path(d))
        tflm = tflm_min_arena(tfl)
        x = np.random.default_rng(0).integers(-128, 128, (5, res.graph.inputs[0].size)).astype(np.int8)
        ref = run_tflm(tfl, x)
        instr = isa_instructions(label, res, x, ref, cols)
        gi, go = res.graph.inputs[0], res.graph.outputs[0]
        ng, gbytes = golden_flash_bytes(gi.nbytes, go.nbytes)
        rows.append((label, res, flash, tflm, instr, ng, gbytes))
        if profile:
            profiles.append((label, res, layer_profile(res, x, ref, ()), layer_profile(res, x, ref, PORTABLE)))
        print(f"  done {label}", file=sys.stderr, flush=True)

    print("instructions per inference on the emulated Cortex-M4 (QEMU mps2-an386 -icount; "
          "not cycles of any chip)")
    print(f"reference figures: {PROVENANCE}")
    hdr = (f"{'model':<6}{'MACs':>11}{'DSP':>12}{'portable':>12}{'TFLM ref':>11}{'CMSIS-NN':>10}"
           f"{'DSP/CMSIS':>10}{'target':>8}{'MAC/instr':>10}{'RAM B':>9}{'TFLM arena':>11}{'ratio':>6}"
           f"{'code B':>9}{'weights B':>10}{'goldens B':>14}")
    print(hdr)
    print("-" * len(hdr))
    for label, res, flash, tflm, instr, ng, gbytes in rows:
        dsp, port = instr.get("M4 DSP"), instr.get("M4 portable")
        r_ref, r_cm, r_tgt = REFERENCE.get(label, (0, 0, 0))
        f = (lambda v: f"{v:>12,}" if v else f"{'n/a':>12}")
        ratio = f"{dsp / r_cm:>10.3f}" if dsp and r_cm else f"{'':>10}"
        tgt = (("met" if dsp <= r_tgt else "NOT") if dsp and r_tgt else "")
        mpi = f"{res.macs / dsp:>10.3f}" if dsp else f"{'n/a':>10}"
        code = flash - res.weights_bytes if flash > 0 else -1
        print(f"{label:<6}{res.macs:>11,}{f(dsp)}{f(port)}"
              f"{(f'{r_ref / 1e6:.2f}M' if r_ref else ''):>11}{(f'{r_cm / 1e6:.3g}M' if r_cm else ''):>10}"
              f"{ratio}{tgt:>8}{mpi}{res.peak_ram_bytes:>9,}{tflm:>11,}{res.peak_ram_bytes / tflm:>6.2f}"
              f"{code:>9,}{res.weights_bytes:>10,}{f'{gbytes:,} ({ng})':>14}")
    if "--isa" in argv:
        for label, _, _, _, instr, _, _ in rows:
            print(f"{label}: " + ", ".join(f"{c} {instr[c]:,}" if instr.get(c) else f"{c} n/a"
                                           for c in ISA_RUNS[2:]))
    for p in profiles:
        print_profile(*p)


if __name__ == "__main__":
    main(sys.argv[1:])
