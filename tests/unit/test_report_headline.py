"""The report opens with one headline table: device vs host, int8 vs float, distillation
gain, size, RAM, latency, energy (fixtures: hand-written, not measurements)."""
from __future__ import annotations

from test_report_device import BOARD, fixture, make_run, md

from tinyml.report import write_report


def _headline(d):
    text = md(d)
    first = text[text.index("| headline |"):]
    return first[:first.index("\n\n")]


def test_headline_comes_first_with_every_number(tmp_path):
    d = make_run(tmp_path)
    write_report(d)
    h, res, man = _headline(d), fixture("results_qemu_digits.json"), fixture("manifest_digits.json")
    text = md(d)
    assert text.index("| headline |") < text.index("## On the device")
    acc = res["accuracy"]
    assert f"{100 * acc['device']:.2f} % vs {100 * acc['host']:.2f} %" in h
    assert "qemu_m4, emulated" in h
    st = man["stages"]
    gain = 100 * (st["distill"]["metrics"]["accuracy"] - st["alone"]["metrics"]["accuracy"])
    assert f"distillation gain (distilled − student trained alone) | {gain:+.2f} points" in h
    assert "µs median (virtual clock)" in h and "energy per inference | not measured" in h


def test_headline_labels_an_estimate(tmp_path):
    d = make_run(tmp_path, results=BOARD)
    write_report(d)
    assert "(estimated)" in _headline(d)


def test_headline_without_a_device_says_how_to_measure(tmp_path):
    d = make_run(tmp_path, results=None)
    write_report(d)
    h = _headline(d)
    assert "not measured yet: `tinyml measure`" in h and "latency per inference | —" in h
