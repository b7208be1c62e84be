"""Bad input through the real CLI: a clear message naming the culprit, a
non-zero exit code of the right class, and nothing left in the run folder."""
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinyml.data.audio import write_wav


def _tinyml(*args, cwd=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "tinyml.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def _assert_clean_failure(out, code, *needles, runs=None):
    assert out.returncode == code, (out.returncode, out.stderr[-2000:])
    # TensorFlow's C++ logs go to a log file (tinyml/core/quiet.py): stderr is our message alone.
    assert out.stderr.startswith("error: "), out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    for n in needles:
        assert str(n) in out.stderr, (n, out.stderr)
    if runs is not None:
        left = [p for p in Path(runs).rglob("*")] if Path(runs).exists() else []
        assert left == [], f"artifacts left behind: {left}"


def _png(path, value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, np.uint8)).save(path)


def test_missing_dataset_path(tmp_path):
    runs = tmp_path / "runs"
    out = _tinyml("train", "--dataset", "images", "--data-path", tmp_path / "nope", "--runs-dir", runs)
    _assert_clean_failure(out, 3, tmp_path / "nope", runs=runs)


def test_empty_class_folder(tmp_path):
    data, runs = tmp_path / "imgs", tmp_path / "runs"
    for i in range(3):
        _png(data / "cat" / f"{i}.png")
    (data / "dog").mkdir()
    out = _tinyml("train", "--dataset", "images", "--data-path", data, "--runs-dir", runs)
    _assert_clean_failure(out, 3, data / "dog", runs=runs)


def test_corrupt_image(tmp_path):
    data, runs = tmp_path / "imgs", tmp_path / "runs"
    for c in ("cat", "dog"):
        for i in range(3):
            _png(data / c / f"{i}.png", 40 * i)
    bad = data / "dog" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    out = _tinyml("train", "--dataset", "images", "--data-path", data, "--runs-dir", runs)
    _assert_clean_failure(out, 3, bad, runs=runs)


def test_corrupt_wav(tmp_path):
    data, runs = tmp_path / "wavs", tmp_path / "runs"
    t = np.arange(16000) / 16000
    for c, f in (("yes", 440.0), ("no", 880.0)):
        (data / c).mkdir(parents=True)
        for i in range(2):
            write_wav(data / c / f"{i}.wav", 0.3 * np.sin(2 * np.pi * f * t), 16000)
    bad = data / "no" / "broken.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk")
    out = _tinyml("train", "--dataset", "wav", "--data-path", data, "--runs-dir", runs)
    _assert_clean_failure(out, 3, bad, runs=runs)


def test_config_key_of_wrong_type(tmp_path):
    cfg, runs = tmp_path / "c.toml", tmp_path / "runs"
    cfg.write_text('[student]\nmax_params = "small"\n')
    out = _tinyml("pipeline", "-c", cfg, "--runs-dir", runs)
    _assert_clean_failure(out, 2, cfg, "[student] max_params", runs=runs)


def test_budget_no_architecture_can_meet(tmp_path):
    cfg, runs = tmp_path / "c.toml", tmp_path / "runs"
    cfg.write_text("[student]\nmax_params = 20\nmax_bytes = 500\n")
    out = _tinyml("distill", "-c", cfg, "--runs-dir", runs)
    _assert_clean_failure(out, 4, "max_params", runs=runs)


@pytest.mark.parametrize("content", [b"", b"not a model at all\n", os.urandom(4096)])
def test_check_refuses_a_file_that_is_not_a_flatbuffer(tmp_path, content):
    model, runs = tmp_path / "model.tflite", tmp_path / "runs"
    model.write_bytes(content)
    out = _tinyml("check", "--model", model, "--runs-dir", runs)
    _assert_clean_failure(out, 5, model, runs=runs)


def test_check_asks_a_float_model_for_calibration_data(tmp_path):
    """A float model needs calibration inputs to become int8: no silent random data."""
    from tflite_micro.python.tflite_micro import runtime
    sine = Path(runtime.__file__).parent / "sine_float.tflite"   # a real float .tflite
    runs = tmp_path / "runs"
    out = _tinyml("check", "--model", sine, "--runs-dir", runs)
    _assert_clean_failure(out, 3, sine, "is a float model; quantizing it to int8 needs calibration inputs",
                          "--calibration", runs=runs)
    assert "tinyml quantize" not in out.stderr


def test_os_error_is_one_line_with_the_file_and_a_hint(tmp_path):
    """An OSError (here: --runs-dir inside a regular file) ends in one line naming the
    path and exit code 10, not a traceback."""
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    out = _tinyml("pipeline", "--runs-dir", blocker / "runs")
    _assert_clean_failure(out, 10, "Not a directory", str(blocker / "runs"), "hint:")
    assert len(out.stderr.strip().splitlines()) == 2        # the error and its hint


def _in_private_tmpfs(tmp_path, mount_opts, *args):
    """Run the CLI with a fresh tmpfs (`mount_opts`: size, ro) as its runs folder, in a
    private mount namespace (unshare -rm: no root needed, nothing mounted outside)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cli = " ".join(shlex.quote(str(a)) for a in [sys.executable, "-m", "tinyml.cli", *args])
    script = (f"mount -t tmpfs -o {mount_opts} tmpfs {mnt} || exit 99; {cli}; rc=$?; "
              f"find {mnt} -mindepth 1 -not -name runs > {tmp_path / 'left.txt'}; exit $rc")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode != 99, f"cannot mount a private tmpfs: {out.stderr}"
    return out, mnt, (tmp_path / "left.txt").read_text().split()


@pytest.mark.tools("unshare")
@pytest.mark.parametrize("size", ["12k", "20k", "24k"])      # fails at a different write each
def test_full_disk_is_one_line_naming_the_file_and_leaves_nothing(tmp_path, size):
    from test_check_models import models
    out, mnt, left = _in_private_tmpfs(tmp_path, f"size={size}", "check", "--model", models().int8,
                                       "--runs-dir", tmp_path / "mnt" / "runs")
    _assert_clean_failure(out, 10, "No space left on device: " + str(mnt / "runs"),
                          "hint: free some disk space")
    assert len(out.stderr.strip().splitlines()) == 2
    assert left == [], f"a full disk left {left}"


@pytest.mark.tools("unshare")
def test_read_only_runs_folder_is_one_line(tmp_path):
    out, mnt, left = _in_private_tmpfs(tmp_path, "ro", "pipeline", "--runs-dir", tmp_path / "mnt" / "runs")
    _assert_clean_failure(out, 10, f"Read-only file system: {mnt / 'runs'}", "hint: the folder is read-only")
    assert left == []


def test_each_invocation_has_its_own_native_log(tmp_path):
    """Concurrent runs must not truncate one shared log."""
    code = "from tinyml.core.quiet import route_native_logs; print(route_native_logs())"
    env = {**os.environ, "TINYML_VERBOSE": "0", "TMPDIR": str(tmp_path)}
    paths = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env).stdout.strip() for _ in range(2)}
    assert len(paths) == 2 and all(Path(p).parent == tmp_path / "tinyml-logs" for p in paths)
