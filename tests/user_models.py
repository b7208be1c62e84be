"""Models as users bring them, trained here on the UCI digits (offline), one file per format.

- `h5`: a Keras CNN saved as .h5 (tf-keras).
- `saved_model`: the same network as a SavedModel folder.
- `float_tflite`: the same network as a float32 .tflite.
- `onnx`: a PyTorch-style NCHW graph (2x Conv+Relu, GlobalAveragePool, Flatten, Gemm),
  written with onnx.helper from a Keras CNN trained here, weights moved to OIHW:
  what torch.onnx.export makes of such a module.
- `onnx_flatten`: Conv, Relu, MaxPool, Flatten (NCHW order), Gemm: onnx2tf keeps the
  flatten order with a TRANSPOSE.
- `autoencoder`: a dense 64 -> 16 -> 64 reconstruction model (.h5), no classes.
- `dynamic`: a CNN whose input is (None, None, 1): needs --input-shape.
Built once per test session.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_CACHE: dict[str, "UserModels"] = {}


@dataclass
class UserModels:
    root: Path
    h5: Path
    saved_model: Path
    float_tflite: Path
    onnx: Path
    onnx_flatten: Path    # NCHW flatten before the dense layer: a TRANSPOSE on the device
    autoencoder: Path
    dynamic: Path
    lstm: Path            # Keras LSTM reading the 8 image rows as a sequence
    calib_nhwc: Path      # .npy, float32 [200, 8, 8, 1]
    calib_nchw: Path      # .npy, float32 [200, 1, 8, 8] (the ONNX model's own layout)


def _digits():
    import sys
    sys.path.insert(0, str(Path(__file__).parent / "unit"))
    from test_check_models import digits_dataset
    return digits_dataset()


def _onnx_from_keras(net, path: Path) -> None:
    from onnx import helper, numpy_helper
    inits = []
    for name in ("conv", "conv2"):
        w, b = net.get_layer(name).get_weights()           # HWIO -> OIHW
        inits += [numpy_helper.from_array(np.transpose(w, (3, 2, 0, 1)).astype(np.float32), f"{name}.weight"),
                  numpy_helper.from_array(b.astype(np.float32), f"{name}.bias")]
    w2, b2 = net.get_layer("logits").get_weights()         # [in, out]
    inits += [numpy_helper.from_array(w2.T.astype(np.float32), "fc.weight"),
              numpy_helper.from_array(b2.astype(np.float32), "fc.bias")]
    nodes = [helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["c"], pads=[1, 1, 1, 1],
                              name="/conv/Conv"),
             helper.make_node("Relu", ["c"], ["r0"], name="/relu/Relu"),
             helper.make_node("Conv", ["r0", "conv2.weight", "conv2.bias"], ["c2"], pads=[1, 1, 1, 1],
                              name="/conv2/Conv"),
             helper.make_node("Relu", ["c2"], ["r"], name="/relu2/Relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["g"], name="/pool/GlobalAveragePool")]
    _save_onnx(nodes, inits, path)


def _save_onnx(body: list, inits: list, path: Path) -> None:
    """`body` ends in tensor "g"; the head is Flatten, Gemm (fc.*), Softmax, as torch exports it."""
    import onnx
    from onnx import TensorProto, helper
    nodes = body + [helper.make_node("Flatten", ["g"], ["f"], name="/Flatten"),
                    helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], transB=1,
                                     name="/fc/Gemm"),
                    helper.make_node("Softmax", ["logits"], ["probs"], axis=1, name="/Softmax")]
    graph = helper.make_graph(nodes, "torch_jit", [helper.make_tensor_value_info(
        "input", TensorProto.FLOAT, ["batch_size", 1, 8, 8])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch_size", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pytorch")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _onnx_flatten_from_keras(net, path: Path) -> None:
    from onnx import helper, numpy_helper
    w, b = net.get_layer("conv").get_weights()
    w2, b2 = net.get_layer("logits").get_weights()
    inits = [numpy_helper.from_array(np.transpose(w, (3, 2, 0, 1)).astype(np.float32), "conv.weight"),
             numpy_helper.from_array(b.astype(np.float32), "conv.bias"),
             numpy_helper.from_array(w2.T.astype(np.float32), "fc.weight"),
             numpy_helper.from_array(b2.astype(np.float32), "fc.bias")]
    nodes = [helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["g"], kernel_shape=[2, 2], strides=[2, 2])]
    _save_onnx(nodes, inits, path)


def user_models() -> UserModels:
    if "m" in _CACHE:
        return _CACHE["m"]
    from tinyml.core.tfcompat import keras, seed_everything, tf
    t, k = tf(), keras()
    seed_everything(1)
    ds = _digits()
    root = Path(tempfile.mkdtemp(prefix="tinyml-user-models-"))
    L = k.layers
    net = k.Sequential([L.Input((8, 8, 1)), L.Conv2D(12, 3, padding="same", activation="relu", name="conv"),
                        L.MaxPooling2D(name="pool"), L.Flatten(name="flat"), L.Dense(10, name="logits"),
                        L.Softmax(name="probs")], name="user_cnn")
    net.compile(k.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    net.fit(ds.x_train, ds.y_train, epochs=6, batch_size=64, verbose=0)
    paths = {"h5": root / "user_cnn.h5", "saved_model": root / "user_cnn_saved",
             "float_tflite": root / "user_cnn_float.tflite"}
    net.save(paths["h5"])
    t.saved_model.save(net, str(paths["saved_model"]))
    paths["float_tflite"].write_bytes(t.lite.TFLiteConverter.from_keras_model(net).convert())

    # Two convolutions before the average pool: one alone scores 0.60-0.73 on digits,
    # two 0.91-0.95 (seeds 1-3).
    gap = k.Sequential([L.Input((8, 8, 1)), L.Conv2D(16, 3, padding="same", activation="relu", name="conv"),
                        L.Conv2D(24, 3, padding="same", activation="relu", name="conv2"),
                        L.GlobalAveragePooling2D(name="gap"), L.Dense(10, name="logits"),
                        L.Softmax(name="probs")], name="torch_like")
    gap.compile(k.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    gap.fit(ds.x_train, ds.y_train, epochs=25, batch_size=64, verbose=0)
    paths["onnx"] = root / "torch_cnn.onnx"
    _onnx_from_keras(gap, paths["onnx"])

    # Trained with a channels-first flatten, so the dense weights read C, H, W as PyTorch's do.
    cf = k.Sequential([L.Input((8, 8, 1)), L.Conv2D(8, 3, padding="same", activation="relu", name="conv"),
                       L.MaxPooling2D(name="pool"), L.Permute((3, 1, 2)), L.Flatten(),
                       L.Dense(10, name="logits"), L.Softmax()], name="torch_flatten")
    cf.compile(k.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    cf.fit(ds.x_train, ds.y_train, epochs=6, batch_size=64, verbose=0)
    paths["onnx_flatten"] = root / "torch_flatten.onnx"
    _onnx_flatten_from_keras(cf, paths["onnx_flatten"])

    flat = ds.x_train.reshape(len(ds.x_train), 64)
    ae = k.Sequential([L.Input((64,)), L.Dense(16, activation="relu", name="enc"),
                       L.Dense(64, name="dec")], name="autoencoder")
    ae.compile(k.optimizers.Adam(1e-2), "mse")
    ae.fit(flat, flat, epochs=20, batch_size=64, verbose=0)
    paths["autoencoder"] = root / "autoencoder.h5"
    ae.save(paths["autoencoder"])

    # Rows as time steps: an int8 LSTM with an int16 cell state on the device.
    rnn = k.Sequential([L.Input((8, 8, 1)), L.Reshape((8, 8), name="rows"),
                        L.LSTM(24, name="lstm"), L.Dense(10, name="logits"),
                        L.Softmax(name="probs")], name="user_lstm")
    rnn.compile(k.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    rnn.fit(ds.x_train, ds.y_train, epochs=20, batch_size=64, verbose=0)
    paths["lstm"] = root / "user_lstm.h5"
    rnn.save(paths["lstm"])

    inp = L.Input((None, None, 1))
    h = L.GlobalAveragePooling2D()(L.Conv2D(4, 3, activation="relu", name="conv")(inp))
    dyn = k.Model(inp, L.Dense(10, name="logits")(h), name="dynamic")
    paths["dynamic"] = root / "dynamic.h5"
    dyn.save(paths["dynamic"])

    x = ds.x_train[:200].astype(np.float32)
    paths["calib_nhwc"], paths["calib_nchw"] = root / "calib_nhwc.npy", root / "calib_nchw.npy"
    np.save(paths["calib_nhwc"], x)
    np.save(paths["calib_nchw"], np.transpose(x, (0, 3, 1, 2)))
    _CACHE["m"] = UserModels(root=root, **paths)
    return _CACHE["m"]
