"""Pipeline stages: skipped when unchanged, re-run when their config changes,
and an interrupted stage leaves nothing behind. Plus the slow end-to-end run
of the default digits pipeline against the acceptance numbers."""
import json

import pytest

from tinyml import config, pipeline
from tinyml.errors import ConfigError, TinymlError


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
    cfg.prune.sparsity = 0.5
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


@pytest.mark.slow
def test_default_digits_pipeline_meets_acceptance_numbers(default_run):
    # default_run (tests/conftest.py) runs the default pipeline once per session.
    run, results, cfg = default_run
    assert list(results) == list(pipeline.STAGES)
    m = {k: r.metrics for k, r in results.items()}

    assert m["teacher"]["accuracy"] >= 0.99
    q = m["quantize"]
    int8_bytes = (run / "model_int8.tflite").stat().st_size
    assert q["int8_bytes"] == int8_bytes <= 10_000
    assert q["accuracy_int8_litert"] >= 0.975
    assert q["accuracy_float"] - q["accuracy_int8_litert"] <= 0.005
    assert m["prune"]["sparsity"] == pytest.approx(cfg.prune.sparsity, abs=0.02)

    check = json.loads((run / "check.json").read_text())
    assert check["accuracy"]["int8_tflm"] >= 0.975
    assert q["accuracy_float"] - check["accuracy"]["int8_tflm"] <= 0.005
    assert check["runtime_agreement"]["top1"] >= 0.995
    assert (run / "golden.npz").is_file()
    for f in ("config.toml", "manifest.json", "teacher.keras", "student_alone.keras",
              "student_distilled.keras", "student_pruned.keras", "model_float.tflite",
              "metrics.json", "report.md", "report.html"):
        assert (run / f).is_file(), f

    # A second run changes nothing and skips every stage.
    assert all(r.skipped for r in pipeline.run_pipeline(cfg, progress=False))
