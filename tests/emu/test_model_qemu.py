"""End to end on the emulated Cortex-M4F: a real digits model -> `tinyml export`
(AOT runtime) -> `pio run -e qemu_m4` -> QEMU -> protocol.

The model is the default digits pipeline's int8 model (session fixture
`default_run` in tests/conftest.py: real training, check.json and golden.npz
from the TFLM host runtime), exported with `tinyml.flows.export.export` into a temp
copy of the firmware project. The device must reproduce the TFLM host
runtime's int8 outputs bit for bit. Set TINYML_TEST_RUN=runs/<name> to test a
finished run instead of training one.
"""
from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

from tinyml.harness import protocol as P

pytestmark = [pytest.mark.emu, pytest.mark.slow]


@pytest.fixture(scope="session")
def digits_project(emu_tools, project_copy, tmp_path_factory, default_run):
    """(project dir, run dir, dataset): the default digits pipeline's model,
    exported with the AOT runtime and built for qemu_m4."""
    from tinyml.data.registry import load_dataset
    from tinyml.flows.export import export
    from tinyml.targets.pio import pio_run

    run, _, cfg = default_run
    ds = load_dataset(cfg.data, seed=cfg.run.seed)
    proj = project_copy(tmp_path_factory.mktemp("proj_digits"))
    shutil.rmtree(proj / "firmware" / "generated")
    export(run, "qemu_m4", proj, runtime="aot")
    pio_run(proj, "qemu_m4")
    return proj, run, ds


def _tflm_outputs(tflite: bytes, q_inputs: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime
    interp = runtime.Interpreter.from_bytes(tflite, arena_size=64 * 1024)
    outs = []
    for x in q_inputs:
        interp.set_input(x[None, ...], 0)
        interp.invoke()
        outs.append(interp.get_output(0)[0].copy())
    return np.stack(outs).astype(np.int8)


def test_exported_digits_model_is_bit_exact_on_qemu(digits_project, dut_factory, capsys):
    from tinyml.model import golden
    proj, run, ds = digits_project
    tflite = (run / "model_int8.tflite").read_bytes()
    dut = dut_factory(proj / ".pio" / "build" / "qemu_m4" / "firmware.elf")

    info = dut.build_info()
    assert info["runtime"] == "aot"
    assert info["model_sha256"] == hashlib.sha256(tflite).hexdigest()
    assert info["input_bytes"] == 64 and info["output_bytes"] == 10
    assert info["kernel_path"] in ("dsp", "portable")
    g = golden.load(run / "golden.npz")
    assert info["golden_count"] == len(g)

    st = dut.selftest()
    assert st.passed, st
    assert (st.vectors, st.total) == (len(g), len(g))

    # Further test inputs beyond the golden ones, quantized like the model input.
    x = ds.x_test[10:40]
    q = np.clip(np.round(x / g.input_scale + g.input_zero_point), -128, 127).astype(np.int8)
    want = _tflm_outputs(tflite, q)
    per_inf = []
    correct = 0
    for i in range(len(q)):
        dut.load_input(q[i].tobytes())
        r = dut.infer(1, 0)
        assert r.raw == want[i].tolist(), f"test sample {10 + i}: device {r.raw} != TFLM {want[i].tolist()}"
        per_inf.append(r.per_inference)
        correct += int(np.argmax(r.results) == ds.y_test[10 + i])
    assert correct >= 0.8 * len(q)

    layers, unit = dut.layers()
    assert unit == "instructions" and len(layers) == info["op_count"]
    assert sum(l.count for l in layers) <= max(per_inf) + 40 * len(layers)
    with capsys.disabled():
        print(f"\n[qemu_m4 aot] {info['macs']} MACs, {info['op_count']} ops, kernel path "
              f"{info['kernel_path']}: {min(per_inf):.0f}..{max(per_inf):.0f} emulated instructions "
              f"per inference; layers: " + ", ".join(f"{l.op}={l.count}" for l in layers))


def test_bad_input_size_is_refused_by_real_model(digits_project, dut_factory):
    proj, _, _ = digits_project
    dut = dut_factory(proj / ".pio" / "build" / "qemu_m4" / "firmware.elf")
    dut.command("db load 10")
    dut.command("db " + "00" * 10)
    errs = P.errors(dut.command("infer 1 0", check=False))
    assert errs and "model input is 64 bytes" in errs[0]


def _elf_sizes(elf, map_file) -> tuple[int, int, str]:
    """(flash, RAM, the size table) of a qemu_m4 image, from the linker's output:
    flash = allocated sections below RAM plus the .data load image; RAM = allocated
    sections in RAM plus the stack the linker script reserves (_min_stack)."""
    import re
    import subprocess
    ram_base = 0x20000000                        # mps2_an386.ld: RAM ORIGIN
    out = subprocess.run(["arm-none-eabi-readelf", "-S", "-W", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    flash = ram = 0
    for line in out.splitlines():
        if not re.match(r"\s*\[\s*\d+\]", line):
            continue
        cols = line.split("]", 1)[1].split()
        if len(cols) != 10 or "A" not in cols[6]:
            continue                              # not loaded (debug info, comments)
        kind, addr, size = cols[1], int(cols[2], 16), int(cols[4], 16)
        if addr < ram_base:
            flash += size
        else:
            ram += size
            flash += size if kind == "PROGBITS" else 0      # .data is copied from flash
    stack = int(re.search(r"(0x[0-9a-f]+)\s+_min_stack = ", map_file.read_text()).group(1), 16)
    table = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True,
                           text=True, check=True).stdout
    return flash, ram + stack, table


def test_budget_estimates_match_the_built_firmware(digits_project, capsys):
    """`tinyml export`'s flash and RAM estimates (tinyml.targets.budget) against the
    linker's measure of the firmware they were made for: within 10 %."""
    import json
    proj, _, _ = digits_project
    rec = json.loads((proj / "firmware" / "generated" / "export.json").read_text())
    build = proj / ".pio" / "build" / "qemu_m4"
    flash, ram, table = _elf_sizes(build / "firmware.elf", build / "firmware.map")
    est_flash, est_ram = rec["flash_need_total"], rec["ram_need_total"]
    with capsys.disabled():
        print(f"\n[qemu_m4 aot, digits] flash: estimate {est_flash:,} B, built {flash:,} B "
              f"({100 * (est_flash - flash) / flash:+.1f} %); RAM: estimate {est_ram:,} B, built "
              f"{ram:,} B incl. the linker's minimum stack ({100 * (est_ram - ram) / ram:+.1f} %)\n"
              f"  estimate items: flash {rec['flash_need']}, RAM {rec['ram_need']}\n{table}")
    assert abs(est_flash - flash) <= 0.10 * flash
    assert abs(est_ram - ram) <= 0.10 * ram
