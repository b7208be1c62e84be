"""Help a newcomer can read: every option explained, in a sensible order, with defaults."""
from __future__ import annotations

import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from tinyml.cli import main

COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help(name):
    cmd = main.commands[name]
    missing = [p.name for p in cmd.params if isinstance(p, click.Option) and not p.help]
    assert missing == [], f"`tinyml {name}` options without help: {missing}"
    assert cmd.help, f"`tinyml {name}` has no description"


@pytest.mark.parametrize("name", ["pipeline", "train", "check", "deploy"])
def test_run_options_are_listed_in_reading_order(name):
    text = CliRunner().invoke(main, [name, "--help"]).output
    listed = [m.group(1) for m in re.finditer(r"^  (?:-\w, )?(--[\w-]+)", text, re.M)]
    run_opts = ["--config", "--run", "--runs-dir", "--dataset", "--data-path", "--seed", "--force"]
    assert [o for o in listed if o in run_opts] == run_opts, text


@pytest.mark.parametrize("name,option", [("export", "--target"), ("export", "--runtime"),
                                         ("deploy", "--target"), ("deploy", "--runtime"),
                                         ("build", "--project"), ("emulate", "--project")])
def test_defaults_are_shown(name, option):
    text = CliRunner().invoke(main, [name, "--help"], terminal_width=200).output
    line = next(ln for ln in text.splitlines() if option in ln)
    assert "[default:" in line, line


def test_help_does_not_import_tensorflow():
    code = ("import sys; from click.testing import CliRunner; from tinyml.cli import main; "
            "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
