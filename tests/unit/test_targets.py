"""Targets registry, board budgets and the PlatformIO wrapper's error paths (real `pio`)."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tinyml.core.errors import BuildError, ConfigError, ToolMissingError
from tinyml.targets import all_targets, get_target, pio
from tinyml.targets.base import Target
from tinyml.targets.boards import BOARDS, exported_env

REPO = Path(__file__).resolve().parents[2]
QEMU_PLATFORM = REPO / "firmware" / "platforms" / "tinyml-qemu"
EXPECTED = ["qemu_m4", "qemu_xtensa", "qemu_rv32", "esp32dev", "esp32s3", "esp32c3",
            "nucleo_l4r5zi", "nano33ble", "pico"]


def test_registry_lists_all_nine_targets():
    names = [t.name for t in all_targets()]
    assert names == EXPECTED
    for n in EXPECTED:
        assert isinstance(get_target(n), Target)
    with pytest.raises(ConfigError, match="unknown target 'arduino_uno'") as ei:
        get_target("arduino_uno")
    assert "nucleo_l4r5zi" in ei.value.hint and "esp32" in ei.value.hint
    assert get_target("esp32") is get_target("esp32dev")     # `deploy --target esp32`


@pytest.mark.parametrize("name,flash,ram,clock", [
    ("esp32dev", 1_310_720, 163_840, 240_000_000),
    ("esp32s3", 3_342_336, 327_680, 240_000_000),
    ("esp32c3", 1_310_720, 163_840, 160_000_000),
    ("nucleo_l4r5zi", 2 * 1024 * 1024, 640 * 1024, 120_000_000),
    ("nano33ble", 1024 * 1024 - 64 * 1024, 256 * 1024, 64_000_000),
    ("pico", 2 * 1024 * 1024, 256 * 1024, 133_000_000),
])
def test_board_budgets_are_the_published_numbers(name, flash, ram, clock):
    t = get_target(name)
    assert (t.budget.flash_bytes, t.budget.ram_bytes, t.clock_hz) == (flash, ram, clock)
    for rt in ("aot", "tflm"):
        b = t.budget_for(rt)
        assert 0 < b.firmware_flash < b.flash_bytes // 2
        assert 0 < b.firmware_ram < b.ram_bytes // 2
        assert b.model_flash > 0 and b.model_ram > 0
    # TFLM's interpreter costs more than our AOT dispatch
    assert t.budget_for("tflm").firmware_flash > t.budget_for("aot").firmware_flash
    assert t.env_for("aot") == name and t.env_for("tflm") == f"{name}_tflm"


def test_every_board_env_is_in_platformio_ini():
    cfg = pio.pio_project_config(REPO)            # validated by PlatformIO itself
    for b in BOARDS:
        sec = cfg[f"env:{b.name}"]
        assert sec["board"] == b.pio_board
        assert sec["platform"] == b.platform


def test_pio_project_config_rejects_broken_ini(tmp_path):
    (tmp_path / "platformio.ini").write_text("[env:x\nplatform = native\n")
    with pytest.raises(ConfigError, match="not a valid PlatformIO project file"):
        pio.pio_project_config(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        pio.pio_project_config(tmp_path / "nothing")


def test_missing_pio_is_tool_missing(tmp_path, monkeypatch):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    monkeypatch.setattr(sys, "executable", str(fake_bin / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    (tmp_path / "platformio.ini").write_text("[env:x]\nplatform = native\n")
    with pytest.raises(ToolMissingError) as ei:
        pio.pio_run(tmp_path, "x")
    assert "pio_offline.py" in ei.value.hint or "firmware" in ei.value.hint


def _broken_project(tmp_path: Path) -> Path:
    proj = tmp_path / "broken"
    (proj / "src").mkdir(parents=True)
    (proj / "platformio.ini").write_text(
        "[env:qemu_m4]\n"
        f"platform = symlink://{QEMU_PLATFORM}\n"
        "board = mps2_an386\n")
    (proj / "src" / "main.c").write_text("int main(void) { return tm_undeclared_thing; }\n")
    return proj


@pytest.mark.tools("arm-none-eabi-gcc", "pio")
def test_failing_build_is_build_error_with_log_tail(tmp_path):
    proj = _broken_project(tmp_path)
    seen: list[str] = []
    with pytest.raises(BuildError) as ei:
        pio.pio_run(proj, "qemu_m4", progress=seen.append)
    msg = str(ei.value)
    assert "env 'qemu_m4'" in msg
    assert "tm_undeclared_thing" in msg                     # the compiler's own words
    assert "--- last" in msg and len(msg.split("--- last", 1)[1].splitlines()) <= pio.LOG_TAIL_LINES + 1
    assert any("tm_undeclared_thing" in s for s in seen)     # progress saw the live log
    with pytest.raises(BuildError, match="env 'nope' is not in"):
        pio.pio_run(proj, "nope")


def test_missing_project_is_build_error(tmp_path):
    with pytest.raises(BuildError, match="platformio.ini does not exist"):
        pio.pio_run(tmp_path, "qemu_m4")


@pytest.mark.slow
def test_offline_platform_download_is_explained(tmp_path):
    """A real board env with no internet: PlatformIO's download fails. A proxy on a
    closed local port cuts the network off, so the test means the same everywhere."""
    (tmp_path / "platformio.ini").write_text("[env:esp32dev]\nplatform = espressif32\nboard = esp32dev\n")
    pio_home = tmp_path / "pio-home"          # empty core dir: the platform is surely not installed
    shutil.copytree(Path(os.path.expanduser("~/.platformio/packages/tool-scons")),
                    pio_home / "packages" / "tool-scons")
    dead = "http://127.0.0.1:9"
    offline = {"PLATFORMIO_CORE_DIR": str(pio_home), "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
               "http_proxy": dead, "https_proxy": dead, "ALL_PROXY": dead, "NO_PROXY": ""}
    with pytest.raises(BuildError) as ei:
        pio.pio_run(tmp_path, "esp32dev", extra_env=offline)
    assert "no internet connection" in str(ei.value)
    assert "need internet once" in ei.value.hint


def test_board_build_needs_a_matching_export(tmp_path):
    board = get_target("esp32dev")
    with pytest.raises(BuildError, match="no model has been exported"):
        board.build(tmp_path)
    gen = tmp_path / "firmware" / "generated"
    gen.mkdir(parents=True)
    (gen / "export.json").write_text(json.dumps({"target": "pico", "runtime": "aot", "pio_env": "pico"}))
    with pytest.raises(BuildError, match="exported for target 'pico', not 'esp32dev'"):
        board.build(tmp_path)
    (gen / "export.json").write_text(json.dumps({"target": "esp32dev", "runtime": "tflm",
                                                 "pio_env": "esp32dev_tflm"}))
    assert exported_env(tmp_path, "esp32dev") == "esp32dev_tflm"


def test_targets_command_says_what_ci_does_not_verify():
    from click.testing import CliRunner

    from tinyml.cli import main
    from tinyml.targets import all_targets
    lines = CliRunner().invoke(main, ["targets"]).output.splitlines()
    targets = all_targets()
    assert len(lines) == 2 * len(targets)
    for t, head, status in zip(targets, lines[0::2], lines[1::2]):
        assert head.startswith(t.name) and status.split() == ["runtime", *t.ci_status().split()]
        assert "tflm not verified in this repository's CI" in status   # never built here
        if not t.emulated:      # real boards: their platforms are not built in CI
            assert status.strip().startswith("runtime aot, tflm not verified in this repository's CI; "
                                             "needs the board and, once, internet for PlatformIO's "
                                             f"'{t.platform}' platform")
    assert get_target("qemu_m4").ci_status().startswith("aot built and run in CI")
