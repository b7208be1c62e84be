"""`tinyml export`: run folder -> firmware/generated, budget refusal, one-set replacement."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from test_export_support import LABELS, make_run, parse_c_array
from tinyml.model import golden as golden_mod
from tinyml.core.errors import BudgetError, ConfigError, ModelError
from tinyml.flows.export import GENERATED, export
from tinyml.targets import MemoryBudget, get_target

REPO = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path, name: str = "proj") -> Path:
    proj = tmp_path / name
    proj.mkdir()
    shutil.copy(REPO / "platformio.ini", proj / "platformio.ini")
    return proj


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_export_aot_writes_one_consistent_set(tmp_path):
    run = make_run(tmp_path)
    proj = _project(tmp_path)
    res = export(run, "qemu_m4", proj)
    gen = proj / GENERATED
    assert res.generated_dir == gen and res.runtime == "aot" and res.pio_env == "qemu_m4"
    names = {p.name for p in gen.iterdir()}
    assert names == {".gitignore", "export.json", "tm_aot_model.c", "tm_aot_model.h", "tm_golden.c",
                     "tm_golden.h", "tm_model_data.c", "tm_model_data.h", "tm_model_meta.c",
                     "tm_model_meta.h", "tm_tflm_resolver.h"}
    rec = json.loads((gen / "export.json").read_text())
    tflite = (run / "model_int8.tflite").read_bytes()
    assert rec["target"] == "qemu_m4" and rec["runtime"] == "aot"
    assert rec["model_sha256"] == golden_mod.load(run / "golden.npz").model_sha256
    assert rec["model_bytes"] == len(tflite)
    assert rec["files"]["tm_golden.c"] == (gen / "tm_golden.c").stat().st_size
    assert res.files["tm_golden.c"] == (gen / "tm_golden.c").stat().st_size
    assert rec["labels"] == LABELS
    # the flash need is made of the AOT weights, not the .tflite
    assert rec["flash_need"]["weights"] == rec["aot"]["weights_bytes"]
    assert "model .tflite" not in rec["flash_need"]
    # every op names the kernel it got, and the MACs add up
    layers = rec["aot"]["layers"]
    assert layers and {x["op"] for x in layers} <= set(rec["ops"]) | {"CONV_2D+ADD"}
    assert all(x["kernel"].startswith("tm_k_") for x in layers if x["macs"])
    assert sum(x["macs"] for x in layers) == rec["macs"]
    assert parse_c_array((gen / "tm_model_data.c").read_text(), "tm_model_tflite") == tflite
    meta = (gen / "tm_model_meta.h").read_text()
    assert '#define TM_MODEL_RUNTIME "aot"' in meta and "#define TM_MODEL_HAS_AOT 1" in meta
    assert "#define TM_MODEL_TFLM_ARENA_BYTES 3300u" in meta


def test_export_tflm_for_a_board_uses_its_tflm_env_and_arena(tmp_path):
    run = make_run(tmp_path)
    proj = _project(tmp_path)
    res = export(run, "esp32dev", proj, runtime="tflm")
    gen = proj / GENERATED
    assert res.pio_env == "esp32dev_tflm"
    assert not (gen / "tm_aot_model.c").exists()
    rec = json.loads((gen / "export.json").read_text())
    assert rec["ram_need"]["TFLM arena"] == 3300
    assert rec["flash_need"]["model .tflite"] == len((run / "model_int8.tflite").read_bytes())
    budget = get_target("esp32dev").budget_for("tflm")
    assert rec["ram_need"]["firmware (harness+port+runtime, estimate)"] == budget.firmware_ram
    # harness I/O: the db and output buffers are at least 256 and 16 bytes (tm_harness.c)
    assert rec["ram_need"]["harness I/O buffers"] == 256 + 16
    assert rec["ram_need_total"] == 3300 + budget.firmware_ram + 256 + 16


def test_export_twice_is_byte_identical(tmp_path):
    run = make_run(tmp_path)
    a, b = _project(tmp_path, "a"), _project(tmp_path, "b")
    export(run, "qemu_m4", a)
    export(run, "qemu_m4", b)
    sa, sb = _snapshot(a / GENERATED), _snapshot(b / GENERATED)
    assert sa == sb and len(sa) == 11
    export(run, "qemu_m4", a)           # and over itself
    assert _snapshot(a / GENERATED) == sa


def test_export_removes_stale_files_of_the_previous_model(tmp_path):
    run = make_run(tmp_path)
    proj = _project(tmp_path)
    export(run, "qemu_m4", proj, runtime="aot")
    gen = proj / GENERATED
    (gen / "tm_old_model.c").write_text("int stale;\n")
    export(run, "esp32dev", proj, runtime="tflm")
    names = {p.name for p in gen.iterdir()}
    assert "tm_old_model.c" not in names and "tm_aot_model.c" not in names
    assert "tm_model_data.c" in names
    assert not [p for p in gen.parent.iterdir() if p.name.startswith(".generated")]   # no leftovers


def test_budget_refusal_names_bytes_and_writes_nothing(tmp_path):
    run = make_run(tmp_path)
    proj = _project(tmp_path)
    export(run, "qemu_m4", proj)                            # a previous, valid export
    before = _snapshot(proj)
    board = get_target("nucleo_l4r5zi")
    tiny = dataclasses.replace(board, budget=MemoryBudget(flash_bytes=1_000_000, ram_bytes=10_000,
                                                          firmware_flash=0, firmware_ram=0),
                               base_flash=1_000, base_ram=9_000 - 4096)
    assert tiny.budget_for("tflm").firmware_ram == 9_000
    with pytest.raises(BudgetError) as ei:
        export(run, "nucleo_l4r5zi", proj, runtime="tflm", target=tiny)
    msg = str(ei.value)
    # RAM: arena 3,300 + firmware 9,000 + harness I/O 256 + 16 = 12,572 > 10,000
    assert "needs 12,572 B of RAM, nucleo_l4r5zi has 10,000 B usable; over by 2,572 B" in msg
    assert "TFLM arena 3,300 B" in msg
    assert "of flash" not in msg                             # flash fits: not reported
    assert _snapshot(proj) == before                         # nothing written, old set intact


def test_budget_refusal_on_flash(tmp_path):
    run = make_run(tmp_path)
    proj = _project(tmp_path)
    base = get_target("qemu_m4")
    tiny = dataclasses.replace(base, budget=MemoryBudget(flash_bytes=5_000, ram_bytes=1 << 20,
                                                         firmware_flash=4_000, firmware_ram=0))
    with pytest.raises(BudgetError, match=r"B of flash, qemu_m4 has 5,000 B usable; over by"):
        export(run, "qemu_m4", proj, target=tiny)
    assert not (proj / "firmware").exists()


@pytest.mark.parametrize("missing", ["check.json", "golden.npz", "model_int8.tflite"])
def test_missing_run_file_is_a_clear_error(tmp_path, missing):
    run = make_run(tmp_path)
    (run / missing).unlink()
    proj = _project(tmp_path)
    with pytest.raises(ModelError) as ei:
        export(run, "qemu_m4", proj)
    assert str(run / missing) in str(ei.value)
    if missing != "model_int8.tflite":
        assert "tinyml check" in ei.value.hint
    assert not (proj / "firmware").exists()


def test_stale_check_for_another_model_is_refused(tmp_path):
    run = make_run(tmp_path)
    other = make_run(tmp_path, kind="mlp", name="other")
    shutil.copy(other / "model_int8.tflite", run / "model_int8.tflite")
    with pytest.raises(ModelError, match="made for another model_int8.tflite"):
        export(run, "qemu_m4", _project(tmp_path))


def test_runtime_without_env_or_unknown_target_is_refused(tmp_path):
    run = make_run(tmp_path)
    proj = _project(tmp_path)
    with pytest.raises(ConfigError, match=r"has no \[env:qemu_m4_tflm\]"):
        export(run, "qemu_m4", proj, runtime="tflm")
    with pytest.raises(ConfigError, match="unknown target 'uno'"):
        export(run, "uno", proj)
    with pytest.raises(ConfigError, match="is not the tinyml firmware project"):
        export(run, "qemu_m4", tmp_path / "nowhere")
    assert not (proj / "firmware").exists()


def test_mlp_model_exports_and_golden_matches(tmp_path):
    run = make_run(tmp_path, kind="mlp")
    proj = _project(tmp_path)
    export(run, "pico", proj)
    g = golden_mod.load(run / "golden.npz")
    c = (proj / GENERATED / "tm_golden.c").read_text()
    outs = np.frombuffer(parse_c_array(c, "tm_golden_outputs"), np.int8)
    np.testing.assert_array_equal(outs, g.outputs.reshape(-1))
    h = (proj / GENERATED / "tm_model_meta.h").read_text()
    assert re.search(r"#define TM_MODEL_INPUT_BYTES 12u", h)


@pytest.mark.tools("gcc")
def test_aot_and_meta_headers_coexist_in_one_translation_unit(tmp_path):
    """tm_aot_model.h (AOT compiler) and tm_model_meta.h both define TM_MODEL_* macros;
    their shared macros must be identical so one C file can include both (-Werror)."""
    import subprocess
    run = make_run(tmp_path)
    proj = _project(tmp_path)
    export(run, "qemu_m4", proj)
    src = tmp_path / "both.c"
    src.write_text('#include "tm_aot_model.h"\n#include "tm_model_meta.h"\n'
                   "unsigned long long tm_x = TM_MODEL_MACS + TM_MODEL_OP_COUNT + TM_MODEL_INPUT_BYTES;\n")
    cp = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", str(proj / GENERATED),
                         "-c", str(src), "-o", str(tmp_path / "both.o")], capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
