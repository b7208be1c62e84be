"""`tinyml init`: a commented tinyml.toml with every option and its default.

Made from the config dataclasses themselves (values, types, and the comments
next to each field in tinyml/config/schema.py), so it cannot drift from the code.
Options without a default (None) are written commented out.
"""
from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

from ..core import atomic
from . import schema as config
from ..core.errors import ConfigError

_SECTION_HELP = {
    "run": "Run folder <runs_dir>/<name> and the seed of splits and training.",
    "data": "Dataset: name, path for user data, splits, audio features.",
    "teacher": "Float teacher model.",
    "student": "Student sized to a budget (params, MACs, int8 bytes).",
    "distill": "Knowledge distillation from the teacher.",
    "prune": "Pruning with fine-tuning: whole channels (a smaller dense model) or weight magnitudes.",
    "quantize": "Full-int8 conversion: post-training (ptq) or quantization-aware (qat).",
    "check": "Host checks of the int8 model (TFLM host runtime, LiteRT).",
    "model": "A model you bring (--model): calibration and input shape for a float one.",
    "export": "Firmware generation: target board and runtime.",
}


def _field_comments(cls: type) -> dict[str, tuple[list[str], str]]:
    """Per field: the comment lines right above it, and the comment on its own line."""
    out: dict[str, tuple[list[str], str]] = {}
    above: list[str] = []
    for line in inspect.getsource(cls).splitlines():
        s = line.strip()
        if s.startswith("#"):
            above.append(s.lstrip("# ").strip())
            continue
        m = re.match(r"(\w+)\s*:", s)
        if m and not s.startswith(("class", "def", "@")):
            out[m.group(1)] = (above, s.split("#", 1)[1].strip() if "#" in s else "")
        above = []
    return out


def template() -> str:
    lines = ["# tinyml configuration (written by `tinyml init`). Every option is shown with its",
             "# default; delete what you do not change. Command-line flags override this file.",
             "# Use: tinyml deploy --config tinyml.toml", ""]
    defaults = config.Config()
    for f in dataclasses.fields(defaults):
        section = getattr(defaults, f.name)
        lines.append(f"# {_SECTION_HELP.get(f.name, '')}".rstrip())
        lines.append(f"[{f.name}]")
        comments = _field_comments(type(section))
        for sf in dataclasses.fields(section):
            value = getattr(section, sf.name)
            above, tail = comments.get(sf.name, ([], ""))
            lines.extend(f"# {c}" for c in above)
            if value is None:
                entry, tail = f"# {sf.name} =", (f"{tail}; " if tail else "") + "unset by default"
            else:
                entry = f"{sf.name} = {config._toml_value(value)}"
            lines.append(f"{entry:<32} # {tail}" if tail else entry)
        lines.append("")
    return "\n".join(lines)


def write_template(path: Path, overwrite: bool = False) -> Path:
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} already exists", hint="pass --force to overwrite it, or give another path")
    atomic.write_text(path, template())
    return path
