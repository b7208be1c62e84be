"""A report as a list of blocks, rendered to Markdown and to self-contained HTML.

Both documents come from the same blocks, so they can't disagree. Text may
use `backticks` for commands; each renderer turns them into its own code style.
"""
from __future__ import annotations

import base64
import html
import re
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    kind: str = ""          # "" | "note" | "warn"


@dataclass(frozen=True)
class Table:
    head: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Figure:
    name: str               # file name of the PNG written beside the report
    png: bytes
    alt: str


Block = Heading | Para | Table | Figure


# -- Markdown -------------------------------------------------------------------
def _md_cell(c: str) -> str:
    return c.replace("|", "\\|").replace("\n", " ")


def _md_table(t: Table) -> str:
    out = ["| " + " | ".join(_md_cell(h) for h in t.head) + " |", "|" + "|".join("---" for _ in t.head) + "|"]
    out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in t.rows]
    return "\n".join(out)


def render_markdown(blocks: list[Block]) -> str:
    parts: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            parts += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Para):
            prefix = {"warn": "**Warning:** ", "note": "_Note:_ "}.get(b.kind, "")
            parts += [prefix + b.text, ""]
        elif isinstance(b, Table):
            parts += [_md_table(b), ""]
        elif isinstance(b, Figure):
            parts += [f"![{b.alt}]({b.name})", ""]
    return "\n".join(parts)


# -- HTML -----------------------------------------------------------------------
def _inline(text: str) -> str:
    """Escape, then `x` -> <code>x</code> (odd pieces of a backtick split are code)."""
    pieces = text.split("`")
    if len(pieces) % 2 == 0:            # unbalanced: show the text as it is
        return html.escape(text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p)
                   for i, p in enumerate(pieces))


_NUMERIC = re.compile(r"^(?:[-+]?[\d.,]+(?:\s|$)|—$)")


def _td(c: str) -> str:
    # Numbers right-aligned so digits line up; prose left-aligned so it reads.
    return f"<td>{_inline(c)}</td>" if _NUMERIC.match(c) else f'<td class="t">{_inline(c)}</td>'


def _html_table(t: Table) -> str:
    th = "".join(f"<th>{_inline(h)}</th>" for h in t.head)
    trs = "".join("<tr>" + "".join(_td(c) for c in r) + "</tr>" for r in t.rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", png[16:24])


def _html_figure(f: Figure) -> str:
    w, h = png_size(f.png)
    data = base64.b64encode(f.png).decode("ascii")
    # width/height keep the layout stable; CSS max-width scales it down on narrow screens.
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(f.alt)}" '
            f'data-file="{html.escape(f.name)}" width="{w}" height="{h}"></figure>')


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
        "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}"
        "th:first-child,td:first-child,td.t{text-align:left}thead{background:#f3f3f3}"
        "figure{margin:.5rem 0 1.5rem}img{max-width:100%;height:auto}"
        "code{background:#f3f3f3;padding:0 .2rem}"
        ".warn{background:#fff3cd;border-left:4px solid #e0a800;padding:.4rem .6rem}"
        ".note{color:#555}")


def render_html(title: str, blocks: list[Block]) -> str:
    body: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f"<h{b.level}>{_inline(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            cls = f' class="{b.kind}"' if b.kind else ""
            prefix = "<strong>Warning:</strong> " if b.kind == "warn" else ""
            body.append(f"<p{cls}>{prefix}{_inline(b.text)}</p>")
        elif isinstance(b, Table):
            body.append(_html_table(b))
        elif isinstance(b, Figure):
            body.append(_html_figure(b))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
            "<body>\n" + "\n".join(body) + "\n</body></html>\n")
