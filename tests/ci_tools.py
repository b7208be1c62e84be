"""Tools the tests need: a missing one fails the test that needs it, naming it (never a skip).

Used by tests/conftest.py (`@pytest.mark.tools(...)`, the `emu` marker, folders) and
by fixtures that need tools before any test runs (tests/emu/conftest.py).
"""
from __future__ import annotations

import shutil

import pytest

SETUP_HINT = "scripts/setup.sh installs it (CI runs it first: .ci/run)"


def missing_tools(names) -> list[str]:
    """The tools of `names` this machine lacks (`pio`: PlatformIO as tinyml finds it)."""
    missing = []
    for name in dict.fromkeys(names):
        if name == "pio":
            from tinyml.core.errors import ToolMissingError
            from tinyml.targets.pio import find_pio
            try:
                find_pio()
            except ToolMissingError:
                missing.append(name)
        elif shutil.which(name) is None:
            missing.append(name)
    return missing


def require_tools(*names: str) -> None:
    """Fail (never skip) naming every missing tool."""
    missing = missing_tools(names)
    if missing:
        pytest.fail(f"missing tool: {', '.join(missing)} is not on PATH; {SETUP_HINT}", pytrace=False)
