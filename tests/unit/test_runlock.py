"""One tinyml process per run folder: a second one gets one line naming the holder."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
from test_cli_errors import _assert_clean_failure, _tinyml

from tinyml.core.errors import RunBusyError
from tinyml.core.runlock import hold, lock_path

HOLDER = """
import sys, time
from tinyml.core.runlock import hold
with hold(sys.argv[1], command="tinyml pipeline --run r"):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(run_dir):
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(run_dir)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_second_process_is_refused_naming_the_holder(tmp_path):
    run = tmp_path / "runs" / "r"
    p = _holder(run)
    try:
        out = _tinyml("pipeline", "--runs-dir", tmp_path / "runs", "--run", "r")
        _assert_clean_failure(out, 11, f"run folder {run} is in use by pid {p.pid}",
                              "tinyml pipeline --run r", "hint:")
        assert not run.exists(), "the refused command must not create the run folder"
    finally:
        p.kill()
        p.wait()


def test_the_lock_dies_with_its_process(tmp_path):
    run = tmp_path / "r"
    p = _holder(run)
    with pytest.raises(RunBusyError):
        with hold(run):
            pass
    p.kill()
    p.wait()
    with hold(run):          # the kernel dropped the flock with the process
        assert lock_path(run).is_file()
    assert not lock_path(run).exists(), "a released lock leaves no file behind"


def test_the_same_process_may_take_it_again(tmp_path):
    with hold(tmp_path / "r"):
        with hold(tmp_path / "r"):       # deploy -> pipeline -> measure
            pass
        assert lock_path(tmp_path / "r").exists()


def test_concurrent_takers_never_both_hold(tmp_path):
    """Many processes racing for the lock: at most one holds it at any time."""
    code = """
import sys, time, os
from tinyml.core.runlock import hold
from tinyml.core.errors import RunBusyError
deadline = time.time() + 3
got = 0
while time.time() < deadline:
    try:
        with hold(sys.argv[1]):
            flag = sys.argv[2]
            fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)   # fails if another holder
            time.sleep(0.002)
            os.close(fd); os.unlink(flag)
            got += 1
    except RunBusyError:
        pass
print(got)
"""
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "r"), str(tmp_path / "flag")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
    assert sum(int(o) for o, _ in outs) > 0


def test_the_same_run_named_two_ways_is_one_lock(tmp_path):
    """A relative and an absolute (or symlinked) name of one run folder: still re-entrant."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with hold(tmp_path / "link" / "new" / "r"):       # parent created by the first hold
        with hold(tmp_path / "real" / "new" / "r"):
            pass
