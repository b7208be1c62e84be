"""Read `tinyml measure`'s results.json (schema in docs/RESULTS.md) for the report.

The report must never crash on a bad or foreign results file: it says what is
wrong instead and shows no device numbers from it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_JSON = "results.json"
SAMPLES_JSONL = "results.samples.jsonl"
SCHEMA = "tinyml-results"
SCHEMA_VERSION = 1
ENERGY_STATUSES = ("measured", "estimated", "not measured")

# Sections the report reads; each must be an object or null when present.
_OBJECT_KEYS = ("device", "model", "samples", "accuracy", "outputs", "bit_exact", "latency", "layers",
                "energy", "wall_seconds", "memory")


@dataclass
class Results:
    """state: "missing" (no file), "ok", or "error" (unreadable; `error` says why)."""
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    path: Path | None = None

    def section(self, key: str) -> dict[str, Any]:
        v = self.data.get(key)
        return v if isinstance(v, dict) else {}

    @property
    def kind(self) -> str:
        """"classes" or "values" (no accuracy for non-class outputs)."""
        k = self.section("outputs").get("kind")
        if k in ("classes", "values"):
            return k
        return "classes" if self.data.get("accuracy") else "values"

    @property
    def emulated(self) -> bool:
        return self.data.get("emulated") is True


def validate(data: Any) -> str | None:
    """Why `data` is not a results.json this report can read, or None."""
    if not isinstance(data, dict):
        return "top level is not a JSON object"
    if data.get("schema") != SCHEMA:
        return f"\"schema\" is {data.get('schema')!r}, expected {SCHEMA!r}"
    ver = data.get("schema_version")
    if ver != SCHEMA_VERSION or isinstance(ver, bool):
        return f"schema_version {ver!r}: this tinyml reads version {SCHEMA_VERSION}"
    for k in _OBJECT_KEYS:
        if data.get(k) is not None and not isinstance(data[k], dict):
            return f"\"{k}\" must be an object or null, got {type(data[k]).__name__}"
    status = (data.get("energy") or {}).get("status")
    if status is not None and status not in ENERGY_STATUSES:
        return f"energy.status {status!r} is not one of {', '.join(ENERGY_STATUSES)}"
    return None


def load_results(run_dir: str | Path) -> Results:
    p = Path(run_dir) / RESULTS_JSON
    if not p.is_file():
        return Results("missing")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return Results("error", error=f"not readable JSON ({e})", path=p)
    why = validate(data)
    if why:
        return Results("error", error=why, path=p)
    return Results("ok", data=data, path=p)
