"""Pipeline stages: skipped when unchanged, re-run when their config changes,
and an interrupted stage leaves nothing behind. Plus the slow end-to-end run
of the default digits pipeline against the acceptance numbers."""
import json

import pytest

from tinyml.config import schema as config
from tinyml.flows import pipeline
from tinyml.core.errors import ConfigError, TinymlError


def _tiny_cfg(tmp_path, **teacher):
    return config.load(None, {"run": {"runs_dir": str(tmp_path), "name": "t"},
                              "teacher": {"filters": [4], "dense": 8, "epochs": 1, **teacher}})


def test_stage_skipped_when_unchanged_and_rerun_when_changed(tmp_path):
    cfg = _tiny_cfg(tmp_path)
    first = pipeline.run_stage("teacher", cfg)
    run = tmp_path / "t"
    assert not first.skipped and (run / "teacher.keras").is_file()
    assert 0.0 <= first.metrics["accuracy"] <= 1.0 and first.metrics["params"] > 0
    assert "[teacher]" in (run / "config.toml").read_text()
    mtime = (run / "teacher.keras").stat().st_mtime_ns

    again = pipeline.run_stage("teacher", cfg)
    assert again.skipped and again.metrics == first.metrics
    assert (run / "teacher.keras").stat().st_mtime_ns == mtime

    # A change in another section does not touch the teacher...
    cfg.prune.sparsity = cfg.prune.sparsity / 2
    assert pipeline.run_stage("teacher", cfg).skipped
    # ...a change in its own section does; so does force.
    changed = pipeline.run_stage("teacher", _tiny_cfg(tmp_path, epochs=2))
    assert not changed.skipped and changed.metrics["train"]["epochs_run"] == 2
    assert not pipeline.run_stage("teacher", _tiny_cfg(tmp_path, epochs=2), force=True).skipped


def test_interrupted_stage_leaves_no_output(tmp_path, monkeypatch):
    cfg = _tiny_cfg(tmp_path)
    real_save = pipeline._save_model

    def save_then_fail(model, path):
        real_save(model, path)          # the file exists in staging...
        assert path.is_file()
        raise KeyboardInterrupt         # ...when the stage is interrupted

    monkeypatch.setattr(pipeline, "_save_model", save_then_fail)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_stage("teacher", cfg)
    run = tmp_path / "t"
    # The first stage of a new run failed: not even the run folder (or config.toml) is left.
    assert not run.exists()


def test_stage_needs_its_inputs(tmp_path):
    cfg = _tiny_cfg(tmp_path)
    with pytest.raises(TinymlError) as ei:
        pipeline.run_stage("distill", cfg)
    assert type(ei.value) is TinymlError and ei.value.exit_code == 1
    assert str(ei.value).startswith(f"stage 'distill' needs {tmp_path / 't' / 'teacher.keras'}, "
                                    "which does not exist")
    assert "earlier stages" in ei.value.hint
    assert not (tmp_path / "t").exists()          # refused before anything was written
    with pytest.raises(ConfigError, match="unknown pipeline stage 'nope'"):
        pipeline.run_pipeline(cfg, stages=["nope"])


# The acceptance thresholds for one seed of the default digits pipeline. Each is
# the minimum over 5 seeds of `benchmarks/quality.py --seeds 5` (default config,
# 2-core machine, issue 11) less a stated margin: training is not bit-repeatable
# across machines (oneDNN / XNNPACK pick kernels by CPU feature, thread counts
# change reduction orders; the manifest's `repeatability` records both), and
# issue 11 saw one seed's teacher differ by 0.67 points (3 of 449 test samples)
# between two machines. One test sample is 0.22 points.
#
# Measured 2026-11-30, seeds 0-4, label-smoothed teacher (last epoch), prune
# fine-tune 40 epochs at 6e-3 (test split of 449 samples; mean / min / max %):
#   teacher   99.60 / 99.33 / 99.78     student alone  98.89 / 98.00 / 99.55
#   distilled 99.55 / 99.11 / 100.00    pruned         99.47 / 99.11 / 100.00
#   int8 TFLM and LiteRT 99.51 / 99.11 / 99.78, 7,904 B for every seed
#   distillation gain +0.67 points, pruning cost +0.09, int8 loss -0.04
# Seeds 5-9 (same recipe): teacher min 99.33, distilled min 98.66, pruned min
# 98.66, int8 min 98.66 (mean 99.15), pruning cost +0.18.
TEST_SAMPLES = 449
FIVE_SEED_MIN = {"teacher": 446, "distilled": 445, "pruned": 445, "int8": 445}   # right of 449
# Margin: 4 test samples (0.89 points), one more than the largest gap seen between
# two machines at the same seed (3 samples). It also covers seeds 5-9, whose
# minima (443 for distilled, pruned and int8) are 2 samples under seeds 0-4's.
MARGIN = 4
ACCEPT = {k: (v - MARGIN) / TEST_SAMPLES - 1e-9 for k, v in FIVE_SEED_MIN.items()}
MAX_INT8_BYTES = 8192           # issue 11; the budget sizing keeps the estimate at 8,000


@pytest.mark.slow
def test_default_digits_pipeline_meets_acceptance_numbers(default_run):
    # default_run (tests/conftest.py) runs the default pipeline once per session.
    run, results, cfg = default_run
    assert list(results) == list(pipeline.STAGES)
    m = {k: r.metrics for k, r in results.items()}
    assert m["check"]["test_samples"] == TEST_SAMPLES

    assert m["teacher"]["accuracy"] >= ACCEPT["teacher"]
    assert m["distill"]["accuracy"] >= ACCEPT["distilled"]
    assert m["prune"]["accuracy"] >= ACCEPT["pruned"]
    q = m["quantize"]
    int8_bytes = (run / "model_int8.tflite").stat().st_size
    assert q["int8_bytes"] == int8_bytes <= MAX_INT8_BYTES
    assert q["accuracy_int8_litert"] >= ACCEPT["int8"]
    assert q["accuracy_float"] - q["accuracy_int8_litert"] <= 0.005

    # Channel pruning paid: half the kernel weights are gone from a narrower
    # dense model, so the deployed model has fewer bytes and MACs.
    p = m["prune"]
    assert p["method"] == "channels" and p["pays_on_device"] is True
    assert cfg.prune.sparsity <= p["sparsity"] <= cfg.prune.sparsity + 0.1
    assert all(after < before for before, after in p["channels"].values())
    assert p["macs"] < 0.6 * p["macs_before"] and p["bytes"] < p["bytes_before"] - 3000
    assert q["macs"] == p["macs"] and q["int8_bytes"] < p["bytes_before"]

    check = json.loads((run / "check.json").read_text())
    assert check["accuracy"]["int8_tflm"] >= ACCEPT["int8"]
    assert q["accuracy_float"] - check["accuracy"]["int8_tflm"] <= 0.005
    assert check["runtime_agreement"]["top1"] >= 0.995
    assert (run / "golden.npz").is_file()
    for f in ("config.toml", "manifest.json", "teacher.keras", "student_alone.keras",
              "student_distilled.keras", "student_pruned.keras", "model_float.tflite",
              "metrics.json", "report.md", "report.html"):
        assert (run / f).is_file(), f

    # What makes the run repeatable is on record.
    rep = json.loads((run / "manifest.json").read_text())["repeatability"]
    assert rep["op_determinism"] is True and rep["cpu"]["logical_cpus"] >= 1
    assert {"intra_op_threads", "inter_op_threads", "onednn_enabled"} <= set(rep)
    assert "TF_ENABLE_ONEDNN_OPTS" in rep["env"]

    # A second run changes nothing and skips every stage.
    assert all(r.skipped for r in pipeline.run_pipeline(cfg, progress=False))
