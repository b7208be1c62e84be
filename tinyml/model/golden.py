"""Golden vectors: quantized inputs with the exact int8 outputs of the TFLM host
runtime. Written by `check`, replayed by the device (codegen emits them as C).

File format (`golden.npz`, numpy's zip of .npy arrays, no pickle):
  inputs        int8  [N, *input_shape]   quantized model inputs
  outputs       int8  [N, *output_shape]  TFLM host runtime outputs, bit-exact target
  labels        int64 [N]                 true class of each sample (-1 if unknown)
  input_scale, input_zero_point, output_scale, output_zero_point   0-d arrays
  model_sha256  0-d unicode array         hash of the .tflite they belong to
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core import atomic
from ..core.errors import ModelError

FORMAT_VERSION = 1

# Bytes of golden vectors compiled into the firmware's self-test (tm_golden.c). A
# large-input model keeps fewer vectors so they do not double its flash (VWW's ten
# 96x96x3 inputs alone are 276 KB); every firmware keeps at least one.
FIRMWARE_BUDGET_BYTES = 32 * 1024


@dataclass
class Golden:
    inputs: np.ndarray
    outputs: np.ndarray
    labels: np.ndarray
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    model_sha256: str

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


def save(path: str | Path, g: Golden) -> Path:
    if g.inputs.dtype != np.int8 or g.outputs.dtype != np.int8:
        raise ValueError("golden inputs and outputs must be int8")
    if len(g.inputs) != len(g.outputs) or len(g.inputs) != len(g.labels):
        raise ValueError("golden inputs, outputs and labels differ in count")
    with atomic.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, format_version=np.array(FORMAT_VERSION),
                     inputs=g.inputs, outputs=g.outputs, labels=g.labels.astype(np.int64),
                     input_scale=np.array(g.input_scale, np.float64),
                     input_zero_point=np.array(g.input_zero_point, np.int64),
                     output_scale=np.array(g.output_scale, np.float64),
                     output_zero_point=np.array(g.output_zero_point, np.int64),
                     model_sha256=np.array(g.model_sha256))
    return Path(path)


def load(path: str | Path) -> Golden:
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
        version = int(z["format_version"])
        if version != FORMAT_VERSION:
            raise ModelError(f"{path}: golden format version {version}, this tool reads {FORMAT_VERSION}",
                             hint="re-run `tinyml check` to regenerate it")
        return Golden(inputs=z["inputs"], outputs=z["outputs"], labels=z["labels"],
                      input_scale=float(z["input_scale"]), input_zero_point=int(z["input_zero_point"]),
                      output_scale=float(z["output_scale"]), output_zero_point=int(z["output_zero_point"]),
                      model_sha256=str(z["model_sha256"]))
    except (OSError, KeyError, ValueError) as e:
        raise ModelError(f"{path}: not a readable golden-vector file ({e})",
                         hint="re-run `tinyml check` to regenerate it") from None


def firmware_bytes(count: int, input_bytes: int, output_bytes: int) -> int:
    """Flash of `count` vectors in tm_golden.c: input, output and an int16 label each."""
    return count * (input_bytes + output_bytes + 2)


def firmware_count(count: int, input_bytes: int, output_bytes: int,
                   budget: int = FIRMWARE_BUDGET_BYTES) -> int:
    """How many of `count` vectors the firmware keeps within `budget` bytes (>= 1)."""
    if count < 1:
        return 0
    return max(1, min(count, budget // firmware_bytes(1, input_bytes, output_bytes)))


def firmware_subset(g: Golden, budget: int = FIRMWARE_BUDGET_BYTES) -> Golden:
    """The first firmware_count() vectors of `g`: what `tinyml export` compiles in."""
    n = firmware_count(len(g), int(np.prod(g.inputs.shape[1:])), int(np.prod(g.outputs.shape[1:])),
                       budget)
    if n == len(g):
        return g
    return Golden(inputs=g.inputs[:n], outputs=g.outputs[:n], labels=g.labels[:n],
                  input_scale=g.input_scale, input_zero_point=g.input_zero_point,
                  output_scale=g.output_scale, output_zero_point=g.output_zero_point,
                  model_sha256=g.model_sha256)
