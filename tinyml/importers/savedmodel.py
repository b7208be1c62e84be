"""A TensorFlow SavedModel folder to a float .tflite (its serving signature)."""
from __future__ import annotations

from pathlib import Path

from ..core.errors import ModelError, first_line
from .shapes import fixed_shape


def is_saved_model(path: Path) -> bool:
    return path.is_dir() and (path / "saved_model.pb").is_file()


def to_float_tflite(path: Path, input_shape: list[int] | None) -> tuple[bytes, None]:
    from ..compress import quantize as q
    from ..core import tfcompat
    tf = tfcompat.tf()
    try:
        loaded = tf.saved_model.load(str(path))
        sig = loaded.signatures["serving_default"]
    except KeyError:
        raise ModelError(f"{path}: the SavedModel has no 'serving_default' signature",
                         hint="export it with model.export(folder) or tf.saved_model.save(m, folder, "
                              "signatures=...)") from None
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"{path}: cannot load the SavedModel ({first_line(e)})",
                         hint="a corrupt or partial folder: export it again") from None
    specs = sig.structured_input_signature[1]
    if len(specs) != 1:
        raise ModelError(f"{path}: the serving signature has {len(specs)} inputs "
                         f"({', '.join(specs)}); the device harness feeds one",
                         hint="export a signature with one input tensor")
    (name, spec), = specs.items()
    raw = tuple(spec.shape.as_list()) if spec.shape.rank is not None else ()
    shape = fixed_shape(path, name, raw, input_shape)
    try:
        return q.float_tflite_from_saved_model(str(path), {name: list(shape)}), None
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"{path}: TFLite cannot convert the SavedModel "
                         f"({first_line(e)})") from None
