"""A Keras model file (.keras, .h5) to a float .tflite.

tf-keras (Keras 2, what the pipeline uses) reads .h5 files and the .keras files
it wrote; a .keras file saved by Keras 3 is read by Keras 3 and goes through
a SavedModel export instead.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..core.errors import ModelError, first_line
from .shapes import fixed_shape

SUFFIXES = (".keras", ".h5", ".hdf5")


def _load(path: Path) -> tuple[Any, str]:
    from ..core import tfcompat
    try:
        return tfcompat.keras().models.load_model(str(path), compile=False), "tf-keras"
    except Exception as first:  # noqa: BLE001 - every loader error becomes one message
        if path.suffix.lower() != ".keras":
            raise ModelError(f"{path}: cannot load the Keras model ({first_line(first)})",
                             hint="save it with model.save('model.h5') or model.save('model.keras')") from None
        try:
            import keras as keras3
            return keras3.saving.load_model(str(path), compile=False), "keras3"
        except Exception as e:  # noqa: BLE001
            raise ModelError(f"{path}: cannot load the Keras model ({first_line(e)})",
                             hint="a corrupt file, or custom layers: save it as a SavedModel "
                                  "(model.export(folder)) and give the folder") from None


def _batch_one(k: Any, model: Any, shape: tuple) -> Any:
    """The model on a batch-1 input. A clone keeps the layer names (the tensor names
    the triage and the errors name layers by); a model that cannot be cloned
    (subclassed) is wrapped instead."""
    try:
        clone = k.models.clone_model(model, input_tensors=k.Input(shape=shape[1:], batch_size=1))
        clone.set_weights(model.get_weights())
        return clone
    except Exception:  # noqa: BLE001 - clone_model refuses subclassed and exotic models
        inp = k.Input(shape=shape[1:], batch_size=1)
        return k.Model(inp, model(inp))


def to_float_tflite(path: Path, input_shape: list[int] | None) -> tuple[bytes, None]:
    from ..compress import quantize as q
    model, kind = _load(path)
    inputs = model.inputs
    if len(inputs) != 1:
        raise ModelError(f"{path}: the model has {len(inputs)} inputs; the device harness feeds one",
                         hint="wrap the model so that it takes one input tensor")
    name = getattr(inputs[0], "name", "input")
    shape = fixed_shape(path, name, tuple(inputs[0].shape), input_shape)
    if kind == "tf-keras":
        from ..core import tfcompat
        k = tfcompat.keras()

        # Batch 1, the device's batch, in every shape: a free batch leaves the converter
        # dynamic-shape ops (a Dense on a sequence becomes SHAPE / PACK / RESHAPE to a
        # size only known at run time; an LSTM, TensorList ops), which no MCU runtime runs.
        try:
            return q.to_float_tflite(_batch_one(k, model, shape)), None
        except Exception as e:  # noqa: BLE001 - the converter raises assorted internal types
            raise ModelError(f"{path}: TFLite cannot convert the model ({first_line(e)})") from None
    with tempfile.TemporaryDirectory(prefix="tinyml-keras3-") as d:
        import keras as keras3
        try:
            model.export(d, format="tf_saved_model", verbose=False,
                         input_signature=[keras3.InputSpec(shape=shape, dtype="float32")])
        except TypeError:
            model.export(d)
        except Exception as e:  # noqa: BLE001
            raise ModelError(f"{path}: cannot export the Keras 3 model ({first_line(e)})") from None
        from .savedmodel import to_float_tflite as from_saved
        return from_saved(Path(d), list(shape[1:]))
