"""An ONNX file (e.g. from torch.onnx.export) to a float .tflite through onnx2tf.

onnx2tf turns NCHW graphs into NHWC ones, so the device gets no TRANSPOSE
around each convolution. It is an optional extra (`pip install tinyml[onnx]`);
its package pins an older TensorFlow, so it is installed without its pins
(scripts/setup.sh) next to the versions this project tests.
"""
from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from ..core.errors import ModelError, ToolMissingError, first_line
from .shapes import fixed_shape

SUFFIXES = (".onnx",)


def _load(path: Path):
    try:
        import onnx
    except ImportError:
        raise ToolMissingError("reading an ONNX model needs the onnx and onnx2tf packages",
                               hint="pip install 'tinyml[onnx]' (scripts/setup.sh installs it)") from None
    try:
        return onnx.load(str(path))
    except Exception as e:  # noqa: BLE001 - a protobuf DecodeError for a corrupt file
        raise ModelError(f"{path}: not a readable ONNX model ({first_line(e, 160)})",
                         hint="export it again (torch.onnx.export(model, example, 'model.onnx'))") from None


def _unsupported(model) -> list[tuple[str, str]]:
    """(op type, node name) of every node onnx2tf has no converter for."""
    import onnx2tf.ops as ops
    have = {p.stem for p in Path(ops.__file__).parent.glob("*.py")}
    return [(n.op_type, n.name or n.output[0]) for n in model.graph.node if n.op_type not in have]


def _inputs(model) -> list:
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def _shape(path: Path, model, input_shape):
    ins = _inputs(model)
    if len(ins) != 1:
        raise ModelError(f"{path}: the ONNX graph has {len(ins)} inputs "
                         f"({', '.join(i.name for i in ins)}); the device harness feeds one",
                         hint="export the model with one input tensor")
    dims = [d.dim_value if d.HasField("dim_value") else None
            for d in ins[0].type.tensor_type.shape.dim]
    return fixed_shape(path, ins[0].name, tuple(dims), input_shape)


def to_float_tflite(path: Path, input_shape: list[int] | None) -> tuple[bytes, tuple[int, ...]]:
    model = _load(path)
    from ..core import tfcompat
    tfcompat.tf()          # TensorFlow first, on tf-keras, before onnx2tf imports it
    try:
        import onnx2tf
    except ImportError:
        raise ToolMissingError("converting an ONNX model needs the onnx2tf package",
                               hint="pip install 'tinyml[onnx]' (scripts/setup.sh installs it)") from None
    missing = _unsupported(model)
    if missing:
        op, node = missing[0]
        raise ModelError(f"{path}: ONNX op {op} (node '{node}') has no TFLite conversion in onnx2tf"
                         + (f" ({len(missing) - 1} more nodes)" if len(missing) > 1 else ""),
                         hint="replace that layer before export, or export with another opset")
    shape = _shape(path, model, input_shape)
    name = _inputs(model)[0].name
    log = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="tinyml-onnx-") as d:
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                onnx2tf.convert(input_onnx_file_path=str(path), output_folder_path=d, batch_size=1,
                                overwrite_input_shape=[f"{name}:{','.join(map(str, shape))}"],
                                non_verbose=True)
        except BaseException as e:  # onnx2tf may sys.exit on failure
            if isinstance(e, KeyboardInterrupt):
                raise
            tail = [ln for ln in log.getvalue().splitlines() if ln.strip()][-3:]
            raise ModelError(f"{path}: onnx2tf could not convert the model "
                             f"({first_line(e, 160)})",
                             hint=" | ".join(tail)[:300] or "run onnx2tf -i on it to see the failing node") from None
        out = sorted(Path(d).glob("*_float32.tflite"))
        if not out:
            raise ModelError(f"{path}: onnx2tf wrote no float32 .tflite",
                             hint="run onnx2tf -i on it to see why")
        return out[0].read_bytes(), tuple(shape[1:])
