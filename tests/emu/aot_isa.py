"""Build an AOT-generated model into a bare-metal image for the other emulated ISAs
(qemu_xtensa: Xtensa LX106, qemu_rv32: RV32IMC) and run it in QEMU.

The image is the PlatformIO env's minus the harness: same compiler, ISA flags,
picolibc, port (start-up, UART, counter, exit) and link script, all read from
the board JSON of the target's project-local platform
(firmware/platforms/tinyml-qemu-*/boards/*.json), plus tests/emu/aot_isa_main.c
with the inputs compiled in. The QEMU command line is the target's own
(tinyml.targets: qemu_command). Importable from tests and benchmarks:

    y, instr, (cal, expected) = run_model_isa("qemu_rv32", compile_tflite(tfl, "m"), x)
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from tinyml.codegen.aot import RUNTIME_DIR, AotResult

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIRMWARE = ROOT / "firmware"
BOARDS = {"qemu_xtensa": ("tinyml-qemu-xtensa", "qemu_lx106"),
          "qemu_rv32": ("tinyml-qemu-rv32", "qemu_virt_rv32")}
ISA_NAMES = {"qemu_xtensa": "Xtensa LX106", "qemu_rv32": "RV32IMC"}
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-ffunction-sections", "-fdata-sections"]


def board(target: str) -> dict:
    """The "build" section of the target's board JSON."""
    platform, name = BOARDS[target]
    return json.loads((FIRMWARE / "platforms" / platform / "boards" / f"{name}.json").read_text())["build"]


def tools(target: str) -> list[str]:
    """The executables a run needs (for ci_tools.require_tools)."""
    b = board(target)
    return [b["toolchain_prefix"] + "gcc", b["qemu"][0]]


def available(target: str) -> bool:
    return all(shutil.which(t) for t in tools(target)) and Path(board(target)["picolibc_specs"]).is_file()


def _inputs_header(x: np.ndarray) -> str:
    rows = []
    for v in x.reshape(x.shape[0], -1):
        rows.append("    {" + ", ".join(str(int(b)) for b in v) + "}")
    return ("#ifndef TM_AOT_TEST_INPUTS_H\n#define TM_AOT_TEST_INPUTS_H\n"
            f"#define TM_TEST_N {x.shape[0]}u\n"
            f"static const int8_t tm_test_inputs[{x.shape[0]}][TM_MODEL_INPUT_BYTES] = {{\n"
            + ",\n".join(rows) + "\n};\n#endif\n")


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"{cmd[0]} failed:\n{' '.join(cmd)}\n{proc.stderr}")


def build_image(target: str, res: AotResult, x: np.ndarray, workdir: Path,
                extra_flags: tuple[str, ...] = ()) -> Path:
    """Compile (ISA flags) and link (link flags: they pick the multilib) the image."""
    b = board(target)
    port = FIRMWARE / "ports" / b["port"]
    for name, text in res.files.items():
        (workdir / name).write_text(text)
    (workdir / "tm_aot_test_inputs.h").write_text(_inputs_header(x))
    srcs = [workdir / "tm_aot_model.c", HERE / "aot_isa_main.c", *sorted(port.glob("*.c")),
            *sorted(RUNTIME_DIR.glob("tm_k_*.c"))]
    srcs = [s for s in srcs if s.name != "tm_main.c"]      # the port's main serves the harness
    gcc = b["toolchain_prefix"] + "gcc"
    specs = "--specs=" + b["picolibc_specs"]
    _run([gcc, *b["cflags"], specs, *CFLAGS, *extra_flags, f"-I{workdir}", f"-I{RUNTIME_DIR}",
          f"-I{RUNTIME_DIR.parent}", f"-I{FIRMWARE / 'ports'}", f"-I{port}", "-c",
          *map(str, srcs)], workdir)
    elf = workdir / "aot.elf"
    _run([gcc, *b["linkflags"], specs, "-nostartfiles", "-Wl,--gc-sections",
          f"-T{port / b['ldscript']}", *[s.stem + ".o" for s in srcs], "-o", str(elf)], workdir)
    return elf


def run_model_isa(target: str, res: AotResult, x: np.ndarray, timeout: float = 1800,
                  extra_flags: tuple[str, ...] = (), log: list | None = None
                  ) -> tuple[np.ndarray, int, tuple[int, int]]:
    """Outputs (N, out_bytes) int8, mean instructions per inference, and the
    calibration (counted, expected) instructions of a known 2,000,000-instruction loop."""
    from tinyml.targets import get_target
    x = np.ascontiguousarray(x, np.int8)
    with tempfile.TemporaryDirectory(prefix=f"tm_aot_{target}_") as d:
        elf = build_image(target, res, x, Path(d), extra_flags)
        cmd = get_target(target).qemu_command(elf, "stdio")
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)
    text = proc.stdout
    if log is not None:
        log.append(text)
    assert "aot-done" in text, f"QEMU run incomplete (rc {proc.returncode}):\n{text[-2000:]}\n{proc.stderr}"
    assert "aot-path portable" in text, f"{target} must run the portable kernels:\n{text[:200]}"
    outs = {int(i): bytes.fromhex(h) for i, h in re.findall(r"aot-out (\d+) ([0-9a-f]*)", text)}
    instr = [int(n) for _, n in re.findall(r"aot-instr (\d+) (\d+)", text)]
    y = np.stack([np.frombuffer(outs[i], np.int8) for i in range(x.shape[0])])
    m = re.search(r"aot-cal (\d+) (\d+)", text)
    cal = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return y, int(np.mean(instr)), cal
