"""Bytes and numbers as C source, plus the template renderer all generators share.

Everything here is deterministic: the same input gives byte-identical text
(fixed line width, fixed number formatting, no timestamps).
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from importlib import resources
from typing import Iterable, Sequence

import numpy as np

TEMPLATE_PACKAGE = "tinyml.codegen"
ALIGN_MACRO = ("#if defined(__GNUC__) || defined(__clang__)\n"
               "#define TM_ALIGNED(n) __attribute__((aligned(n)))\n"
               "#else\n#define TM_ALIGNED(n)\n#endif")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def render(template_name: str, **values: object) -> str:
    """Fill `templates/<template_name>` with `values` ($name placeholders; a missing one raises)."""
    text = resources.files(TEMPLATE_PACKAGE).joinpath("templates", template_name).read_text(encoding="utf-8")
    return string.Template(text).substitute({k: str(v) for k, v in values.items()})


def c_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a C identifier: {name!r}")
    return name


def c_string(s: str) -> str:
    """A C string literal for `s` (UTF-8, non-printables and quotes escaped)."""
    out = []
    for b in s.encode("utf-8"):
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F and ch != "?":   # '?' escaped to dodge trigraphs
            out.append(ch)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def c_float(x: float) -> str:
    """A C float literal (`f` suffix) that round-trips through float32: 9 significant
    digits identify every float32. The one float formatter of all generators."""
    s = f"{float(np.float32(x)):.9g}"
    if not any(c in s for c in ".en"):
        s += ".0"
    return s + "f"


def format_values(values: Iterable[int], per_line: int = 12, indent: str = "    ",
                  hex_bytes: bool = False) -> str:
    """Comma-separated integers, `per_line` a line. hex_bytes: unsigned bytes as 0xNN."""
    vals = list(values)
    fmt = (lambda v: f"0x{v:02x}") if hex_bytes else (lambda v: str(int(v)))
    lines = []
    for i in range(0, len(vals), per_line):
        lines.append(indent + ", ".join(fmt(v) for v in vals[i:i + per_line]) + ",")
    return "\n".join(lines)


@dataclass(frozen=True)
class CArray:
    """A byte array as a C declaration (for a header) and a definition (for a .c)."""

    name: str
    length: int
    declaration: str
    definition: str


def bytes_to_c(name: str, data: bytes, align: int = 16, const: bool = True,
               ctype: str = "unsigned char", per_line: int = 12) -> CArray:
    """`data` as `[const] ctype name[len]` (aligned to `align` bytes) plus `name_len`.

    `const` data lands in flash on every MCU toolchain we target (.rodata).
    The declaration carries TM_ALIGNED so users of the header see the
    alignment too; TM_ALIGNED is defined by ALIGN_MACRO (put it in the header).
    """
    c_ident(name)
    if align & (align - 1) or align < 1:
        raise ValueError(f"alignment must be a power of two, got {align}")
    q = "const " if const else ""
    n = len(data)
    decl = (f"extern {q}{ctype} {name}[{n}] TM_ALIGNED({align});\n"
            f"extern const unsigned int {name}_len;")
    body = format_values(data, per_line=per_line, hex_bytes=True) if n else "    0"
    # C forbids zero-length arrays; an empty blob still gets one (unused) byte.
    size = n if n else 1
    defn = (f"{q}{ctype} {name}[{size}] TM_ALIGNED({align}) = {{\n{body}\n}};\n"
            f"const unsigned int {name}_len = {n}u;")
    if not n:
        decl = decl.replace(f"[{n}]", "[1]")
    return CArray(name=name, length=n, declaration=decl, definition=defn)


def int8_rows(rows: np.ndarray, per_line: int = 16, indent: str = "    ") -> str:
    """A 2-D int8 array as nested C initialiser rows `{ ... },` (one block per row)."""
    rows = np.asarray(rows)
    out = []
    for r in rows.reshape(rows.shape[0], -1):
        inner = format_values(r.tolist(), per_line=per_line, indent=indent * 2)
        out.append(f"{indent}{{\n{inner}\n{indent}}},")
    return "\n".join(out)


def dims_list(shape: Sequence[int]) -> str:
    return ", ".join(str(int(d)) for d in shape) if len(shape) else "0"


def model_data_files(tflite: bytes, sha256: str, array_name: str = "tm_model_tflite") -> dict[str, str]:
    """tm_model_data.h/.c: the .tflite as a 16-byte aligned const array with its length."""
    arr = bytes_to_c(array_name, tflite, align=16)
    return {
        "tm_model_data.h": render("tm_model_data.h.tmpl", sha256=sha256,
                                  decl=ALIGN_MACRO + "\n\n" + arr.declaration),
        "tm_model_data.c": render("tm_model_data.c.tmpl", sha256=sha256, defn=arr.definition),
    }
