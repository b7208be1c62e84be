"""`csv`: sensor data as CSV, numeric feature columns plus a label column.

window = 0: every row is one sample -> x is (N, F).
window = W: consecutive rows with the same label are cut into windows of W rows
(start every `stride` rows, default W = no overlap) -> x is (N, W, F, 1).
Rows left over at the end of a run of one label are dropped (counted in meta).
`path` is one .csv file or a folder of them (read in name order; a window never
spans two files).
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .common import require_path, split_arrays
from .dataset import Dataset


def _read_csv(path: Path, label_column: str) -> tuple[list[str], np.ndarray, list[str]]:
    """(feature column names, float rows (R, F), labels per row)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read CSV file {path}: {e}") from None
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"CSV file {path} is empty", hint="it needs a header row and data rows") from None
    except csv.Error as e:
        raise DataError(f"{path}:1: malformed CSV: {e}") from None
    if label_column not in header:
        raise DataError(f"{path}:1: no label column '{label_column}' in the header ({', '.join(header)})",
                        hint="set [data] label_column to the column holding the class names")
    li = header.index(label_column)
    names = [h for j, h in enumerate(header) if j != li]
    if not names:
        raise DataError(f"{path}:1: no feature columns besides '{label_column}'")
    rows, labels = [], []
    try:
        for line_no, rec in enumerate(reader, start=2):
            if not rec or all(not c.strip() for c in rec):
                continue   # blank lines are harmless
            if len(rec) != len(header):
                raise DataError(f"{path}:{line_no}: {len(rec)} fields, the header has {len(header)}",
                                hint="every row needs one value per column")
            label = rec[li].strip()
            if not label:
                raise DataError(f"{path}:{line_no}: empty label in column '{label_column}'")
            vals = []
            for j, c in enumerate(rec):
                if j == li:
                    continue
                try:
                    v = float(c)
                except ValueError:
                    v = math.nan
                if not math.isfinite(v):
                    raise DataError(f"{path}:{line_no}: column '{header[j]}' value {c.strip()!r} is not a finite number",
                                    hint="feature columns must be numeric; fix or remove the row")
                vals.append(v)
            rows.append(vals)
            labels.append(label)
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV: {e}") from None
    if not rows:
        raise DataError(f"CSV file {path} has a header but no data rows")
    return names, np.asarray(rows, dtype=np.float32), labels


def _windows(rows: np.ndarray, labels: list[str], window: int, stride: int):
    """([(rows[s:s+window], label)], rows in no window), windows within runs of one label."""
    out = []
    covered = np.zeros(len(labels), dtype=bool)
    start = 0
    while start < len(labels):
        end = start
        while end < len(labels) and labels[end] == labels[start]:
            end += 1
        for s in range(start, end - window + 1, stride):
            out.append((rows[s:s + window], labels[start]))
            covered[s:s + window] = True
        start = end
    return out, int((~covered).sum())


def _label_key(label: str):
    # "2" before "10" when every label is an integer; otherwise plain text order.
    try:
        return (0, int(label), label)
    except ValueError:
        return (1, 0, label)


def load_csv(cfg, seed: int = 0) -> Dataset:
    root = require_path(cfg, "csv", "a .csv file or a folder of .csv files")
    files = [root] if root.is_file() else sorted(p for p in root.glob("*.csv") if not p.name.startswith("."))
    if not files:
        raise DataError(f"{root} has no .csv files")
    names0: list[str] | None = None
    samples, sample_labels = [], []
    dropped = 0
    for f in files:
        names, rows, labels = _read_csv(f, cfg.label_column)
        if names0 is None:
            names0 = names
        elif names != names0:
            raise DataError(f"{f}:1: columns {names} differ from {files[0]}: {names0}",
                            hint="every CSV file needs the same columns")
        if cfg.window == 0:
            samples.extend(rows)
            sample_labels.extend(labels)
        else:
            wins, d = _windows(rows, labels, cfg.window, cfg.stride or cfg.window)
            dropped += d
            samples.extend(w for w, _ in wins)
            sample_labels.extend(lab for _, lab in wins)
    if not samples:
        raise DataError(f"{root}: no sample of {cfg.window} rows with one label could be formed",
                        hint="lower [data] window or add rows")
    classes = sorted(set(sample_labels), key=_label_key)
    if len(classes) < 2:
        raise DataError(f"{root}: only {len(classes)} class ({', '.join(classes)}); at least 2 are needed")
    index = {c: i for i, c in enumerate(classes)}
    x = np.stack(samples).astype(np.float32)
    if cfg.window:
        x = x[..., None]
    y = np.array([index[c] for c in sample_labels], dtype=np.int64)
    return split_arrays("csv", x, y, classes, cfg, seed,
                        meta={"path": str(root), "columns": names0, "window": cfg.window,
                              "stride": cfg.stride or cfg.window, "dropped_rows": dropped})
