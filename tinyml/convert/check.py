"""`run_check`: every host check of an int8 .tflite, then check.json + golden.npz.

Order: file validation -> full-int8 -> ops (static + real TFLM run) -> arena
bisection -> accuracy/parity on the test split -> golden vectors. Everything
is computed before anything is written, and the two files are moved into
out_dir together, so a failing check leaves out_dir untouched.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..core import atomic
from ..model import golden
from ..core.errors import CheckError, ConfigError, ModelError
from ..model.tflite_file import TfliteModel, load_tflite
from . import arena as arena_mod
from . import hostcheck, ops

CHECK_JSON = "check.json"
GOLDEN_NPZ = "golden.npz"
TESTSET_NPZ = "testset.npz"    # every checked test sample: what `tinyml measure` sends
CHECK_FORMAT_VERSION = 1


OWN_MODEL_INT8_HINT = ("give the float model it came from (.tflite, .keras, .h5, SavedModel or .onnx) with "
                       "--calibration, and tinyml quantizes it to full int8")


def require_full_int8(model: TfliteModel, own_model: bool = False) -> None:
    reason = model.non_int8_reason()
    if reason:
        raise ModelError(f"{model.path} is not a full-int8 model: {reason}",
                         hint=OWN_MODEL_INT8_HINT if own_model else
                         "run `tinyml quantize` (full-integer quantization with int8 input and output)")


def make_golden(model: TfliteModel, hc: hostcheck.HostCheck, count: int) -> golden.Golden:
    """The first `count` test samples (in test-split order) with TFLM's exact outputs."""
    k = min(int(count), len(hc.q_inputs))
    it, ot = model.input_tensor(), model.output_tensor()
    return golden.Golden(inputs=hc.q_inputs[:k].copy(), outputs=hc.tflm_outputs[:k].copy(),
                         labels=hc.labels[:k].astype(np.int64),
                         input_scale=float(it.scale[0]), input_zero_point=int(it.zero_point[0]),
                         output_scale=float(ot.scale[0]) if ot.quantized else 1.0,
                         output_zero_point=int(ot.zero_point[0]) if ot.quantized else 0,
                         model_sha256=model.sha256)


def _tensor_info(t) -> dict:
    return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype,
            "scale": float(t.scale[0]) if t.quantized else None,
            "zero_point": int(t.zero_point[0]) if t.quantized else None}


def run_check(tflite_path, dataset, check_cfg, out_dir, float_tflite_path=None, progress=True,
              own_model: bool = False) -> dict:
    """Run the host checks of an int8 .tflite on `dataset`'s test split.

    Writes check.json, golden.npz and testset.npz (every checked sample, golden
    format) into out_dir and returns the metrics dict.
    `float_tflite_path` may be a float .tflite or a Keras file (.keras/.h5);
    it only feeds `accuracy_float`. Raises ModelError / UnsupportedOpError for
    a bad model, CheckError if LiteRT and TFLM top-1 agreement is below
    check_cfg.min_runtime_agreement, for the pipeline's own models only: a model
    the user brings (`own_model`) runs TFLM's kernels on the device, so LiteRT is
    a second opinion whose differences are reported, never a refusal.
    """
    t0 = time.perf_counter()
    tflite_path = Path(tflite_path)
    limit = getattr(check_cfg, "max_test_samples", None)
    if limit is not None and limit < 1:
        raise ConfigError(f"[check] max_test_samples = {limit} must be at least 1 (or left out for all)")
    model = load_tflite(tflite_path)
    require_full_int8(model, own_model)
    seconds: dict[str, float] = {}

    t = time.perf_counter()
    op_info = ops.check_ops(model, tflite_path)
    seconds["ops"] = time.perf_counter() - t

    t = time.perf_counter()
    ar = arena_mod.find_min_arena(tflite_path, margin=check_cfg.arena_margin,
                                  reference_sha256=op_info["outputs_sha256"])
    seconds["arena"] = time.perf_counter() - t

    # The recommended arena runs the whole test split, which also proves it.
    t = time.perf_counter()
    x_test, y_test = dataset.x_test[:limit], dataset.y_test[:limit]   # [:None] = all
    hc = hostcheck.host_check(model, x_test, y_test, ar.recommended_bytes,
                              float_model_path=float_tflite_path, progress=progress,
                              litert_required=not own_model)
    seconds["host_check"] = time.perf_counter() - t

    m = hc.metrics
    metrics = {
        "model_bytes": model.size,
        "model_sha256": model.sha256,
        "ops": op_info["ops"],
        "op_count": len(model.ops),
        **ar.as_dict(),
        **m,
        "golden_count": min(int(check_cfg.golden_count), m["test_samples"]),
    }
    enforced = not own_model
    if enforced and m["runtime_top1_agreement"] < check_cfg.min_runtime_agreement:
        first = hc.disagreements["top1"][:10]
        raise CheckError(
            f"{tflite_path}: LiteRT and the TFLM host runtime agree on the top-1 class for only "
            f"{m['runtime_top1_agreement']:.2%} of {m['test_samples']} test samples "
            f"(minimum {check_cfg.min_runtime_agreement:.2%}); first disagreeing samples: {first}",
            hint="a kernel differs between the runtimes; look at the ops listed in the op table, "
                 "or lower [check] min_runtime_agreement if this is expected")

    gold = make_golden(model, hc, check_cfg.golden_count)
    report = {
        "format_version": CHECK_FORMAT_VERSION,
        "model": {"file": tflite_path.name, "bytes": model.size, "sha256": model.sha256,
                  "input": _tensor_info(model.input_tensor()),
                  "output": _tensor_info(model.output_tensor())},
        "float_model": Path(float_tflite_path).name if float_tflite_path else None,
        "dataset": getattr(dataset, "name", None),
        "ops": op_info["ops"],
        "op_table": op_info["op_table"],
        "arena": {"min_bytes": ar.min_bytes, "recommended_bytes": ar.recommended_bytes,
                  "margin": ar.margin, "probes": ar.probes,
                  "measured_with": "tflite-micro host runtime (64-bit, recording allocator)"},
        "accuracy": {"float": m["accuracy_float"], "int8_tflm": m["accuracy_int8_tflm"],
                     "int8_litert": m["accuracy_int8_litert"]},
        "runtime_agreement": {
            "reference": "tflm", "other": "litert",
            # pipeline models: top-1 agreement below [check] min_runtime_agreement is refused;
            # a user's model: reported only (the device runs TFLM's kernels)
            "policy": "enforced" if enforced else "reported",
            "litert_loaded": hc.litert_outputs is not None, "note": m["runtime_note"],
            "top1": m["runtime_top1_agreement"], "exact": m["runtime_exact_agreement"],
            "max_abs_diff_lsb": m["runtime_max_abs_diff_lsb"],
            "samples_differing": m["runtime_exact_mismatches"],
            "differing_outputs": m["runtime_differing_outputs"],
            "top1_disagreements": hc.disagreements["top1"],
            "exact_disagreements": hc.disagreements["bytes"],
        },
        "test_samples": m["test_samples"],
        "golden": {"file": GOLDEN_NPZ, "count": len(gold)},
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "metrics": metrics,
    }
    metrics["check_seconds"] = round(time.perf_counter() - t0, 3)
    with atomic.staging_dir(out_dir, "check") as tmp:
        golden.save(tmp / GOLDEN_NPZ, gold)
        golden.save(tmp / TESTSET_NPZ, make_golden(model, hc, len(hc.q_inputs)))
        atomic.write_json(tmp / CHECK_JSON, report)
    return metrics
