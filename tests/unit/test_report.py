"""Report rendering from a realistic manifest: numbers, missing stages, plots, no TF."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinyml.report import build_metrics, write_report

STAGES = {
    "teacher": {"metrics": {"accuracy": 0.98222, "params": 110_314, "macs": 2_103_040}, "seconds": 41.25},
    "alone": {"metrics": {"accuracy": 0.95111, "params": 2_154, "macs": 40_512}, "seconds": 20.5},
    "distill": {"metrics": {"accuracy": 0.96444, "params": 2_154, "macs": 40_512}, "seconds": 22.0},
    "prune": {"metrics": {"accuracy": 0.95778, "params": 2_154, "macs": 40_512, "sparsity": 0.3012},
              "seconds": 9.75},
    "quantize": {"metrics": {"float_bytes": 11_840, "int8_bytes": 6_016}, "seconds": 3.5},
    "check": {"metrics": {"accuracy_float": 0.95778, "accuracy_int8_tflm": 0.95556,
                          "accuracy_int8_litert": 0.95333, "arena_min_bytes": 2_432,
                          "arena_recommended_bytes": 2_688, "model_bytes": 6_016,
                          "runtime_top1_agreement": 0.99778, "runtime_exact_agreement": 0.88222,
                          "runtime_max_abs_diff_lsb": 1, "test_samples": 450}, "seconds": 5.0},
}
CHECK = {"op_table": [{"index": 0, "op": "CONV_2D", "layer": "conv"},
                      {"index": 1, "op": "SOFTMAX", "layer": None}]}


def _run(tmp_path, stages, check=None, name="demo"):
    d = tmp_path / name
    d.mkdir()
    man = {"run": name, "stages": {k: dict(stages[k], fingerprint="x" * 64, outputs=[]) for k in sorted(stages)},
           "versions": {"python": "3.11.2", "tflite-micro": "0.dev"}}
    (d / "manifest.json").write_text(json.dumps(man))
    if check:
        (d / "check.json").write_text(json.dumps(check))
    return d


def md_order(d):
    md = (d / "report.md").read_text().split("## Time per stage")[1]
    return [ln.split("|")[1].strip() for ln in md.splitlines() if ln.startswith("| ") and " s |" in ln]


def test_full_report(tmp_path):
    d = _run(tmp_path, STAGES, CHECK)
    written = write_report(d)
    assert [p.name for p in written] == ["metrics.json", "accuracy.png", "seconds.png", "report.md", "report.html"]
    for p in written:
        assert p.parent == d and p.stat().st_size > 0
    assert (d / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    m = json.loads((d / "metrics.json").read_text())
    assert m["accuracy"] == {"teacher": 0.98222, "alone": 0.95111, "distilled": 0.96444, "pruned": 0.95778,
                             "float": 0.95778, "int8_tflm": 0.95556, "int8_litert": 0.95333}
    assert m["model_bytes"] == {"tflite_int8": 6016, "tflite_float": 11840}
    assert m["arena_bytes"] == {"min": 2432, "recommended": 2688}
    assert m["params"] == {"teacher": 110314, "student": 2154}
    assert m["macs"] == {"teacher": 2103040, "student": 40512}
    assert m["sparsity"] == 0.3012
    assert m["runtime_agreement"] == {"top1": 0.99778, "exact": 0.88222, "max_abs_diff_lsb": 1, "note": None}
    assert m["stage_seconds"]["teacher"] == 41.25
    # pipeline order in the report (metrics.json itself is written with sorted keys)
    assert list(build_metrics(d)["stage_seconds"]) == ["teacher", "alone", "distill", "prune", "quantize", "check"]
    assert md_order(d) == ["teacher", "alone", "distill", "prune", "quantize", "check", "total"]
    assert m["total_seconds"] == pytest.approx(41.25 + 20.5 + 22.0 + 9.75 + 3.5 + 5.0)

    md = (d / "report.md").read_text()
    assert "|  | teacher | alone | distilled | pruned | int8 |" in md
    assert "| accuracy | 98.22 % | 95.11 % | 96.44 % | 95.78 % | 95.56 % |" in md
    assert "| parameters | 110,314 | 2,154 | 2,154 | 2,154 | 2,154 |" in md
    assert "| sparsity | — | — | — | 30.1 % | 30.1 % |" in md
    assert "| model bytes | — | — | — | — | 6,016 |" in md
    assert "| int8 accuracy, LiteRT | 95.33 % |" in md
    assert "| max \\|Δ\\| LiteRT vs TFLM | 1 LSB |" in md
    assert "| tensor arena, recommended (bytes) | 2,688 |" in md
    assert "| 1 | SOFTMAX | — |" in md
    assert "| total | 102.0 s |" in md
    assert "![accuracy per stage](accuracy.png)" in md

    h = (d / "report.html").read_text()
    # images are embedded, the PNG files beside it are only for report.md
    assert 'data-file="accuracy.png"' in h and 'data-file="seconds.png"' in h
    assert h.count('src="data:image/png;base64,') == 2 and 'src="accuracy.png"' not in h
    assert "<td>98.22 %</td>" in h and "<td>2,432</td>" in h and "max |Δ| LiteRT vs TFLM" in h


def test_host_headline_first_with_distillation_gain(tmp_path):
    d = _run(tmp_path, STAGES, CHECK)
    write_report(d)
    md = (d / "report.md").read_text()
    host = md.split("## On the host")[1]
    assert host.index("| headline | value |") < host.index("### Model at each stage")
    assert "| int8 accuracy (TFLM host runtime, the device's reference) | 95.56 % |" in host
    assert "| int8 − float | -0.22 points |" in host
    assert "| distillation gain (distilled − trained alone) | +1.33 points (96.44 % vs 95.11 %) |" in host
    assert "| int8 model (.tflite bytes) | 6,016 |" in host
    assert "| tensor arena, TFLM minimum / recommended (bytes) | 2,432 / 2,688 |" in host
    m = json.loads((d / "metrics.json").read_text())
    assert m["distillation_gain"] == pytest.approx(0.01333)
    assert m["device"] is None                      # no results.json yet
    assert "not measured yet" in md and "`tinyml measure --target qemu_m4`" in md


def test_accuracy_axis_starts_at_zero(tmp_path, monkeypatch):
    from tinyml.report import plots
    seen = []
    real = plots._png

    def spy(plt, fig):
        seen.append([ax.get_ylim() for ax in fig.axes])
        return real(plt, fig)
    monkeypatch.setattr(plots, "_png", spy)
    assert plots.accuracy(build_metrics(_run(tmp_path, STAGES))) is not None
    (lo, hi), = seen[0]
    assert lo == 0.0 and hi >= 100.0


def test_missing_stages_show_dash(tmp_path):
    stages = {k: v for k, v in STAGES.items() if k in ("teacher", "check")}
    d = _run(tmp_path, stages)
    write_report(d)
    m = json.loads((d / "metrics.json").read_text())
    assert m["accuracy"]["alone"] is None and m["accuracy"]["pruned"] is None
    assert m["sparsity"] is None and m["model_bytes"]["tflite_float"] is None
    md = (d / "report.md").read_text()
    assert "| accuracy | 98.22 % | — | — | — | 95.56 % |" in md
    assert "Ops and the Keras layers" not in md          # no check.json -> no op table


def test_empty_run_and_stale_plots(tmp_path):
    d = _run(tmp_path, STAGES)
    write_report(d)
    assert (d / "accuracy.png").exists()
    (d / "manifest.json").write_text(json.dumps({"run": "demo", "stages": {}}))
    written = write_report(d)
    assert [p.name for p in written] == ["metrics.json", "report.md", "report.html"]
    assert not (d / "accuracy.png").exists() and not (d / "seconds.png").exists()
    md = (d / "report.md").read_text()
    # no stage made a model: no all-dash stage table, and no plot
    assert "Model at each stage" not in md and "![" not in md


def test_file_size_fallback_and_out_dir(tmp_path):
    d = _run(tmp_path, {"teacher": STAGES["teacher"]})
    (d / "model_int8.tflite").write_bytes(b"\0" * 3464)
    out = tmp_path / "staging"
    out.mkdir()
    written = write_report(d, out)
    assert all(p.parent == out for p in written) and not (d / "metrics.json").exists()
    assert build_metrics(d)["model_bytes"]["tflite_int8"] == 3464


def test_report_never_imports_tensorflow(tmp_path):
    d = _run(tmp_path, STAGES, CHECK)
    code = ("import sys; from tinyml.report import write_report; "
            f"write_report({str(d)!r}); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'keras')]; "
            "print(bad)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
