"""The end-of-pipeline summary: one aligned row per stage with units, no raw metric dumps."""
from __future__ import annotations

from tinyml.core.runs import StageResult
from tinyml.flows.summary import pipeline_lines


def test_rows_with_units_and_the_distillation_gain(tmp_path):
    results = [
        StageResult("teacher", {"accuracy": 0.99333, "params": 23466}, 35.21, False),
        StageResult("alone", {"accuracy": 0.98, "params": 4051, "macs": 26912}, 12.0, False),
        StageResult("distill", {"accuracy": 0.99111}, 20.0, True),
        StageResult("prune", {"accuracy": 0.98666, "sparsity": 0.506, "method": "channels",
                              "macs": 26912}, 9.5, False),
        StageResult("quantize", {"int8_bytes": 7904, "accuracy_int8_litert": 0.98666}, 3.0, False),
        StageResult("check", {"accuracy_int8_tflm": 0.98666, "arena_recommended_bytes": 3840,
                              "runtime_exact_agreement": 1.0, "test_samples": 449}, 4.0, False),
    ]
    (tmp_path / "report.html").write_text("<html></html>")
    lines = pipeline_lines(results, tmp_path)
    text = "\n".join(lines)
    assert "  teacher     35.2 s  float accuracy 99.33 %, 23,466 params" in text
    assert "  distill     cached  distilled 99.11 % (+1.11 points over the student alone)" in text
    assert "pruned 98.67 %, 51 % of the weights removed, 26,912 MACs (-0.45 points vs distilled)" in text
    assert "int8 .tflite 7,904 B" in text and "arena 3,840 B" in text and "of 449 samples" in text
    assert lines[-1].endswith(f"{tmp_path / 'report.html'}  (open in a browser)")
    assert ":" not in text.replace(str(tmp_path), ""), "no raw key: value dumps"
    # columns: name, time (right-aligned, ends at 20), then the description from 22
    assert all(ln[19] in "sd" and ln[20:22] == "  " and ln[22] != " " for ln in lines[:6]), lines
