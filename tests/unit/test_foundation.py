"""Config validation, atomic writes, run-folder stage skipping, CLI start-up."""
import json
import subprocess
import sys

import pytest

from tinyml.core import atomic
from tinyml.config import schema as config
from tinyml.core.errors import ConfigError, TinymlError
from tinyml.core.runs import RunDir


def test_config_defaults_and_override(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[prune]\nsparsity = 0.5\n[teacher]\nfilters = [8, 16]\n')
    cfg = config.load(p, {"run": {"name": "x"}})
    assert cfg.prune.sparsity == 0.5
    assert cfg.teacher.filters == [8, 16]
    assert cfg.run.name == "x"
    assert cfg.data.name == "digits"


@pytest.mark.parametrize("toml,needle", [
    ('[teacher]\nepochs = "ten"\n', "[teacher] epochs = 'ten' has the wrong type; expected an integer"),
    ('[teacher]\nfilters = [8, "a"]\n', "expected a list of an integer"),
    ('[prune]\nsparsity = 1.5\n', "must be in [0, 1)"),
    ('[quantize]\nmethod = "fp16"\n', "one of 'ptq', 'qat'"),
    ('[nope]\nx = 1\n', "unknown section [nope]"),
    ('[run]\nnmae = "x"\n', "unknown key 'nmae' in [run]"),
    ('[run\n', "not valid TOML"),
])
def test_config_errors_name_file_and_key(tmp_path, toml, needle):
    p = tmp_path / "bad.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError) as e:
        config.load(p)
    assert needle in str(e.value)
    assert str(p) in str(e.value)
    assert e.value.exit_code == 2


def test_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "nope.toml")


def test_config_toml_round_trip():
    cfg = config.load(None, {"student": {"max_params": 3000}})
    again = config.from_dict(__import__("tomllib").loads(config.to_toml(cfg)))
    assert again == cfg


def test_atomic_path_failure_leaves_nothing(tmp_path):
    dest = tmp_path / "out.bin"
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(dest) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    atomic.write_bytes(dest, b"whole")
    assert dest.read_bytes() == b"whole"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_stage_skips_when_inputs_unchanged_and_reruns_when_changed(tmp_path):
    run = RunDir(tmp_path / "r")
    calls = []

    def make(tag):
        def fn(out):
            calls.append(tag)
            (out / "a.txt").write_text(tag)
            return {"value": len(calls)}
        return fn

    r1 = run.stage("s", {"k": 1}, [], ["a.txt"], make("one"))
    r2 = run.stage("s", {"k": 1}, [], ["a.txt"], make("two"))
    assert not r1.skipped and r2.skipped and calls == ["one"]
    assert r2.metrics == {"value": 1}
    r3 = run.stage("s", {"k": 2}, [], ["a.txt"], make("three"))
    assert not r3.skipped and run.path("a.txt").read_text() == "three"
    # a downstream stage re-runs when its input file changes
    run.stage("t", {}, ["a.txt"], ["b.txt"], lambda out: (out / "b.txt").write_text("x") and {})
    assert run.stage("t", {}, ["a.txt"], ["b.txt"], lambda out: {}).skipped
    run.stage("s", {"k": 4}, [], ["a.txt"], make("four"))
    assert not run.stage("t", {}, ["a.txt"], ["b.txt"],
                         lambda out: (out / "b.txt").write_text("y") and {}).skipped
    m = json.loads(run.path("manifest.json").read_text())
    assert set(m["stages"]) == {"s", "t"} and "versions" in m


def test_interrupted_stage_leaves_no_artifact(tmp_path):
    run = RunDir(tmp_path / "r")

    def fn(out):
        (out / "model.bin").write_bytes(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.stage("q", {}, [], ["model.bin"], fn)
    assert not run.root.exists()  # not even an empty run folder
    run.stage("ok", {}, [], ["a.txt"], lambda out: (out / "a.txt").write_text("a") and {})
    with pytest.raises(KeyboardInterrupt):
        run.stage("q", {}, [], ["model.bin"], fn)
    assert sorted(p.name for p in run.root.iterdir()) == ["a.txt", "manifest.json"]


def test_stage_missing_input_is_clear(tmp_path):
    run = RunDir(tmp_path / "r")
    with pytest.raises(TinymlError, match="needs .*teacher.keras"):
        run.stage("distill", {}, ["teacher.keras"], ["x"], lambda out: {})


def test_cli_help_is_fast_and_light():
    code = ("import sys, time; t=time.perf_counter(); from tinyml.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit: pass\n"
            "print('SECONDS', time.perf_counter() - t)\n"
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported by --help'\n"
            "assert 'numpy' not in sys.modules, 'numpy imported by --help'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "pipeline" in out.stdout and "export" in out.stdout
    seconds = float(out.stdout.split("SECONDS")[1])
    # About 0.1 s here; importing TensorFlow alone takes seconds. 1 s leaves room for a busy CI.
    assert seconds < 1.0, f"`tinyml --help` took {seconds:.2f} s"


def test_cli_bad_config_exits_with_config_code(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[teacher]\nepochs = -3\n')
    out = subprocess.run([sys.executable, "-m", "tinyml.cli", "train", "-c", str(p), "--runs-dir",
                          str(tmp_path / "runs")], capture_output=True, text=True)
    assert out.returncode == 2
    assert "epochs = -3 must be at least 1" in out.stderr
    assert not (tmp_path / "runs").exists()
