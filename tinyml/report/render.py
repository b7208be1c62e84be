"""Write a run's report: metrics.json, report.md, a self-contained report.html, PNG plots.

One headline table comes first (device vs host, int8 vs float, distillation
gain, size, RAM, latency, energy), then the device section (from
results.json), then the host part. Missing numbers show as "—"; a plot with nothing to
show is not drawn, and its PNG from an earlier report is removed.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..core import atomic
from . import device, imported, plots
from .doc import Block, Figure, Heading, Para, render_html, render_markdown
from .headline import headline
from .host import host_blocks
from .metrics import METRICS_JSON, build_metrics
from .results import load_results

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
HOST_PLOT_FILES = {"accuracy": "accuracy.png", "seconds": "seconds.png"}
# Every PNG a report can draw: any of these not drawn this time is stale.
ALL_PLOT_FILES = (tuple(device.PLOT_FILES.values()) + tuple(HOST_PLOT_FILES.values())
                  + (imported.PLOT_FILE,))


def _read_json(p: Path) -> dict | None:
    try:
        return json.loads(p.read_text()) if p.is_file() else None
    except (OSError, ValueError):
        return None


def host_figures(m: dict) -> dict[str, Figure]:
    drawn = {"accuracy": (plots.accuracy(m), "accuracy per stage"),
             "seconds": (plots.seconds(m), "time per stage")}
    return {k: Figure(HOST_PLOT_FILES[k], png, alt) for k, (png, alt) in drawn.items() if png is not None}


def build_blocks(run_dir: Path, m: dict) -> tuple[list[Block], list[Figure]]:
    """The whole report as blocks, and the figures in it (in document order)."""
    check = _read_json(run_dir / "check.json")
    res = load_results(run_dir)
    dfigs, hfigs = device.figures(res), host_figures(m)
    blocks: list[Block] = [Heading(1, f"tinyml report: {m['run']}"), headline(m)]
    ds = m.get("dataset") or {}
    if ds.get("note"):
        blocks.append(Para(f"Dataset {ds['name']}: {ds['note']}.", "note"))
    if not plots.available():
        blocks.append(Para("Plots are not drawn: matplotlib is not installed "
                           "(`pip install 'tinyml[ml]'`).", "note"))
    blocks += device.device_blocks(res, str(m["run"]), m.get("model_sha256"), dfigs)
    imp = _read_json(run_dir / "import.json")
    blocks += imported.blocks(imp, imported.figure(imp))
    blocks += host_blocks(m, check, hfigs)
    return blocks, [b for b in blocks if isinstance(b, Figure)]


def write_report(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Read run_dir (manifest.json, check.json, results.json) and write metrics.json,
    the plots, report.md and report.html into out_dir (default: run_dir; a stage
    passes its staging folder). Returns the paths written."""
    run_dir = Path(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else run_dir
    m = build_metrics(run_dir)
    blocks, figs = build_blocks(run_dir, m)
    written: list[Path] = [atomic.write_json(out_dir / METRICS_JSON, m)]
    written += [atomic.write_bytes(out_dir / f.name, f.png) for f in figs]
    written.append(atomic.write_text(out_dir / REPORT_MD, render_markdown(blocks)))
    written.append(atomic.write_text(out_dir / REPORT_HTML, render_html(f"tinyml report: {m['run']}", blocks)))
    # A stale plot from an earlier report would contradict the tables. With a
    # staging out_dir the old one sits in run_dir, so look in both.
    drawn = {f.name for f in figs}
    for folder in {out_dir, run_dir}:
        for name in ALL_PLOT_FILES:
            if name not in drawn and (folder / name).is_file():
                (folder / name).unlink()
    return written
