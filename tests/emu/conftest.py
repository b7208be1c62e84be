"""Shared fixtures for firmware-in-QEMU tests: a temp copy of the PlatformIO
project, built with `pio run` (offline, via scripts/pio_offline.py), booted in
qemu-system-arm mps2-an386 with the UART on a local TCP socket."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ci_tools import require_tools

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_fixture_model():
    spec = importlib.util.spec_from_file_location("fixture_model", FIXTURES / "fixture_model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def emu_tools():
    """PlatformIO builds for QEMU: fails (never skips) naming any missing tool."""
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", "pio")
    cp = subprocess.run([sys.executable, str(ROOT / "scripts" / "pio_offline.py")],
                        capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr


def copy_project(dst: Path) -> Path:
    """platformio.ini + firmware/ without build outputs or generated model sources."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "platformio.ini", dst / "platformio.ini")
    shutil.copytree(ROOT / "firmware", dst / "firmware",
                    ignore=shutil.ignore_patterns(".pio", "generated", "__pycache__"))
    (dst / "firmware" / "generated").mkdir()
    return dst


@pytest.fixture(scope="session")
def fx_model():
    """The Python twin of the TEST FIXTURE runtime."""
    return load_fixture_model()


@pytest.fixture(scope="session")
def project_copy():
    """copy_project(dst) -> dst: a clean copy of the firmware project."""
    return copy_project


FIXTURE_ENV = """
; TEST ONLY (tests/emu/conftest.py): the fixture runtime instead of a real model.
[env:qemu_m4_fixture]
extends = env:qemu_m4
build_src_filter = ${tinyml.src_common} +<ports/qemu_m4/> +<runtime/fixture/>
"""


@pytest.fixture(scope="session")
def fixture_elf(emu_tools, tmp_path_factory) -> Path:
    """qemu_m4 firmware with the TEST FIXTURE runtime and fixture golden vectors."""
    from tinyml.targets.pio import build_dir, pio_run
    fx = load_fixture_model()
    proj = copy_project(tmp_path_factory.mktemp("proj_fixture"))
    rt = proj / "firmware" / "runtime" / "fixture"
    rt.mkdir()
    shutil.copy2(fx.RUNTIME_C, rt / fx.RUNTIME_C.name)
    for name, text in fx.golden_sources(4).items():
        (proj / "firmware" / "generated" / name).write_text(text)
    with open(proj / "platformio.ini", "a") as f:
        f.write(FIXTURE_ENV)
    pio_run(proj, "qemu_m4_fixture")
    elf = build_dir(proj, "qemu_m4_fixture") / "firmware.elf"
    assert elf.is_file()
    return elf


@pytest.fixture
def dut_factory():
    """Boot an ELF in QEMU and return a synced DutClient; everything stops at teardown."""
    from tinyml.harness.client import DutClient
    from tinyml.targets.qemu import emulate
    started = []

    def boot(elf: Path, serial: str = "tcp") -> DutClient:
        emu = emulate(elf, serial=serial)
        started.append(emu)
        dut = DutClient(emu.open_transport(), timeout=60)
        started.append(dut)
        dut.sync()
        return dut

    yield boot
    for obj in reversed(started):
        obj.close() if hasattr(obj, "close") else obj.stop()
