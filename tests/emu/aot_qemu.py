"""Build an AOT-generated model into a bare-metal mps2-an386 image and run it in QEMU.

Reuses the QEMU port (firmware/ports/qemu_m4: startup, linker script, UART, counter)
with tests/emu/aot_qemu_main.c. The image is built with arm-none-eabi-gcc for
Cortex-M4F, so the DSP (SMLAD) kernel path is compiled in.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from tinyml.codegen.aot import RUNTIME_DIR, AotResult
from tinyml.targets.qemu import ICOUNT_SHIFT

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PORT = ROOT / "firmware" / "ports" / "qemu_m4"
ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
             "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-ffunction-sections",
             "-fdata-sections"]


def qemu_available() -> bool:
    return bool(shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                and (PORT / "tm_startup.c").exists())


def _inputs_header(x: np.ndarray) -> str:
    rows = []
    for v in x.reshape(x.shape[0], -1):
        rows.append("    {" + ", ".join(str(int(b)) for b in v) + "}")
    return ("#ifndef TM_AOT_TEST_INPUTS_H\n#define TM_AOT_TEST_INPUTS_H\n"
            f"#define TM_TEST_N {x.shape[0]}u\n"
            f"static const int8_t tm_test_inputs[{x.shape[0]}][TM_MODEL_INPUT_BYTES] = {{\n"
            + ",\n".join(rows) + "\n};\n#endif\n")


def build_image(res: AotResult, x: np.ndarray, workdir: Path,
                extra_flags: tuple[str, ...] = ()) -> Path:
    for name, text in res.files.items():
        (workdir / name).write_text(text)
    (workdir / "tm_aot_test_inputs.h").write_text(_inputs_header(x))
    srcs = [workdir / "tm_aot_model.c", HERE / "aot_qemu_main.c", PORT / "tm_startup.c",
            PORT / "tm_port_qemu.c", RUNTIME_DIR / "tm_rt_aot.c",
            *sorted(RUNTIME_DIR.glob("tm_k_*.c"))]
    elf = workdir / "aot.elf"
    cmd = ["arm-none-eabi-gcc", *ARM_FLAGS, *extra_flags, f"-I{workdir}", f"-I{RUNTIME_DIR}",
           f"-I{RUNTIME_DIR.parent}", f"-I{PORT.parent}", *map(str, srcs),
           "-nostartfiles", "--specs=nosys.specs", "-Wl,--gc-sections",
           f"-T{PORT / 'mps2_an386.ld'}", "-o", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"arm-none-eabi-gcc failed:\n{' '.join(cmd)}\n{proc.stderr}")
    return elf


def run_model_qemu(res: AotResult, x: np.ndarray, timeout: float = 600,
                   extra_flags: tuple[str, ...] = (), log: list | None = None
                   ) -> tuple[np.ndarray, int, tuple[int, int]]:
    """Outputs (N, out_bytes) int8, mean instructions per inference, and the
    calibration (counted, expected) instructions of a known 2,000,000-instruction loop."""
    x = np.ascontiguousarray(x, np.int8)
    with tempfile.TemporaryDirectory(prefix="tm_aot_qemu_") as d:
        elf = build_image(res, x, Path(d), extra_flags)
        proc = subprocess.run(
            ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
             "-serial", "stdio", "-icount", f"shift={ICOUNT_SHIFT}", "-semihosting-config",
             "enable=on,target=native", "-kernel", str(elf)],
            capture_output=True, text=True, timeout=timeout)
    text = proc.stdout
    if log is not None:
        log.append(text)
    assert "aot-done" in text, f"QEMU run incomplete (rc {proc.returncode}):\n{text[-2000:]}\n{proc.stderr}"
    want = "portable" if "-DTM_AOT_FORCE_PORTABLE" in extra_flags else "dsp"
    assert f"aot-path {want}" in text, f"the Cortex-M4 image did not select the {want} kernel path"
    outs = {int(i): bytes.fromhex(h) for i, h in re.findall(r"aot-out (\d+) ([0-9a-f]*)", text)}
    instr = [int(n) for _, n in re.findall(r"aot-instr (\d+) (\d+)", text)]
    y = np.stack([np.frombuffer(outs[i], np.int8) for i in range(x.shape[0])])
    return y, int(np.mean(instr)), calibration(text)


def calibration(text: str) -> tuple[int, int]:
    m = re.search(r"aot-cal (\d+) (\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)
