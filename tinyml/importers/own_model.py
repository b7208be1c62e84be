"""A user's own int8 .tflite (`--model FILE` on check, export and deploy).

Without data of the user's, the host checks, the arena sizing, the golden
vectors and the device's bit-exactness run on seeded random inputs: every
int8 input value is equally likely, so each sample is exact after the
device's quantization. Accuracy needs labels, so it is reported only when the
user gives a dataset.

A run folder made by the pipeline holds that pipeline's model; a user's model
goes into a run folder of its own (default `model-<file stem>`) and is never
copied over another run's model.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ..core.errors import ConfigError
from ..core.stages import STAGES

RANDOM_SAMPLES = 50           # default count of random inputs (check.max_test_samples overrides)
# Stages that make a model (a run holding any of them holds the pipeline's model).
PIPELINE_STAGES = tuple(s for s in STAGES if s not in ("check", "report"))


def default_run_name(model_path: str | Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.+-]+", "-", Path(model_path).stem).strip("-") or "model"
    return f"model-{stem}"[:64]


def random_dataset(tflite_path: str | Path, count: int, seed: int):
    """A Dataset of `count` seeded random inputs for the model, with unknown (-1) labels."""
    from ..data.dataset import Dataset
    from ..model.tflite_file import load_tflite
    from ..convert.check import require_full_int8
    model = load_tflite(tflite_path)
    require_full_int8(model, own_model=True)      # the same message as the checks give
    t = model.input_tensor()
    per_sample = tuple(int(d) for d in t.shape[1:])
    rng = np.random.default_rng(seed)
    q = rng.integers(-128, 128, size=(count,) + per_sample, dtype=np.int64)
    # Dequantized exactly as the device will quantize it back: the round trip is the identity.
    scale, zp = np.float32(t.scale[0]), int(t.zero_point[0])
    x = ((q - zp).astype(np.float32) * scale).astype(np.float32)
    n_out = int(np.prod(model.output_tensor().shape[1:]))
    empty = np.zeros((0,) + per_sample, np.float32)
    none = np.zeros((0,), np.int64)
    return Dataset(name=f"random inputs (seed {seed})", x_train=empty, y_train=none, x_val=empty,
                   y_val=none, x_test=x, y_test=np.full(count, -1, np.int64),
                   labels=[str(i) for i in range(n_out)],
                   meta={"random_inputs": True, "seed": seed})


def guard_run(run_dir: Path, model_path: str | Path) -> None:
    """Refuse to put a user's model into a run folder that holds another model."""
    manifest = run_dir / "manifest.json"
    if not manifest.is_file():
        return
    try:
        stages = json.loads(manifest.read_text(encoding="utf-8")).get("stages", {})
    except (OSError, json.JSONDecodeError):
        stages = {}
    made = [s for s in PIPELINE_STAGES if s in stages]
    if made:
        raise ConfigError(f"run folder {run_dir} holds the model the pipeline made ({made[-1]} stage); "
                          f"{model_path} would replace it",
                          hint=f"pass another --run (default for --model: {default_run_name(model_path)})")
    prev = ((stages.get("check") or {}).get("metrics") or {}).get("model")
    if prev and Path(prev).name != Path(model_path).name:
        raise ConfigError(f"run folder {run_dir} holds another model ({Path(prev).name}); "
                          f"{model_path} would replace it",
                          hint=f"pass another --run (default for --model: {default_run_name(model_path)})")


def wants_data(dataset: str | None, data_path: str | None, config_path: str | None) -> bool:
    """Did the user name data for their model (flag or a [data] section in the config)?"""
    if dataset or data_path:
        return True
    if config_path:
        import tomllib
        try:
            with open(config_path, "rb") as f:
                return "data" in tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError):
            return False       # config.load reports the file's problem with its own message
    return False
