"""Models users bring: formats detected, float models quantized on calibration inputs,
per-layer triage, and one clear error (with nothing left behind) for each bad input."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from test_check_models import models
from test_cli_errors import _assert_clean_failure, _tinyml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from user_models import user_models  # noqa: E402

from tinyml.compress.triage import cosine, sqnr_db
from tinyml.convert.hostcheck import runtime_agreement
from tinyml.importers.calibration import fit_layout


def test_sqnr_and_cosine_by_definition():
    f = np.array([3.0, -4.0])
    assert sqnr_db(f, f) == float("inf")
    # signal 25, noise 0.25 -> 20 dB
    assert sqnr_db(f, f + np.array([0.3, 0.4])) == pytest.approx(20.0)
    assert cosine(f, 2 * f) == pytest.approx(1.0) and cosine(f, -f) == pytest.approx(-1.0)


def test_runtime_agreement_names_the_differing_outputs():
    tflm = np.zeros((4, 3), np.int8)
    lite = tflm.copy()
    lite[1, 2], lite[3, 2], lite[3, 0] = 1, -2, 1
    a, samples = runtime_agreement(tflm, lite)
    assert a["runtime_exact_mismatches"] == 2 and a["runtime_max_abs_diff_lsb"] == 2
    assert a["runtime_differing_outputs"] == [{"index": 2, "samples": 2, "max_abs_diff_lsb": 2},
                                              {"index": 0, "samples": 1, "max_abs_diff_lsb": 1}]
    assert samples == {"top1": [1], "bytes": [1, 3]}
    assert runtime_agreement(tflm, None)[0]["runtime_exact_agreement"] is None


def test_calibration_layout_channels_first_to_last():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)      # N, C, H, W
    y = fit_layout(x, (4, 5, 3), (3, 4, 5), "x")
    assert y.shape == (2, 4, 5, 3) and y[1, 2, 3, 1] == x[1, 1, 2, 3]
    with pytest.raises(Exception, match=r"calibration samples have shape \[7\]"):
        fit_layout(np.zeros((2, 7), np.float32), (4, 5, 3), (3, 4, 5), "x")


def test_check_quantizes_a_keras_model_and_reports_each_layer(tmp_path):
    m = user_models()
    runs = tmp_path / "runs"
    out = _tinyml("check", "--model", m.h5, "--calibration", m.calib_nhwc, "--dataset", "digits",
                  "--runs-dir", runs, "--run", "k")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Keras -> int8 on calib_nhwc.npy (200 samples)" in out.stdout
    imp = json.loads((runs / "k" / "import.json").read_text())
    ops = [r["op"] for r in imp["triage"]["layers"]]
    assert ops[0] == "CONV_2D" and "FULLY_CONNECTED" in ops
    assert imp["triage"]["worst"]["sqnr_db"] == min(r["sqnr_db"] for r in imp["triage"]["layers"])
    check = json.loads((runs / "k" / "check.json").read_text())
    assert check["accuracy"]["float"] > 0.8 and abs(check["accuracy"]["float"] - check["accuracy"]["int8_tflm"]) < 0.05


def test_a_keras3_file_goes_through_a_saved_model_export(tmp_path):
    """TF 2.16+ saves .keras files with Keras 3, which tf-keras cannot read."""
    import keras as keras3
    m = keras3.Sequential([keras3.Input((8, 8, 1)), keras3.layers.Conv2D(4, 3, activation="relu"),
                           keras3.layers.Flatten(), keras3.layers.Dense(10)])
    path = tmp_path / "k3.keras"
    m.save(path)
    runs = tmp_path / "runs"
    out = _tinyml("check", "--model", path, "--calibration", "digits", "--runs-dir", runs)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Keras -> int8 on digits training split" in out.stdout and "TensorSpec" not in out.stdout
    assert json.loads((runs / "model-k3" / "import.json").read_text())["triage"]["worst"]["op"]


def test_random_calibration_only_when_asked_and_said_loudly(tmp_path):
    runs = tmp_path / "runs"
    out = _tinyml("check", "--model", user_models().autoencoder, "--runs-dir", runs)
    _assert_clean_failure(out, 3, "is a float model; quantizing it to int8 needs calibration inputs",
                          "--calibration random", runs=runs)
    out = _tinyml("check", "--model", user_models().autoencoder, "--calibration", "random", "--runs-dir", runs)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "WARNING: RANDOM calibration" in out.stdout


def test_a_lite_rt_disagreement_on_a_users_model_is_reported_not_refused(tmp_path):
    """The pipeline's own models keep the top-1 gate; a user's model runs TFLM on the device."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("[check]\nmin_runtime_agreement = 1.01\n")    # no model can pass the gate
    out = _tinyml("check", "--model", models().int8, "--config", cfg, "--runs-dir", tmp_path / "runs")
    assert out.returncode == 0, out.stderr[-2000:]
    check = json.loads((tmp_path / "runs" / "model-int8" / "check.json").read_text())
    assert check["runtime_agreement"]["policy"] == "reported" and check["runtime_agreement"]["litert_loaded"]


@pytest.mark.parametrize("what", ["int_dtype", "wrong_shape", "nan", "missing", "unknown_name"])
def test_bad_calibration_is_one_clear_line_and_leaves_nothing(what, tmp_path):
    runs = tmp_path / "runs"
    f = tmp_path / "calib.npy"
    expect = {"int_dtype": "calibration inputs are int64, not float",
              "wrong_shape": "calibration samples have shape [5, 5, 1], but the model takes [8, 8, 1]",
              "nan": "hold 3 NaN or infinite values", "missing": "does not exist",
              "unknown_name": "not a file, a folder or a dataset name"}[what]
    if what == "int_dtype":
        np.save(f, np.zeros((10, 8, 8, 1), np.int64))
    elif what == "wrong_shape":
        np.save(f, np.zeros((10, 5, 5, 1), np.float32))
    elif what == "nan":
        x = np.zeros((10, 8, 8, 1), np.float32)
        x[0, 0, 0, 0] = x[1, 1, 1, 0] = np.nan
        x[2, 2, 2, 0] = np.inf
        np.save(f, x)
    spec = {"missing": tmp_path / "nope.npy", "unknown_name": "no_such_data"}.get(what, f)
    out = _tinyml("check", "--model", user_models().h5, "--calibration", spec, "--runs-dir", runs)
    _assert_clean_failure(out, 3, expect, runs=runs)


def test_unknown_input_dimensions_ask_for_input_shape(tmp_path):
    runs = tmp_path / "runs"
    m = user_models()
    out = _tinyml("check", "--model", m.dynamic, "--calibration", "random", "--runs-dir", runs)
    _assert_clean_failure(out, 5, "has unknown dimensions [?, ?, ?, 1]", "--input-shape", runs=runs)
    out = _tinyml("check", "--model", m.dynamic, "--calibration", m.calib_nhwc, "--input-shape", "8,8,1",
                  "--runs-dir", runs)
    assert out.returncode == 0, out.stderr[-2000:]


def test_bad_model_files_are_named_with_what_to_do(tmp_path):
    runs = tmp_path / "runs"
    pt = tmp_path / "net.pt"
    pt.write_bytes(b"PK\x03\x04 torch")
    _assert_clean_failure(_tinyml("check", "--model", pt, "--runs-dir", runs), 5,
                          "a PyTorch file", "torch.onnx.export", runs=runs)
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    _assert_clean_failure(_tinyml("check", "--model", bad, "--calibration", "random", "--runs-dir", runs),
                          5, "broken.onnx: not a readable ONNX model", runs=runs)
    folder = tmp_path / "not_a_model"
    folder.mkdir()
    _assert_clean_failure(_tinyml("check", "--model", folder, "--runs-dir", runs), 5,
                          "not a SavedModel (no saved_model.pb", runs=runs)
    _assert_clean_failure(_tinyml("check", "--model", models().float_io, "--runs-dir", runs), 5,
                          "neither full int8 nor float", "--calibration", runs=runs)


def test_an_onnx_op_without_a_conversion_is_named(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["r"], name="ok"),
                           helper.make_node("NoSuchOp", ["r"], ["y"], name="/head/Weird", domain="")],
                          "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "weird.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    runs = tmp_path / "runs"
    _assert_clean_failure(_tinyml("check", "--model", path, "--calibration", "random", "--runs-dir", runs),
                          5, "ONNX op NoSuchOp (node '/head/Weird')", runs=runs)


def _check_rnn(tmp_path, cell: str):
    """`tinyml check` of a small Keras model with a recurrent layer `cell`."""
    from tinyml.core.tfcompat import keras
    k = keras()
    m = k.Sequential([k.Input((8, 8)), getattr(k.layers, cell)(6), k.layers.Dense(10)])
    path = tmp_path / f"{cell.lower()}.h5"
    m.save(path)
    runs = tmp_path / "runs"
    return _tinyml("check", "--model", path, "--calibration", "random", "--runs-dir", runs), runs


def test_a_dense_on_a_sequence_converts_with_a_static_batch(tmp_path):
    """With a free batch, a Dense on a [steps, features] input converts to SHAPE /
    REDUCE_PROD / RESHAPE ops sized at run time (TFLM has no REDUCE_PROD kernel);
    converted at batch 1 it is two plain FULLY_CONNECTED ops, layer names kept."""
    from tinyml.core.tfcompat import keras
    k = keras()
    L = k.layers
    inp = k.Input((6, 8))
    m = k.Model(inp, L.Dense(4, name="head")(L.Flatten()(L.Dense(8, name="per_step")(inp))))
    path = tmp_path / "seq.h5"
    m.save(path)
    runs = tmp_path / "runs"
    out = _tinyml("check", "--model", path, "--calibration", "random", "--runs-dir", runs)
    assert out.returncode == 0, out.stderr[-2000:]
    ops = set(json.loads((runs / "model-seq" / "check.json").read_text())["ops"])
    assert "FULLY_CONNECTED" in ops and not ops & {"REDUCE_PROD", "SHAPE", "PACK"}, ops
    imp = json.loads((runs / "model-seq" / "import.json").read_text())
    assert imp["triage"]["worst"]["layer"] in ("per_step", "head"), imp["triage"]["worst"]


def test_an_lstm_checks_with_its_int16_cell_state(tmp_path):
    """TFLite keeps an LSTM's cell state in int16; the AOT runs that op, so the model
    passes the check (the device test is tests/emu/test_byom_qemu.py)."""
    out, runs = _check_rnn(tmp_path, "LSTM")
    assert out.returncode == 0, out.stderr[-2000:]
    check = json.loads((runs / "model-lstm" / "check.json").read_text())
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in json.dumps(check["ops"]), check["ops"]


def test_a_gru_is_refused_naming_why(tmp_path):
    """A Keras GRU converts to a WHILE loop over subgraphs: one clear line."""
    out, runs = _check_rnn(tmp_path, "GRU")
    _assert_clean_failure(out, 5, "gru.h5: has 3 subgraphs", "control flow", runs=runs)
