"""`tinyml deploy` end to end on the emulated Cortex-M4: the default digits run
(its stages reused), export, offline build, QEMU, measure, report."""
from __future__ import annotations

import dataclasses
import shutil

import pytest

from tinyml.flows.deploy import deploy, summary_lines
from tinyml.core.errors import BudgetError
from tinyml.flows.measure import MeasureOptions

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


def _cli(*args, cwd=None):
    import os
    import subprocess
    import sys
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "tinyml.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=900)


def test_deploy_esp32_offline_stops_before_pio_with_the_finishing_command(run_and_project, tmp_path,
                                                                          monkeypatch):
    """No platform and no network: one clear error naming the platform, without PlatformIO's
    minute of download retries, and the model's sources already generated."""
    cfg, proj = run_and_project
    core = tmp_path / "pio-core"              # an empty PlatformIO home: espressif32 not installed
    core.mkdir()
    monkeypatch.setenv("PLATFORMIO_CORE_DIR", str(core))
    from tinyml.targets import pio
    if pio.registry_reachable():
        pytest.fail("this test needs a machine without internet (PlatformIO's registry answered)")
    out = _cli("deploy", "--target", "esp32", "--runs-dir", cfg.run.runs_dir, "--project", proj)
    assert out.returncode == 7, out.stderr[-2000:]
    assert out.stderr.startswith("error: `pio run -e esp32dev` cannot start: the PlatformIO platform "
                                 "'espressif32' is not installed"), out.stderr
    assert "hint: pio run -e esp32dev -t upload && tinyml measure --target esp32dev" in out.stderr
    assert (proj / "firmware/generated/tm_aot_model.c").is_file()
    assert not (proj / ".pio").exists()


@pytest.mark.parametrize("name", ["ad", "kws"])
def test_deploy_own_model_on_random_inputs_is_bit_exact(name, project_copy, tmp_path):
    """`tinyml deploy --model FILE` with no data: seeded random inputs, 0 mismatches, no accuracy.
    (All four reference models: benchmarks/deploy_time.py's note; ic and vww take longer.)"""
    import json
    from reference_models import reference_int8
    model = tmp_path / f"{name}_ref.tflite"
    model.write_bytes(reference_int8(name))
    proj = project_copy(tmp_path / "proj")
    out = _cli("deploy", "--model", model, "--runs-dir", tmp_path / "runs", "--project", proj,
               "--samples", "20")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "seeded random inputs (no labels: no accuracy)" in out.stdout
    assert "20/20 samples match the host TFLM runtime" in out.stdout
    res = json.loads((tmp_path / "runs" / f"model-{name}_ref" / "results.json").read_text())
    assert res["accuracy"] is None and res["bit_exact"]["mismatched_samples"] == 0
