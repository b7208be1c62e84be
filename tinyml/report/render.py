"""Render a run's report: metrics.json, report.md, report.html and PNG plots.

Missing stages show as "—"; a plot with nothing to show is not drawn. No
TensorFlow here (matplotlib with the Agg backend only).
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from .. import atomic
from .metrics import METRICS_JSON, STAGE_COLUMNS, build_metrics

DASH = "—"
ACCURACY_PNG = "accuracy.png"
SECONDS_PNG = "seconds.png"

COLUMN_TITLES = {"teacher": "teacher", "alone": "alone", "distilled": "distilled",
                 "pruned": "pruned", "int8": "int8"}


# -- formatting -----------------------------------------------------------------
def fmt_pct(v: Any, digits: int = 2) -> str:
    return DASH if v is None else f"{100.0 * float(v):.{digits}f} %"


def fmt_int(v: Any) -> str:
    return DASH if v is None else f"{int(v):,}"


def fmt_secs(v: Any) -> str:
    return DASH if v is None else f"{float(v):.1f} s"


def fmt_lsb(v: Any) -> str:
    return DASH if v is None else f"{int(v)} LSB"


# -- tables as rows (shared by Markdown and HTML) --------------------------------
def stage_table(m: dict) -> tuple[list[str], list[list[str]]]:
    cols = m["columns"]
    head = [""] + [COLUMN_TITLES[c] for c in STAGE_COLUMNS]
    rows = [
        ["accuracy"] + [fmt_pct(cols[c]["accuracy"]) for c in STAGE_COLUMNS],
        ["parameters"] + [fmt_int(cols[c]["params"]) for c in STAGE_COLUMNS],
        ["MACs"] + [fmt_int(cols[c]["macs"]) for c in STAGE_COLUMNS],
        ["sparsity"] + [fmt_pct(cols[c]["sparsity"], 1) for c in STAGE_COLUMNS],
        ["model bytes"] + [fmt_int(cols[c]["bytes"]) for c in STAGE_COLUMNS],
    ]
    return head, rows


def check_table(m: dict) -> tuple[list[str], list[list[str]]]:
    a, ag, ar, mb = m["accuracy"], m["runtime_agreement"], m["arena_bytes"], m["model_bytes"]
    rows = [
        ["float accuracy", fmt_pct(a["float"])],
        ["int8 accuracy, TFLM host runtime (reference)", fmt_pct(a["int8_tflm"])],
        ["int8 accuracy, LiteRT", fmt_pct(a["int8_litert"])],
        ["top-1 agreement LiteRT vs TFLM", fmt_pct(ag["top1"])],
        ["bit-exact outputs LiteRT vs TFLM", fmt_pct(ag["exact"])],
        ["max |Δ| LiteRT vs TFLM", fmt_lsb(ag["max_abs_diff_lsb"])],
        ["tensor arena, minimum (bytes)", fmt_int(ar["min"])],
        ["tensor arena, recommended (bytes)", fmt_int(ar["recommended"])],
        ["int8 .tflite (bytes)", fmt_int(mb["tflite_int8"])],
        ["float .tflite (bytes)", fmt_int(mb["tflite_float"])],
        ["test samples", fmt_int(m.get("test_samples"))],
    ]
    return ["host check", "value"], rows


def seconds_table(m: dict) -> tuple[list[str], list[list[str]]]:
    rows = [[k, fmt_secs(v)] for k, v in m["stage_seconds"].items()]
    rows.append(["total", fmt_secs(m["total_seconds"])])
    return ["stage", "time"], rows


def ops_table(check: dict | None) -> tuple[list[str], list[list[str]]] | None:
    if not check or not check.get("op_table"):
        return None
    rows = [[str(r.get("index")), str(r.get("op")), str(r.get("layer") or DASH)] for r in check["op_table"]]
    return ["#", "op", "Keras layer"], rows


# -- plots ----------------------------------------------------------------------
def _plt():
    """pyplot on the Agg backend, or None on a light install without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def plot_accuracy(m: dict, dest: Path) -> Path | None:
    a = m["accuracy"]
    items = [(lbl, a[k]) for k, lbl in (("teacher", "teacher"), ("alone", "alone"),
                                        ("distilled", "distilled"), ("pruned", "pruned"),
                                        ("float", "float\n.tflite"), ("int8_tflm", "int8\nTFLM"),
                                        ("int8_litert", "int8\nLiteRT")) if a.get(k) is not None]
    plt = _plt() if items else None
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    vals = [100.0 * v for _, v in items]
    bars = ax.bar(range(len(items)), vals, color="#4c78a8")
    ax.set_xticks(range(len(items)), [lbl for lbl, _ in items])
    ax.set_ylabel("test accuracy (%)")
    lo = max(0.0, min(vals) - 10.0)
    ax.set_ylim(lo, 100.0)
    for b, v in zip(bars, vals):
        ax.text(b.get_x() + b.get_width() / 2, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_title("Accuracy per stage")
    fig.tight_layout()
    with atomic.atomic_path(dest) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    return dest


def plot_seconds(m: dict, dest: Path) -> Path | None:
    secs = m["stage_seconds"]
    plt = _plt() if secs else None
    if plt is None:
        return None
    names = list(secs)
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(names) + 1.2), dpi=100)
    ax.barh(range(len(names)), [secs[n] for n in names], color="#f58518")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_title(f"Time per stage (total {m['total_seconds']:.1f} s)")
    fig.tight_layout()
    with atomic.atomic_path(dest) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    return dest


# -- documents ------------------------------------------------------------------
def _md_table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _sections(m: dict, check: dict | None) -> list[tuple[str, tuple[list[str], list[list[str]]]]]:
    secs = [("Model at each stage", stage_table(m)), ("Host checks of the int8 model", check_table(m))]
    ot = ops_table(check)
    if ot:
        secs.append(("Ops and the Keras layers they come from", ot))
    secs.append(("Time per stage", seconds_table(m)))
    return secs


def render_markdown(m: dict, check: dict | None, plots: list[str]) -> str:
    parts = [f"# tinyml report: {m['run']}", ""]
    for title, (head, rows) in _sections(m, check):
        parts += [f"## {title}", "", _md_table(head, rows), ""]
    if plots:
        parts += ["## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in plots] + [""]
    parts += ["Accuracies are on the test split. int8 = the full-int8 .tflite run by the TFLM host "
              "runtime, the reference for the device. Metric definitions: docs/METRICS.md.", ""]
    return "\n".join(parts)


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
        "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}"
        "th:first-child,td:first-child{text-align:left}thead{background:#f3f3f3}img{max-width:100%}")


def render_html(m: dict, check: dict | None, plots: list[str]) -> str:
    body = [f"<h1>tinyml report: {html.escape(str(m['run']))}</h1>"]
    for title, (head, rows) in _sections(m, check):
        body += [f"<h2>{html.escape(title)}</h2>", _html_table(head, rows)]
    if plots:
        body.append("<h2>Plots</h2>")
        body += [f'<p><img src="{html.escape(p)}" alt="{html.escape(Path(p).stem)}"></p>' for p in plots]
    body.append("<p>Accuracies are on the test split. int8 = the full-int8 .tflite run by the TFLM host "
                "runtime, the reference for the device.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>tinyml report: {html.escape(str(m['run']))}</title><style>{_CSS}</style></head>"
            "<body>\n" + "\n".join(body) + "\n</body></html>\n")


def _read_json(p: Path) -> dict | None:
    try:
        return json.loads(p.read_text()) if p.is_file() else None
    except (OSError, ValueError):
        return None


def write_report(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Read run_dir (manifest.json, check.json) and write metrics.json, report.md,
    report.html and the plots into out_dir (default: run_dir; a stage passes its
    staging folder). Returns the paths written."""
    run_dir = Path(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else run_dir
    m = build_metrics(run_dir)
    check = _read_json(run_dir / "check.json")
    written: list[Path] = [atomic.write_json(out_dir / METRICS_JSON, m)]
    plots: list[str] = []
    for fn, name in ((plot_accuracy, ACCURACY_PNG), (plot_seconds, SECONDS_PNG)):
        dest = out_dir / name
        if fn(m, dest) is not None:
            plots.append(name)
            written.append(dest)
        elif dest.exists():
            dest.unlink()          # a stale plot from an earlier run would contradict the tables
    written.append(atomic.write_text(out_dir / "report.md", render_markdown(m, check, plots)))
    written.append(atomic.write_text(out_dir / "report.html", render_html(m, check, plots)))
    return written
