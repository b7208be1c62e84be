"""The README's commands exist, with the options it shows; the files it names exist."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from tinyml.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _commands():
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("tinyml "):
                for part in line.split("&&"):
                    yield shlex.split(part.strip())[1:]


@pytest.mark.parametrize("args", list(_commands()), ids=lambda a: " ".join(a))
def test_readme_command_parses(args):
    cmd = main.commands.get(args[0])
    assert cmd is not None, f"README shows `tinyml {args[0]}`, which does not exist"
    try:
        cmd.make_context(args[0], args[1:], resilient_parsing=False)
    except click.UsageError as e:
        pytest.fail(f"README's `tinyml {' '.join(args)}`: {e}")


def test_every_command_is_in_the_readme_table():
    table = README[README.index("## Commands"):]
    for name in main.commands:
        assert f"`tinyml {name}`" in table or f"/ `{name}`" in table or f" `{name}`" in table, name


def test_named_files_and_make_targets_exist():
    for path in set(re.findall(r"`((?:docs|benchmarks|datasets|scripts|firmware)/[\w./-]+)`", README)):
        assert (ROOT / path).exists(), path
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"^make (\w[\w-]*)", README, re.M):
        assert re.search(rf"^{target}:", makefile, re.M), target
