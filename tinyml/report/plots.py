"""The report's plots as PNG bytes (matplotlib, Agg backend only; no TensorFlow).

Every function returns None when there is nothing to draw or matplotlib is
missing (the light install). Axes start at 0 so small differences look small;
the exact values are printed on the bars.
"""
from __future__ import annotations

import io
from typing import Any

BLUE, ORANGE, GREEN, GREY = "#4c78a8", "#f58518", "#54a24b", "#9d9d9d"


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _plt():
    if not available():
        return None
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def matplotlib_ticker():
    import matplotlib.ticker
    return matplotlib.ticker


def _horizontal() -> dict:
    """boxplot's horizontal switch: `orientation` since matplotlib 3.10, `vert` before."""
    import matplotlib
    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


def _png(plt, fig) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    # No "Software" chunk: the bytes depend on the data only.
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def accuracy(m: dict) -> bytes | None:
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
    bars = ax.bar(range(len(items)), vals, color=BLUE)
    ax.set_xticks(range(len(items)), [lbl for lbl, _ in items])
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0.0, 105.0)          # from 0: a 1-point gap must look like one
    ax.set_yticks(range(0, 101, 20))
    for b, v in zip(bars, vals):
        ax.text(b.get_x() + b.get_width() / 2, v + 0.5, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_title("Accuracy per stage (axis from 0; values on the bars)")
    return _png(plt, fig)


def seconds(m: dict) -> bytes | None:
    secs = m["stage_seconds"]
    plt = _plt() if secs else None
    if plt is None:
        return None
    names = list(secs)
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(names) + 1.2), dpi=100)
    ax.barh(range(len(names)), [secs[n] for n in names], color=ORANGE)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_title(f"Time per stage (total {m['total_seconds']:.1f} s)")
    return _png(plt, fig)


MIN_SPREAD = 0.01     # latency runs closer than 1 % of the median: a number, not a plot


def latency_spread(lat: dict) -> tuple[float, float] | None:
    """(max - min, as a fraction of the median) of the per-inference figures, if known."""
    stats = lat.get("per_inference") or {}
    runs = [v for v in (lat.get("samples_per_inference") or lat.get("per_run") or [])
            if isinstance(v, (int, float))]
    lo = min(runs) if runs else stats.get("min")
    hi = max(runs) if runs else stats.get("max")
    med = stats.get("median") or (sorted(runs)[len(runs) // 2] if runs else None)
    if not all(isinstance(v, (int, float)) for v in (lo, hi, med)) or med <= 0:
        return None
    return float(hi - lo), float(hi - lo) / float(med)


def latency(lat: dict, unit: str) -> bytes | None:
    """A box plot of the per-run figures when they vary by 1 % of the median or more.
    Runs that agree (emulation gives the same count every time) are a number, said in
    the tables; a plot of them would say nothing."""
    spread = latency_spread(lat)
    runs = lat.get("samples_per_inference") or lat.get("per_run") or []
    per_run = [v for v in runs if isinstance(v, (int, float))]
    if spread is None or spread[1] < MIN_SPREAD or len(per_run) < 2:
        return None
    plt = _plt()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=100)
    ax.boxplot(per_run, **_horizontal(), whis=(0, 100), widths=0.5,
               medianprops={"color": ORANGE, "linewidth": 2})
    ax.plot(per_run, [1.0] * len(per_run), "|", color=BLUE, alpha=0.5, markersize=18)
    ax.set_yticks([])
    lo, hi = min(per_run), max(per_run)
    ax.set_title(f"Latency of {len(per_run)} timed runs (box: quartiles, whiskers: min–max)\n"
                 f"max − min = {hi - lo:,.0f} {unit}, {100.0 * (hi - lo) / lo:.2f} % of min", fontsize=10)
    ax.set_xlabel(f"{unit} per inference")
    ax.xaxis.set_major_formatter(matplotlib_ticker().StrMethodFormatter("{x:,.0f}"))
    return _png(plt, fig)


def layers(items: list[dict], unit: str) -> bytes | None:
    rows = [(f"{it.get('index')} {it.get('op')}", float(it["count"])) for it in items
            if isinstance(it.get("count"), (int, float))]
    total = sum(c for _, c in rows)
    plt = _plt() if rows and total > 0 else None
    if plt is None:
        return None
    shares = [100.0 * c / total for _, c in rows]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.3), dpi=100)
    ax.barh(range(len(rows)), shares, color=GREEN)
    ax.set_yticks(range(len(rows)), [lbl for lbl, _ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(shares) * 1.2)
    for i, s in enumerate(shares):
        ax.text(s, i, f" {s:.1f} %", va="center", fontsize=7)
    ax.set_xlabel(f"share of the layers' total ({total:,.0f} {unit})")
    ax.set_title("Per-layer profile on the device")
    return _png(plt, fig)


def layer_sqnr(rows: list[dict]) -> bytes | None:
    """SQNR each layer adds (dB), the worst in orange."""
    rows = [r for r in rows if isinstance(r.get("sqnr_db"), (int, float))]
    plt = _plt() if rows else None
    if plt is None:
        return None
    vals = [min(float(r["sqnr_db"]), 100.0) for r in rows]      # exact layers (>100 dB) shown at 100
    worst = vals.index(min(vals))
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.3), dpi=100)
    ax.barh(range(len(rows)), vals, color=[ORANGE if i == worst else BLUE for i in range(len(rows))])
    ax.set_yticks(range(len(rows)), [f"{r.get('index')} {r.get('op')} {r.get('layer') or ''}".strip()
                                     for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(vals) * 1.15)
    for i, v in enumerate(vals):
        ax.text(v, i, f" {rows[i]['sqnr_db']:.1f}", va="center", fontsize=7)
    ax.set_xlabel("SQNR the layer adds, float vs int8 (dB, higher is better; capped at 100)")
    ax.set_title("Quantization error per layer")
    return _png(plt, fig)


def confusion(matrix: list[list[Any]], labels: list[str] | None = None) -> bytes | None:
    ok = (isinstance(matrix, list) and matrix and all(isinstance(r, list) and len(r) == len(matrix)
                                                      for r in matrix))
    plt = _plt() if ok else None
    if plt is None:
        return None
    n = len(matrix)
    vals = [[float(v or 0) for v in r] for r in matrix]
    names = labels if labels and len(labels) == n else [str(i) for i in range(n)]
    side = min(8.0, 2.5 + 0.45 * n)
    fig, ax = plt.subplots(figsize=(side + 1.2, side), dpi=100)
    im = ax.imshow(vals, cmap="Blues", vmin=0)
    top = max(max(r) for r in vals) or 1.0
    for i in range(n):
        for j in range(n):
            if vals[i][j] and i != j:
                # Errors are few and would be near-white in the colour scale: mark them.
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, color=ORANGE, alpha=0.45, lw=0))
            if vals[i][j] and n <= 20:
                ax.text(j, i, f"{vals[i][j]:.0f}", ha="center", va="center", fontsize=8,
                        color="white" if vals[i][j] > 0.6 * top else "#222")
    ax.set_xticks(range(n), names, fontsize=8, rotation=90 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("predicted on the device")
    ax.set_ylabel("true label")
    ax.set_title("Confusion matrix (device; errors in orange)")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="samples")
    return _png(plt, fig)


def diff_histogram(per_sample: list[Any]) -> bytes | None:
    """Samples per max |device − host| (int8 steps), for outputs that are not classes."""
    diffs = [int(v) for v in per_sample if isinstance(v, (int, float))]
    plt = _plt() if diffs else None
    if plt is None:
        return None
    top = max(diffs)
    counts = [diffs.count(d) for d in range(top + 1)]
    fig, ax = plt.subplots(figsize=(7, 3.0), dpi=100)
    ax.bar(range(top + 1), counts, color=BLUE)
    for d, c in enumerate(counts):
        if c:
            ax.text(d, c, f"{c}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(max(top, 3) + 1))
    ax.set_xlim(-0.6, max(top, 3) + 0.6)
    ax.set_ylim(0, max(counts) * 1.15)
    ax.set_xlabel("max |device − host| over the sample's outputs (int8 steps)")
    ax.set_ylabel("samples")
    ax.set_title(f"Output difference per sample ({len(diffs)} samples)")
    return _png(plt, fig)
