"""End to end: export a real int8 model into a copy of the firmware project, build it
with PlatformIO (offline QEMU platform, Debian arm-none-eabi-gcc), boot it in QEMU
and let the device's selftest replay the golden vectors bit-exactly."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from test_export_support import make_run
from tinyml.flows.export import export
from tinyml.targets import get_target

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.emu, pytest.mark.tools("pio")]


def _project_copy(tmp_path: Path) -> Path:
    proj = tmp_path / "fw"
    proj.mkdir()
    shutil.copy(REPO / "platformio.ini", proj)
    shutil.copytree(REPO / "firmware", proj / "firmware",
                    ignore=shutil.ignore_patterns("generated", ".pio"))
    return proj


@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_exported_model_builds_and_passes_selftest_in_qemu(tmp_path, kind):
    from tinyml.harness.client import DutClient
    run = make_run(tmp_path, kind=kind)
    proj = _project_copy(tmp_path)
    res = export(run, "qemu_m4", proj)
    target = get_target("qemu_m4")
    elf = target.build(proj)
    assert elf.is_file()
    # every generated C file was compiled into the image
    objs = {p.name for p in (proj / ".pio" / "build" / "qemu_m4" / "src" / "generated").glob("*.o")}
    assert {"tm_aot_model.o", "tm_golden.o", "tm_model_meta.o", "tm_model_data.o"} <= objs
    tr = target.open_transport(proj)
    with DutClient(tr) as dut:
        dut.sync()
        st = dut.selftest()
    assert st.passed, st.lines
    assert st.vectors == st.total == 5
    assert res.flash.total > 0
