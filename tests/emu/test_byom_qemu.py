"""Models users bring, in every format, through `tinyml deploy --model` on the emulated
Cortex-M4: converted to full int8 on calibration inputs, then bit-exact with the TFLM
host runtime on the device. The models are trained here (tests/user_models.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from user_models import user_models  # noqa: E402

pytestmark = pytest.mark.emu


def _cli(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "tinyml.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=900)


# (model attribute, calibration, expected format). Accuracy floors: these nets score
# 0.91-0.98 on the digits test split (seeds 1-3); 0.80 leaves room for another machine.
CASES = [("h5", None, "Keras"), ("saved_model", "calib_nhwc", "SavedModel"),
         ("float_tflite", "digits", "float .tflite"), ("onnx", "calib_nchw", "ONNX"),
         ("onnx_flatten", "calib_nchw", "ONNX"),     # NCHW flatten: a TRANSPOSE on the device
         ("lstm", None, "Keras")]        # int8 LSTM, int16 cell state (98 % on seed 1)


@pytest.mark.parametrize("attr,calib,fmt", CASES, ids=[c[0] for c in CASES])
def test_deploy_a_float_model_of_each_format_is_bit_exact(attr, calib, fmt, project_copy, tmp_path):
    m = user_models()
    proj = project_copy(tmp_path / "proj")
    args = ["deploy", "--model", getattr(m, attr), "--dataset", "digits", "--runs-dir", tmp_path / "runs",
            "--run", "mine", "--project", proj, "--samples", "30"]
    if calib:
        args += ["--calibration", getattr(m, calib, calib)]
    out = _cli(*args)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"{fmt} -> full int8 on" in out.stdout and "30/30 samples match the host TFLM runtime" in out.stdout
    run = tmp_path / "runs" / "mine"
    res = json.loads((run / "results.json").read_text())
    assert res["bit_exact"]["mismatched_samples"] == 0
    assert res["accuracy"]["device"] == res["accuracy"]["host"]
    check = json.loads((run / "check.json").read_text())      # the whole test split (449)
    assert check["accuracy"]["float"] >= 0.80 and check["accuracy"]["int8_tflm"] >= 0.80
    assert check["runtime_agreement"]["policy"] == "reported"
    imp = json.loads((run / "import.json").read_text())
    assert imp["format"] == fmt and imp["calibration_random"] is False
    worst = imp["triage"]["worst"]
    assert worst["op"] in {"CONV_2D", "FULLY_CONNECTED", "MEAN", "SOFTMAX", "MAX_POOL_2D",
                           "UNIDIRECTIONAL_SEQUENCE_LSTM"}
    # an LSTM's hidden sequence measured 10.6 dB (seed 1): its int8 state is coarse
    assert (5 if attr == "lstm" else 10) < worst["sqnr_db"] < 200
    assert (run / "model_float.tflite").is_file()


def test_deploy_an_autoencoder_without_labels(project_copy, tmp_path):
    """64 reconstructed values, no classes: bit-exact per output, no accuracy."""
    m = user_models()
    proj = project_copy(tmp_path / "proj")
    out = _cli("deploy", "--model", m.autoencoder, "--calibration", "digits", "--runs-dir", tmp_path / "runs",
               "--project", proj, "--samples", "20")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "20/20 samples match the host TFLM runtime" in out.stdout
    res = json.loads((tmp_path / "runs" / "model-autoencoder" / "results.json").read_text())
    assert res["accuracy"] is None and res["bit_exact"]["mismatched_samples"] == 0
