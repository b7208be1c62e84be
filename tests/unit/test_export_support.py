"""Shared helpers for the export/codegen tests: a small real int8 model and a run folder.

Not a test module (no tests here); imported by test_export*.py / test_codegen*.py.
The model is a real tf-keras CNN converted to full-int8 by the product's
converter (tinyml.compress.quantize); golden outputs come from the TFLM host runtime, exactly as
`tinyml check` makes them.
"""
from __future__ import annotations

import atexit
import functools
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from tinyml.model import golden as golden_mod

LABELS = ["zero", "one", "two", "three"]
ARENA_MIN = 3000


@functools.lru_cache(maxsize=None)
def _model_dir(kind: str) -> Path:
    """Build the model once per test process; return a folder holding its files."""
    from tinyml.core import tfcompat
    keras = tfcompat.keras()
    tfcompat.seed_everything(0)
    rng = np.random.default_rng(0)
    if kind == "cnn":
        x = rng.random((64, 8, 8, 1), dtype=np.float32)
        model = keras.Sequential([
            keras.layers.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.DepthwiseConv2D(3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(len(LABELS)),
            keras.layers.Softmax(),
        ])
    elif kind == "mlp":
        x = rng.random((64, 12), dtype=np.float32)
        model = keras.Sequential([
            keras.layers.Input((12,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(len(LABELS)),
        ])
    else:
        raise ValueError(kind)

    from tinyml.compress.quantize import to_int8_tflite
    tflite = to_int8_tflite(model, x)

    out = Path(tempfile.mkdtemp(prefix=f"tinyml-test-{kind}-"))
    atexit.register(shutil.rmtree, out, True)
    (out / "model_int8.tflite").write_bytes(tflite)

    # Golden vectors from the TFLM host runtime (ground truth for the device).
    from tflite_micro.python.tflite_micro import runtime
    interp = runtime.Interpreter.from_bytes(tflite, arena_size=64 * 1024)
    ind = interp.get_input_details(0)
    outd = interp.get_output_details(0)
    in_scale, in_zp = ind["quantization_parameters"]["scales"][0], ind["quantization_parameters"]["zero_points"][0]
    o_scale, o_zp = outd["quantization_parameters"]["scales"][0], outd["quantization_parameters"]["zero_points"][0]
    n = 5
    q_in = np.clip(np.round(x[:n] / in_scale + in_zp), -128, 127).astype(np.int8)
    outs = []
    for i in range(n):
        interp.set_input(q_in[i:i + 1], 0)
        interp.invoke()
        outs.append(interp.get_output(0)[0].copy())
    g = golden_mod.Golden(inputs=q_in, outputs=np.stack(outs).astype(np.int8),
                          labels=np.arange(n, dtype=np.int64) % len(LABELS),
                          input_scale=float(in_scale), input_zero_point=int(in_zp),
                          output_scale=float(o_scale), output_zero_point=int(o_zp),
                          model_sha256=hashlib.sha256(tflite).hexdigest())
    golden_mod.save(out / "golden.npz", g)
    check = {
        "model_sha256": hashlib.sha256(tflite).hexdigest(),
        "arena": {"min_bytes": ARENA_MIN, "recommended_bytes": ARENA_MIN + ARENA_MIN // 10},
        "labels": LABELS,
    }
    (out / "check.json").write_text(json.dumps(check))
    return out


def make_run(dest: Path, kind: str = "cnn", name: str = "testrun") -> Path:
    """Copy the cached model files into a fresh run folder `dest/name`."""
    run = dest / name
    run.mkdir(parents=True)
    for f in ("model_int8.tflite", "golden.npz", "check.json"):
        shutil.copy(_model_dir(kind) / f, run / f)
    return run


def parse_c_array(text: str, name: str) -> bytes:
    """Read back the bytes of `name[] = { ... }` from generated C (an independent parser)."""
    import re
    m = re.search(r"\b" + re.escape(name) + r"(?:\s*\[[^\]]*\])+[^=;{]*=\s*\{(.*?)\};", text, re.S)
    assert m, f"array {name} not found"
    vals = [int(v, 0) for v in re.findall(r"-?0x[0-9a-fA-F]+|-?\d+", m.group(1))]
    return bytes(v & 0xFF for v in vals)
