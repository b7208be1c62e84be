"""`tinyml init`: every option with its default, as valid TOML that loads back to the defaults."""
from __future__ import annotations

import dataclasses
import tomllib

from test_cli_errors import _assert_clean_failure, _tinyml

from tinyml.config import schema as config
from tinyml.config.template import template


def test_template_names_every_option_and_loads_back_to_the_defaults(tmp_path):
    text = template()
    parsed = tomllib.loads(text)
    for f in dataclasses.fields(config.Config()):
        section = getattr(config.Config(), f.name)
        for sf in dataclasses.fields(section):
            value = getattr(section, sf.name)
            if value is None:
                assert f"# {sf.name} =" in text, sf.name       # shown, commented out
            else:
                assert parsed[f.name][sf.name] == value, (f.name, sf.name)
    p = tmp_path / "t.toml"
    p.write_text(text)
    assert config.load(p, {}) == config.Config()


def test_init_writes_the_file_and_refuses_to_overwrite(tmp_path):
    p = tmp_path / "tinyml.toml"
    out = _tinyml("init", p)
    assert out.returncode == 0 and p.read_text() == template()
    p.write_text("# mine\n")
    out = _tinyml("init", p)
    _assert_clean_failure(out, 2, str(p), "--force")
    assert p.read_text() == "# mine\n"
    assert _tinyml("init", p, "--force").returncode == 0 and p.read_text() == template()


def test_field_comments_come_from_the_source():
    """The comment next to a field in config.py is the comment next to it in the file."""
    lines = template().splitlines()
    val = next(ln for ln in lines if ln.startswith("val_split ="))
    assert val.endswith("# taken from the training part")
    assert "# Registered dataset name: digits" in "\n".join(lines)
