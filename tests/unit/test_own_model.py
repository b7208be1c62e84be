"""`--model FILE`: a user's own int8 .tflite, with or without data of theirs."""
from __future__ import annotations

import json

import numpy as np
import pytest
from test_check_models import models
from test_cli_errors import _assert_clean_failure, _tinyml

from tinyml.convert.hostcheck import dequantize, quantize_input
from tinyml.importers.own_model import default_run_name, random_dataset
from tinyml.model.tflite_file import load_tflite


def test_random_inputs_are_seeded_and_survive_the_device_quantization():
    path = models().int8
    t = load_tflite(path).input_tensor()
    a, b = random_dataset(path, 40, seed=3), random_dataset(path, 40, seed=3)
    assert np.array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, random_dataset(path, 40, seed=4).x_test)
    assert (a.y_test == -1).all() and a.x_test.shape == (40,) + tuple(t.shape[1:])
    q = quantize_input(a.x_test, float(t.scale[0]), int(t.zero_point[0]))
    # Every int8 value occurs, and dequantize -> quantize gives back what was drawn.
    assert q.min() == -128 and q.max() == 127
    again = quantize_input(dequantize(q, float(t.scale[0]), int(t.zero_point[0])),
                           float(t.scale[0]), int(t.zero_point[0]))
    assert np.array_equal(again, q)


def test_check_without_data_uses_random_inputs_and_reports_no_accuracy(tmp_path):
    runs = tmp_path / "runs"
    out = _tinyml("check", "--model", models().int8, "--runs-dir", runs)
    assert out.returncode == 0, out.stderr[-2000:]
    run = runs / default_run_name(models().int8)
    check = json.loads((run / "check.json").read_text())
    assert check["dataset"] == "random inputs (seed 0)" and check["test_samples"] == 50
    assert check["accuracy"]["int8_tflm"] is None and check["runtime_agreement"]["top1"] >= 0.9
    assert (run / "model_int8.tflite").read_bytes() == models().int8.read_bytes()
    assert "no labels: no accuracy" in out.stdout


def test_check_with_data_reports_accuracy(tmp_path):
    runs = tmp_path / "runs"
    out = _tinyml("check", "--model", models().int8, "--dataset", "digits", "--runs-dir", runs,
                  "--run", "mine")
    assert out.returncode == 0, out.stderr[-2000:]
    acc = json.loads((runs / "mine" / "check.json").read_text())["accuracy"]["int8_tflm"]
    assert acc > 0.8          # the fixture net is trained on digits for a few epochs


def test_a_model_for_other_data_is_refused_naming_both_shapes(tmp_path):
    from PIL import Image
    for c in ("a", "b"):
        (tmp_path / "img" / c).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((12, 12), 40 * i, np.uint8)).save(tmp_path / "img" / c / f"{i}.png")
    runs = tmp_path / "runs"
    out = _tinyml("check", "--model", models().int8, "--dataset", "images", "--data-path",
                  tmp_path / "img", "--runs-dir", runs)
    _assert_clean_failure(out, 5, "takes [8, 8, 1] per sample", "[12, 12", runs=runs)


def test_never_replaces_the_model_of_a_pipeline_run(tmp_path):
    runs = tmp_path / "runs"
    run = runs / "default"
    run.mkdir(parents=True)
    manifest = {"run": "default", "stages": {"quantize": {"metrics": {}}}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    (run / "model_int8.tflite").write_bytes(b"the pipeline's model")
    out = _tinyml("check", "--model", models().int8, "--run", "default", "--runs-dir", runs)
    _assert_clean_failure(out, 2, "holds the model the pipeline made", "--run")
    assert (run / "model_int8.tflite").read_bytes() == b"the pipeline's model"


@pytest.mark.parametrize("name,expected", [("kws_ref.tflite", "model-kws_ref"),
                                           ("my model (v2).tflite", "model-my-model-v2")])
def test_default_run_name(name, expected):
    assert default_run_name(name) == expected
