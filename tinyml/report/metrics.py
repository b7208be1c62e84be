"""metrics.json: one flat-ish summary of a run, built from its manifest.

Each value is looked up in the stage metrics the pipeline recorded, under the
stage names of tinyml.core.stages and the metric keys the stages write (both listed
in docs/METRICS.md). Anything not recorded is null, never guessed; model sizes
fall back to the size of the file in the run folder, which is a measurement too.
No TensorFlow here.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from ..core.stages import STAGES
from . import device
from .results import load_results

METRICS_JSON = "metrics.json"
FORMAT_VERSION = 1

# Column order of the report: teacher | alone | distilled | pruned | int8
STAGE_COLUMNS = ("teacher", "alone", "distilled", "pruned", "int8")



def _stages(manifest: dict) -> dict[str, dict]:
    return manifest.get("stages") or {}


def stage_metrics(manifest: dict, stage: str) -> dict[str, Any]:
    """The metrics stage `stage` (a name in tinyml.core.stages.STAGES) recorded, or {}."""
    assert stage in STAGES, stage
    rec = _stages(manifest).get(stage)
    return (rec.get("metrics") or {}) if rec is not None else {}


def _first(d: dict, keys: tuple[str, ...]) -> Any:
    for k in keys:
        v = d.get(k)
        if v is not None:
            return v
    return None


def _pick(*sources: tuple[dict, tuple[str, ...]]) -> Any:
    """First non-null value over (metrics dict, keys) pairs, in order (0 counts)."""
    for d, keys in sources:
        v = _first(d, keys)
        if v is not None:
            return v
    return None


def _num(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return None if v is None else v
    if isinstance(v, (int, float)):
        return v
    return None


def _ordered(stages: dict[str, dict]) -> list[tuple[str, dict]]:
    rank = {n: i for i, n in enumerate(STAGES)}   # the manifest stores stages sorted by name
    return sorted(stages.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def _file_size(run_dir: Path, name: str) -> int | None:
    p = run_dir / name
    return p.stat().st_size if p.is_file() else None


def run_model_sha256(run_dir: Path, check: dict) -> str | None:
    """The run's int8 model hash: of the file itself, else as the check recorded it."""
    p = run_dir / "model_int8.tflite"
    if p.is_file():
        return hashlib.sha256(p.read_bytes()).hexdigest()
    return check.get("model_sha256")


def dataset_of(run_dir: Path) -> dict[str, Any]:
    """The run's dataset (from its config.toml) and, where the registry has one, what
    it is: synthetic data is labelled as such wherever its numbers are shown."""
    from ..data.registry import describe
    try:
        name = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))["data"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return {"name": None, "note": None}
    return {"name": name, "note": describe(name)}


def build_metrics(run_dir: str | Path, manifest: dict | None = None) -> dict[str, Any]:
    """Summarize a run folder (its manifest.json) into the metrics.json dict."""
    run_dir = Path(run_dir)
    if manifest is None:
        p = run_dir / "manifest.json"
        manifest = json.loads(p.read_text()) if p.is_file() else {"stages": {}}
    teacher = stage_metrics(manifest, "teacher")
    alone = stage_metrics(manifest, "alone")
    distilled = stage_metrics(manifest, "distill")
    pruned = stage_metrics(manifest, "prune")
    quant = stage_metrics(manifest, "quantize")
    check = stage_metrics(manifest, "check")

    acc = {
        "teacher": _num(teacher.get("accuracy")),
        "alone": _num(alone.get("accuracy")),
        "distilled": _num(distilled.get("accuracy")),
        "pruned": _num(pruned.get("accuracy")),
        "float": _num(_pick((check, ("accuracy_float",)), (quant, ("accuracy_float",)))),
        "int8_tflm": _num(check.get("accuracy_int8_tflm")),
        "int8_litert": _num(_pick((check, ("accuracy_int8_litert",)), (quant, ("accuracy_int8_litert",)))),
    }
    student = next((d for d in (pruned, distilled, alone) if d.get("params") is not None), {})
    metrics: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "run": manifest.get("run") or run_dir.name,
        "dataset": dataset_of(run_dir),
        "accuracy": acc,
        "model_bytes": {
            "tflite_int8": _num(_pick((check, ("model_bytes",)), (quant, ("int8_bytes",)))
                                or _file_size(run_dir, "model_int8.tflite")),
            "tflite_float": _num(quant.get("float_bytes") or _file_size(run_dir, "model_float.tflite")),
        },
        "arena_bytes": {
            "min": _num(check.get("arena_min_bytes")),
            "recommended": _num(check.get("arena_recommended_bytes")),
        },
        "params": {
            "teacher": _num(teacher.get("params")),
            "student": _num(student.get("params")),
        },
        "macs": {
            "teacher": _num(teacher.get("macs")),
            "student": _num(student.get("macs")),
        },
        "sparsity": _num(pruned.get("sparsity")),
        "runtime_agreement": {
            "top1": _num(check.get("runtime_top1_agreement")),
            "exact": _num(check.get("runtime_exact_agreement")),
            "max_abs_diff_lsb": _num(check.get("runtime_max_abs_diff_lsb")),
            "note": check.get("runtime_note"),
        },
        "test_samples": _num(check.get("test_samples")),
        "stage_seconds": {name: rec.get("seconds") for name, rec in _ordered(_stages(manifest))
                          if isinstance(rec.get("seconds"), (int, float))},
        "versions": manifest.get("versions") or {},
    }
    metrics["distillation_gain"] = (round(acc["distilled"] - acc["alone"], 6)
                                    if acc["distilled"] is not None and acc["alone"] is not None else None)
    metrics["model_sha256"] = run_model_sha256(run_dir, check)
    metrics["device"] = device.summary(load_results(run_dir), metrics["model_sha256"])
    secs = metrics["stage_seconds"]
    metrics["total_seconds"] = round(sum(secs.values()), 3) if secs else None
    # Per-column view for the side-by-side table (params/MACs per stage if the stages gave them).
    metrics["columns"] = {
        "teacher": {"accuracy": acc["teacher"], "params": _num(teacher.get("params")),
                    "macs": _num(teacher.get("macs")), "bytes": None, "sparsity": None},
        "alone": {"accuracy": acc["alone"], "params": _num(alone.get("params")),
                  "macs": _num(alone.get("macs")), "bytes": None, "sparsity": None},
        "distilled": {"accuracy": acc["distilled"], "params": _num(distilled.get("params")),
                      "macs": _num(distilled.get("macs")), "bytes": None, "sparsity": None},
        "pruned": {"accuracy": acc["pruned"], "params": _num(pruned.get("params")),
                   "macs": _num(pruned.get("macs")), "bytes": None, "sparsity": metrics["sparsity"]},
        "int8": {"accuracy": acc["int8_tflm"], "params": _num(student.get("params")),
                 "macs": _num(student.get("macs")),
                 "bytes": metrics["model_bytes"]["tflite_int8"], "sparsity": metrics["sparsity"]},
    }
    return metrics
