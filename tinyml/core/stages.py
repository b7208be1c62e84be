"""The ML pipeline's stages, in run order: the one list `pipeline` runs and
`report` reads (metrics.json, stage times). A stage records its metrics in the
run's manifest under exactly this name."""
from __future__ import annotations

STAGES: tuple[str, ...] = ("teacher", "alone", "distill", "prune", "quantize", "check", "report")
