"""End to end on the emulated Cortex-M4F: a real digits model -> `tinyml export`
(AOT runtime) -> `pio run -e qemu_m4` -> QEMU -> protocol.

The model is the default digits pipeline's int8 model (session fixture
`default_run` in tests/conftest.py: real training, check.json and golden.npz
from the TFLM host runtime), exported with `tinyml.export.export` into a temp
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
    from tinyml.export import export
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
    from tinyml import golden
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
