"""Cases for test_ci_policy.py, run by it in a child pytest (the name keeps pytest
from collecting them in the suite itself)."""
import pytest


def test_plain_skip_fails():
    pytest.skip("a widget is missing")


@pytest.mark.hw
def test_board_may_skip_without_port():
    pass


@pytest.mark.tools("qemu-system-arm")
def test_tool_marker():
    pass


@pytest.mark.tools("tinyml-no-such-tool")
def test_missing_tool_named():
    pass
