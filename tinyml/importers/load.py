"""`load_user_model`: the one way in for a model a user brings, whatever its format.

A full-int8 .tflite is taken as it is. A float model (float .tflite, Keras
.keras / .h5, SavedModel folder, ONNX) becomes a float .tflite through its
format's module, then full int8 (per-channel weights, int8 input and output)
on calibration inputs, with a per-layer error triage on the same inputs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..core.errors import ModelError
from . import calibration as cal

INT8_TFLITE, FLOAT_TFLITE, KERAS, SAVED_MODEL, ONNX = (
    "int8 .tflite", "float .tflite", "Keras", "SavedModel", "ONNX")
TORCH_SUFFIXES = (".pt", ".pth", ".pt2", ".ptl")
TORCH_HINT = ("export it to ONNX first: torch.onnx.export(model.eval(), example_input, 'model.onnx'), "
              "then --model model.onnx")


@dataclass
class Imported:
    format: str
    int8: bytes
    float_tflite: bytes | None = None
    calibration: str | None = None
    calibration_random: bool = False
    calibration_samples: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    triage: dict | None = None

    def record(self) -> dict[str, Any]:
        return {"format": self.format, "calibration": self.calibration,
                "calibration_random": self.calibration_random,
                "calibration_samples": self.calibration_samples,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}, "triage": self.triage}


def detect(path: Path) -> str:
    """The model's format, from its name and (for .tflite) its tensors."""
    from .keras_file import SUFFIXES as KERAS_SUFFIXES
    from .onnx_file import SUFFIXES as ONNX_SUFFIXES
    from .savedmodel import is_saved_model
    if not path.exists():
        raise ModelError(f"{path}: file does not exist")
    if path.is_dir():
        if is_saved_model(path):
            return SAVED_MODEL
        raise ModelError(f"{path}: a folder, but not a SavedModel (no saved_model.pb in it)",
                         hint="give a .tflite, .keras, .h5 or .onnx file, or a SavedModel folder")
    suffix = path.suffix.lower()
    if suffix in KERAS_SUFFIXES:
        return KERAS
    if suffix in ONNX_SUFFIXES:
        return ONNX
    if suffix in TORCH_SUFFIXES:
        raise ModelError(f"{path}: a PyTorch file; tinyml reads PyTorch models through ONNX", hint=TORCH_HINT)
    from ..model.tflite_file import FLOAT_DTYPES, load_tflite
    m = load_tflite(path)     # names the file and the fault if it is not a .tflite either
    if m.is_full_int8():
        return INT8_TFLITE
    if all(m.tensors[i].dtype in FLOAT_DTYPES for i in (*m.inputs, *m.outputs)) and \
            not any(op.name in ("QUANTIZE", "DEQUANTIZE") for op in m.ops):
        return FLOAT_TFLITE
    from ..convert.check import OWN_MODEL_INT8_HINT     # partly quantized: say where, and what to do
    raise ModelError(f"{path} is neither full int8 nor float: {m.non_int8_reason()}",
                     hint=OWN_MODEL_INT8_HINT)


def load_user_model(path: Path, calibration: str | None, input_shape: list[int] | None, samples: int,
                    seed: int, dataset_for: Callable[[str | None, str | None], Any],
                    data_given: bool) -> Imported:
    path = Path(path)
    fmt = detect(path)
    if fmt == INT8_TFLITE:
        return Imported(fmt, path.read_bytes())
    from ..model.tflite_file import parse_tflite
    from .keras_file import to_float_tflite as from_keras
    from .onnx_file import to_float_tflite as from_onnx
    from .savedmodel import to_float_tflite as from_saved
    secs: dict[str, float] = {}
    t = time.perf_counter()
    if fmt == FLOAT_TFLITE:
        if input_shape is not None:
            raise ModelError(f"{path}: --input-shape cannot change a .tflite's input",
                             hint="export the .tflite again with a fixed input shape")
        float_bytes, src_shape = path.read_bytes(), None
    else:
        float_bytes, src_shape = {KERAS: from_keras, SAVED_MODEL: from_saved, ONNX: from_onnx}[fmt](
            path, input_shape)
    secs["to_float_tflite"] = time.perf_counter() - t
    fm = parse_tflite(float_bytes, path)
    if len(fm.inputs) != 1:
        raise ModelError(f"{path}: the model has {len(fm.inputs)} inputs; the device harness feeds one")
    model_shape = tuple(fm.input_tensor().shape[1:])
    t = time.perf_counter()
    c = cal.load_calibration(calibration, path, samples, seed, dataset_for, data_given,
                             src_shape or model_shape)
    x = cal.fit_layout(c.x, model_shape, src_shape, c.source)
    rep = [[x[i:i + 1]] for i in range(len(x))]
    secs["calibration"] = time.perf_counter() - t
    from ..compress import quantize as q
    from ..compress.triage import layer_errors
    t = time.perf_counter()
    int8 = q.quantize_float_tflite(float_bytes, rep)
    secs["quantize"] = time.perf_counter() - t
    reason = parse_tflite(int8, path).non_int8_reason()
    if reason:      # e.g. an SVDF: TFLite keeps its state in int16 (an LSTM's cell is allowed)
        raise ModelError(f"{path}: quantized, but not to full int8: {reason}",
                         hint="TFLite quantizes this op with int16 parts, which the AOT runtime runs only "
                              "for an LSTM's cell state; replace the layer (by 1-D convolutions, say), "
                              "or use --runtime tflm on a board build with internet")
    t = time.perf_counter()
    try:
        triage = layer_errors(float_bytes, int8, rep)
    except ModelError as e:      # the triage explains; it never blocks a deploy
        triage = {"error": e.message}
    secs["triage"] = time.perf_counter() - t
    return Imported(fmt, int8, float_bytes, c.source, c.random, len(x), secs, triage)
