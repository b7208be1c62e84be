import os

# Quiet TensorFlow and keep it on tf-keras in every test process.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from ci_tools import require_tools  # noqa: E402

TESTS = Path(__file__).resolve().parent
# Tools a whole folder or marker needs; a test can ask for more with @pytest.mark.tools(...).
FOLDER_TOOLS = {"host": ("gcc",)}
MARKER_TOOLS = {"emu": ("arm-none-eabi-gcc", "qemu-system-arm")}


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """The default digits pipeline, run once per test session (a few minutes).

    Returns (run folder, {stage: StageResult}, config). Set TINYML_TEST_RUN to a
    finished run folder (e.g. runs/default) to reuse it instead of training.
    """
    from tinyml.config import schema as config
    from tinyml.flows import pipeline
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


# -- CI policy: a test that should run on this machine never passes by skipping --------

def _tools_for(item) -> list[str]:
    names: list[str] = []
    rel = Path(str(item.path)).resolve()
    if TESTS in rel.parents:
        names += FOLDER_TOOLS.get(rel.relative_to(TESTS).parts[0], ())
    for marker, tools in MARKER_TOOLS.items():
        if item.get_closest_marker(marker):
            names += tools
    for m in item.iter_markers("tools"):
        names += m.args
    return names


def pytest_runtest_setup(item):
    require_tools(*_tools_for(item))


def _may_skip(item) -> bool:
    """Only real-board tests skip, and only when no board was given."""
    return item.get_closest_marker("hw") is not None and not item.config.getoption("--port")


def _skip_reason(rep) -> str:
    lr = rep.longrepr
    return lr[2] if isinstance(lr, tuple) and len(lr) == 3 else str(lr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail") and not _may_skip(item):
        rep.outcome = "failed"
        rep.longrepr = (f"skipped, but only real-board tests (tests/hw without --port) may skip: "
                        f"{_skip_reason(rep)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped:
        rep.outcome = "failed"
        rep.longrepr = f"{collector.nodeid} skipped at collection, which only tests/hw may do: {_skip_reason(rep)}"
