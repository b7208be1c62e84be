import os

# Quiet TensorFlow and keep it on tf-keras in every test process.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """The default digits pipeline, run once per test session (a few minutes).

    Returns (run folder, {stage: StageResult}, config). Set TINYML_TEST_RUN to a
    finished run folder (e.g. runs/default) to reuse it instead of training.
    """
    from tinyml import config, pipeline
    given = os.environ.get("TINYML_TEST_RUN")
    if given:
        run = Path(given)
        cfg = config.load(None, {"run": {"runs_dir": str(run.parent), "name": run.name}})
    else:
        runs = tmp_path_factory.mktemp("runs")
        cfg = config.load(None, {"run": {"runs_dir": str(runs), "name": "default"}})
        run = runs / "default"
    results = {r.name: r for r in pipeline.run_pipeline(cfg, progress=False)}
    return run, results, cfg


def pytest_addoption(parser):
    parser.addoption("--port", default=None,
                     help="serial port (or socket://host:port) of a real board flashed with "
                          "`tinyml export` + `pio run -e <env> -t upload`; enables tests/hw")
    parser.addoption("--golden", default=None,
                     help="golden.npz of the model flashed on the board (tests/hw)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--port"):
        return
    skip = pytest.mark.skip(reason="real-board test: give --port to run it")
    for item in items:
        if "hw" in item.keywords:
            item.add_marker(skip)
