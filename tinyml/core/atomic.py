"""Write files so that an interrupted write never leaves a half-written artifact.

Everything is written under a temporary name in the destination folder and
renamed into place only when complete (rename is atomic on POSIX).
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator


_WRITE_ERRNOS = (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside `dest` (same suffix); rename it onto `dest` on success."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".tmp{dest.suffix}", dir=dest.parent)
    os.close(fd)
    os.unlink(tmp)  # callers (e.g. Keras, numpy) create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except OSError as e:
        if e.filename is None or str(e.filename) == str(tmp_path):   # name what the user knows
            raise OSError(e.errno, e.strerror, str(dest)) from e
        raise
    finally:
        if tmp_path.is_dir():
            shutil.rmtree(tmp_path, ignore_errors=True)
        elif tmp_path.exists():
            tmp_path.unlink()


def write_bytes(dest: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def write_text(dest: str | os.PathLike, text: str) -> Path:
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(dest)


def write_json(dest: str | os.PathLike, obj: Any) -> Path:
    return write_text(dest, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    # numpy scalars/arrays and paths show up in metrics; keep JSON plain.
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


@contextlib.contextmanager
def staging_dir(dest_dir: str | os.PathLike, tag: str) -> Iterator[Path]:
    """Yield an empty temp folder inside `dest_dir`; on success move every file in it
    into `dest_dir` (each by atomic rename); on failure delete it all."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".stage-{tag}-", dir=dest_dir))
    try:
        try:
            yield tmp
        except OSError as e:
            # Name the file the user will look for, not a staging path (or nothing,
            # as numpy/Keras writers give on a full disk).
            name = e.filename2 if e.errno in _WRITE_ERRNOS and e.filename2 else e.filename
            if name is None or str(tmp) in str(name):
                final = dest_dir / Path(name).name if name is not None else dest_dir
                raise OSError(e.errno, e.strerror, str(final)) from e
            raise
        for item in sorted(tmp.iterdir()):
            target = dest_dir / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
