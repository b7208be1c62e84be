"""The end-of-run summary on the terminal: one short aligned row per stage, with
units. Raw metrics stay in the run's manifest.json and metrics.json."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..report.fmt import DASH, fmt_int, fmt_pct, fmt_points, is_num


def _acc(m: dict, *keys: str) -> Any:
    for k in keys:
        if is_num(m.get(k)):
            return m[k]
    return None


def _row(name: str, m: dict, seen: dict[str, dict]) -> str:
    """What a user looks at for each stage."""
    if name == "teacher":
        return f"float accuracy {fmt_pct(_acc(m, 'accuracy'))}, {fmt_int(m.get('params'))} params"
    if name == "alone":
        return (f"student trained alone {fmt_pct(_acc(m, 'accuracy'))}, "
                f"{fmt_int(m.get('params'))} params, {fmt_int(m.get('macs'))} MACs")
    if name == "distill":
        gain = fmt_points(_acc(m, "accuracy"), _acc(seen.get("alone", {}), "accuracy"))
        return f"distilled {fmt_pct(_acc(m, 'accuracy'))} ({gain} over the student alone)"
    if name == "prune":
        sp = m.get("sparsity")
        cost = fmt_points(_acc(m, "accuracy"), _acc(seen.get("distill", {}), "accuracy"))
        how = "of the weights removed" if m.get("method") == "channels" else "of the weights zeroed"
        macs = f", {fmt_int(m['macs'])} MACs" if is_num(m.get("macs")) else ""
        return f"pruned {fmt_pct(_acc(m, 'accuracy'))}, {fmt_pct(sp, 0)} {how}{macs} ({cost} vs distilled)"
    if name == "quantize":
        return (f"int8 .tflite {fmt_int(_acc(m, 'int8_bytes', 'model_bytes'))} B, LiteRT accuracy "
                f"{fmt_pct(_acc(m, 'accuracy_int8_litert'))}")
    if name == "check":
        acc = _acc(m, "accuracy_int8_tflm")
        acc_s = (f"int8 on TFLM {fmt_pct(acc)}" if acc is not None
                 else "seeded random inputs (no labels: no accuracy)")
        row = f"{acc_s}, arena {fmt_int(m.get('arena_recommended_bytes'))} B, {_litert(m)}"
        if m.get("calibration"):
            row = f"{m.get('model_format')} -> int8 on {m['calibration']}; {row}"
            if m.get("calibration_random"):
                row += " -- WARNING: RANDOM calibration, int8 ranges are guesses"
        return row
    if name == "report":
        return "metrics.json, report.md, report.html"
    return DASH


def _litert(m: dict) -> str:
    """LiteRT as the second opinion it is: TFLM is what runs on the device."""
    if m.get("runtime_exact_agreement") is None:
        return "LiteRT cannot load it: checked on TFLM alone"
    out = (f"LiteRT = TFLM on {fmt_pct(m.get('runtime_exact_agreement'), 1)} of "
           f"{fmt_int(m.get('test_samples'))} samples")
    if m.get("runtime_exact_mismatches"):
        out += f" (max {fmt_int(m.get('runtime_max_abs_diff_lsb'))} LSB; the device runs TFLM's arithmetic)"
    return out


def _aot_gaps(ops) -> list[str]:
    from ..codegen.aot.optable import missing_lines
    from ..convert.ops import TFLM_BUILTIN_OPS
    return missing_lines(ops, TFLM_BUILTIN_OPS)


def pipeline_lines(results: Iterable[Any], run_dir: Path) -> list[str]:
    seen: dict[str, dict] = {}
    lines = []
    for r in results:
        seen[r.name] = r.metrics
        when = "cached" if r.skipped else f"{r.seconds:6.1f} s"
        lines.append(f"  {r.name:<9} {when:>8}  {_row(r.name, r.metrics, seen)}")
        if r.name == "check" and r.metrics.get("ops"):
            lines += [f"  {'':<9} {'':>8}  {line}" for line in _aot_gaps(r.metrics["ops"])]
    lines.append(f"  {'run':<9} {'':>8}  {run_dir}")
    report = run_dir / "report.html"
    if report.is_file():
        lines.append(f"  {'report':<9} {'':>8}  {report}  (open in a browser)")
    return lines
