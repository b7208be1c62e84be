"""Can every op of a model run in the TFLM host runtime?

Two checks: a static one against the builtin ops TFLM registers (read from
the all-ops resolver of the `tflite-micro` package in use), which names every
missing op at once; then the real proof — the model is instantiated and
invoked once in the TFLM host runtime (in a child process, see tflm_probe).
"""
from __future__ import annotations

import re
from pathlib import Path

from ..core.errors import ModelError, UnsupportedOpError
from ..model.tflite_file import TfliteModel
from . import tflm_probe

# Builtin ops registered by TFLM's all-ops resolver (tflite-micro Python
# package, PythonOpsResolver). Custom/signal ops (ETHOSU, the audio front end)
# are not builtins and are not listed.
TFLM_BUILTIN_OPS = frozenset("""
ABS ADD ADD_N ARG_MAX ARG_MIN ASSIGN_VARIABLE AVERAGE_POOL_2D BATCH_MATMUL
BATCH_TO_SPACE_ND BROADCAST_ARGS BROADCAST_TO CALL_ONCE CAST CEIL CONCATENATION
CONV_2D COS CUMSUM DEPTH_TO_SPACE DEPTHWISE_CONV_2D DEQUANTIZE
DIV DYNAMIC_UPDATE_SLICE ELU EMBEDDING_LOOKUP EQUAL EXP EXPAND_DIMS FILL FLOOR
FLOOR_DIV FLOOR_MOD FULLY_CONNECTED GATHER GATHER_ND GREATER GREATER_EQUAL
HARD_SWISH IF L2_NORMALIZATION L2_POOL_2D LEAKY_RELU LESS LESS_EQUAL LOG
LOGICAL_AND LOGICAL_NOT LOGICAL_OR LOGISTIC LOG_SOFTMAX MAX_POOL_2D MAXIMUM MEAN
MINIMUM MIRROR_PAD MUL NEG NOT_EQUAL PACK PAD PADV2 PRELU QUANTIZE READ_VARIABLE
REDUCE_ALL REDUCE_MAX REDUCE_MIN RELU RELU6 RESHAPE RESIZE_BILINEAR
RESIZE_NEAREST_NEIGHBOR REVERSE_V2 ROUND RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX
SPACE_TO_BATCH_ND SPACE_TO_DEPTH SPLIT SPLIT_V SQRT SQUARE SQUARED_DIFFERENCE
SQUEEZE STRIDED_SLICE SUB SUM SVDF TANH TRANSPOSE TRANSPOSE_CONV
UNIDIRECTIONAL_SEQUENCE_LSTM UNPACK VAR_HANDLE WHILE ZEROS_LIKE
""".split())

# Op-specific advice; anything else gets the generic hint.
_HINTS = {
    "GELU": "use activation='relu' (or relu6 / hard_swish) instead of gelu",
    "TILE": "avoid tf.tile / RepeatVector; rely on broadcasting or Concatenate",
    "BATCH_MATMUL": "use Dense on a reshaped tensor instead of a matmul between activations",
    "LOCAL_RESPONSE_NORMALIZATION": "use BatchNormalization instead",
    "REDUCE_PROD": "avoid products over an axis",
    "TOPK_V2": "take the top-k on the host from the model's scores",
    "ONE_HOT": "feed one-hot inputs from the host",
    "SELECT": "use tf.where with broadcastable inputs (SELECT_V2)",
}
_GENERIC_HINT = ("replace layer {layer} with layers built from ops TFLM runs "
                 "(Conv2D, DepthwiseConv2D, Dense, pooling, ReLU/ReLU6, Add, Reshape, Softmax)")

_ALLOC_FAIL = re.compile(r"Failed to (allocate|resize)|missing: \d+|Failed starting model allocation")
_NO_OP = re.compile(r"Didn't find op for builtin opcode '([A-Z0-9_]+)'|"
                    r"Failed to get registration from op code ([A-Za-z0-9_: ]+)")
_TYPE_MISMATCH = re.compile(r"type != \w+ \((\w+) != (\w+)\)")
_NODE_FAIL = re.compile(r"Node (\S+) \(number (\d+)\) failed to (prepare|invoke|init)")

MAX_PROOF_ARENA = 256 << 20


def op_table(model: TfliteModel) -> list[dict]:
    """One row per op: index, op, version, output tensor, Keras layer."""
    return [{"index": op.index, "op": op.name, "version": op.version,
             "output_tensor": op.output_name, "layer": op.layer} for op in model.ops]


def _unsupported(model: TfliteModel, op_name: str, why: str, index: int | None = None) -> UnsupportedOpError:
    ops = [op for op in model.ops if op.name == op_name]
    if index is not None:
        ops = [op for op in model.ops if op.index == index] or ops
    op = ops[0] if ops else None
    layer = op.layer if op else None
    layers = sorted({o.layer for o in ops if o.layer})
    where = (f"{op.describe()}" if op else f"op {op_name}")
    if len(ops) > 1:
        where += f" (and {len(ops) - 1} more use of {op_name}, in layers {', '.join(layers) or '?'})"
    hint = _HINTS.get(op_name) or _GENERIC_HINT.format(layer=f"'{layer}'" if layer else "that uses it")
    return UnsupportedOpError(op_name, f"{model.path}: {where}: {why}", hint=hint,
                              tensor=op.output_name if op else None, layer=layer)


def static_check(model: TfliteModel) -> None:
    """Raise UnsupportedOpError for the first op TFLM does not register."""
    missing = [op for op in model.ops if op.name not in TFLM_BUILTIN_OPS]
    if not missing:
        return
    names = list(dict.fromkeys(op.name for op in missing))
    first = missing[0]
    why = "the TFLM host runtime has no kernel for this op"
    if len(names) > 1:
        why += f" (also missing: {', '.join(names[1:])})"
    err = _unsupported(model, first.name, why, first.index)
    if first.name.startswith("CUSTOM:"):
        err.hint = ("custom ops need their own TFLM kernel; re-convert with "
                    "supported_ops=[TFLITE_BUILTINS_INT8] so the converter refuses them")
    raise err


def _proof_arena(model: TfliteModel) -> int:
    # Generous first guess: every activation at once, plus room for TFLM's
    # bookkeeping (grows with ops and tensors). Doubling recovers if it is short.
    act = sum(max(t.num_elements, 1) * 4 for t in model.tensors if not t.is_constant)
    return max(64 << 10, 2 * act + 512 * (len(model.ops) + len(model.tensors)))


def prove_runs(model: TfliteModel, model_path: str | Path | None = None) -> tflm_probe.ProbeResult:
    """Instantiate + invoke once in the TFLM host runtime; UnsupportedOpError if an op fails."""
    arena = _proof_arena(model)
    source = model_path if model_path is not None else model.data
    while True:
        r = tflm_probe.run_probe(source, arena)
        if r.ok:
            return r
        m = _NO_OP.search(r.stderr)
        if m:
            name = (m.group(1) or m.group(2)).strip()
            raise _unsupported(model, name, "the TFLM host runtime has no kernel registered for this op")
        arena_short = r.crashed or bool(_ALLOC_FAIL.search(r.stderr))
        if arena_short and arena < MAX_PROOF_ARENA:
            arena *= 2
            continue
        node = _NODE_FAIL.search(r.stderr)
        if node:   # arena was not the problem (or the cap is reached): the op itself failed
            idx = int(node.group(2))
            op = model.ops[idx] if idx < len(model.ops) else None
            name = op.name if op else node.group(1)
            ver = f" version {op.version}" if op else ""
            err = _unsupported(model, name, f"the TFLM host runtime failed to {node.group(3)} this "
                                            f"op{ver}: {r.describe()}", idx)
            tm = _TYPE_MISMATCH.search(r.stderr)
            what = (f"TFLM's {name} kernel takes {tm.group(2)}, not the {tm.group(1)} this model gives it"
                    if tm else f"TFLM has {name} but not for these tensor types or options (op{ver})")
            err.hint = f"{what}; " + (_HINTS.get(name) or _GENERIC_HINT.format(layer=f"'{err.layer}'"))
            raise err
        raise ModelError(f"{model.path}: the TFLM host runtime could not run the model: {r.describe()}",
                         hint="check the model converts with supported_ops=[TFLITE_BUILTINS_INT8]")


def check_ops(model: TfliteModel, model_path: str | Path | None = None) -> dict:
    """Static + real check. Returns {"ops": [...distinct...], "op_table": [...],
    "outputs_sha256": hash of TFLM's outputs for the probe input (a reference
    for the arena bisection)}."""
    static_check(model)
    proof = prove_runs(model, model_path)
    return {"ops": model.op_names(), "op_table": op_table(model), "outputs_sha256": proof.outputs_sha256}
