"""Differential fuzzing of the AOT compiler against the TFLM host runtime.

    from aot_fuzz import gen_spec, run_specs, run_dsp, shrink, save_regression
    specs = [gen_spec(seed) for seed in range(200)]  # JSON-able Keras model specs
    results = run_specs(specs)          # convert + compile + host gcc vs TFLM, 2 workers
    dsp = run_dsp(run_specs(specs, keep=True, host=False))   # Cortex-M4 in QEMU, batched
    small = shrink(bad_spec, fails_batch)                    # greedy minimisation
    save_regression(small_result, ...)  # tests/host/aot_regressions/<name>.json

A *spec* describes a small Keras functional model:

    {"input": [H, W, C] | [A, B] | [N],        # without the batch dimension
     "range": [lo, hi],                        # representative data: sets input scale/zp
     "seed": s,                                # weights, calibration data, test inputs
     "layers": [{"op": ..., "in": [node, ...], ...op fields}, ...]}

Node 0 is the input, node i+1 the output of layers[i]; the model output is the last
node. Ops (fields): conv (f, k, s, pad, act, dil, bias), dw (m, k, s, pad, act, dil,
bias), dense (units, act, bias; flattens first), pool (kind avg|max, k, s, pad, act), pad
(p [[top, bottom], [left, right]]), mean (mode hw|h|w|c, keep), reshape (mode, see
_reshape_target), softmax, sigmoid, add (2 inputs, broadcasting, act), addc (constant
of shape mode c|full|w1|h1|scalar), concat (axis, negative), act (kind relu|relu6|
leaky|tanh|hswish, alpha), bin (2 inputs, kind mul|sub|max|min, broadcasting, act),
binc (kind, constant of shape mode as addc), slice (per axis [begin, end, step], a
Python slice), split (axis, sizes; parts concatenated in reverse), unstack (axis;
unstacked, stacked in reverse), gather (axis, idx), resize (size [h, w], how tf2|v1|
align: nearest neighbour). Optional spec key
dense_pc: per-channel (true) / per-tensor (false) FULLY_CONNECTED weights. Keras
dilation makes the converter emit SPACE_TO_BATCH_ND, so `dil` is patched into the
CONV_2D / DEPTHWISE_CONV_2D options after conversion (SAME padding only: the output
shape then does not depend on dilation).

Result statuses: ok, mismatch (stage host or dsp), error (an AOT refusal or crash,
gcc failure, ...: for a generated model that is a defect too, never a skip), invalid
(the TFLM host runtime itself cannot run the model, so there is no reference).

Every model runs on N_INPUTS int8 inputs: all -128, all 127, then random bytes from a
counter-based hash of (seed, input, byte) that the QEMU image recomputes on the device,
so no input data has to be linked into the image.
"""
from __future__ import annotations

import atexit
import base64
import hashlib
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

HERE = Path(__file__).resolve().parent
REGRESSION_DIR = HERE / "aot_regressions"
GEN_VERSION = 5                 # bump when the spec -> model mapping changes (cache key)
N_INPUTS = 6                    # all -128, all 127, 4 random
TEST_SEED, TEST_MODELS = 20261129, 200   # the models tests/host and tests/emu check
MAX_ELEMS = 16384               # per tensor: keeps TFLM, gcc and QEMU runs fast
MAX_MACS = 2_000_000            # per model
ACTS = ("none", "relu", "relu6")
ACT_KINDS = ("relu", "relu6", "leaky", "tanh", "hswish", "prelu")
BIN_KINDS = ("mul", "sub", "max", "min", "sqd")
CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")
_CACHE = Path(tempfile.gettempdir()) / "tm_aot_fuzz_cache"


class SpecError(ValueError):
    """The spec does not describe a valid model (shapes do not fit)."""


# --- shapes -------------------------------------------------------------------------

def _out_dim(n: int, k: int, s: int, pad: str) -> int:
    if pad == "same":
        return -(-n // s)
    if n < k:
        raise SpecError(f"VALID window {k} > size {n}")
    return (n - k) // s + 1


_MEAN_AXES = {3: {"hw": (0, 1), "h": (0,), "w": (1,), "c": (2,)}, 2: {"h": (0,), "c": (1,)}}


def mean_axes(mode: str, rank: int) -> tuple[int, ...]:
    try:
        return _MEAN_AXES[rank][mode]
    except KeyError:
        raise SpecError(f"mean mode {mode} on rank {rank}") from None


def _reshape_target(mode: str, x: tuple) -> tuple:
    """RESHAPE modes are relative to the input shape, so shrinking dims keeps them valid."""
    n = int(np.prod(x))
    if mode == "flat" and len(x) > 1:
        return (n,)
    if len(x) == 3:
        h, w, c = x
        t = {"rows": (h * w, c), "col": (h * w, 1, c), "row": (1, h * w, c), "swap": (w, h, c)}
    elif len(x) == 2:
        a, b = x
        t = {"col": (a, 1, b), "row": (1, a, b), "chan1": (a, b, 1)}
    else:
        t = {"col": (n, 1, 1), "row": (1, n, 1), "chan": (1, 1, n)}
    if mode not in t:
        raise SpecError(f"reshape mode {mode} on rank {len(x)}")
    return t[mode]


def _const_shape(mode: str, x: tuple) -> tuple:
    if mode == "scalar":
        return ()             # a 0-d constant: shape (1,) trips the converter before a Dense
    if mode == "c":
        return (x[-1],)
    if mode == "full":
        return tuple(x)
    if len(x) == 3 and mode == "w1":
        return (x[0], 1, x[2])
    if len(x) == 3 and mode == "h1":
        return (1, x[1], x[2])
    raise SpecError(f"addc mode {mode} on rank {len(x)}")


def layer_shape(ly: dict, ins: list[tuple]) -> tuple:
    """Output shape (no batch dim) of one spec layer, exactly as Keras computes it."""
    op, x = ly["op"], tuple(ins[0])
    if op == "tconv":
        if len(x) != 3:
            raise SpecError("tconv needs a rank-3 input")
        (kh, kw), (sh, sw) = ly["k"], ly["s"]
        grow = lambda n, k, st: n * st + (max(k - st, 0) if ly["pad"] == "valid" else 0)  # noqa: E731
        return (grow(x[0], kh, sh), grow(x[1], kw, sw), ly["f"])
    if op == "mm":
        if len(x) != 2:
            raise SpecError("mm needs a rank-2 input")
        return (x[0], x[0]) if ly["mode"] == "self" else (x[0], ly["n"])
    if op == "lstm":
        if len(x) != 2:
            raise SpecError("lstm needs a rank-2 (steps, features) input")
        return (x[0], ly["units"]) if ly["seq"] else (ly["units"],)
    if op in ("conv", "dw", "pool"):
        if len(x) != 3:
            raise SpecError(f"{op} needs a rank-3 input, got {x}")
        (kh, kw), (sh, sw) = ly["k"], ly["s"]
        if op != "pool" and list(ly.get("dil", [1, 1])) != [1, 1] and ly["pad"] != "same":
            raise SpecError("dilation needs SAME padding")
        oh, ow = _out_dim(x[0], kh, sh, ly["pad"]), _out_dim(x[1], kw, sw, ly["pad"])
        c = ly["f"] if op == "conv" else x[2] * ly["m"] if op == "dw" else x[2]
        return (oh, ow, c)
    if op == "dense":
        return (ly["units"],)
    if op == "pad":
        if len(x) != 3:
            raise SpecError("pad needs rank 3")
        (t, b), (l, r) = ly["p"]
        return (x[0] + t + b, x[1] + l + r, x[2])
    if op == "softmax" and x[-1] >= 512:
        raise SpecError("the TFLM host runtime aborts on softmax rows of 512 or more")
    if op in ("softmax", "sigmoid", "act", "split", "unstack"):
        if op == "split" and (sum(ly["sizes"]) != x[ly["axis"]] or min(ly["sizes"]) < 1):
            raise SpecError(f"split {ly['sizes']} of {x}")
        if op == "unstack" and not 2 <= x[ly["axis"]] <= 8:
            raise SpecError(f"unstack axis {ly['axis']} of {x}")
        return x
    if op == "slice":
        if len(ly["sl"]) != len(x):
            raise SpecError("slice rank")
        return tuple(len(range(*slice(*sl).indices(n))) for sl, n in zip(ly["sl"], x))
    if op == "gather":
        if not all(0 <= i < x[ly["axis"]] for i in ly["idx"]) or not ly["idx"]:
            raise SpecError("gather index")
        return tuple(len(ly["idx"]) if a == ly["axis"] else d for a, d in enumerate(x))
    if op == "resize":
        if len(x) != 3:
            raise SpecError("resize needs rank 3")
        return (ly["size"][0], ly["size"][1], x[2])
    if op == "binc":
        _const_shape(ly["mode"], x)
        return x
    if op == "addc":
        _const_shape(ly["mode"], x)
        return x
    if op == "mean":
        axes = mean_axes(ly["mode"], len(x))
        out = tuple(1 if i in axes else d for i, d in enumerate(x)) if ly["keep"] else \
            tuple(d for i, d in enumerate(x) if i not in axes)
        if not out:
            raise SpecError("mean to a scalar")
        return out
    if op == "reshape":
        return _reshape_target(ly["mode"], x)
    if op == "transpose":
        if sorted(ly["perm"]) != list(range(len(x))) or len(x) < 2:
            raise SpecError(f"transpose {ly['perm']} of {x}")
        return tuple(x[i] for i in ly["perm"])
    if op in ("add", "bin"):
        a, b = x, tuple(ins[1])
        if len(a) != len(b) or any(p != q and 1 not in (p, q) for p, q in zip(a, b)):
            raise SpecError(f"cannot add {a} and {b}")
        return tuple(max(p, q) for p, q in zip(a, b))
    if op == "concat":
        ax = len(x) + ly["axis"]
        if not 0 <= ax < len(x):
            raise SpecError("concat axis")
        for s in ins[1:]:
            if len(s) != len(x) or any(p != q for i, (p, q) in enumerate(zip(x, s)) if i != ax):
                raise SpecError(f"cannot concat {x} and {s} on axis {ax}")
        return tuple(sum(s[ax] for s in ins) if i == ax else d for i, d in enumerate(x))
    raise SpecError(f"unknown op {op}")


def layer_macs(ly: dict, ins: list[tuple], out: tuple) -> int:
    op = ly["op"]
    if op in ("conv", "dw"):
        taps = ly["k"][0] * ly["k"][1] * (ins[0][2] if op == "conv" else 1)
        return int(np.prod(out)) * taps
    if op == "tconv":
        return int(np.prod(ins[0])) * ly["k"][0] * ly["k"][1] * ly["f"]
    if op == "mm":
        return int(np.prod(out)) * ins[0][1]
    if op == "lstm":
        return ins[0][0] * 4 * ly["units"] * (ins[0][1] + ly["units"])
    if op == "dense":
        return int(np.prod(ins[0])) * ly["units"]
    return int(np.prod(out))


def node_shapes(spec: dict) -> list[tuple]:
    """Shapes of all nodes (input first); raises SpecError for an invalid spec."""
    shapes = [tuple(spec["input"])]
    if not spec["layers"] or min(shapes[0]) < 1:
        raise SpecError("empty model or empty input")
    for i, ly in enumerate(spec["layers"]):
        if not ly["in"] or any(not 0 <= j <= i for j in ly["in"]):
            raise SpecError(f"layer {i} reads a node that does not exist yet")
        out = layer_shape(ly, [shapes[j] for j in ly["in"]])
        if min(out) < 1:
            raise SpecError(f"layer {i}: empty output {out}")
        shapes.append(out)
    return shapes


def spec_ok(spec: dict) -> bool:
    try:
        node_shapes(spec)
        return True
    except SpecError:
        return False


# --- generator ----------------------------------------------------------------------

def _ly(op: str, ins: list[int], **fields) -> dict:
    return {"op": op, "in": list(ins), **fields}


class _Gen:
    """Builds one random spec; every op helper returns the new node or None if the
    drawn layer would not fit (shape or size limits), so callers can just retry."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.seed = seed
        self.layers: list[dict] = []
        self.shapes: list[tuple] = []
        self.macs = 0

    # Layers are appended only if valid and within the size budget.
    def add(self, ly: dict) -> int | None:
        ins = [self.shapes[j] for j in ly["in"]]
        try:
            out = layer_shape(ly, ins)
        except SpecError:
            return None
        macs = layer_macs(ly, ins, out)
        if min(out) < 1 or int(np.prod(out)) > MAX_ELEMS or self.macs + macs > MAX_MACS:
            return None
        self.layers.append(ly)
        self.shapes.append(out)
        self.macs += macs
        return len(self.shapes) - 1

    # --- distributions: biased to 1, odd and small sizes (planner and tail-loop edges)
    def dim(self) -> int:
        u = self.r.random()
        return 1 if u < 0.15 else self.r.randint(2, 8) if u < 0.45 else \
            self.r.randint(9, 20) if u < 0.85 else self.r.randint(21, 32)

    def chan(self, hi: int = 32) -> int:
        c = self.r.choice([1, 1, 2, 3, 3, 4, 5, 6, 7, 8, 8, 9, 12, 13, 16, 16, 24, 32])
        return min(c, hi)

    def act(self) -> str:
        return self.r.choice(ACTS)

    def kernel(self, n: int, pad: str) -> int:
        k = self.r.choice([1, 1, 2, 3, 3, 3, 4, 5])
        return min(k, n) if pad == "valid" else k

    def conv_fields(self, x: int, pad=None, k=None, s=None, dil=None) -> dict:
        r, (h, w, _) = self.r, self.shapes[x]
        pad = pad or ("same" if r.random() < 0.65 else "valid")
        if k is None:
            kh = self.kernel(h, pad)
            kw = kh if r.random() < 0.4 and (pad == "same" or kh <= w) else self.kernel(w, pad)
            k = [kh, kw]
        if s is None:
            s = [r.choice([1, 1, 1, 2, 2, 3]) for _ in range(2)] if r.random() < 0.4 else [1, 1]
        if dil is None:
            dil = [1, 1]
            if pad == "same" and max(k) > 1 and r.random() < 0.2:
                dil = [r.choice([1, 2, 3]) if k[0] > 1 else 1, r.choice([1, 2, 3]) if k[1] > 1 else 1]
        return dict(k=list(k), s=list(s), pad=pad, dil=list(dil), act=self.act(),
                    bias=r.random() > 0.15)

    def conv(self, x, f=None, **kw) -> int | None:
        if len(self.shapes[x]) != 3:
            return None
        return self.add(_ly("conv", [x], f=f or self.chan(48), **self.conv_fields(x, **kw)))

    def dw(self, x, m=None, **kw) -> int | None:
        if len(self.shapes[x]) != 3:
            return None
        m = m or self.r.choice([1, 1, 1, 1, 2, 2, 3])
        if self.shapes[x][2] * m > 128:
            m = 1
        return self.add(_ly("dw", [x], m=m, **self.conv_fields(x, **kw)))

    def conv1x1(self, x, expand: bool = True) -> int | None:
        if len(self.shapes[x]) != 3:
            return None
        c = self.shapes[x][2]
        f = min(128, max(c + 1, int(c * self.r.choice([1.5, 2, 3, 3.2, 4])))) if expand \
            else max(1, c // self.r.choice([1, 2, 3]))
        return self.conv(x, f=f, k=[1, 1], s=[1, 1], pad=self.r.choice(["same", "valid"]), dil=[1, 1])

    def pool(self, x, same_size: bool = False) -> int | None:
        r = self.r
        if len(self.shapes[x]) != 3:
            return None
        h, w, _ = self.shapes[x]
        pad = "same" if same_size or r.random() < 0.5 else "valid"
        k = [r.randint(1, 4), r.randint(1, 4)]
        if pad == "valid":
            k = [min(k[0], h), min(k[1], w)]
        s = [1, 1] if same_size else [r.randint(1, 3), r.randint(1, 3)]
        if k == [1, 1] and s == [1, 1]:
            k = [2, 2] if pad == "same" else k     # a no-op pool the converter might drop
        act = self.act() if r.random() < 0.4 else "none"    # fused into the pool op
        return self.add(_ly("pool", [x], kind=r.choice(["avg", "max"]), k=k, s=s, pad=pad, act=act))

    def pad(self, x, axis: int | None = None) -> int | None:
        if len(self.shapes[x]) != 3:
            return None
        r = self.r
        p = [[r.randint(0, 2), r.randint(0, 2)], [r.randint(0, 2), r.randint(0, 2)]]
        if axis is not None:                  # pad only along one spatial axis
            p[1 - axis] = [0, 0]
        if p == [[0, 0], [0, 0]]:
            p[axis or 0][0] = 1
        return self.add(_ly("pad", [x], p=p))

    def dense(self, x, units=None) -> int | None:
        return self.add(_ly("dense", [x], units=units or self.r.randint(1, 40),
                             act=self.act(), bias=self.r.random() > 0.15))

    def simple(self, x, op: str) -> int | None:
        return self.add(_ly(op, [x]))

    def mean(self, x, keep=None, mode=None) -> int | None:
        rank = len(self.shapes[x])
        if rank == 1:
            return None
        mode = mode or self.r.choice(list(_MEAN_AXES[rank]))
        return self.add(_ly("mean", [x], mode=mode,
                             keep=self.r.random() < 0.5 if keep is None else keep))

    def reshape(self, x, mode=None) -> int | None:
        rank = len(self.shapes[x])
        modes = {3: ["rows", "col", "row", "swap", "flat"], 2: ["col", "row", "chan1", "flat"],
                 1: ["col", "row", "chan"]}[rank]
        return self.add(_ly("reshape", [x], mode=mode or self.r.choice(modes)))

    def transpose(self, x) -> int | None:
        rank = len(self.shapes[x])
        if rank < 2:
            return None
        perm = list(range(rank))
        while perm == list(range(rank)):
            self.r.shuffle(perm)
        return self.add(_ly("transpose", [x], perm=perm))

    def act_op(self, x) -> int | None:
        kind = self.r.choice(ACT_KINDS)
        if kind == "prelu" and (len(self.shapes[x]) != 3 or self.shapes[x][2] < 2):
            return None       # there the converter writes PReLU with NEG (TFLM: float only)
        return self.add(_ly("act", [x], kind=kind,
                             alpha=round(self.r.uniform(0.01, 0.5), 3) if kind == "leaky" else 0,
                             shared=kind == "prelu" and self.r.random() < 0.6))

    def bin_op(self, x) -> int | None:
        """x combined with a same-size branch, a broadcast branch (mean, gate) or a
        constant: MUL (e.g. a squeeze-excite gate), SUB, MAXIMUM, MINIMUM."""
        r, shp = self.r, self.shapes[x]
        kind = r.choice(BIN_KINDS)
        if r.random() < 0.3:
            modes = ["c", "full", "scalar"] + (["w1", "h1"] if len(shp) == 3 else [])
            return self.add(_ly("binc", [x], kind=kind, mode=r.choice(modes)))
        u = r.random()
        if len(shp) == 3 and u < 0.3:
            y = self.conv(x, f=shp[2], s=[1, 1], pad="same")
        elif len(shp) > 1 and u < 0.7 and kind != "sqd":   # (x - mean)^2 of a size-1 axis is 0
            y = self.mean(x, keep=True)
            if y is not None and kind == "mul" and r.random() < 0.6:
                y = self.simple(y, "sigmoid") or y
        else:
            y = self.simple(x, "sigmoid") if r.random() < 0.5 else self.act_op(x)
        if y is None:
            return None
        a, b = (x, y) if r.random() < 0.5 else (y, x)
        return self.add(_ly("bin", [a, b], kind=kind,
                             act=self.act() if kind in ("mul", "sub") else "none"))

    def slice_op(self, x) -> int | None:
        """A Python slice per axis: positive or negative steps, negative or open ends."""
        r, sl = self.r, []
        for n in self.shapes[x]:
            step = r.choice([1, 1, 1, 2, 3, -1, -2])
            a = r.randrange(n)
            b = r.randint(a + 1, n)
            start, stop = (a, b) if step > 0 else (b - 1, a - 1 if a > 0 else None)
            if r.random() < 0.3:
                start -= n                            # the same element, counted from the end
            if stop is not None and 0 < stop < n and r.random() < 0.3:
                stop -= n
            elif stop == n and r.random() < 0.4:
                stop = None
            sl.append([start, stop, step])
        if all(len(range(*slice(*s).indices(n))) == n and s[2] == 1
               for s, n in zip(sl, self.shapes[x])):
            return None
        return self.add(_ly("slice", [x], sl=sl))

    def split_op(self, x) -> int | None:
        shp = self.shapes[x]
        axis = self.r.randrange(len(shp))
        n = shp[axis]
        if n < 2:
            return None
        cuts = sorted(self.r.sample(range(1, n), min(n - 1, self.r.randint(1, 3))))
        sizes = [b - a for a, b in zip([0] + cuts, cuts + [n])]
        return self.add(_ly("split", [x], axis=axis, sizes=sizes))

    def unstack_op(self, x) -> int | None:
        axes = [a for a, n in enumerate(self.shapes[x]) if 2 <= n <= 8]
        return self.add(_ly("unstack", [x], axis=self.r.choice(axes))) if axes else None

    def gather_op(self, x) -> int | None:
        shp = self.shapes[x]
        axis = self.r.randrange(len(shp))
        idx = [self.r.randrange(shp[axis]) for _ in range(self.r.randint(1, 6))]
        return self.add(_ly("gather", [x], axis=axis, idx=idx))

    def resize_op(self, x) -> int | None:
        if len(self.shapes[x]) != 3:
            return None
        h, w, _ = self.shapes[x]
        r = self.r
        size = [max(1, int(d * r.choice([0.5, 1.5, 2, 2, 3]) + r.choice([0, 0, 1]))) for d in (h, w)]
        how = r.choice(["tf2", "tf2", "v1", "align", "bilinear", "bilinear", "bilinear_v1",
                        "bilinear_align"])
        return self.add(_ly("resize", [x], size=size, how=how))

    def lstm(self, x) -> int | None:
        """A Keras LSTM over the first axis (steps), the last or every step's output."""
        if len(self.shapes[x]) != 2:
            return None
        return self.add(_ly("lstm", [x], units=self.chan(16), seq=self.r.random() < 0.4,
                            gain=round(self.r.choice([1.0, 1.0, 2.0, 4.0]), 1)))

    def mm(self, x) -> int | None:
        """tf.matmul: x . sigmoid(x)^T (attention scores, BATCH_MATMUL with adj_y) or
        x . a constant (n columns)."""
        if len(self.shapes[x]) != 2:
            return None
        mode = self.r.choice(["self", "self", "const"])
        return self.add(_ly("mm", [x], mode=mode, n=self.chan(16)))

    def tconv(self, x) -> int | None:
        """Conv2DTranspose: an upsampling decoder layer (strides 1-3, kernels 1-5)."""
        if len(self.shapes[x]) != 3:
            return None
        r = self.r
        s = r.choice([1, 2, 2, 2, 3])
        k = [r.choice([s, s + 1, 3, 2, 1, 5]) for _ in range(2)]
        return self.add(_ly("tconv", [x], f=self.chan(), k=k, s=[s, s if r.random() < 0.8 else 1],
                             pad=r.choice(["same", "same", "valid"]), act=self.act()))

    def addc(self, x) -> int | None:
        modes = ["c", "full", "scalar"] + (["w1", "h1"] if len(self.shapes[x]) == 3 else [])
        return self.add(_ly("addc", [x], mode=self.r.choice(modes)))

    def residual(self, x) -> int | None:
        """x + f(x), f shape-preserving (1-2 convs / depthwise), fused activation."""
        shp, y = self.shapes[x], x
        for _ in range(self.r.randint(1, 2)):
            if len(shp) == 3:
                y2 = self.conv(y, f=shp[2], s=[1, 1], pad="same") if self.r.random() < 0.5 \
                    else self.dw(y, m=1, s=[1, 1], pad="same")
            else:
                y2 = self.dense(y, units=shp[0]) if len(shp) == 1 else self.simple(y, "sigmoid")
            y = y2 if y2 is not None else y
        if y == x:
            return None
        a, b = (x, y) if self.r.random() < 0.5 else (y, x)
        return self.add(_ly("add", [a, b], act=self.act()))

    def bcast_add(self, x) -> int | None:
        """x + mean(x) over some axes (keepdims): a broadcasting ADD."""
        if len(self.shapes[x]) == 1:
            return None
        m = self.mean(x, keep=True)
        if m is None:
            return None
        if len(self.shapes[m]) == 3 and self.r.random() < 0.5:
            m = self.conv(m, f=self.shapes[m][2], k=[1, 1], s=[1, 1], pad="same") or m
        a, b = (x, m) if self.r.random() < 0.5 else (m, x)
        return self.add(_ly("add", [a, b], act=self.act()))

    def concat(self, x) -> int | None:
        shp, r = self.shapes[x], self.r
        if len(shp) == 3:
            axis = r.choice([-1, -1, -1, -2, -3])
            branches = []
            for _ in range(r.choice([1, 1, 2])):
                if axis == -1:
                    y = r.choice([lambda: self.conv1x1(x, expand=r.random() < 0.5),
                                  lambda: self.dw(x, s=[1, 1], pad="same"),
                                  lambda: self.pool(x, same_size=True),
                                  lambda: self.simple(x, "sigmoid")])()
                else:
                    y = r.choice([lambda: self.conv(x, f=shp[2], s=[1, 1], pad="same"),
                                  lambda: self.pad(x, axis=3 + axis),
                                  lambda: self.pool(x, same_size=True)])()
                if y is not None:
                    branches.append(y)
        else:
            axis = -1
            branches = [y for y in [self.simple(x, r.choice(["sigmoid", "softmax"]))] if y is not None]
            if len(shp) == 1 and r.random() < 0.5:
                branches = [y for y in [self.dense(x)] if y is not None]
        if not branches:
            return None
        ins = [x] + branches
        r.shuffle(ins)
        return self.add(_ly("concat", ins, axis=axis))

    def step(self, x: int) -> int | None:
        """One random op on node x, weighted by what fits its rank."""
        rank = len(self.shapes[x])
        if rank == 3:
            ops = {"conv": 5, "dw": 4, "conv1x1": 3, "pool": 2, "pad": 1, "residual": 2.5,
                   "concat": 2, "bcast": 1.5, "addc": 1, "mean": 1, "reshape": 1.5,
                   "softmax": 0.4, "sigmoid": 0.6, "dense": 0.5, "transpose": 1.2,
                   "act": 2.5, "bin": 3, "slice": 1.5, "split": 1.2, "unstack": 1,
                   "gather": 1, "resize": 1.5, "tconv": 1.5}
        else:
            ops = {"dense": 3, "softmax": 1, "sigmoid": 1, "reshape": 2, "concat": 1,
                   "residual": 1 if rank == 1 else 0, "bcast": 1 if rank == 2 else 0,
                   "addc": 1, "mean": 0.5 if rank == 2 else 0, "transpose": 1 if rank == 2 else 0,
                   "act": 1.5, "bin": 1.5, "slice": 1, "split": 0.6, "unstack": 0.6 if rank == 2 else 0,
                   "gather": 0.6, "lstm": 1.2 if rank == 2 else 0, "mm": 0.8 if rank == 2 else 0}
        op = self.r.choices(list(ops), weights=list(ops.values()))[0]
        return {"conv": lambda: self.conv(x), "dw": lambda: self.dw(x),
                "conv1x1": lambda: self.conv1x1(x, self.r.random() < 0.7),
                "pool": lambda: self.pool(x), "pad": lambda: self.pad(x),
                "residual": lambda: self.residual(x), "concat": lambda: self.concat(x),
                "bcast": lambda: self.bcast_add(x), "addc": lambda: self.addc(x),
                "mean": lambda: self.mean(x), "reshape": lambda: self.reshape(x),
                "softmax": lambda: self.simple(x, "softmax"),
                "sigmoid": lambda: self.simple(x, "sigmoid"), "dense": lambda: self.dense(x),
                "transpose": lambda: self.transpose(x), "act": lambda: self.act_op(x),
                "bin": lambda: self.bin_op(x), "slice": lambda: self.slice_op(x),
                "split": lambda: self.split_op(x), "unstack": lambda: self.unstack_op(x),
                "gather": lambda: self.gather_op(x), "resize": lambda: self.resize_op(x),
                "tconv": lambda: self.tconv(x), "lstm": lambda: self.lstm(x),
                "mm": lambda: self.mm(x)}[op]()

    def head(self, x: int) -> int:
        """Optional classifier head: dense (+ softmax)."""
        if self.r.random() < 0.35:
            x = self.dense(x) or x
            if self.r.random() < 0.5:
                x = self.simple(x, "softmax") or x
        return x

    def range(self) -> list[float]:
        r = self.r
        a = 10 ** r.uniform(-1.3, 1.3)
        u = r.random()
        lo, hi = (-a, a) if u < 0.45 else (a * r.uniform(0, 0.5), a) if u < 0.7 else \
            (-a * r.uniform(0.1, 1.0), a * r.uniform(0.1, 1.0)) if u < 0.9 else (-a, -a * r.uniform(0, 0.5))
        return [round(lo, 4), round(hi + (0.01 if hi - lo < 0.01 else 0), 4)]


FAMILIES = {"mixed": 0.35, "chain": 0.2, "bug": 0.15, "branchy": 0.18, "flat": 0.12}


def gen_spec(seed: int, family: str | None = None) -> dict:
    """A random valid spec (deterministic in `seed`). Families bias the shapes:
    chain = same-size conv/depthwise runs (planner overlaps), bug = depthwise then 1x1
    expanding conv on width-1 / height-1 tensors, branchy = residual/concat/broadcast."""
    g = _Gen(seed)
    r = g.r
    family = family or r.choices(list(FAMILIES), weights=list(FAMILIES.values()))[0]
    if family == "flat":
        inp = [r.randint(1, 64)] if r.random() < 0.5 else [r.randint(1, 12), r.randint(1, 16)]
    elif family == "bug":
        n, c = r.choice([28, 32, r.randint(2, 32)]), r.choice([1, 3, 8, 10, 16, 20, 40, r.randint(1, 48)])
        inp = [n, 1, c] if r.random() < 0.75 else [1, n, c]
    else:
        h, w = g.dim(), g.dim()
        if family == "chain" and r.random() < 0.3:
            h, w = (h, 1) if r.random() < 0.6 else (1, w)
        inp = [h, w, g.chan(8)]
        while int(np.prod(inp)) > 8192:
            inp[0] = max(1, inp[0] // 2)
    g.shapes = [tuple(inp)]
    x = 0
    if family == "bug":
        long_axis = 0 if inp[1] == 1 else 1
        if r.random() < 0.3:
            k = [r.randint(1, 5), 1] if long_axis == 0 else [1, r.randint(1, 5)]
            x = g.conv(x, f=g.chan(48), k=k, s=[1, 1], pad="same") or x
        for _ in range(r.randint(1, 3)):
            kk = r.choice([[3, 3], [r.randint(1, 5), r.randint(1, 5)], None])
            if kk is None:
                kk = [r.randint(2, 5), 1] if long_axis == 0 else [1, r.randint(2, 5)]
            s = [1, 1]
            if r.random() < 0.2:
                s[long_axis] = 2
            x = g.dw(x, m=1 if r.random() < 0.8 else 2, k=kk, s=s,
                     pad="same" if r.random() < 0.8 else "valid") or x
            x = g.conv1x1(x, expand=r.random() < 0.85) or x
    elif family == "chain":
        c = g.shapes[0][2]
        for _ in range(r.randint(3, 8)):
            u = r.random()
            y = g.conv(x, f=c, s=[1, 1], pad="same") if u < 0.3 else \
                g.dw(x, m=1, s=[1, 1], pad="same") if u < 0.55 else \
                g.conv1x1(x, expand=r.random() < 0.7) if u < 0.75 else \
                g.pool(x, same_size=True) if u < 0.85 else g.residual(x)
            x = y if y is not None else x
            c = g.shapes[x][2]
    elif family == "branchy":
        for _ in range(r.randint(2, 5)):
            u = r.random()
            y = g.residual(x) if u < 0.25 else g.concat(x) if u < 0.45 else \
                g.bcast_add(x) if u < 0.6 else g.addc(x) if u < 0.68 else \
                g.bin_op(x) if u < 0.82 else g.step(x)
            x = y if y is not None else x
    else:
        if family == "flat" and len(inp) == 2 and r.random() < 0.35:
            x = g.lstm(x) or x                 # (steps, features): a sequence model
        for _ in range(r.randint(1, 8)):
            y = g.step(x)
            x = y if y is not None else x
    if family != "flat" or r.random() < 0.5:
        x = g.head(x)
    if x == 0:                             # every op was refused: one that always fits
        x = g.add({"op": "sigmoid", "in": [0]})
    spec = {"input": inp, "range": g.range(), "seed": seed, "family": family,
            "layers": g.layers[:x]}        # node x is the last one: layers[:x] made it
    if any(ly["op"] == "dense" for ly in spec["layers"]):   # FC weights per tensor or channel
        spec["dense_pc"] = r.choice([None, True, False])
    return prune(spec)


def prune(spec: dict) -> dict:
    """Drop layers the output (last node) does not depend on; renumber the nodes."""
    layers = spec["layers"]
    need = {len(layers)}
    for i in range(len(layers) - 1, -1, -1):
        if i + 1 in need:
            need.update(layers[i]["in"])
    keep = [i for i in range(len(layers)) if i + 1 in need]
    new_id = {0: 0, **{i + 1: n + 1 for n, i in enumerate(keep)}}
    out = [dict(layers[i], **{"in": [new_id[j] for j in layers[i]["in"]]}) for i in keep]
    return dict(spec, layers=out)


# --- spec -> Keras -> int8 .tflite --------------------------------------------------

def _init_weights(layer, rng: np.random.Generator, depthwise: bool = False) -> None:
    """Seeded weights (independent of TF's RNG): He-like with a random gain, random
    biases, and sometimes an all-zero output channel (a per-channel scale edge)."""
    ws = layer.get_weights()
    k = ws[0]
    fan_in = int(np.prod(k.shape[:2] if depthwise else k.shape[:-1]))
    kern = rng.normal(0, rng.uniform(0.5, 2.0) / math.sqrt(fan_in), k.shape)
    if rng.random() < 0.1:
        if depthwise:
            kern[:, :, rng.integers(k.shape[2]), rng.integers(k.shape[3])] = 0
        else:
            kern[..., rng.integers(k.shape[-1])] = 0
    new = [kern.astype(np.float32)]
    if len(ws) > 1:
        new.append(rng.normal(0, 0.3, ws[1].shape).astype(np.float32))
    layer.set_weights(new)


def build_keras(spec: dict):
    """The Keras model of a spec, with seeded weights. Layer i is named l<i>_<op>."""
    from tinyml.core.tfcompat import keras, tf
    k, t = keras(), tf()
    L = k.layers
    shapes = node_shapes(spec)
    rng = np.random.default_rng([spec["seed"], 1])
    # an LSTM converts to the fused op only with a static batch
    batch = 1 if any(ly["op"] == "lstm" for ly in spec["layers"]) else None
    nodes = [k.Input(tuple(spec["input"]), batch_size=batch)]
    for i, ly in enumerate(spec["layers"]):
        op, name = ly["op"], f"l{i}_{ly['op']}"
        xs = [nodes[j] for j in ly["in"]]
        act = None if ly.get("act", "none") == "none" else ly["act"]
        if op in ("conv", "dw"):
            kw = dict(strides=tuple(ly["s"]), padding=ly["pad"], activation=act,
                      use_bias=ly.get("bias", True), name=name)
            layer = L.Conv2D(ly["f"], tuple(ly["k"]), **kw) if op == "conv" else \
                L.DepthwiseConv2D(tuple(ly["k"]), depth_multiplier=ly["m"], **kw)
            y = layer(xs[0])
            _init_weights(layer, rng, depthwise=op == "dw")
        elif op == "mm":
            if ly["mode"] == "self":
                y = L.Lambda(lambda v: t.matmul(v, t.sigmoid(v), transpose_b=True), name=name)(xs[0])
            else:
                c = rng.normal(0, 0.5, (shapes[ly["in"][0]][1], ly["n"])).astype(np.float32)
                y = L.Lambda(lambda v, c=c: t.matmul(v, c), name=name)(xs[0])
        elif op == "lstm":
            layer = L.LSTM(ly["units"], return_sequences=ly["seq"], name=name)
            y = layer(xs[0])
            layer.set_weights([w * ly["gain"] for w in layer.get_weights()])
        elif op == "tconv":
            layer = L.Conv2DTranspose(ly["f"], tuple(ly["k"]), strides=tuple(ly["s"]),
                                      padding=ly["pad"], activation=act, name=name)
            y = layer(xs[0])
            _init_weights(layer, rng)
        elif op == "dense":
            x = xs[0] if len(shapes[ly["in"][0]]) == 1 else L.Flatten(name=name + "_flat")(xs[0])
            layer = L.Dense(ly["units"], activation=act, use_bias=ly.get("bias", True), name=name)
            y = layer(x)
            _init_weights(layer, rng)
        elif op == "pool":
            cls = L.AveragePooling2D if ly["kind"] == "avg" else L.MaxPooling2D
            y = cls(tuple(ly["k"]), strides=tuple(ly["s"]), padding=ly["pad"], name=name)(xs[0])
            if act:                      # the converter fuses it into the pool
                y = L.Activation(act, name=name + "_act")(y)
        elif op == "pad":
            y = L.ZeroPadding2D(tuple(map(tuple, ly["p"])), name=name)(xs[0])
        elif op == "softmax":
            y = L.Softmax(axis=-1, name=name)(xs[0])
        elif op == "sigmoid":
            y = L.Activation("sigmoid", name=name)(xs[0])
        elif op == "mean":
            axes = [a + 1 for a in mean_axes(ly["mode"], len(shapes[ly["in"][0]]))]
            y = L.Lambda(lambda v, a=axes, kd=ly["keep"]: t.reduce_mean(v, axis=a, keepdims=kd),
                         name=name)(xs[0])
        elif op == "reshape":
            y = L.Reshape(shapes[i + 1], name=name)(xs[0])
        elif op == "transpose":
            y = L.Permute(tuple(a + 1 for a in ly["perm"]), name=name)(xs[0])
        elif op == "add":
            y = L.Add(name=name)(xs)
            if act:                      # the converter fuses it into the ADD
                y = L.Activation(act, name=name + "_act")(y)
        elif op == "addc":
            c = rng.normal(0, 0.5, _const_shape(ly["mode"], shapes[ly["in"][0]])).astype(np.float32)
            y = L.Lambda(lambda v, c=c: v + c, name=name)(xs[0])
        elif op == "concat":
            y = L.Concatenate(axis=ly["axis"], name=name)(xs)
        elif op == "act" and ly["kind"] == "prelu":
            layer = L.PReLU(shared_axes=[1, 2] if ly["shared"] else None, name=name)
            y = layer(xs[0])
            layer.set_weights([rng.uniform(-0.6, 1.5, layer.get_weights()[0].shape)
                               .astype(np.float32)])
        elif op == "act":
            y = _keras_act(L, t, ly, name)(xs[0])
        elif op in ("bin", "binc"):
            fn = {"mul": t.multiply, "sub": t.subtract, "max": t.maximum, "min": t.minimum,
                  "sqd": t.math.squared_difference}[ly["kind"]]
            if op == "bin":
                y = L.Lambda(lambda v, f=fn: f(v[0], v[1]), name=name)(xs)
            else:
                c = rng.normal(0, 0.8, _const_shape(ly["mode"], shapes[ly["in"][0]])).astype(np.float32)
                y = L.Lambda(lambda v, f=fn, c=c: f(v, c), name=name)(xs[0])
            if act:                      # fused into MUL / SUB by the converter
                y = L.Activation(act, name=name + "_act")(y)
        elif op == "slice":
            sl = tuple(slice(*a) for a in ly["sl"])
            y = L.Lambda(lambda v, sl=sl: v[(slice(None),) + sl], name=name)(xs[0])
        elif op == "split":
            y = L.Lambda(lambda v, a=ly["axis"] + 1, n=ly["sizes"]:
                         t.concat(t.split(v, n, axis=a)[::-1], axis=a), name=name)(xs[0])
        elif op == "unstack":
            y = L.Lambda(lambda v, a=ly["axis"] + 1:
                         t.stack(t.unstack(v, axis=a)[::-1], axis=a), name=name)(xs[0])
        elif op == "gather":
            y = L.Lambda(lambda v, a=ly["axis"] + 1, i=list(ly["idx"]): t.gather(v, i, axis=a),
                         name=name)(xs[0])
        elif op == "resize":
            size, how = tuple(ly["size"]), ly["how"]
            y = L.Lambda(lambda v, sz=size, hw=how: _resize(t, v, sz, hw), name=name)(xs[0])
        else:
            raise SpecError(f"unknown op {op}")
        nodes.append(y)
    return k.Model(nodes[0], nodes[-1], name="fz")


def _resize(t, v, size, how: str):
    """tf2: tf.image.resize (half-pixel centres); v1: TF1 corners; align: aligned corners."""
    method = "bilinear" if how.startswith("bilinear") else "nearest"
    style = how.split("_")[1] if "_" in how else ("tf2" if how == "bilinear" else how)
    if style == "tf2":
        return t.image.resize(v, size, method)
    fn = t.compat.v1.image.resize_bilinear if method == "bilinear" else \
        t.compat.v1.image.resize_nearest_neighbor
    return fn(v, size, align_corners=style == "align")


def _keras_act(L, t, ly: dict, name: str):
    kind = ly["kind"]
    if kind == "relu":
        return L.ReLU(name=name)
    if kind == "relu6":
        return L.ReLU(6.0, name=name)
    if kind == "leaky":
        return L.LeakyReLU(ly["alpha"], name=name)
    if kind == "tanh":
        return L.Activation("tanh", name=name)
    return L.Lambda(lambda v: v * t.nn.relu6(v + 3.0) / 6.0, name=name)   # -> HARD_SWISH


def _converter_id() -> str:
    """Hash of the conversion code (harness + the tinyml modules it may call), so the
    cache never serves a .tflite made by an older converter setup."""
    import importlib.util
    h = hashlib.sha256()
    for mod in ("aot_harness", "tinyml.compress.quantize", "tinyml.train.reference", "tinyml.core.tfcompat"):
        try:
            spec = importlib.util.find_spec(mod)
        except ModuleNotFoundError:
            spec = None
        if spec is not None and spec.origin:
            h.update(mod.encode() + Path(spec.origin).read_bytes())
    return h.hexdigest()[:16]


def spec_to_tflite(spec: dict, cache: bool = True) -> bytes:
    """Full-int8 .tflite through the real TFLiteConverter, dilations patched in.
    Cached on disk by spec (the converter is the slow part; compile/run never are)."""
    from tinyml.core.tfcompat import keras, tf
    key = hashlib.sha256(json.dumps([GEN_VERSION, tf().__version__, _converter_id(), spec],
                                    sort_keys=True).encode()).hexdigest()[:24]
    path = _CACHE / f"{key}.tflite"
    if cache and path.exists():
        return path.read_bytes()
    from aot_harness import patch_op_options, to_int8_tflite
    from tinyml.codegen.aot.reader import read_tflite
    keras().backend.clear_session()          # keeps graph building fast over many models
    model = build_keras(spec)
    lo, hi = spec["range"]
    rep = np.random.default_rng([spec["seed"], 2]).uniform(lo, hi, (8, *spec["input"]))
    tfl = to_int8_tflite(model, rep.astype(np.float32), dense_per_channel=spec.get("dense_pc"))
    for i, ly in enumerate(spec["layers"]):
        if ly["op"] in ("conv", "dw") and list(ly.get("dil", [1, 1])) != [1, 1]:
            name = f"l{i}_{ly['op']}"
            # The op's output may be renamed (model output, folded ops); its filter is not.
            idx = [op.index for op in read_tflite(tfl).ops if op.builtin in CONVS
                   and op.inputs[1].name.split(";")[0].split("/")[1:2] == [name]]
            if len(idx) != 1:
                raise SpecError(f"dilated layer {name}: found {len(idx)} conv ops")
            tfl = patch_op_options(tfl, idx[0], dilationHFactor=ly["dil"][0],
                                   dilationWFactor=ly["dil"][1])
    if cache:
        _CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(tfl)
        tmp.replace(path)
    return tfl


# --- inputs shared by host and device -----------------------------------------------

_M32 = 0xFFFFFFFF


def _fmix32(h: np.ndarray) -> np.ndarray:
    """murmur3 finalizer on uint64 arrays holding uint32 values (same as fz_mix in C)."""
    h = h ^ (h >> 16)
    h = (h * 0x85EBCA6B) & _M32
    h = h ^ (h >> 13)
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


def fuzz_inputs(nbytes: int, seed: int, n: int = N_INPUTS) -> np.ndarray:
    """(n, nbytes) int8: all -128, all 127, then hash(seed, i, j) >> 24."""
    s = seed & _M32
    i = np.arange(n, dtype=np.uint64)[:, None]
    j = np.arange(nbytes, dtype=np.uint64)[None, :]
    h = _fmix32((s * 0x9E3779B1 + i * 0x85EBCA77 + j) & _M32)
    x = (h >> 24).astype(np.uint8).view(np.int8)
    x[0], x[1] = -128, 127
    return x


# --- the check ----------------------------------------------------------------------

@dataclass
class FuzzResult:
    status: str                        # "ok" | "mismatch" | "error" | "invalid" (TFLM cannot run it)
    spec: dict | None = None
    stage: str = ""                    # error: convert/compile/gcc/run/crash; mismatch: host/dsp
    detail: str = ""
    ops: list = field(default_factory=list)
    features: dict = field(default_factory=dict)
    seconds: float = 0.0
    # kept (keep=True) for the QEMU runner and for regression files
    tflite: bytes | None = None
    files: dict | None = None
    in_bytes: int = 0
    out_bytes: int = 0
    arena_bytes: int = 0
    weights_bytes: int = 0
    ref_crcs: list | None = None

    @property
    def kind(self) -> tuple[str, str]:
        """What failed, for the shrinker: a candidate must fail the same way."""
        return self.status, self.stage

    def summary(self) -> str:
        shapes = ""
        if self.spec:
            try:
                shapes = " shapes " + " -> ".join("x".join(map(str, s)) for s in node_shapes(self.spec))
            except SpecError:
                pass
        detail = " ".join(self.detail.split())      # one line (errors carry hints)
        return f"{self.status}/{self.stage} seed {self.spec and self.spec.get('seed')}: " \
               f"{detail} ops {self.ops}{shapes}"


def graph_features(res) -> Counter:
    """What a compiled model exercises (counted on the real .tflite graph, so the
    coverage assertions cannot be fooled by the generator's intentions)."""
    f: Counter = Counter()
    g, plan = res.graph, res.plan
    producer = {t.index: op for op in g.ops for t in op.outputs}
    acts = {t.index: t for op in g.ops for t in op.outputs} | {t.index: t for t in g.inputs}
    for op in g.ops:
        b, o = op.builtin, op.options
        f["op_" + b] += 1
        x, y = op.inputs[0], op.outputs[0]
        if b in CONVS:
            _, kh, kw, _ = op.inputs[1].shape
            f["stride2"] += max(o.get("stride_h", 1), o.get("stride_w", 1)) > 1
            f["dilation"] += max(o.get("dilation_h", 1), o.get("dilation_w", 1)) > 1
            f["nonsquare_kernel"] += kh != kw
            f["kernel5"] += max(kh, kw) == 5
            f["pad_" + o.get("padding", "SAME").lower()] += 1
            f["act_" + o.get("fused_activation", "NONE").lower()] += 1
            if b == "DEPTHWISE_CONV_2D":
                f["depth_mult_gt1"] += y.shape[3] > x.shape[3]
            elif kh == kw == 1 and y.shape[3] > x.shape[3]:
                f["conv1x1_expand"] += 1
                src = producer.get(x.index)
                if src is not None and src.builtin == "DEPTHWISE_CONV_2D" and 1 in x.shape[1:3]:
                    f["dw_then_1x1_expand_w1"] += 1      # the reported bug's family
        if b in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            f["pool_fused_act"] += o.get("fused_activation", "NONE") != "NONE"
        if b == "FULLY_CONNECTED":
            f["fc_per_channel" if op.inputs[1].scale.size > 1 else "fc_per_tensor"] += 1
        if b == "ADD":
            ins = [t for t in op.inputs if t is not None]
            f["add_const" if any(t.is_const for t in ins) else
              "add_broadcast" if ins[0].shape != ins[1].shape else "add_residual"] += 1
            f["act_" + o.get("fused_activation", "NONE").lower()] += 1
        if b == "CONCATENATION":
            f["concat_inputs3"] += len(op.inputs) >= 3
    for t in acts.values():
        if len(t.shape) == 4:
            f["width1"] += t.shape[2] == 1 and t.shape[1] > 1
            f["height1"] += t.shape[1] == 1 and t.shape[2] > 1
            f["chan1"] += t.shape[3] == 1
            f["odd_chan"] += t.shape[3] % 2 == 1
    if plan is not None:                     # partial in-place placements of the planner
        offs = plan.tensor_offsets
        f["reverse_op"] += len(getattr(plan, "reverse_ops", ()) or ())
        for op in g.ops:
            y = op.outputs[0]
            for x in op.inputs:
                if x is None or x.is_const or x.index not in offs or y.index not in offs:
                    continue
                a, b = offs[y.index], offs[x.index]
                if a != b and a < b + x.nbytes and b < a + y.nbytes:
                    f["partial_overlap"] += 1
    return f


def _run_host(exe: Path, x: np.ndarray, out_bytes: int) -> np.ndarray:
    proc = subprocess.run([str(exe), str(len(x))], input=x.tobytes(), capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return np.frombuffer(proc.stdout, np.int8).reshape(len(x), out_bytes)


def tflm_outputs(tfl: bytes, x: np.ndarray) -> np.ndarray:
    from aot_harness import run_tflm
    from tinyml.codegen.aot.reader import read_tflite
    shape = read_tflite(tfl).inputs[0].shape
    return run_tflm(tfl, x.reshape(len(x), *shape[1:])).reshape(len(x), -1)


def tflm_outputs_forked(tfl: bytes, x: np.ndarray, out_bytes: int) -> np.ndarray:
    """tflm_outputs() in a forked child: the TFLM host runtime aborts the whole
    process on some models (no exception), which would kill a pool worker."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:                              # child: only numpy + TFLM, then _exit
        code = 0
        try:
            os.close(rfd)
            data = tflm_outputs(tfl, x).astype(np.int8).tobytes()
            with os.fdopen(wfd, "wb") as f:
                f.write(data)
        except BaseException:
            code = 3
        os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise RuntimeError(f"TFLM host runtime crashed (signal {os.WTERMSIG(status)})")
    if os.WEXITSTATUS(status) != 0 or len(data) != len(x) * out_bytes:
        raise RuntimeError("TFLM host runtime failed (exception in invoke)")
    return np.frombuffer(data, np.int8).reshape(len(x), out_bytes)


def diff_detail(ours: np.ndarray, ref: np.ndarray) -> str:
    d = np.argwhere(ours != ref)
    i, j = d[0]
    names = {0: "all -128", 1: "all 127"}
    bad = sorted({int(r) for r in d[:, 0]})
    return (f"{len(d)} of {ref.size} bytes differ (inputs {[names.get(b, f'random {b}') for b in bad]}); "
            f"first input {i} byte {j}: aot {ours[i, j]} tflm {ref[i, j]}")


_WORKDIR: Path | None = None


def check_tflite(tfl: bytes, input_seed: int, host: bool = True, keep: bool = False,
                 spec: dict | None = None) -> FuzzResult:
    """Run TFLM (the reference) and the AOT compiler + host gcc build on fuzz_inputs(),
    compare byte for byte. With host=False only the TFLM reference CRCs are computed
    (for run_dsp). An AOT refusal (UnsupportedOpError/ModelError) or crash is an error,
    never a skip. A model the TFLM host runtime itself cannot run, or whose TFLM
    arithmetic is undefined (UNDEFINED_IN_TFLM), has no reference: status "invalid"
    (the detail says what AOT did with it)."""
    global _WORKDIR
    from aot_harness import build_with_lib
    from tinyml.codegen.aot import compile_tflite
    from tinyml.codegen.aot.reader import read_tflite
    r = FuzzResult("ok", spec=spec, tflite=tfl if keep else None)
    g = read_tflite(tfl)
    r.in_bytes, r.out_bytes = g.inputs[0].nbytes, g.outputs[0].nbytes
    x = fuzz_inputs(r.in_bytes, input_seed)
    try:
        res, aot = compile_tflite(tfl, "fuzz"), "compiles"
    except Exception as e:                   # refusal or a crash of the compiler itself
        res, aot = None, f"{type(e).__name__}: {e}"
    try:
        ref = tflm_outputs_forked(tfl, x, r.out_bytes)
    except Exception as e:
        r.status, r.stage, r.detail = "invalid", "tflm", f"{e}; AOT: {aot}"
        return r
    if res is None:
        from tinyml.codegen.aot.ops.base import UNDEFINED_IN_TFLM
        # no defined reference: TFLM's own arithmetic would be undefined behaviour
        r.status, r.stage, r.detail = ("invalid", "tflm-ub", aot) if UNDEFINED_IN_TFLM in aot \
            else ("error", "compile", aot)
        return r
    r.ops = list(res.ops)
    r.features = dict(graph_features(res))
    r.arena_bytes, r.weights_bytes = res.peak_ram_bytes, res.weights_bytes
    if keep:
        r.files = dict(res.files)
        r.ref_crcs = [zlib.crc32(row.tobytes()) for row in ref]
    if not host:
        return r
    if _WORKDIR is None:
        _WORKDIR = Path(tempfile.mkdtemp(prefix="tm_aot_fuzz_"))
        atexit.register(shutil.rmtree, _WORKDIR, True)
    try:
        exe = build_with_lib(res, _WORKDIR)
    except AssertionError as e:
        r.status, r.stage, r.detail = "error", "gcc", str(e)[-1500:]
        return r
    try:
        ours = _run_host(exe, x, r.out_bytes)
    except Exception as e:
        r.status, r.stage, r.detail = "error", "run", str(e)
        return r
    if not np.array_equal(ours, ref):
        r.status, r.stage, r.detail = "mismatch", "host", diff_detail(ours, ref)
    return r


def input_seed(spec: dict) -> int:
    return (spec["seed"] * 2654435761 + 0x5EED) & _M32


def check_spec(spec: dict, host: bool = True, keep: bool = False, cache: bool = True) -> FuzzResult:
    """The full differential check of one spec (spec -> .tflite -> check_tflite)."""
    t0 = time.perf_counter()
    try:
        node_shapes(spec)
        tfl = spec_to_tflite(spec, cache=cache)
    except Exception as e:
        return FuzzResult("error", spec, "convert", f"{type(e).__name__}: {str(e)[:800]}",
                          seconds=time.perf_counter() - t0)
    r = check_tflite(tfl, input_seed(spec), host=host, keep=keep, spec=spec)
    r.seconds = time.perf_counter() - t0
    return r


# --- worker processes ---------------------------------------------------------------

def _worker_init() -> None:
    """Import TF once per worker; silence the converter's C++ chatter (fd 1 and 2:
    results travel back through the pool's pipes, not stdout)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    import warnings
    warnings.filterwarnings("ignore")
    from tinyml.core.tfcompat import keras
    keras()


_POOL: ProcessPoolExecutor | None = None
_POOL_N = 0


def _pool(workers: int) -> ProcessPoolExecutor:
    global _POOL, _POOL_N
    if _POOL is None or _POOL_N != workers:
        shutdown_pool()
        import multiprocessing as mp
        # spawn: the parent may already hold TF threads (fork would be unsafe).
        _POOL = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                    initializer=_worker_init)
        _POOL_N = workers
    return _POOL


def shutdown_pool() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(cancel_futures=True)
        _POOL = None


atexit.register(shutdown_pool)


def run_specs(specs: list[dict], host: bool = True, keep: bool = False, workers: int = 2,
              progress: Callable[[int, int, FuzzResult], None] | None = None) -> list[FuzzResult]:
    """check_spec over many specs in `workers` reused processes; results in order.
    A worker that dies (e.g. a crash inside TFLM) breaks the pool: the unfinished specs
    are retried one at a time, and a spec that kills a worker alone is an error."""
    from concurrent.futures import as_completed
    results: list[FuzzResult | None] = [None] * len(specs)
    pending = list(range(len(specs)))
    solo = False
    done = 0
    while pending:
        batch = pending[:1] if solo else pending
        pool = _pool(workers)
        futs = {pool.submit(check_spec, specs[i], host, keep): i for i in batch}
        try:
            for fut in as_completed(futs):
                i = futs[fut]
                results[i] = fut.result()
                pending.remove(i)
                done += 1
                if progress:
                    progress(done, len(specs), results[i])
        except BrokenProcessPool:
            shutdown_pool()
            if solo:                         # this spec alone killed the worker
                i = batch[0]
                results[i] = FuzzResult("error", specs[i], "crash", "worker process died")
                pending.remove(i)
                done += 1
                if progress:
                    progress(done, len(specs), results[i])
            solo = True
    return results  # type: ignore[return-value]


# --- Cortex-M4 (DSP path) in QEMU, many models per image ----------------------------

_MAIN_C = r"""/* generated by tests/host/aot_fuzz.py: fuzz models on inputs generated here. */
#include <stdint.h>

#include "tm_aot.h"
#include "tm_port.h"

typedef int (*fz_invoke_t)(const int8_t *in, int8_t *out);
%(decls)s
typedef struct { fz_invoke_t invoke; uint32_t id, in_bytes, out_bytes, seed; } fz_model_t;
static const fz_model_t fz_models[] = {
%(table)s
};
static int8_t fz_in[%(max_in)d] TM_AOT_ALIGNED(16);
static int8_t fz_out[%(max_out)d] TM_AOT_ALIGNED(16);

/* murmur3 fmix32: the same input bytes as aot_fuzz.fuzz_inputs() on the host. */
static uint32_t fz_mix(uint32_t h)
{
    h ^= h >> 16; h *= 0x85EBCA6Bu; h ^= h >> 13; h *= 0xC2B2AE35u; h ^= h >> 16;
    return h;
}

/* zlib crc32: the host compares it with zlib.crc32 of TFLM's output. */
static uint32_t fz_crc32(const int8_t *p, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu, i;
    int b;
    for (i = 0; i < n; ++i) {
        c ^= (uint8_t)p[i];
        for (b = 0; b < 8; ++b) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void put(const char *s) { while (*s != '\0') tm_port_putc(*s++); }

static void put_u32(uint32_t v)
{
    char buf[12];
    int n = 0;
    do { buf[n++] = (char)('0' + (int)(v %% 10u)); v /= 10u; } while (v != 0u);
    while (n > 0) tm_port_putc(buf[--n]);
}

static void put_hex32(uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    int s;
    for (s = 28; s >= 0; s -= 4) tm_port_putc(hex[(v >> s) & 15u]);
}

int main(void)
{
    uint32_t k, i, j;
    tm_port_init();
    put("fz-path " TM_AOT_KERNEL_PATH "\r\n");
    for (k = 0; k < sizeof fz_models / sizeof fz_models[0]; ++k) {
        const fz_model_t *m = &fz_models[k];
        put("fz-start "); put_u32(m->id); put("\r\n");
        for (i = 0; i < %(n_inputs)du; ++i) {
            for (j = 0; j < m->in_bytes; ++j) {
                fz_in[j] = i == 0u ? (int8_t)-128 : i == 1u ? (int8_t)127
                         : (int8_t)(fz_mix(m->seed * 0x9E3779B1u + i * 0x85EBCA77u + j) >> 24);
            }
            (void)m->invoke(fz_in, fz_out);
            put("fz "); put_u32(m->id); put(" "); put_u32(i); put(" ");
            put_hex32(fz_crc32(fz_out, m->out_bytes)); put("\r\n");
        }
    }
    put("fz-done\r\n");
    return 0;
}
"""

RAM_BUDGET = 3 << 20            # of the 4 MiB RAM (stack, in/out buffers need the rest)
FLASH_BUDGET = 5 << 19          # 2.5 MiB of weights per image (code and params on top)
MAX_PER_IMAGE = 64


def _emu():
    sys.path.insert(0, str(HERE.parent / "emu"))
    import aot_qemu
    return aot_qemu


def _arm_cc(args: list[str]) -> None:
    a = _emu()
    cmd = ["arm-none-eabi-gcc", *a.ARM_FLAGS, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"arm-none-eabi-gcc failed:\n{' '.join(cmd)}\n{proc.stderr[-2000:]}")


def _arm_common_objs(flags: tuple[str, ...] = ()) -> list[Path]:
    """Kernels + port + startup for Cortex-M4F, compiled once (content-hashed dir).
    `flags`: extra compiler flags, e.g. -DTM_AOT_FORCE_PORTABLE for the reference kernels."""
    from tinyml.codegen.aot import RUNTIME_DIR
    a = _emu()
    srcs = sorted(RUNTIME_DIR.glob("tm_k_*.c")) + [a.PORT / "tm_startup.c", a.PORT / "tm_port_qemu.c"]
    h = hashlib.sha256(" ".join(a.ARM_FLAGS + list(flags)).encode())
    for p in srcs + sorted(RUNTIME_DIR.glob("*.h")) + sorted(a.PORT.parent.glob("*.h")):
        h.update(p.name.encode() + p.read_bytes())
    out = Path(tempfile.gettempdir()) / "tm_aot_host_builds" / f"arm_{h.hexdigest()[:16]}"
    objs = [out / (s.stem + ".o") for s in srcs]
    if all(o.exists() for o in objs):
        return objs
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="arm_", dir=out.parent))
    for s in srcs:
        _arm_cc([*flags, f"-I{RUNTIME_DIR}", f"-I{RUNTIME_DIR.parent}", f"-I{a.PORT.parent}",
                 "-c", str(s), "-o", str(tmp / (s.stem + ".o"))])
    try:
        tmp.rename(out)                  # atomic publish; a parallel build may have won
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return objs


def _arm_model_obj(r: FuzzResult, k: int, workdir: Path, flags: tuple[str, ...] = ()) -> Path:
    """One generated model as an object whose API symbols carry the suffix _<k>, so
    many models link into one image (each keeps its own static arena)."""
    from tinyml.codegen.aot import RUNTIME_DIR
    a = _emu()
    d = workdir / f"m{k}"
    d.mkdir(parents=True, exist_ok=True)
    for name, text in (r.files or {}).items():
        (d / name).write_text(text)
    ren = [f"-D{s}={s}_{k}" for s in ("tm_model_invoke", "tm_model_input", "tm_model_output",
                                     "tm_model_op_names")]
    obj = workdir / f"m{k}.o"
    _arm_cc([*flags, *ren, f"-I{d}", f"-I{RUNTIME_DIR}", f"-I{RUNTIME_DIR.parent}", f"-I{a.PORT.parent}",
             "-c", str(d / "tm_aot_model.c"), "-o", str(obj)])
    return obj


def _run_image(items: list[tuple[int, FuzzResult, Path]], workdir: Path, timeout: float,
               flags: tuple[str, ...] = ()) -> tuple[dict[int, list[int]], int | None, str]:
    """Link and run one image. Returns ({k: crcs} of models that finished, the model
    that started but did not finish (crash/timeout) or None, QEMU output tail)."""
    from tinyml.codegen.aot import RUNTIME_DIR
    a = _emu()
    decls = "\n".join(f"int tm_model_invoke_{k}(const int8_t *in, int8_t *out);" for k, _, _ in items)
    table = ",\n".join(f"    {{tm_model_invoke_{k}, {k}u, {r.in_bytes}u, {r.out_bytes}u, "
                       f"{input_seed(r.spec)}u}}" for k, r, _ in items)
    main = workdir / "fz_main.c"
    main.write_text(_MAIN_C % dict(decls=decls, table=table, n_inputs=N_INPUTS,
                                   max_in=max(r.in_bytes for _, r, _ in items),
                                   max_out=max(r.out_bytes for _, r, _ in items)))
    elf = workdir / "fz.elf"
    _arm_cc([*flags, f"-I{RUNTIME_DIR}", f"-I{RUNTIME_DIR.parent}", f"-I{a.PORT.parent}", str(main),
             *[str(o) for _, _, o in items], *map(str, _arm_common_objs(flags)),
             "-nostartfiles", "--specs=nosys.specs", "-Wl,--gc-sections",
             f"-T{a.PORT / 'mps2_an386.ld'}", "-o", str(elf)])
    try:
        proc = subprocess.run(
            ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
             "-serial", "stdio", "-semihosting-config", "enable=on,target=native",
             "-kernel", str(elf)],            # no -icount: only bytes matter, not timing
            capture_output=True, text=True, timeout=timeout)
        text = proc.stdout
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
    want = "portable" if "-DTM_AOT_FORCE_PORTABLE" in flags else "dsp"
    if f"fz-path {want}" not in text:
        raise AssertionError(f"the Cortex-M4 image did not run the {want} kernel path:\n{text[-1000:]}")
    crcs: dict[int, dict[int, int]] = {}
    for k, i, c in re.findall(r"^fz (\d+) (\d+) ([0-9a-f]{8})\r?$", text, re.M):
        crcs.setdefault(int(k), {})[int(i)] = int(c, 16)
    finished = {k: [v[i] for i in range(N_INPUTS)] for k, v in crcs.items() if len(v) == N_INPUTS}
    started = [int(k) for k in re.findall(r"^fz-start (\d+)", text, re.M)]
    stuck = None if "fz-done" in text else next((k for k in started if k not in finished), None)
    return finished, stuck, text[-600:]


def _dsp_detail(r: FuzzResult, flags: tuple[str, ...] = ()) -> str:
    """Full byte diff of one DSP mismatch (one single-model QEMU run)."""
    from types import SimpleNamespace
    a = _emu()
    x = fuzz_inputs(r.in_bytes, input_seed(r.spec))
    y, _, _ = a.run_model_qemu(SimpleNamespace(files=r.files), x, timeout=300, extra_flags=flags)
    return diff_detail(y.reshape(len(x), -1), tflm_outputs(r.tflite, x))


def run_dsp(results: list[FuzzResult], jobs: int = 2, timeout: float = 600, detail: bool = True,
            progress: Callable[[str], None] | None = None,
            flags: tuple[str, ...] = ()) -> list[FuzzResult]:
    """The DSP (SMLAD) path of every compiled model of `results` (from
    run_specs(keep=True)) on a Cortex-M4F in QEMU, many models per image (with
    flags=("-DTM_AOT_FORCE_PORTABLE",): the portable reference kernels). Returns one
    FuzzResult per input result: ok / mismatch (stage dsp) / error (not compiled on the
    host, arm-gcc failure, or a crash/timeout on the device)."""
    out: list[FuzzResult] = []
    todo: list[tuple[int, FuzzResult]] = []
    for n, r in enumerate(results):
        base = FuzzResult("ok", r.spec, "", ops=r.ops, features=r.features, tflite=r.tflite,
                          files=r.files, in_bytes=r.in_bytes, out_bytes=r.out_bytes)
        out.append(base)
        if r.files is None or r.ref_crcs is None:   # no C or no TFLM reference
            base.status, base.stage = ("invalid" if r.status == "invalid" else "error"), r.stage
            base.detail = f"not run: {r.detail}"
        else:
            todo.append((n, r))
    workdir = Path(tempfile.mkdtemp(prefix="tm_aot_fuzz_arm_"))
    try:
        _arm_common_objs(flags)
        objs: dict[int, Path] = {}

        def compile_one(item):
            n, r = item
            try:
                objs[n] = _arm_model_obj(r, n, workdir, flags)
            except AssertionError as e:
                out[n].status, out[n].stage, out[n].detail = "error", "arm-gcc", str(e)[-1500:]

        with ThreadPoolExecutor(jobs) as ex:
            list(ex.map(compile_one, todo))
        queue = [(n, r) for n, r in todo if n in objs]
        while queue:
            images, cur, ram, flash = [], [], 0, 0
            for n, r in queue:             # pack models into images by RAM/flash budget
                if cur and (ram + r.arena_bytes > RAM_BUDGET or flash + r.weights_bytes > FLASH_BUDGET
                            or len(cur) >= MAX_PER_IMAGE):
                    images.append(cur)
                    cur, ram, flash = [], 0, 0
                cur.append((n, r, objs[n]))
                ram, flash = ram + r.arena_bytes, flash + r.weights_bytes
            images.append(cur)
            if progress:
                progress(f"dsp: {len(queue)} models in {len(images)} images")

            def run_one(b):
                d = workdir / f"img{b}_{time.monotonic_ns()}"
                d.mkdir()
                return _run_image(images[b], d, timeout, flags)

            with ThreadPoolExecutor(jobs) as ex:
                runs = list(ex.map(run_one, range(len(images))))
            queue = []
            for items, (finished, stuck, tail) in zip(images, runs):
                for n, r, _ in items:
                    if n in finished:
                        if finished[n] != r.ref_crcs:
                            out[n].status, out[n].stage = "mismatch", "dsp"
                            bad = [i for i, (p, q) in enumerate(zip(finished[n], r.ref_crcs)) if p != q]
                            out[n].detail = f"output CRC differs for inputs {bad}"
                    elif n == stuck or stuck is None:
                        out[n].status, out[n].stage = "error", "dsp-crash"
                        out[n].detail = f"no output on the device (crash or timeout): {tail[-300:]}"
                    else:
                        queue.append((n, r))   # after the crash: run again in a new image
        if detail:
            for r in out:
                if r.status == "mismatch":
                    try:
                        r.detail = _dsp_detail(r, flags)
                    except Exception as e:  # keep the CRC detail
                        r.detail += f" (detail run failed: {e})"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def check_specs_dsp(specs: list[dict], workers: int = 2) -> list[FuzzResult]:
    """DSP path of specs: convert + compile in the workers, then QEMU."""
    return run_dsp(run_specs(specs, host=False, keep=True, workers=workers), jobs=workers)


# --- shrinker -----------------------------------------------------------------------

def _remove_layer(spec: dict, i: int, via: int = 0) -> dict:
    """Spec without layer i: its readers read its input `via` instead."""
    layers = spec["layers"]
    src = layers[i]["in"][via]
    new = []
    for n, ly in enumerate(layers):
        if n == i:
            continue
        ins = [src if j == i + 1 else j - 1 if j > i + 1 else j for j in ly["in"]]
        new.append(dict(ly, **{"in": ins}))
    return prune(dict(spec, layers=new))


def _smaller(v: int) -> list[int]:
    return sorted({max(1, v // 2), v - 1} - {v}, reverse=False) if v > 1 else []


def candidates(spec: dict) -> Iterable[dict]:
    """Simplifications of a spec, most reducing first: drop layers, shrink the input,
    then shrink each layer's sizes and turn features off."""
    layers = spec["layers"]
    for i in range(len(layers) - 1, -1, -1):
        for via in range(len(layers[i]["in"])):
            if len(layers) > 1:
                yield _remove_layer(spec, i, via)
    for d in range(len(spec["input"])):
        for v in _smaller(spec["input"][d]):
            inp = list(spec["input"])
            inp[d] = v
            yield dict(spec, input=inp)
    for i, ly in enumerate(layers):
        def put(**kw):
            new = list(layers)
            new[i] = dict(ly, **kw)
            return dict(spec, layers=new)
        for f in ("f", "units", "m"):
            if f in ly:
                for v in _smaller(ly[f]):
                    yield put(**{f: v})
        for f in ("k", "s", "dil"):
            if f in ly:
                for d in range(2):
                    for v in _smaller(ly[f][d]):
                        vv = list(ly[f])
                        vv[d] = v
                        yield put(**{f: vv})
        if ly.get("act", "none") != "none":
            yield put(act="none")
        if "p" in ly:
            for a in range(2):
                for b in range(2):
                    if ly["p"][a][b]:
                        p = [list(q) for q in ly["p"]]
                        p[a][b] = 0
                        yield put(p=p)
        if ly["op"] == "concat" and len(ly["in"]) > 2:
            for j in range(len(ly["in"])):
                yield prune(put(**{"in": ly["in"][:j] + ly["in"][j + 1:]}))
        if ly.get("pad") == "valid":
            yield put(pad="same")
    if spec["range"] != [-1.0, 1.0]:
        yield dict(spec, range=[-1.0, 1.0])


def shrink(spec: dict, fails: Callable[[list[dict]], list[bool]], batch: int = 2,
           max_checks: int = 300, log: Callable[[str], None] | None = None) -> dict:
    """Greedy minimisation: take the first candidate (in candidates() order) that
    still fails, repeat until none does. `fails` judges a list of specs at once so the
    candidates can be checked `batch` at a time in parallel workers."""
    best, checks = spec, 0
    while checks < max_checks:
        cands = [c for c in candidates(best) if spec_ok(c) and c != best]
        found = None
        for s in range(0, len(cands), batch):
            chunk = cands[s:s + batch]
            checks += len(chunk)
            hit = [c for c, bad in zip(chunk, fails(chunk)) if bad]
            if hit:
                found = hit[0]
                break
            if checks >= max_checks:
                break
        if found is None:
            break
        best = found
        if log:
            log(f"shrink: {len(best['layers'])} layers, input {best['input']} ({checks} checks)")
    return best


def same_failure(original: FuzzResult, dsp: bool = False, workers: int = 2
                 ) -> Callable[[list[dict]], list[bool]]:
    """Predicate for shrink(): a candidate fails like `original` (same status, stage)."""
    def fails(specs: list[dict]) -> list[bool]:
        rs = check_specs_dsp(specs, workers) if dsp else run_specs(specs, workers=workers)
        return [r.kind == original.kind for r in rs]
    return fails


def save_regression(result: FuzzResult, original: dict | None = None, name: str | None = None,
                    directory: Path = REGRESSION_DIR, note: str = "") -> Path:
    """tests/host/aot_regressions/<name>.json: the (shrunk) spec, its .tflite (so the
    replay does not depend on the converter version), and what failed."""
    spec = result.spec
    tfl = result.tflite or spec_to_tflite(spec)
    if name is None:
        kinds = "-".join(dict.fromkeys(o.lower().replace("_2d", "").replace("depthwise_conv", "dw")
                                       for o in result.ops if o != "RESHAPE"))[:40]
        name = f"{result.stage}-{kinds}-{hashlib.sha256(tfl).hexdigest()[:6]}"
    from importlib.metadata import version
    doc = {"name": name, "status": result.status, "stage": result.stage, "detail": result.detail,
           "ops": result.ops, "shapes": [list(s) for s in node_shapes(spec)], "note": note,
           "seed": spec["seed"], "spec": spec, "original_spec": original,
           "tf_version": version("tensorflow"), "tflite_b64": base64.b64encode(tfl).decode()}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(dump_doc(doc))
    return path


def dump_doc(doc: dict) -> str:
    """JSON with one top-level key per line (readable diffs, compact values)."""
    return "{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in doc.items()) + "\n}\n"


def load_regressions(directory: Path = REGRESSION_DIR) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


def replay(doc: dict, keep: bool = False) -> FuzzResult:
    """Check a regression case on its stored .tflite (no TensorFlow needed)."""
    tfl = base64.b64decode(doc["tflite_b64"])
    return check_tflite(tfl, input_seed(doc["spec"]), keep=keep, spec=doc["spec"])


def coverage(results: list[FuzzResult]) -> Counter:
    """Number of models that exercise each feature at least once."""
    c: Counter = Counter()
    for r in results:
        c.update(k for k, v in r.features.items() if v)
    return c
