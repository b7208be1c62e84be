"""Renode scripts (users with Renode run them; this CI cannot install Renode, so the
generated files are checked for content here, and their run is untested)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tinyml.core.errors import ConfigError
from tinyml.targets import renode

ROOT = Path(__file__).resolve().parents[2]


def test_generated_scripts_load_the_built_elf_and_wait_for_the_self_test(tmp_path):
    resc, robot, elf = renode.generate(tmp_path, "nano33ble")
    r, t = resc.read_text(), robot.read_text()
    assert elf == tmp_path.resolve() / ".pio/build/nano33ble_renode/firmware.elf"
    assert "machine LoadPlatformDescription @platforms/cpus/nrf52840.repl" in r
    assert f"$elf?=@{elf}" in r and "sysbus LoadELF $elf" in r and "showAnalyzer sysbus.uart0" in r
    assert f"include @{resc}" in t and "Create Terminal Tester    sysbus.uart0" in t
    lines = [ln.split(None, 5)[-1] for ln in t.splitlines() if "Uart" in ln]
    assert lines == ["m-init-done", "selftest%", "m-selftest-pass-"]
    again = renode.generate(tmp_path, "nano33ble")
    assert again[0].read_text() == r and again[1].read_text() == t      # deterministic


def test_strings_match_the_firmware_and_the_env_exists():
    harness = (ROOT / "firmware/harness/tm_harness.c").read_text()
    assert f'tm_out_str("{renode.PASS_LINE}[");' in harness and 'tm_out_str("m-init-done");' in harness
    assert 'strcmp(tok[0], "selftest")' in harness
    ini = (ROOT / "platformio.ini").read_text()
    env = ini[ini.index("[env:nano33ble_renode]"):].split("\n\n")[0]
    assert "TM_SERIAL=Serial1" in env
    port = (ROOT / "firmware/ports/arduino/tm_port_arduino.cpp").read_text()
    assert "Serial." not in port.replace("TM_SERIAL.", ""), "every serial call must go through TM_SERIAL"


def test_unknown_board_is_refused():
    with pytest.raises(ConfigError, match="Renode scripts exist for nano33ble, not 'esp32dev'"):
        renode.board_for("esp32dev")
