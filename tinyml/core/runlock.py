"""One tinyml process per run folder at a time.

Two `tinyml pipeline --run same` at once would both train every stage and
race on the manifest. The lock is an advisory `flock` on `<runs>/<name>.lock`
(next to the run folder, so a failed first stage leaves no run folder
behind). The kernel drops it when the process dies, so a crash never leaves a
stale lock; the file names the holder so the error can say who it is.
The same process may take the lock again (deploy runs the pipeline, then
measure).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Iterator

from .errors import RunBusyError

_held: dict[str, int] = {}       # lock path -> depth, in this process


def lock_path(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    return run_dir.parent / f"{run_dir.name}.lock"


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        started = time.strftime("%H:%M:%S", time.localtime(info["started"]))
        return f"pid {info['pid']} on {info['host']} (`{info['command']}`, since {started})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextlib.contextmanager
def hold(run_dir: str | Path, command: str | None = None) -> Iterator[None]:
    path = lock_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())          # one key per file, however the run folder was named
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunBusyError(f"run folder {Path(run_dir)} is in use by {_holder(path)}",
                               hint="wait for it to finish, or pass another --run") from None
        # The previous holder may have unlinked the file between our open and flock.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
            "command": command or " ".join(["tinyml"] + sys.argv[1:])}
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps(info).encode())
    _held[key] = 1
    try:
        yield
    finally:
        del _held[key]
        with contextlib.suppress(OSError):
            os.unlink(path)         # unlink while locked: a waiter re-checks the inode
        os.close(fd)
