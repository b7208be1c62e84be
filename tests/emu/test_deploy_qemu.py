"""`tinyml deploy` end to end on the emulated Cortex-M4: the default digits run
(its stages reused), export, offline build, QEMU, measure, report."""
from __future__ import annotations

import dataclasses
import shutil

import pytest

from tinyml.deploy import deploy, summary_lines
from tinyml.errors import BudgetError
from tinyml.measure import MeasureOptions

pytestmark = pytest.mark.emu


@pytest.fixture
def run_and_project(default_run, project_copy, tmp_path):
    run, _, cfg = default_run
    runs = tmp_path / "runs"
    shutil.copytree(run, runs / run.name, ignore=shutil.ignore_patterns("results*", "report*"))
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, runs_dir=str(runs)))
    return cfg, project_copy(tmp_path / "proj")


def test_deploy_reuses_the_run_and_measures_the_device(run_and_project):
    cfg, proj = run_and_project
    said: list[str] = []
    d = deploy(cfg, "qemu_m4", project_dir=proj, opts=MeasureOptions(samples=60, progress=False),
               progress=said.append)
    assert [s.split()[1] for s in said] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    assert d.seconds["pipeline"] < 60, "every pipeline stage should have been reused"
    r = d.results
    assert r["bit_exact"] == {**r["bit_exact"], "compared": 60, "mismatched_samples": 0}
    assert r["device"]["model_id"] == cfg.run.name and r["target"] == "qemu_m4"
    assert (d.run_dir / "report.html").is_file() and d.flash_bytes > 0 and d.ram_bytes > 0
    text = "\n".join(summary_lines(d))
    assert "60 samples" in text and str(d.run_dir / "report.html") in text


def test_deploy_refuses_a_board_the_model_does_not_fit_before_building(run_and_project):
    from tinyml.targets.qemu import QEMU_M4
    import tinyml.targets.registry as reg
    cfg, proj = run_and_project
    tiny = dataclasses.replace(QEMU_M4, budget=dataclasses.replace(QEMU_M4.budget, ram_bytes=4096))
    orig = reg._LOADERS["qemu_m4"]
    reg._LOADERS["qemu_m4"] = lambda: tiny       # a board with 4 KiB of RAM
    try:
        with pytest.raises(BudgetError, match="does not fit qemu_m4"):
            deploy(cfg, "qemu_m4", project_dir=proj, progress=None)
    finally:
        reg._LOADERS["qemu_m4"] = orig
    assert not (proj / ".pio").exists(), "nothing may be built for a model that does not fit"
    assert not any((proj / "firmware" / "generated").iterdir())
