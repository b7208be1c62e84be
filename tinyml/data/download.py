"""Cached downloads into `<root>/<name>/` and safe archive extraction.

root = [data] cache_dir, else $TINYML_DATASETS, else ./datasets.
A download is written under a temp name and renamed when complete (and, when a
sha256 is known, verified), so an interrupted download leaves nothing behind
and a file in the cache is always whole. Archives are extracted into a temp
folder renamed into place at the end; members that would land outside it
(absolute paths, `..`, links, devices) are refused.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import socket
import stat
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable

from ..core.atomic import atomic_path
from ..core.errors import DataError
from ..core.runs import sha256_file

ENV_ROOT = "TINYML_DATASETS"
CHUNK = 1 << 16


def datasets_root(cfg=None) -> Path:
    """Where downloads are cached: cfg.cache_dir, $TINYML_DATASETS, or ./datasets."""
    explicit = getattr(cfg, "cache_dir", None) if cfg is not None else None
    return Path(explicit or os.environ.get(ENV_ROOT) or "datasets").expanduser()


def progress_bar(total: int | None, desc: str, progress: bool | None, unit: str = "B"):
    from tqdm import tqdm
    # progress=None: show only on a terminal (tqdm's own rule), so logs stay clean.
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B",
                unit_divisor=1024 if unit == "B" else 1000, leave=True,
                disable=None if progress is None else not progress)


def _no_internet(url: str, dest: Path, why: str) -> DataError:
    return DataError(
        f"could not download {url}: {why}",
        hint=f"this dataset needs internet access to download once. Without it, fetch the file "
             f"elsewhere and place it at {dest} (or set [data] url to a mirror or a file:// path)")


def fetch(url: str, name: str, *, filename: str | None = None, sha256: str | None = None,
          root: str | Path | None = None, progress: bool | None = None, timeout: float = 60.0) -> Path:
    """Download `url` to `<root>/<name>/<filename>` unless already there; return the path."""
    filename = filename or Path(urllib.parse.urlparse(url).path).name or "download"
    dest = Path(root if root is not None else datasets_root()) / name / filename
    if dest.is_file():
        if sha256:
            _verify_cached(dest, sha256)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    got = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, atomic_path(dest) as tmp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with open(tmp, "wb") as out, progress_bar(total, filename, progress) as bar:
                for block in iter(lambda: resp.read(CHUNK), b""):
                    out.write(block)
                    h.update(block)
                    got += len(block)
                    bar.update(len(block))
            if total is not None and got != total:
                raise DataError(f"download of {url} was cut short: got {got} of {total} bytes",
                                hint="the connection dropped; run the command again")
            if sha256 and h.hexdigest() != sha256.lower():
                raise DataError(f"download of {url} has sha256 {h.hexdigest()}, expected {sha256.lower()}",
                                hint="the server sent a different or damaged file; nothing was kept. "
                                     "Retry, or check [data] url / sha256")
    except urllib.error.HTTPError as e:
        raise _no_internet(url, dest, f"HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise _no_internet(url, dest, str(e.reason)) from None
    except (socket.timeout, TimeoutError, ConnectionError, http.client.HTTPException) as e:
        raise _no_internet(url, dest, f"{type(e).__name__}: {e}") from None
    if sha256:
        _write_marker(dest, sha256)
    return dest


def _marker(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256")


def _write_marker(dest: Path, sha256: str) -> None:
    from ..core.atomic import write_text
    write_text(_marker(dest), sha256.lower() + "\n")


def _verify_cached(dest: Path, sha256: str) -> None:
    """Check a cached file once (a placed-by-hand file is checked on first use)."""
    m = _marker(dest)
    if m.is_file() and m.read_text().strip() == sha256.lower():
        return
    actual = sha256_file(dest)
    if actual != sha256.lower():
        raise DataError(f"cached file {dest} has sha256 {actual}, expected {sha256.lower()}",
                        hint="delete it and run again to download a fresh copy")
    _write_marker(dest, sha256)


def _safe_target(root: Path, name: str, archive: Path) -> Path:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in p.parts:
        raise DataError(f"archive {archive} has an unsafe member '{name}' (outside the extraction folder)",
                        hint="the archive is damaged or malicious; delete it")
    target = (root / p).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise DataError(f"archive {archive} has an unsafe member '{name}'",
                        hint="the archive is damaged or malicious; delete it")
    return target


def archive_stem(archive: Path) -> str:
    n = archive.name
    for suf in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip"):
        if n.lower().endswith(suf):
            return n[: -len(suf)]
    return n + ".d"


def extract(archive: str | Path, dest: str | Path, *, progress: bool | None = None) -> Path:
    """Extract a tar(.gz/.bz2/.xz) or zip into folder `dest` (skipped if it exists)."""
    archive, dest = Path(archive), Path(dest)
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".extract", dir=dest.parent))
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, tmp, progress)
        else:
            _extract_tar(archive, tmp, progress)
        os.replace(tmp, dest)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as e:
        raise DataError(f"cannot extract {archive}: {e}",
                        hint="the file is damaged or not an archive; delete it and run again") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _extract_tar(archive: Path, tmp: Path, progress: bool | None) -> None:
    # Stream mode: one sequential pass, no seeking back in a 2 GB .tar.gz.
    with tarfile.open(archive, "r|*") as tf, progress_bar(None, f"extract {archive.name}", progress, "file") as bar:
        for m in tf:
            _safe_target(tmp, m.name, archive)
            if not (m.isfile() or m.isdir()):
                raise DataError(f"archive {archive} member '{m.name}' is a link or special file; refused",
                                hint="only plain files and folders are extracted")
            if hasattr(tarfile, "data_filter"):
                tf.extract(m, tmp, filter="data")
            else:  # Python without extraction filters: checks above already applied
                tf.extract(m, tmp)
            bar.update(1)


def _extract_zip(archive: Path, tmp: Path, progress: bool | None) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:
            _safe_target(tmp, info.filename, archive)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise DataError(f"archive {archive} member '{info.filename}' is a link; refused")
        with progress_bar(len(infos), f"extract {archive.name}", progress, "file") as bar:
            for info in infos:
                zf.extract(info, tmp)
                bar.update(1)


def fetch_and_extract(url: str, name: str, *, sha256: str | None = None, root: str | Path | None = None,
                      progress: bool | None = None) -> Path:
    """Download (cached) and extract (cached) an archive; return the extracted folder."""
    archive = fetch(url, name, sha256=sha256, root=root, progress=progress)
    return extract(archive, archive.parent / archive_stem(archive), progress=progress)


def dataset_source(cfg, name: str, url: str, sha256: str | None, env_url: str,
                   find: Callable[[Path], Path], hint: str) -> Path:
    """The folder a downloadable dataset is read from: `[data] path` if given,
    else the cached download of `[data] url`, $`env_url` or the official `url`.
    `find` locates the dataset's root inside that folder."""
    if cfg.path:
        p = Path(cfg.path).expanduser()
        if not p.is_dir():
            raise DataError(f"dataset path {p} does not exist", hint=hint)
        return find(p)
    override = cfg.url or os.environ.get(env_url)
    sha = cfg.sha256 if override else (cfg.sha256 or sha256)
    return find(fetch_and_extract(override or url, name, sha256=sha, root=datasets_root(cfg)))
