"""Teacher and student architectures, and their cost (params, MACs, int8 bytes).

Students use only layers every MCU runtime has int8 kernels for: Conv2D,
DepthwiseConv2D, 1x1 Conv2D, average/max pooling, Dense and ReLU. BatchNorm is
used while training and folded into the preceding conv by the TFLite converter.
All models output logits; a Softmax is appended only for deployment.

Layer names are kept short on purpose: the converter copies them into tensor
names inside the .tflite, and on a 10 KB model long names cost real bytes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..core import tfcompat
from ..core.errors import ConfigError

STUDENT_ARCHS = ("dscnn", "cnn", "mlp")


@dataclass(frozen=True)
class StudentSpec:
    """One point of a student family: `width` channels/units, `depth` blocks."""

    arch: str
    width: int
    depth: int

    def as_dict(self) -> dict[str, Any]:
        return {"arch": self.arch, "width": self.width, "depth": self.depth}


# -- teacher ---------------------------------------------------------------
def build_teacher(input_shape: tuple[int, ...], num_classes: int, cfg: Any) -> Any:
    """A plain CNN (image-like input) or MLP (feature vectors) from a TeacherConfig,
    or with arch "dscnn" the KWS DS-CNN (`build_kws_dscnn`)."""
    if getattr(cfg, "arch", "cnn") == "dscnn":
        return build_kws_dscnn(input_shape, num_classes, cfg.filters, cfg.dropout)
    k = tfcompat.keras()
    L = k.layers
    inp = k.Input(shape=input_shape, name="x")
    x = inp
    if len(input_shape) == 3:
        shift = getattr(cfg, "augment_shift", 0.0)
        if shift > 0:  # active only in training; the teacher's logits for distillation are clean
            x = L.RandomTranslation(shift, shift, fill_mode="constant", name="augment")(x)
        for i, f in enumerate(cfg.filters):
            for j in range(2):
                x = L.Conv2D(f, 3, padding="same", use_bias=False, name=f"c{i}{j}")(x)
                x = L.BatchNormalization(name=f"b{i}{j}")(x)
                x = L.ReLU(name=f"r{i}{j}")(x)
            if x.shape[1] >= 2 and x.shape[2] >= 2:
                x = L.MaxPooling2D(2, name=f"p{i}")(x)
        x = L.Flatten(name="f")(x)
    elif len(input_shape) == 1:
        for i, f in enumerate(cfg.filters):
            x = L.Dense(f * 4, name=f"h{i}")(x)
            x = L.ReLU(name=f"r{i}")(x)
    else:
        raise ConfigError(f"teacher: input shape {input_shape} is neither HxWxC nor a feature vector")
    x = L.Dropout(cfg.dropout, name="d0")(x)
    x = L.Dense(cfg.dense, name="fc")(x)
    x = L.ReLU(name="rfc")(x)
    x = L.Dropout(cfg.dropout, name="d1")(x)
    out = L.Dense(num_classes, name="logits")(x)
    return k.Model(inp, out, name="teacher")


def build_kws_dscnn(input_shape: tuple[int, ...], num_classes: int, filters: list[int],
                    dropout: float = 0.2, name: str = "teacher") -> Any:
    """The MLPerf Tiny keyword-spotting DS-CNN (Zhang et al., "Hello Edge", 2017):
    a 10x4 stride-2 conv with filters[0] channels, then one depthwise 3x3 +
    pointwise block per further entry of `filters`, average pool, dense.
    filters = [64] * 5 is the MLPerf Tiny reference model (2.7 M MACs on 49x10)."""
    if len(input_shape) != 3:
        raise ConfigError(f"the dscnn teacher needs an HxWxC input (e.g. 49x10x1 MFCC), got {input_shape}",
                          hint="use [teacher] arch = \"cnn\" for this dataset")
    if not filters:
        raise ConfigError("[teacher] filters must not be empty for arch \"dscnn\"")
    k = tfcompat.keras()
    L = k.layers
    inp = k.Input(shape=input_shape, name="x")
    kh, kw = min(10, input_shape[0]), min(4, input_shape[1])
    x = L.Conv2D(filters[0], (kh, kw), strides=2, padding="same", use_bias=False, name="c0")(inp)
    x = L.BatchNormalization(name="b0")(x)
    x = L.ReLU(name="r0")(x)
    x = L.Dropout(dropout, name="d0")(x)
    for i, f in enumerate(filters[1:], start=1):
        x = L.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"dw{i}")(x)
        x = L.BatchNormalization(name=f"bd{i}")(x)
        x = L.ReLU(name=f"rd{i}")(x)
        x = L.Conv2D(f, 1, use_bias=False, name=f"p{i}")(x)
        x = L.BatchNormalization(name=f"bp{i}")(x)
        x = L.ReLU(name=f"rp{i}")(x)
    x = L.Dropout(min(2 * dropout, 0.5), name="d1")(x)
    x = L.AveragePooling2D(pool_size=(x.shape[1], x.shape[2]), name="gap")(x)
    x = L.Flatten(name="f")(x)
    out = L.Dense(num_classes, name="logits")(x)
    return k.Model(inp, out, name=name)


# -- students --------------------------------------------------------------
def archs_for(input_shape: tuple[int, ...]) -> tuple[str, ...]:
    """Student families that make sense for this input rank."""
    return STUDENT_ARCHS if len(input_shape) == 3 else ("mlp",)


def build_student(spec: StudentSpec, input_shape: tuple[int, ...], num_classes: int) -> Any:
    if spec.arch not in archs_for(input_shape):
        raise ConfigError(f"student arch '{spec.arch}' needs an HxWxC input, got shape {input_shape}",
                          hint="use arch = \"mlp\" (or \"auto\") for feature-vector data")
    k = tfcompat.keras()
    L = k.layers
    inp = k.Input(shape=input_shape, name="x")
    w, d = spec.width, spec.depth

    def conv_bn_relu(x, filters, kernel, stride, tag):
        x = L.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"c{tag}")(x)
        x = L.BatchNormalization(name=f"b{tag}")(x)
        return L.ReLU(name=f"r{tag}")(x)

    if spec.arch == "dscnn":
        # Stem conv, then depthwise-separable blocks; channels double after the
        # stem and the first two blocks halve the spatial size (while >= 4).
        x = conv_bn_relu(inp, w, 3, 1, "0")
        for i in range(d):
            stride = 2 if i < 2 and x.shape[1] >= 4 and x.shape[2] >= 4 else 1
            x = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"dw{i}")(x)
            x = L.BatchNormalization(name=f"bd{i}")(x)
            x = L.ReLU(name=f"rd{i}")(x)
            x = conv_bn_relu(x, 2 * w, 1, 1, f"p{i}")
        x = _head(L, x)
    elif spec.arch == "cnn":
        x = conv_bn_relu(inp, w, 3, 1, "0")
        for i in range(1, d):
            if x.shape[1] >= 4 and x.shape[2] >= 4:
                x = L.MaxPooling2D(2, name=f"m{i}")(x)
            x = conv_bn_relu(x, w * min(2 ** i, 4), 3, 1, str(i))
        x = _head(L, x)
    else:  # mlp
        x = L.Flatten(name="f")(inp) if len(input_shape) > 1 else inp
        for i in range(d):
            x = L.Dense(w, name=f"h{i}")(x)
            x = L.ReLU(name=f"r{i}")(x)
    out = L.Dense(num_classes, name="logits")(x)
    return k.Model(inp, out, name="s")


def _head(L, x):
    """Small maps (<= 4x4) keep their layout (digit shape matters): flatten.
    Larger maps are averaged to one vector per channel first, as in DS-CNN."""
    if x.shape[1] * x.shape[2] > 16:
        x = L.AveragePooling2D(pool_size=(x.shape[1], x.shape[2]), name="gap")(x)
    return L.Flatten(name="f")(x)


# -- cost ------------------------------------------------------------------
# int8 .tflite size model: weights (int8) + biases (int32) + per-channel quant
# params, plus flatbuffer costs per op and per tensor (tables, names, shapes).
# Least-squares fit over 14 real TF 2.21 conversions of random-weight students
# (dscnn/cnn/mlp, 3-31 KB): every estimate within 2.7 % of the real size.
_BYTES_FIXED = 212
_BYTES_PER_OP = 114
_BYTES_PER_TENSOR = 145
_BYTES_PER_CHANNEL_QUANT = 2 * (4 + 8)   # weight + bias tensors: float32 scale + int64 zero point


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in t.shape[1:])


def layer_costs(model: Any) -> list[dict[str, Any]]:
    """Per layer: deployed params (BN folded into its conv), MACs, and what it adds
    to an int8 .tflite (ops, tensors, weight bytes)."""
    k = tfcompat.keras()
    L = k.layers
    rows: list[dict[str, Any]] = []
    for layer in model.layers:
        name = layer.name
        if isinstance(layer, (L.InputLayer,)):
            continue
        if isinstance(layer, (L.BatchNormalization, L.Dropout, L.ReLU, L.Activation)):
            # Folded / fused / dropped at conversion; standalone Activation('softmax') is an op.
            is_op = isinstance(layer, L.Activation) and layer.get_config().get("activation") == "softmax"
            rows.append({"layer": name, "type": type(layer).__name__, "params": 0, "macs": 0,
                         "ops": int(is_op), "tensors": int(is_op), "weight_bytes": 0, "channels": 0})
            continue
        out_shape = _shape(layer.output)
        in_shape = _shape(layer.input)
        params = macs = weight_bytes = channels = 0
        tensors, ops = 1, 1
        if isinstance(layer, L.DepthwiseConv2D):
            kh, kw = layer.kernel_size
            cin = in_shape[-1]
            cout = cin * layer.depth_multiplier
            oh, ow = out_shape[0], out_shape[1]
            params = kh * kw * cout + cout
            macs = oh * ow * cout * kh * kw
            weight_bytes = kh * kw * cout + 4 * cout
            channels, tensors = cout, 3
        elif isinstance(layer, L.Conv2D):
            kh, kw = layer.kernel_size
            cin, cout = in_shape[-1], layer.filters
            oh, ow = out_shape[0], out_shape[1]
            params = kh * kw * cin * cout + cout
            macs = oh * ow * cout * kh * kw * cin // layer.groups
            weight_bytes = kh * kw * cin * cout + 4 * cout
            channels, tensors = cout, 3
        elif isinstance(layer, L.Dense):
            cin, cout = in_shape[-1], layer.units
            rows_in = math.prod(in_shape[:-1]) if len(in_shape) > 1 else 1
            params = cin * cout + cout
            macs = rows_in * cin * cout
            weight_bytes = cin * cout + 4 * cout
            channels, tensors = cout, 3   # TF 2.21 quantizes Dense per channel too
        elif isinstance(layer, L.Flatten):
            tensors = 2  # output + shape tensor of the RESHAPE op
        elif isinstance(layer, L.Softmax):
            pass
        elif isinstance(layer, (L.AveragePooling2D, L.MaxPooling2D, L.GlobalAveragePooling2D)):
            pass
        else:
            # Unknown layer: count it as an op without weights (layer checks happen at conversion).
            params = int(layer.count_params())
            weight_bytes = params
        rows.append({"layer": name, "type": type(layer).__name__, "params": params, "macs": macs,
                     "ops": ops, "tensors": tensors, "weight_bytes": weight_bytes, "channels": channels})
    return rows


def model_stats(model: Any, with_softmax: bool = True) -> dict[str, int]:
    """params (deployed: BN folded, biases counted), MACs (conv, depthwise, dense)
    and an estimate of the int8 .tflite size in bytes. `with_softmax` adds the
    Softmax op that deployment appends to a logits model."""
    rows = layer_costs(model)
    params = sum(r["params"] for r in rows)
    macs = sum(r["macs"] for r in rows)
    ops = sum(r["ops"] for r in rows) + (1 if with_softmax else 0)
    tensors = 1 + sum(r["tensors"] for r in rows) + (1 if with_softmax else 0)  # +1: model input
    est = (_BYTES_FIXED + _BYTES_PER_OP * ops + _BYTES_PER_TENSOR * tensors
           + sum(r["weight_bytes"] for r in rows)
           + _BYTES_PER_CHANNEL_QUANT * sum(r["channels"] for r in rows))
    return {"params": int(params), "macs": int(macs), "int8_bytes_est": int(est),
            "keras_params": int(model.count_params())}
