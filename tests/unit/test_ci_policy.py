"""The suite cannot pass by skipping: a skip outside tests/hw is a failure, and a
missing tool fails the test that needs it, naming the tool."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CASES = "tests/unit/ci_policy_cases.py"


def _pytest(args: list[str], path_env: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path_env is not None:
        env["PATH"] = path_env
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def _path_without(tmp_path: Path, tool: str) -> str:
    """A PATH with every executable of the current PATH except `tool`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for d in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            src, dst = os.path.join(d, name), bin_dir / name
            if name != tool and not dst.exists() and os.access(src, os.X_OK):
                dst.symlink_to(src)
    return str(bin_dir)


def test_skips_fail_and_missing_tools_are_named(tmp_path):
    cp = _pytest([CASES])
    out = cp.stdout
    assert cp.returncode == 1, out
    assert "1 failed, 1 passed, 1 skipped, 1 error" in out.splitlines()[-1], out
    assert re.search(r"FAILED .*::test_plain_skip_fails", out), out
    assert "only real-board tests (tests/hw without --port) may skip: Skipped: a widget is missing" in out
    assert re.search(r"SKIPPED .*real-board test: give --port", out), out
    assert re.search(r"PASSED .*::test_tool_marker", out), out
    assert re.search(r"ERROR .*::test_missing_tool_named", out), out
    assert "missing tool: tinyml-no-such-tool is not on PATH" in out


def test_suite_without_qemu_fails_naming_it(tmp_path):
    """The emulator tests with QEMU hidden from PATH: red, naming qemu-system-arm."""
    path = _path_without(tmp_path, "qemu-system-arm")
    cp = _pytest(["tests/emu/test_aot_qemu.py::test_dsp_path_kws_reference"], path)
    assert cp.returncode != 0, cp.stdout
    assert "missing tool: qemu-system-arm" in cp.stdout, cp.stdout
    assert " passed" not in cp.stdout.splitlines()[-1]
