"""The host part of the report: headline first, then the detailed tables."""
from __future__ import annotations

from .doc import Block, Heading, Para, Table
from .fmt import DASH, fmt_int, fmt_lsb, fmt_pct, fmt_points, fmt_secs
from .metrics import STAGE_COLUMNS

COLUMN_TITLES = {"teacher": "teacher", "alone": "alone", "distilled": "distilled",
                 "pruned": "pruned", "int8": "int8"}


def _pair(a, b) -> str:
    return DASH if a is None and b is None else f"{fmt_int(a)} / {fmt_int(b)}"


def headline_table(m: dict) -> Table:
    a, mb, ar = m["accuracy"], m["model_bytes"], m["arena_bytes"]
    rows = [
        ["int8 accuracy (TFLM host runtime, the device's reference)", fmt_pct(a["int8_tflm"])],
        ["float accuracy (.tflite)", fmt_pct(a["float"])],
        ["int8 − float", fmt_points(a["int8_tflm"], a["float"])],
        ["distillation gain (distilled − trained alone)",
         f"{fmt_points(a['distilled'], a['alone'])} ({fmt_pct(a['distilled'])} vs {fmt_pct(a['alone'])})"
         if a["distilled"] is not None and a["alone"] is not None else DASH],
        ["int8 model (.tflite bytes)", fmt_int(mb["tflite_int8"])],
        ["tensor arena, TFLM minimum / recommended (bytes)", _pair(ar["min"], ar["recommended"])],
        ["student parameters / MACs per inference", _pair(m["params"]["student"], m["macs"]["student"])],
    ]
    return Table(["headline", "value"], rows)


def stage_table(m: dict) -> Table:
    cols = m["columns"]
    head = [""] + [COLUMN_TITLES[c] for c in STAGE_COLUMNS]
    rows = [
        ["accuracy"] + [fmt_pct(cols[c]["accuracy"]) for c in STAGE_COLUMNS],
        ["parameters"] + [fmt_int(cols[c]["params"]) for c in STAGE_COLUMNS],
        ["MACs"] + [fmt_int(cols[c]["macs"]) for c in STAGE_COLUMNS],
        ["sparsity"] + [fmt_pct(cols[c]["sparsity"], 1) for c in STAGE_COLUMNS],
        ["model bytes"] + [fmt_int(cols[c]["bytes"]) for c in STAGE_COLUMNS],
    ]
    return Table(head, rows)


def check_table(m: dict) -> Table:
    a, ag, ar, mb = m["accuracy"], m["runtime_agreement"], m["arena_bytes"], m["model_bytes"]
    # Without labels (a user's model on random inputs) there is no accuracy: no empty rows.
    accs = [["float accuracy", fmt_pct(a["float"])],
            ["int8 accuracy, TFLM host runtime (reference)", fmt_pct(a["int8_tflm"])],
            ["int8 accuracy, LiteRT", fmt_pct(a["int8_litert"])]]
    rows = [
        *(accs if a.get("int8_tflm") is not None else []),
        ["top-1 agreement LiteRT vs TFLM", fmt_pct(ag["top1"])],
        ["bit-exact outputs LiteRT vs TFLM", fmt_pct(ag["exact"])],
        ["max |Δ| LiteRT vs TFLM", fmt_lsb(ag["max_abs_diff_lsb"])],
        *([["LiteRT", ag["note"]]] if ag.get("note") else []),
        ["tensor arena, minimum (bytes)", fmt_int(ar["min"])],
        ["tensor arena, recommended (bytes)", fmt_int(ar["recommended"])],
        ["int8 .tflite (bytes)", fmt_int(mb["tflite_int8"])],
        ["float .tflite (bytes)", fmt_int(mb["tflite_float"])],
        ["test samples", fmt_int(m.get("test_samples"))],
    ]
    return Table(["host check", "value"], rows)


def seconds_table(m: dict) -> Table:
    rows = [[k, fmt_secs(v)] for k, v in m["stage_seconds"].items()]
    rows.append(["total", fmt_secs(m["total_seconds"])])
    return Table(["stage", "time"], rows)


def ops_table(check: dict | None) -> Table | None:
    if not check or not check.get("op_table"):
        return None
    rows = [[str(r.get("index")), str(r.get("op")), str(r.get("layer") or DASH)] for r in check["op_table"]]
    return Table(["#", "op", "Keras layer"], rows)


def host_blocks(m: dict, check: dict | None, figs: dict) -> list[Block]:
    """figs: plot name -> Figure (only those drawn)."""
    out: list[Block] = [Heading(2, "On the host"), headline_table(m)]
    if "accuracy" in figs:
        out.append(figs["accuracy"])
    if any(a.get(k) is not None for k in ("teacher", "alone", "distilled", "pruned")
           for a in [m["accuracy"]]):          # the pipeline made the model; a user's has no stages
        out += [Heading(3, "Model at each stage"), stage_table(m)]
    out += [Heading(3, "Host checks of the int8 model"), check_table(m)]
    ot = ops_table(check)
    if ot:
        out += [Heading(3, "Ops and the Keras layers they come from"), ot]
    out += [Heading(3, "Time per stage"), seconds_table(m)]
    if "seconds" in figs:
        out.append(figs["seconds"])
    out.append(Para("Accuracies are on the test split. int8 = the full-int8 .tflite run by the TFLM host "
                    "runtime, the reference for the device. Metric definitions: docs/METRICS.md.", "note"))
    return out
