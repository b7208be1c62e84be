"""The report's device section, from results.json fixtures (tests/unit/fixtures/, hand-written,
not measurements): headline numbers, plots, energy labelling, bad files, stale plots."""
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from tinyml.report import build_metrics, write_report
from tinyml.report.render import ALL_PLOT_FILES

FIX = Path(__file__).parent / "fixtures"
QEMU = "results_qemu_digits.json"          # classes, emulated, energy not measured
BOARD = "results_board_values_estimated.json"  # autoencoder (values), board, energy estimated


def fixture(name):
    return json.loads((FIX / name).read_text(encoding="utf-8"))


def make_run(tmp_path, results=QEMU, name=None, folder="run", edit=None):
    """A run folder with the fixture manifest + check.json and, if given, a results.json."""
    d = tmp_path / folder
    d.mkdir()
    man = fixture("manifest_digits.json")
    res = fixture(results) if results else None
    man["run"] = name or (res["run"] if res else "demo")
    (d / "manifest.json").write_text(json.dumps(man))
    shutil.copy(FIX / "check_digits.json", d / "check.json")
    if res is not None:
        if edit:
            edit(res)
        (d / "results.json").write_text(json.dumps(res, ensure_ascii=False), encoding="utf-8")
    return d


def md(d):
    return (d / "report.md").read_text(encoding="utf-8")


def device_part(d):
    text = md(d)
    return text[text.index("## On the device"):text.index("## On the host")]


def test_class_outputs_headline_first(tmp_path):
    d = make_run(tmp_path)
    names = [p.name for p in write_report(d)]
    # Emulated runs agree to 0.03 %: the latency is a number in the tables, not a plot.
    assert names == ["metrics.json", "device_layers.png", "device_confusion.png",
                     "accuracy.png", "seconds.png", "report.md", "report.html"]
    text = md(d)
    # The headline names whose RAM each figure is: the device's plan, TFLM's host-measured arena.
    head = text[:text.index("## On the device")]
    assert "| RAM for tensors on the device (aot, planned) | 832 B |" in head
    assert "| RAM for tensors under TFLM (host-measured arena, recommended) |" in head
    # device section first, its headline table straight under its heading
    assert text.index("## On the device: qemu_m4 (emulated)") < text.index("## On the host")
    dev = device_part(d)
    assert dev.splitlines()[2] == "| on the device | value |"
    for row in ("| accuracy on the device | 97.77 % |",
                "| accuracy on the host (int8, TFLM), same samples | 97.77 % |",
                "| device − host | +0.00 points |",
                "| samples whose output bytes differ from the host | 0 of 449; max \\|Δ\\| 0 LSB |",
                "| latency median / p90 / max (instructions, 100 runs) | 143,580 / 143,600 / 143,600 instructions |",
                "| latency median / p90 / max (µs) | 1,148.6 / 1,148.8 / 1,148.8 µs of a declared 125 MHz "
                "virtual clock (emulated, not a real chip) |",
                "| tensor arena on the device, planned / used (bytes) | 832 / 832 |",
                "| energy per inference | not measured (no power meter; `tinyml measure --power METER`) |",
                "| samples measured | 449: test split (449 samples) (requested: all; fast path) |"):
        assert row in dev, row
    # headline rows come before any plot
    assert dev.index("samples measured") < dev.index("![per-layer profile](device_layers.png)")
    assert ("Every timed run took 143,580 instructions (median); the runs differ by at most 40 "
            "instructions (0.03 %), so no plot is drawn.") in dev
    assert "_Note:_ emulated instructions (QEMU -icount)" in dev
    assert "| link recoveries (re-syncs, reopened port) | 0 |" in dev
    assert "| 2 | CONV_2D | 52,300 | 37.3 % |" in dev and "|  | total | 140,120 | 100.0 % |" in dev
    assert "The layers add up to 97.6 % of the median inference" in dev
    assert "![confusion matrix](device_confusion.png)" in dev and "device_diff.png" not in dev
    assert "Energy: not measured" in dev and "Warning" not in dev
    assert "| clock | 125 MHz (virtual) |" in dev
    assert "not measured yet" not in text


def test_metrics_json_device_summary(tmp_path):
    d = make_run(tmp_path)
    write_report(d)
    dev = json.loads((d / "metrics.json").read_text())["device"]
    assert dev["state"] == "ok" and dev["target"] == "qemu_m4" and dev["emulated"] is True
    assert dev["accuracy"] == {"device": 0.9777, "host": 0.9777}
    assert dev["mismatched_samples"] == 0 and dev["compared_samples"] == 449 and dev["samples"] == 449
    assert dev["latency"] == {"unit": "instructions", "median": 143580, "p90": 143600, "max": 143600,
                              "us_median": 1148.6, "us_p90": 1148.8, "us_max": 1148.8,
                              "clock_hz": 125000000, "clock": "virtual"}
    assert dev["energy"] == {"status": "not measured", "uj_per_inference": None, "mean_power_mw": None}
    assert dev["outputs"] == "classes" and dev["model_matches_run"] is None   # no model file in the run


def test_values_outputs_and_estimated_energy_labelled_everywhere(tmp_path):
    d = make_run(tmp_path, BOARD)
    names = [p.name for p in write_report(d)]
    assert "device_diff.png" in names and "device_confusion.png" not in names
    dev = device_part(d)
    assert "## On the device: nucleo_l4r5zi" in dev and "emulated" not in dev.split("\n")[0]
    # Values, not classes: bit-exactness leads the table, and there is no empty accuracy box.
    assert dev.splitlines()[4].startswith("| samples whose output bytes differ from the host |")
    assert "| accuracy" not in dev and "accuracy on the device" not in dev
    assert "| latency median / p90 / max (cycles, 20 runs) | 181,420 / 181,530 / 181,780 cycles |" in dev
    assert "1,511.8 / 1,512.8 / 1,514.8 µs at 120 MHz |" in dev
    assert "![output difference per sample](device_diff.png)" in dev
    # every line that shows an energy or power figure says it is estimated
    shown = [ln for ln in dev.splitlines() if re.search(r"µJ|mW|\d V\b", ln)]
    assert len(shown) >= 4
    for ln in shown:
        assert "estimated" in ln, ln
    assert "| energy per inference | estimated, not measured: ≈ 65.85 µJ per inference; basis:" in dev
    assert "| basis (estimated from) | estimated, not measured: given active power 43.6 mW" in dev
    h = (d / "report.html").read_text(encoding="utf-8")
    rows = [r for r in re.findall(r"<tr>.*?</tr>", h) if re.search(r"µJ|mW|\d V\b", r)]
    assert rows and all("estimated" in r for r in rows)
    m = json.loads((d / "metrics.json").read_text())
    assert m["device"]["energy"] == {"status": "estimated", "uj_per_inference": 65.85, "mean_power_mw": 43.56}
    assert m["device"]["accuracy"] == {"device": None, "host": None} and m["device"]["outputs"] == "values"


def test_latency_plot_only_when_the_runs_vary(tmp_path, monkeypatch):
    """A box of the per-run figures when they spread by 1 % of the median or more; runs that
    agree closer than that (a board's 0.25 %, emulation's 0) are a number, not a plot."""
    from tinyml.report import plots
    titles, real = [], plots._png

    def spy(plt, fig):
        ax = fig.axes[0]
        titles.append((ax.get_title(), ax.get_xlim()[0]))
        return real(plt, fig)
    monkeypatch.setattr(plots, "_png", spy)
    res = fixture(BOARD)["latency"]
    assert plots.latency(res, "cycles") is None                 # 460 of 181,420 cycles: 0.25 %
    runs = res["samples_per_inference"]
    res["samples_per_inference"] = [v if i % 2 else v + 4000 for i, v in enumerate(runs)]
    res["per_inference"] = {"min": min(res["samples_per_inference"]), "median": 183000,
                            "max": max(res["samples_per_inference"])}
    assert plots.latency(res, "cycles") is not None
    assert titles[-1][0].startswith("Latency of 20 timed runs") and "4,400 cycles" in titles[-1][0]
    res["samples_per_inference"] = [181420] * 20           # emulation: every run the same
    res["per_inference"] = {"min": 181420, "median": 181420, "max": 181420}
    assert plots.latency(res, "cycles") is None


def test_measured_energy(tmp_path):
    def measured(r):
        r["energy"] = {"status": "measured", "meter": "ppk2", "uj_per_inference": 61.2,
                       "mean_power_mw": 40.48, "supply_v": 3.3, "window_s": 10.0, "inferences": 6612,
                       "basis": "integral of supply power over the trigger-pin window (10.000000 s) from ppk2"}
    d = make_run(tmp_path, BOARD, edit=measured)
    write_report(d)
    dev = device_part(d)
    assert "| energy per inference | 61.20 µJ per inference, measured (mean 40.48 mW at 3.30 V; meter ppk2) |" in dev
    assert "| timed window / inferences in it | 10.000 s / 6,612 |" in dev
    assert "estimated" not in dev


def test_not_measured_says_why(tmp_path):
    def why(r):
        r["energy"]["basis"] = "emulated Cortex-M4 (QEMU): no physical power to estimate"
    d = make_run(tmp_path, edit=why)
    write_report(d)
    assert ("| energy per inference | not measured (emulated Cortex-M4 (QEMU): no physical power to "
            "estimate; `tinyml measure --power METER`) |") in device_part(d)


def test_mismatches_and_stale_model_warn(tmp_path):
    def broken(r):
        r["bit_exact"].update(mismatched_samples=2, max_abs_diff=3,
                              first_mismatches=[{"i": 17, "max_abs_diff": 3}, {"i": 240, "max_abs_diff": 1}])
        r["accuracy"]["device"] = 0.9755
    d = make_run(tmp_path, edit=broken)
    (d / "model_int8.tflite").write_bytes(b"TFL3 a different model")
    write_report(d)
    dev = device_part(d)
    assert "| samples whose output bytes differ from the host | 2 of 449; max \\|Δ\\| 3 LSB |" in dev
    assert "| device − host | -0.22 points |" in dev
    assert "**Warning:** 2 samples' output bytes differ from the host TFLM runtime" in dev
    assert "First: 17, 240." in dev
    assert "the device numbers are stale" in dev
    assert json.loads((d / "metrics.json").read_text())["device"]["model_matches_run"] is False


def test_same_model_no_warning(tmp_path):
    model = b"TFL3 the measured model"

    def same(r):
        r["model"]["sha256"] = hashlib.sha256(model).hexdigest()
    d = make_run(tmp_path, edit=same)
    (d / "model_int8.tflite").write_bytes(model)
    write_report(d)
    assert "Warning" not in device_part(d)
    assert json.loads((d / "metrics.json").read_text())["device"]["model_matches_run"] is True


@pytest.mark.parametrize("content, why", [
    ("{not json", "not readable JSON"),
    (json.dumps({"schema": "tinyml-results", "schema_version": 2}), "this tinyml reads version 1"),
    (json.dumps({"schema": "something-else", "schema_version": 1}), "expected 'tinyml-results'"),
    (json.dumps({"schema": "tinyml-results", "schema_version": 1, "latency": [1, 2]}), '"latency" must be'),
    (json.dumps({"schema": "tinyml-results", "schema_version": 1, "energy": {"status": "guessed"}}),
     "energy.status 'guessed'"),
])
def test_unreadable_results_are_reported_not_shown(tmp_path, content, why):
    d = make_run(tmp_path, None, name="demo")
    (d / "results.json").write_text(content)
    names = [p.name for p in write_report(d)]
    assert not any(n.startswith("device_") for n in names)
    dev = device_part(d)
    assert "results.json could not be read, so no device numbers are shown" in dev and why in dev
    m = json.loads((d / "metrics.json").read_text())
    assert m["device"]["state"] == "error" and why in m["device"]["error"]


def test_light_install_without_matplotlib(tmp_path, monkeypatch):
    from tinyml.report import plots
    monkeypatch.setattr(plots, "available", lambda: False)
    d = make_run(tmp_path)
    assert [p.name for p in write_report(d)] == ["metrics.json", "report.md", "report.html"]
    text = md(d)
    assert "Plots are not drawn: matplotlib is not installed" in text and "![" not in text
    assert "| 0 | CONV_2D | 38,420 | 27.4 % |" in text          # the tables stay
    assert "<img" not in (d / "report.html").read_text(encoding="utf-8")


def test_samples_jsonl_counted(tmp_path):
    d = make_run(tmp_path)
    with open(d / "results.samples.jsonl", "w") as f:
        f.write(json.dumps({"header": {"model_sha256": "5f2c", "target": "qemu_m4"}}) + "\n")
        for i in list(range(449)) + [448]:          # a resumed run may repeat its last sample
            f.write(json.dumps({"i": i, "label": i % 10, "raw": [-128] * 10, "host": [-128] * 10,
                                "match": True, "count": 143580, "path": "fast"}) + "\n")
        f.write('{"i": 449, "label"')               # cut short by an interruption
    write_report(d)
    assert "| per-sample records | results.samples.jsonl (449 samples) |" in device_part(d)


def test_html_is_self_contained(tmp_path):
    d = make_run(tmp_path)
    write_report(d)
    h = (d / "report.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', h) + re.findall(r"url\(([^)]*)\)", h)
    assert len(refs) == 4 and all(r.startswith("data:image/png;base64,") for r in refs)
    assert "<script" not in h and "<link" not in h and "@import" not in h
    # the HTML still shows every plot with the PNG files gone
    for n in ALL_PLOT_FILES:
        (d / n).unlink(missing_ok=True)
    assert h.count("<img ") == 4


def test_stale_device_plots_removed_also_from_run_folder(tmp_path):
    d = make_run(tmp_path)
    write_report(d)
    assert (d / "device_confusion.png").is_file()
    # switch to an autoencoder measurement: the confusion matrix no longer applies
    (d / "results.json").write_text((FIX / BOARD).read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "staging"
    out.mkdir()
    write_report(d, out)                # the pipeline's report stage writes to a staging folder
    assert not (d / "device_confusion.png").exists() and (out / "device_diff.png").is_file()
    (d / "results.json").unlink()
    write_report(d)
    assert not any((d / n).exists() for n in ("device_latency.png", "device_layers.png", "device_diff.png"))
    assert "not measured yet" in md(d) and build_metrics(d)["device"] is None


def test_deterministic(tmp_path):
    a, b = make_run(tmp_path, folder="a"), make_run(tmp_path, folder="b")
    wa, wb = write_report(a), write_report(b)
    assert [p.name for p in wa] == [p.name for p in wb]
    for pa, pb in zip(wa, wb):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
