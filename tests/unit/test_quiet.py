"""Native (fd 2) logs go to the log file; Python's stderr stays on the terminal."""
import os
import subprocess
import sys


def _run(tmp_path, verbose):
    log = tmp_path / "native.log"
    code = ("import os, sys; from pathlib import Path; from tinyml.core.quiet import route_native_logs\n"
            f"route_native_logs(Path({str(log)!r}))\n"
            "os.write(2, b'native chatter\\n'); print('error: ours', file=sys.stderr)\n")
    env = {**os.environ, "TINYML_VERBOSE": "1" if verbose else "0"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return out.stderr, (log.read_text() if log.exists() else None)


def test_native_logs_are_routed_to_the_log_file(tmp_path):
    err, log = _run(tmp_path, verbose=False)
    assert err == "error: ours\n"
    assert log == "native chatter\n"


def test_verbose_keeps_everything_on_the_terminal(tmp_path):
    err, log = _run(tmp_path, verbose=True)
    assert "native chatter" in err and "error: ours" in err
    assert log is None
