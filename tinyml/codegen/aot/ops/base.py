"""The plug-in API for AOT op lowerings.

A *lowering* turns one IR op (`ir.Op`) into C: constant arrays in flash, a
`static const` parameter struct, and one or more C statements that call a kernel
of `firmware/runtime/aot/`. It is a plain function, listed by builtin name in
LOWERINGS in `ops/__init__.py` (the `@register` line checks that entry):

    from tinyml.codegen.aot.ops import register
    from tinyml.codegen.aot.ops.base import OpContext

    @register("FULLY_CONNECTED")
    def lower_fc(op, ctx: OpContext) -> None:
        x, w, b = op.inputs            # ir.Tensor (b may be None)
        y = op.outputs[0]
        ctx.require_int8(x, y)         # raises UnsupportedOpError otherwise
        ...                            # quantization math in Python: see ..quant
        wname = ctx.const_array("filter", w.data)            # -> "tm_l3_filter"
        p = ctx.params("tm_fc_params_t", {"in_features": 64, "out_features": 10,
                                          "filter": wname, ...})   # -> "tm_l3_p"
        ctx.include("tm_k_fc.h")
        ctx.call(f"tm_k_fc(&{p}, {ctx.buf(x)}, {ctx.buf(y)});")
        ctx.add_macs(64 * 10)

What a lowering receives
    op    ir.Op: .builtin, .options (snake_case dict, see reader.py), .inputs,
          .outputs (ir.Tensor with shape, dtype, scale, zero_point, data, name),
          .layer (Keras layer name, for error messages).
    ctx   OpContext (below). Nothing else; it returns None.

What it may do (all through ctx)
    ctx.buf(t)               C expression `TM_T<i>` (an int8_t* macro) for a
                             non-constant tensor's buffer in the arena. The
                             planner gives it an address after all ops are lowered.
                             Cast it for other types: `(int32_t *)TM_T5`.
    ctx.const_array(suffix, array[, ctype])
                             a `static const` 16-byte-aligned array in flash;
                             returns its C name `tm_l<op>_<suffix>`. ctype defaults
                             from the dtype (int8_t, int16_t, int32_t, uint8_t, ...).
    ctx.params(ctype, fields[, suffix])
                             a `static const <ctype> tm_l<op>_<suffix>` with C99
                             designated initializers from the (ordered) dict; values
                             are ints, floats, strings (emitted verbatim: C names or
                             expressions) or lists (emitted as `{a, b, ...}`).
    ctx.call(stmt)           append one C statement to this op's body.
    ctx.include(header)      `#include "<header>"` in the model .c (kernel headers).
    ctx.scratch(nbytes)      C expression (int8_t*, 16-byte aligned) of a scratch
                             buffer that lives in the arena only while this op runs.
    ctx.alias(out_i, in_i)   in place: output out_i shares input in_i's buffer
                             (same byte size; e.g. RESHAPE). Emit no copy then.
    ctx.overlap(out_i, in_i, forward[, reverse])
                             partial in place: output out_i may overlap input in_i's
                             buffer when that input dies at this op. `forward` (and
                             `reverse`) are `access.Access` patterns: the kernel's
                             real read/write order, from a mirror of its C loops in
                             `access.py` (elementwise ops: `access.elementwise(n)`).
                             The planner derives how far below (forward) or above
                             (reverse) the input the output may start, and the plan
                             checker (`verify.py`) proves the chosen placement safe.
                             Declare `reverse` only together with ctx.direction():
                             it returns a C macro (`TM_REV<op>`) the planner defines
                             as 1 when it placed the output above the input; pass it
                             to the kernel so it runs in that order.
    ctx.add_macs(n)          multiply-accumulates of this op (for reports).
    ctx.unsupported(msg, tensor=None)
                             raise UnsupportedOpError naming op, tensor and layer,
                             hinting `--runtime tflm`.
    ctx.require_int8(*tensors)  refuse any tensor that is not int8.
    ctx.activation_range(act, out_tensor) -> (min, max) of a fused activation,
                             refusing unsupported ones.

Kernels and C conventions (firmware/runtime/aot/, see codegen/aot/README.md)
    - One kernel family per header `tm_k_<name>.h` and file `tm_k_<name>.c`; its
      inner products come from `tm_aot_dot.h`, the portable ones (`tm_aot_ref.h`)
      or an ISA's (`tm_aot_arm_dsp.h` today), chosen by TM_AOT_IMPL_<NAME> in
      `tm_aot.h`. Conv and depthwise keep their loop order in `tm_k_<name>_loop.h`
      (access.py mirrors it).
      (tm_k_pool, tm_k_softmax, tm_k_mean, tm_k_pad, tm_k_strided, tm_k_concat,
      tm_k_logistic, tm_k_act, tm_k_quantize have one portable file each, prototypes
      in tm_k_misc.h; tm_k_add and tm_k_binary have their own headers.)
    - Functions `tm_k_<name>[_shape](const tm_<name>_params_t *p, inputs..., outputs...,
      scratch)`, param structs `tm_<name>_params_t`. C99, no allocation, no globals.
    - All fixed-point helpers live in `tm_aot_fx.h` (included by `tm_aot.h`):
      tm_aot_srdhm, tm_aot_rdpot, tm_aot_sat_shl, tm_aot_mul_by_qm(_lt1),
      tm_aot_requant(_r2), TM_REQ_LOCALS/TM_REQ, tm_aot_fx_exp_neg,
      tm_aot_fx_one_over_one_plus_x; tests/host/test_aot_fx.py checks them.
    - A kernel that stores int8 outputs should copy the params it uses per element
      into locals first: char stores may alias `*p` and force reloads.
    - The generated model is compiled with all `firmware/runtime/aot/*.c`; only the
      kernels it calls are linked (-ffunction-sections, --gc-sections).

Testing a lowering (host gcc vs the TFLM host runtime)
    # in a test under tests/host (pytest puts that folder on sys.path)
    from aot_harness import assert_bit_exact, to_int8_tflite
    tfl = to_int8_tflite(keras_model)            # real TFLiteConverter, int8 in/out
    assert_bit_exact(tfl, n_inputs=4, seed=0)    # or pass the Keras model directly
    assert_bit_exact returns the AotResult; it compiles the generated C with
    `gcc -std=c99 -Wall -Wextra -Werror` under UBSan, runs it on random int8 inputs and
    asserts every output byte equals TFLM's.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ....core.errors import UnsupportedOpError
from .. import quant
from ..access import Access
from ..ir import Op, Tensor

TFLM_HINT = ("use the TFLM runtime (`--runtime tflm`), or change the layer so the "
             "converter emits a supported op")

# Said by a refusal where TFLM's own kernel would run into C undefined behaviour (a
# shift by 32 or more): no runtime gives defined bytes, and the fuzz tests count such a
# model as one without a reference.
UNDEFINED_IN_TFLM = "TFLM's kernel would shift by 32 or more bits (undefined in C)"

_CTYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t",
           "int32": "int32_t", "uint32": "uint32_t", "int64": "int64_t",
           "float32": "float"}


class OpContext:
    """Collects everything one op lowering produces (see the module docstring)."""

    def __init__(self, op: Op):
        self.op = op
        self.arrays: list[tuple[str, str, np.ndarray]] = []     # (ctype, name, values)
        self.structs: list[tuple[str, str, dict[str, Any]]] = []  # (ctype, name, fields)
        self.stmts: list[str] = []
        self.headers: list[str] = []
        self.scratch_bytes = 0
        self.aliases: list[tuple[int, int]] = []
        self.overlaps: list[tuple[int, int, Access, Access | None]] = []
        self.wants_direction = False
        self.macs = 0

    # --- naming -----------------------------------------------------------------
    def _name(self, suffix: str) -> str:
        name = f"tm_l{self.op.index}_{suffix}"
        taken = {n for _, n, _ in self.arrays} | {n for _, n, _ in self.structs}
        if name in taken:
            raise ValueError(f"duplicate C name {name}")
        return name

    # --- outputs of a lowering --------------------------------------------------
    def buf(self, t: Tensor) -> str:
        if t.is_const:
            raise ValueError(f"tensor {t.name} is constant; use const_array")
        return f"TM_T{t.index}"

    def const_array(self, suffix: str, values: np.ndarray, ctype: str | None = None) -> str:
        arr = np.asarray(values)
        ctype = ctype or _CTYPES[arr.dtype.name]
        name = self._name(suffix)
        self.arrays.append((ctype, name, arr.reshape(-1)))
        return name

    def params(self, ctype: str, fields: dict[str, Any], suffix: str = "p") -> str:
        name = self._name(suffix)
        self.structs.append((ctype, name, dict(fields)))
        return name

    def call(self, stmt: str) -> None:
        self.stmts.append(stmt)

    def include(self, header: str) -> None:
        if header not in self.headers:
            self.headers.append(header)

    def scratch(self, nbytes: int) -> str:
        self.scratch_bytes = max(self.scratch_bytes, int(nbytes))
        return f"TM_S{self.op.index}"

    def alias(self, out_i: int = 0, in_i: int = 0) -> None:
        o, i = self.op.outputs[out_i], self.op.inputs[in_i]
        if o.nbytes != i.nbytes:
            raise ValueError("an in-place alias needs equal byte sizes")
        self.aliases.append((out_i, in_i))

    def overlap(self, out_i: int, in_i: int, forward: Access,
                reverse: Access | None = None) -> None:
        t_in, t_out = self.op.inputs[in_i], self.op.outputs[out_i]
        for acc in (forward, reverse):
            if acc is not None and (acc.last_read.size != t_in.nbytes
                                    or acc.first_write.size != t_out.nbytes):
                raise ValueError("an access pattern must cover the input and output bytes")
        self.overlaps.append((out_i, in_i, forward, reverse))

    def direction(self) -> str:
        self.wants_direction = True
        return f"TM_REV{self.op.index}"

    def add_macs(self, n: int) -> None:
        self.macs += int(n)

    # --- checks -------------------------------------------------------------------
    def unsupported(self, message: str, tensor: Tensor | None = None,
                    hint: str = TFLM_HINT) -> None:
        t = tensor or (self.op.outputs[0] if self.op.outputs else None)
        layer = t.layer if t is not None else self.op.layer
        raise UnsupportedOpError(
            self.op.builtin,
            f"AOT runtime cannot compile op #{self.op.index} {self.op.builtin} "
            f"(layer '{layer}'"
            + (f", tensor '{t.name}'" if t is not None else "") + f"): {message}",
            hint=hint, tensor=t.name if t is not None else None, layer=layer)

    def require_shifts(self, what: str, shifts, tensor: Tensor | None = None) -> None:
        """Refuse multipliers whose left shift TFLM could not perform (> 31)."""
        worst = max(int(v) for v in shifts)
        if worst > 31:
            self.unsupported(f"{what} needs a rescale by 2^{worst}: {UNDEFINED_IN_TFLM}; the "
                             "calibration probably never moved this tensor (a constant range)",
                             tensor, hint="calibrate on data that varies, or remove the constant branch")

    def require_int8(self, *tensors: Tensor | None) -> None:
        for t in tensors:
            if t is not None and t.dtype != "int8":
                self.unsupported(f"tensor is {t.dtype}, only int8 is supported", t)
            if t is not None and t.scale.size == 0:
                self.unsupported("tensor is not quantized", t)

    def activation_range(self, act: str, out: Tensor) -> tuple[int, int]:
        if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            self.unsupported(f"fused activation {act} is not supported", out)
        return quant.activation_range(act, out.scalar_scale(), out.scalar_zp())
