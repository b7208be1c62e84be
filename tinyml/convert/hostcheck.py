"""Run the int8 model on the test split with LiteRT and with the TFLM host
runtime (the reference for the device), and compare them sample by sample.

Inputs are quantized exactly as TFLite's QUANTIZE kernel (and so the device)
does it: q = clamp(round_half_away_from_zero(float32(x) / float32(scale)) + zp,
-128, 127), the division done in float32.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import CheckError, DataError, ModelError, first_line
from ..model.tflite_file import TfliteModel, load_tflite


def quantize_input(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    """Float -> int8 the way TFLite's AffineQuantize does (std::round, float32 divide)."""
    v = np.asarray(x, np.float32) / np.float32(scale)        # float32, as the kernel
    v = v.astype(np.float64)                                  # exact; avoids x.5 + 0.5 rounding slips
    r = np.sign(v) * np.floor(np.abs(v) + 0.5)                # round half away from zero
    info = np.iinfo(dtype)
    return np.clip(r + int(zero_point), info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)


@dataclass
class HostCheck:
    q_inputs: np.ndarray           # int8 [N, *per-sample input shape]
    tflm_outputs: np.ndarray       # int8 [N, *per-sample output shape]
    litert_outputs: np.ndarray | None     # None: LiteRT could not load the model
    labels: np.ndarray
    metrics: dict = field(default_factory=dict)
    disagreements: dict = field(default_factory=dict)   # {"top1": [...], "bytes": [...]}


def _progress(it, progress: bool, desc: str, total: int):
    """A bar on a terminal, a line every few seconds in a log, nothing when off."""
    if not progress:
        return it
    from ..core.progress import Progress

    def counted():
        with Progress(desc, total=total, unit="sample") as p:
            for x in it:
                yield x
                p.update(1)
    return counted()


def prepare_inputs(model: TfliteModel, x: np.ndarray) -> np.ndarray:
    """Reshape float samples to the model's per-sample input shape and quantize them."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelError(f"{model.path}: has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                         "the host check handles single-input, single-output classifiers",
                         hint="export a model with one input and one output")
    t = model.input_tensor()
    per_sample = t.shape[1:] if len(t.shape) > 1 else t.shape
    if len(t.shape) < 1 or t.shape[0] != 1:
        raise ModelError(f"{model.path}: input '{t.name}' has shape {list(t.shape)}; expected batch size 1",
                         hint="convert with a fixed batch of 1 (the converter does this for Keras models)")
    x = np.asarray(x, np.float32)
    n = int(np.prod(per_sample))
    if x.ndim < 1 or int(np.prod(x.shape[1:])) != n:
        raise ModelError(f"{model.path}: input '{t.name}' takes {list(per_sample)} per sample but the "
                         f"test data has {list(x.shape[1:])}",
                         hint="the model was trained for another dataset; re-run the pipeline for this one")
    if not t.quantized:
        raise ModelError(f"{model.path}: input '{t.name}' has no quantization parameters")
    return quantize_input(x.reshape((len(x),) + tuple(per_sample)), float(t.scale[0]), int(t.zero_point[0]))


def run_tflm(model: TfliteModel, q_inputs: np.ndarray, arena_size: int, progress: bool = False) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(model.data, arena_size=int(arena_size))
    out_shape = model.output_tensor().shape
    outs = np.empty((len(q_inputs),) + tuple(out_shape[1:]), np.int8)
    for i in _progress(range(len(q_inputs)), progress, "TFLM host", len(q_inputs)):
        it.reset()      # variable tensors (LSTM state): every sample starts from zero
        it.set_input(q_inputs[i:i + 1], 0)
        it.invoke()
        outs[i] = it.get_output(0).reshape(outs.shape[1:])
    return outs


def _litert(model_bytes: bytes):
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_content=model_bytes, num_threads=1)
    interp.allocate_tensors()
    return interp


def run_litert(model: TfliteModel, q_inputs: np.ndarray, progress: bool = False) -> np.ndarray:
    interp = _litert(model.data)
    i_idx = interp.get_input_details()[0]["index"]
    o_idx = interp.get_output_details()[0]["index"]
    outs = np.empty((len(q_inputs),) + tuple(model.output_tensor().shape[1:]), np.int8)
    for i in _progress(range(len(q_inputs)), progress, "LiteRT", len(q_inputs)):
        interp.reset_all_variables()
        interp.set_tensor(i_idx, q_inputs[i:i + 1])
        interp.invoke()
        outs[i] = interp.get_tensor(o_idx).reshape(outs.shape[1:])
    return outs


def top1(outputs: np.ndarray) -> np.ndarray:
    """Class index per sample (argmax of the raw output; dequantizing keeps the order)."""
    return np.argmax(outputs.reshape(len(outputs), -1), axis=1)


def float_top1(path: str | Path, x: np.ndarray, progress: bool = False) -> np.ndarray:
    """Top-1 of a float reference model: a .tflite (run with LiteRT) or a Keras file."""
    path = Path(path)
    if path.suffix.lower() in (".keras", ".h5", ".hdf5"):
        if not path.is_file():
            raise ModelError(f"{path}: float Keras model does not exist")
        from ..core.tfcompat import keras
        try:
            km = keras().models.load_model(path, compile=False)
        except Exception as e:
            raise ModelError(f"{path}: cannot load the float Keras model ({type(e).__name__}: {e})") from None
        x = np.asarray(x, np.float32).reshape((len(x),) + tuple(km.input_shape[1:]))
        return np.argmax(km.predict(x, verbose=0, batch_size=256).reshape(len(x), -1), axis=1)
    fm = load_tflite(path)
    interp = _litert(fm.data)
    idet, odet = interp.get_input_details()[0], interp.get_output_details()[0]
    shape = tuple(idet["shape"][1:])
    x = np.asarray(x, np.float32)
    if int(np.prod(x.shape[1:])) != int(np.prod(shape)):
        raise ModelError(f"{path}: float model takes {list(shape)} per sample but the test data has "
                         f"{list(x.shape[1:])}")
    x = x.reshape((len(x),) + shape)
    preds = np.empty(len(x), np.int64)
    for i in _progress(range(len(x)), progress, "float", len(x)):
        xi = x[i:i + 1]
        if np.dtype(idet["dtype"]) != np.float32:
            s, z = idet["quantization"]
            xi = quantize_input(xi, s, z, idet["dtype"])
        interp.reset_all_variables()
        interp.set_tensor(idet["index"], xi)
        interp.invoke()
        preds[i] = int(np.argmax(interp.get_tensor(odet["index"]).ravel()))
    return preds


def runtime_agreement(tflm: np.ndarray, litert: np.ndarray | None,
                      most: int = 10) -> tuple[dict, dict[str, list[int]]]:
    """LiteRT against TFLM (the reference): samples that differ, the largest |difference| in
    LSBs, and the output elements that differ most often (all None without LiteRT outputs);
    and the samples whose top-1 / bytes differ, {"top1": [...], "bytes": [...]}."""
    keys = ("runtime_top1_agreement", "runtime_exact_agreement", "runtime_max_abs_diff_lsb",
            "runtime_top1_mismatches", "runtime_exact_mismatches")
    if litert is None:
        return {**{k: None for k in keys}, "runtime_differing_outputs": None}, {"top1": [], "bytes": []}
    n = len(tflm)
    diff = np.abs(tflm.astype(np.int32) - litert.astype(np.int32)).reshape(n, -1)
    per_sample = diff.max(axis=1) if diff.size else np.zeros(n, np.int32)
    top1_bad = np.flatnonzero(top1(tflm) != top1(litert))
    exact_bad = np.flatnonzero(per_sample > 0)
    counts = np.count_nonzero(diff > 0, axis=0)
    order = [int(i) for i in np.argsort(-counts, kind="stable")[:most] if counts[i] > 0]
    return ({"runtime_top1_agreement": float(1.0 - len(top1_bad) / n),
             "runtime_exact_agreement": float(1.0 - len(exact_bad) / n),
             "runtime_max_abs_diff_lsb": int(per_sample.max()) if n else 0,
             "runtime_top1_mismatches": int(len(top1_bad)), "runtime_exact_mismatches": int(len(exact_bad)),
             # output element (flat index) -> samples where LiteRT differs there, and by how much
             "runtime_differing_outputs": [{"index": i, "samples": int(counts[i]),
                                            "max_abs_diff_lsb": int(diff[:, i].max())} for i in order]},
            {"top1": top1_bad.tolist(), "bytes": exact_bad.tolist()})


def host_check(model: TfliteModel, x_test: np.ndarray, y_test: np.ndarray, arena_size: int,
               float_model_path: str | Path | None = None, progress: bool = False,
               litert_required: bool = True) -> HostCheck:
    """Accuracies (float, int8 TFLM, int8 LiteRT) and LiteRT-vs-TFLM agreement.

    Without `litert_required` (a user's model) a model LiteRT cannot load is checked on
    TFLM alone, with a note in the metrics."""
    y = np.asarray(y_test).astype(np.int64).ravel()
    if len(x_test) == 0:
        raise DataError("the test split is empty; the host check needs test samples",
                        hint="lower [data] test_split's complement or add data")
    if len(x_test) != len(y):
        raise DataError(f"test split has {len(x_test)} samples but {len(y)} labels")
    q = prepare_inputs(model, x_test)
    n_out = int(np.prod(model.output_tensor().shape[1:]))
    if y.max() >= n_out:
        raise ModelError(f"{model.path}: output '{model.output_tensor().name}' has {n_out} classes but the "
                         f"test labels go up to {int(y.max())}",
                         hint="the model was trained for another dataset; re-run the pipeline for this one")
    try:
        t_out = run_tflm(model, q, arena_size, progress)
    except (RuntimeError, ValueError) as e:
        raise CheckError(f"{model.path}: the TFLM host runtime failed on the test split with a "
                         f"{arena_size}-byte arena ({e})",
                         hint="the model passed the single-run check; report this with the model file") from None
    note = None
    try:
        l_out = run_litert(model, q, progress)
    except (RuntimeError, ValueError) as e:
        if litert_required:
            raise ModelError(f"{model.path}: LiteRT cannot run the model ({e})",
                             hint="re-convert the model with the TFLite converter of tensorflow "
                                  "(supported_ops=[TFLITE_BUILTINS_INT8])") from None
        # The device runs TFLM's kernels, never LiteRT's: a second opinion, not a gate.
        note = f"LiteRT cannot load this model ({first_line(e)}); checked on TFLM alone"
        l_out = None
    labelled = bool((y >= 0).all())      # -1: unknown (random inputs for a user's own model)
    agreement, disagreements = runtime_agreement(t_out, l_out)
    metrics = {
        "test_samples": len(q),
        "accuracy_int8_tflm": float(np.mean(top1(t_out) == y)) if labelled else None,
        "accuracy_int8_litert": float(np.mean(top1(l_out) == y)) if labelled and l_out is not None else None,
        "accuracy_float": None,
        **agreement,
        "runtime_note": note,
    }
    if float_model_path is not None and labelled:
        metrics["accuracy_float"] = float(np.mean(float_top1(float_model_path, x_test, progress) == y))
    return HostCheck(q, t_out, l_out, y, metrics, disagreements)
