"""Calibration inputs for quantizing a float model a user brought.

`--calibration` takes a `.npy` / `.npz` of float inputs (N x the model's input
shape), a registered dataset name or a data folder / CSV file (its training
split), or the word `random`. There is no silent fallback: a float model
without calibration data is refused, and random data is used only when asked
for, and then said loudly.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..core.errors import DataError, first_line

RANDOM = "random"
HOW = ("--calibration inputs.npy (float, N x the model's input shape), a dataset name "
       "(--calibration digits), a data folder, or --calibration random (ranges are then guesses)")


@dataclass
class Calibration:
    x: np.ndarray            # float32 [N, *per-sample shape] in the layout given
    source: str              # what it was, for the summary and the manifest
    random: bool = False


def _from_array_file(path: Path) -> np.ndarray:
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                if not keys:
                    raise DataError(f"{path}: the .npz holds no arrays", hint=HOW)
                key = "x" if "x" in keys else keys[0]
                if len(keys) > 1 and key != "x":
                    raise DataError(f"{path}: the .npz holds {len(keys)} arrays ({', '.join(keys[:5])}) "
                                    "and none is named 'x'", hint="save the inputs as x=... (np.savez)")
                return z[key]
        return np.load(path, allow_pickle=False)
    except DataError:
        raise
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable NumPy array file ({first_line(e, 160)})",
                        hint=HOW) from None


def _check(x: np.ndarray, where: str) -> np.ndarray:
    if x.dtype.kind != "f":
        raise DataError(f"{where}: calibration inputs are {x.dtype}, not float",
                        hint="give the float inputs the model sees before quantization "
                             "(after any normalisation), e.g. x.astype(np.float32)")
    if x.ndim < 2 or len(x) == 0:
        raise DataError(f"{where}: calibration array has shape {list(x.shape)}; expected N samples "
                        "x the model's input shape", hint=HOW)
    if not np.isfinite(x).all():
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise DataError(f"{where}: calibration inputs hold {bad} NaN or infinite values",
                        hint="clean the array; quantization ranges cannot be measured on them")
    return np.asarray(x, np.float32)


def load_calibration(spec: str | None, model_path: Path, n: int, seed: int,
                     dataset_for: Callable[[str | None, str | None], Any],
                     data_given: bool, sample_shape: tuple[int, ...]) -> Calibration:
    """Calibration inputs by `spec`; None uses the data the user named (--dataset), if any.
    `dataset_for(name, path)` loads a dataset the project reads (name None: guess from path)."""
    from ..compress.quantize import representative_samples
    if spec is None:
        if not data_given:
            raise DataError(f"{model_path} is a float model; quantizing it to int8 needs "
                            "calibration inputs", hint=HOW)
        ds = dataset_for(None, None)
        return Calibration(representative_samples(ds.x_train, n, seed), f"{ds.name} training split")
    if spec == RANDOM:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n,) + tuple(sample_shape)).astype(np.float32)
        return Calibration(x, f"RANDOM normal inputs (seed {seed}): int8 ranges are guesses", True)
    p = Path(spec)
    if p.suffix.lower() in (".npy", ".npz"):
        if not p.is_file():
            raise DataError(f"calibration file {p} does not exist", hint=HOW)
        x = _check(_from_array_file(p), str(p))
        return Calibration(representative_samples(x, n, seed), f"{p.name} ({len(x)} samples)")
    if p.exists():
        ds = dataset_for(None, str(p))
    else:
        from ..data.registry import available
        if spec not in available():
            raise DataError(f"--calibration {spec}: not a file, a folder or a dataset name",
                            hint=f"datasets: {', '.join(available())}; or {HOW}")
        ds = dataset_for(spec, None)
    return Calibration(representative_samples(ds.x_train, n, seed), f"{ds.name} training split")


def fit_layout(x: np.ndarray, model_shape: tuple[int, ...], source_shape: tuple[int, ...] | None,
               where: str) -> np.ndarray:
    """Calibration samples in the converted model's layout. A channels-first source (ONNX,
    PyTorch) takes arrays in its own NCHW layout too; they are moved to NHWC here."""
    if tuple(x.shape[1:]) == tuple(model_shape):
        return x
    if source_shape is not None and tuple(x.shape[1:]) == tuple(source_shape) and x.ndim >= 3:
        return np.moveaxis(x, 1, -1)
    if int(np.prod(x.shape[1:])) == int(np.prod(model_shape)):      # e.g. 8x8x1 images into a 64-wide net
        return x.reshape((len(x),) + tuple(model_shape))
    want = [list(model_shape)] + ([list(source_shape)] if source_shape else [])
    raise DataError(f"{where}: calibration samples have shape {list(x.shape[1:])}, but the model "
                    f"takes {' or '.join(map(str, want))} per sample",
                    hint="give N x the model's input shape, float32")
