"""Thin wrapper around the PlatformIO CLI (`pio run`, `pio project config`).

We call the `pio` executable rather than PlatformIO's Python API: the CLI is
PlatformIO's stable interface, and a build runs in its own process (SCons
keeps global state). Failures become BuildError / ToolMissingError with the
tail of the log, so the user sees the compiler's own words.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any, Callable

from ..core.errors import BuildError, ConfigError, ToolMissingError

LOG_TAIL_LINES = 40
SETUP_HINT = ("install the firmware extras: `pip install -e .[firmware]` "
              "(or run scripts/setup.sh), then `python scripts/pio_offline.py`")

# Lines PlatformIO prints when it tries to download a platform, toolchain or
# library and the network is not there.
_NETWORK_MARKERS = ("HTTPClientError", "InternetConnectionError", "InternetIsOffline",
                    "Could not resolve host", "ConnectionError", "Max retries exceeded",
                    "Name or service not known", "Temporary failure in name resolution")


def find_pio() -> str:
    """Path of the `pio` executable: next to this Python first (the venv), then PATH."""
    bindir = Path(sys.executable).parent
    for name in ("pio", "platformio", "pio.exe", "platformio.exe"):
        cand = bindir / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    for name in ("pio", "platformio"):
        found = shutil.which(name)
        if found:
            return found
    raise ToolMissingError("PlatformIO (`pio`) is not installed in this Python environment or on PATH",
                           hint=SETUP_HINT)


def log_tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def _is_network_failure(log: str) -> bool:
    return any(m in log for m in _NETWORK_MARKERS)


def pio_run(project_dir: str | Path, env: str, target: str | None = None,
            progress: Callable[[str], Any] | None = None,
            extra_env: dict[str, str] | None = None,
            upload_port: str | None = None,
            extra_args: list[str] | None = None) -> subprocess.CompletedProcess:
    """Run `pio run -d PROJECT -e ENV [-t TARGET] [--upload-port PORT]`.

    `progress`, if given, is called with every output line as it arrives
    (the CLI passes a tqdm/echo callback). Returns the CompletedProcess
    (stdout holds the merged log). Raises BuildError on failure.
    """
    project_dir = Path(project_dir)
    if not (project_dir / "platformio.ini").is_file():
        raise BuildError(f"{project_dir / 'platformio.ini'} does not exist",
                         hint="pass --project pointing at the tinyml checkout (the folder with platformio.ini)")
    cmd = [find_pio(), "run", "-d", str(project_dir), "-e", env]
    if target:
        cmd += ["-t", target]
    if upload_port:
        cmd += ["--upload-port", upload_port]
    cmd += list(extra_args or [])
    run_env = dict(os.environ)
    run_env.setdefault("PLATFORMIO_NO_ANSI", "true")   # plain logs, no colour codes
    run_env.update(extra_env or {})

    lines: list[str] = []
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", env=run_env)
    except OSError as e:
        raise ToolMissingError(f"could not start PlatformIO ({cmd[0]}): {e}", hint=SETUP_HINT) from None
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        tail.append(line.rstrip("\n"))
        if progress is not None:
            progress(line.rstrip("\n"))
    rc = proc.wait()
    log = "".join(lines)
    result = subprocess.CompletedProcess(cmd, rc, stdout=log, stderr="")
    if rc != 0:
        what = f"`pio run -e {env}" + (f" -t {target}" if target else "") + "`"
        tail_text = "\n".join(tail)
        if _is_network_failure(log):
            raise BuildError(
                f"{what} failed: PlatformIO tried to download a platform, toolchain or library "
                f"for env '{env}' and there is no internet connection.\n--- last lines ---\n{tail_text}",
                hint=("real-board environments need internet once, so PlatformIO can install the "
                      "board's platform and toolchain; after that they build offline. The qemu_m4 "
                      "environment builds offline with the Debian arm-none-eabi-gcc."))
        if "UnknownEnvNamesError" in log:
            raise BuildError(f"{what} failed: env '{env}' is not in {project_dir / 'platformio.ini'}."
                             f"\n--- last lines ---\n{tail_text}",
                             hint="see `tinyml targets` for the environments tinyml knows")
        raise BuildError(f"{what} failed (exit code {rc}) for env '{env}'.\n--- last {len(tail)} lines ---\n"
                         f"{tail_text}",
                         hint=f"full log: run `pio run -d {project_dir} -e {env} -v`")
    return result


def pio_project_config(project_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Validate platformio.ini with PlatformIO itself; return {section: {option: value}}."""
    project_dir = Path(project_dir)
    ini = project_dir / "platformio.ini"
    if not ini.is_file():
        raise ConfigError(f"{ini} does not exist",
                          hint="pass --project pointing at the folder with platformio.ini")
    cmd = [find_pio(), "project", "config", "-d", str(project_dir), "--json-output"]
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120)
    except OSError as e:
        raise ToolMissingError(f"could not start PlatformIO ({cmd[0]}): {e}", hint=SETUP_HINT) from None
    if cp.returncode != 0:
        raise ConfigError(f"{ini} is not a valid PlatformIO project file:\n"
                          f"{log_tail(cp.stdout + cp.stderr, 15)}")
    try:
        raw = json.loads(cp.stdout)
    except json.JSONDecodeError:
        raise ConfigError(f"`pio project config` gave no JSON for {ini}:\n{log_tail(cp.stdout, 15)}") from None
    # PlatformIO prints [[section, [[option, value], ...]], ...]
    return {sec: {k: v for k, v in opts} for sec, opts in raw}


REGISTRY = ("api.registry.platformio.org", 443)


def core_dir() -> Path:
    """PlatformIO's package folder (PLATFORMIO_CORE_DIR, else ~/.platformio)."""
    return Path(os.environ.get("PLATFORMIO_CORE_DIR") or Path.home() / ".platformio")


def platform_installed(platform: str) -> bool:
    """Is the PlatformIO platform `platform` (e.g. espressif32) already installed?"""
    root = core_dir() / "platforms"
    return root.is_dir() and any(p.name == platform or p.name.startswith(platform + "@")
                                 for p in root.iterdir())


def registry_reachable(timeout: float = 6.0) -> bool:
    """Can PlatformIO's registry be reached? DNS can stall far longer than a socket
    timeout, so the probe runs in a thread we stop waiting for."""
    import socket
    import threading
    ok: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection(REGISTRY, timeout=timeout).close()
            ok.append(True)
        except OSError:
            pass
    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 1.0)
    return bool(ok)


def require_platform(platform: str, env: str) -> None:
    """Fail in seconds, not after PlatformIO's own minute of retries, when a board's
    platform is missing and cannot be downloaded."""
    if not platform or platform_installed(platform) or registry_reachable():
        return
    raise BuildError(f"`pio run -e {env}` cannot start: the PlatformIO platform '{platform}' is not "
                     f"installed in {core_dir() / 'platforms'} and there is no internet connection "
                     f"to download it ({REGISTRY[0]} is unreachable).",
                     hint=("real-board environments need internet once, so PlatformIO can install the "
                           "board's platform and toolchain; after that they build offline. The qemu_m4 "
                           "environment builds offline with the Debian arm-none-eabi-gcc."))


def build_dir(project_dir: str | Path, env: str) -> Path:
    """Where PlatformIO puts an environment's outputs (default build_dir layout)."""
    return Path(project_dir) / ".pio" / "build" / env
