#!/usr/bin/env python3
"""Make PlatformIO build without network access.

PlatformIO 6.2 insists on one core package, `tool-scons` (spec ~4.41101.0,
i.e. SCons 4.11.1), and downloads it on first use. SCons 4.11.1 itself is a
PyPI package already installed in this venv, so we register a tiny package
folder whose `scons.py` hands over to that SCons. Run it as often as you like:
it rewrites the folder only when something differs.

Usage: python scripts/pio_offline.py [--check]
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

PKG_NAME = "tool-scons"
PKG_VERSION = "4.41101.0"   # PlatformIO encodes SCons 4.11.1 as 4.411.01 -> 4.41101.0
SCONS_VERSION = "4.11.1"

SCONS_PY = '''\
# Written by tinyml scripts/pio_offline.py: run the SCons installed in this Python.
import sys
from SCons.Script.Main import main

if __name__ == "__main__":
    sys.argv[0] = sys.argv[0].removesuffix(".exe")
    sys.exit(main())
'''


def packages_dir() -> Path:
    """Where PlatformIO looks for tool packages (honours PLATFORMIO_CORE_DIR)."""
    try:
        from platformio.package.manager.tool import ToolPackageManager
        return Path(ToolPackageManager().package_dir)
    except Exception:  # platformio missing or API moved: fall back to its default
        core = os.environ.get("PLATFORMIO_CORE_DIR") or str(Path.home() / ".platformio")
        return Path(core) / "packages"


def wanted_files() -> dict[str, str]:
    manifest = {
        "name": PKG_NAME,
        "version": PKG_VERSION,
        "description": f"SCons {SCONS_VERSION} from PyPI, registered offline by tinyml",
        "keywords": ["build tools"],
        "homepage": "https://scons.org",
        "license": "MIT",
    }
    meta = {"type": "tool", "name": PKG_NAME, "version": PKG_VERSION,
            "spec": {"owner": "platformio", "id": None, "name": PKG_NAME,
                     "requirements": None, "uri": None}}
    return {
        "package.json": json.dumps(manifest, indent=2) + "\n",
        ".piopm": json.dumps(meta) + "\n",
        "scons.py": SCONS_PY,
    }


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf8") == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w", encoding="utf8") as f:
        f.write(text)
    os.replace(tmp, path)
    return True


def check_scons() -> str | None:
    try:
        import SCons  # noqa: F401
        from SCons import __version__ as v
    except ImportError:
        return "SCons is not installed in this Python (pip install scons==%s)" % SCONS_VERSION
    if v != SCONS_VERSION:
        return f"SCons {v} installed, PlatformIO 6.2 expects {SCONS_VERSION}"
    return None


def install() -> tuple[Path, bool]:
    dest = packages_dir() / PKG_NAME
    dest.mkdir(parents=True, exist_ok=True)
    changed = False
    for name, text in wanted_files().items():
        changed |= _write_if_changed(dest / name, text)
    return dest, changed


def main(argv: list[str]) -> int:
    problem = check_scons()
    if problem:
        print(f"[pio_offline] warning: {problem}", file=sys.stderr)
    dest = packages_dir() / PKG_NAME
    if "--check" in argv:
        ok = all((dest / n).is_file() and (dest / n).read_text(encoding="utf8") == t
                 for n, t in wanted_files().items())
        print(f"[pio_offline] {dest}: {'ok' if ok else 'missing or stale'}")
        return 0 if ok else 1
    dest, changed = install()
    print(f"[pio_offline] {dest}: {'installed' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
