"""Keep the terminal for tinyml's own messages and progress bars.

TensorFlow's C++ runtime and the TFLite converter write their logs straight to
file descriptor 2, whatever TF_CPP_MIN_LOG_LEVEL says. The CLI points fd 2 at
a log file of its own invocation (`<tmp>/tinyml-logs/native-<time>-<pid>.log`)
and gives Python's sys.stderr (our errors, progress bars) a private
copy of the terminal. TINYML_VERBOSE=1 leaves everything on the terminal.
"""
from __future__ import annotations

import io
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

LOG_DIR = Path(tempfile.gettempdir()) / "tinyml-logs"
KEEP_LOGS = 20


def new_log_path(log_dir: Path = LOG_DIR) -> Path:
    """A log of this invocation's own (concurrent runs never share one); old ones are pruned."""
    log_dir.mkdir(parents=True, exist_ok=True)
    old = sorted(log_dir.glob("native-*.log"), key=lambda p: p.stat().st_mtime)
    for p in old[:max(0, len(old) - KEEP_LOGS + 1)]:
        p.unlink(missing_ok=True)
    return log_dir / f"native-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def route_native_logs(log_path: Path | None = None) -> Path | None:
    if os.environ.get("TINYML_VERBOSE") == "1":
        return None
    try:
        log_path = log_path or new_log_path()
        sys.stderr.flush()
        terminal = os.dup(2)
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError:
        return None  # no log file possible: keep the noise rather than lose errors
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = io.TextIOWrapper(os.fdopen(terminal, "wb", buffering=0), encoding="utf-8",
                                  errors="backslashreplace", write_through=True)
    # Library deprecation/conversion chatter is not actionable for a user.
    for module in ("tensorflow", "tf_keras", "tensorflow_model_optimization", "keras"):
        warnings.filterwarnings("ignore", module=module)
    return log_path
