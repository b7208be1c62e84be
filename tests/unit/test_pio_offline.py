"""scripts/pio_offline.py registers PlatformIO's tool-scons package offline, idempotently."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pio_offline.py"


def _run(core: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PLATFORMIO_CORE_DIR=str(core))
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env)


def test_installs_once_then_reports_up_to_date(tmp_path):
    core = tmp_path / "pio-core"
    assert _run(core, "--check").returncode == 1            # nothing there yet
    first = _run(core)
    assert first.returncode == 0 and "installed" in first.stdout
    pkg = core / "packages" / "tool-scons"
    manifest = json.loads((pkg / "package.json").read_text())
    assert (manifest["name"], manifest["version"]) == ("tool-scons", "4.41101.0")
    meta = json.loads((pkg / ".piopm").read_text())
    assert meta["spec"]["owner"] == "platformio" and meta["name"] == "tool-scons"
    mtimes = {p.name: p.stat().st_mtime_ns for p in pkg.iterdir()}
    second = _run(core)
    assert second.returncode == 0 and "already up to date" in second.stdout
    assert {p.name: p.stat().st_mtime_ns for p in pkg.iterdir()} == mtimes   # nothing rewritten
    assert _run(core, "--check").returncode == 0


def test_repairs_a_stale_file(tmp_path):
    core = tmp_path / "pio-core"
    _run(core)
    (core / "packages" / "tool-scons" / "scons.py").write_text("broken")
    assert _run(core, "--check").returncode == 1
    assert "installed" in _run(core).stdout
    assert "SCons.Script.Main" in (core / "packages" / "tool-scons" / "scons.py").read_text()


def test_platformio_accepts_the_package(tmp_path):
    """PlatformIO's own package manager finds it under the core-dependency spec."""
    core = tmp_path / "pio-core"
    _run(core)
    code = ("from platformio.package.manager.core import get_core_package_dir;"
            "print(get_core_package_dir('tool-scons', auto_install=False))")
    cp = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                        env=dict(os.environ, PLATFORMIO_CORE_DIR=str(core)))
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == str(core / "packages" / "tool-scons")
