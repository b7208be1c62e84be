"""The run folder `runs/<name>/` and its manifest.

The manifest records, per stage: a fingerprint of its inputs (config section,
input-file hashes, tool versions), the files it wrote, its metrics and seconds.
A stage whose fingerprint matches and whose outputs all exist is skipped.
Each stage writes into a staging folder that is moved in only on success.
"""
from __future__ import annotations

import hashlib
import json
import platform
import shutil
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from . import atomic

MANIFEST = "manifest.json"
TRACKED_PACKAGES = ("tinyml", "tensorflow", "tf-keras", "tensorflow-model-optimization",
                    "ai-edge-litert", "tflite-micro", "numpy", "scikit-learn", "platformio")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Environment variables that change which kernels run or how many threads do.
_REPEAT_ENV = ("TF_ENABLE_ONEDNN_OPTS", "TF_DETERMINISTIC_OPS", "TF_NUM_INTRAOP_THREADS",
               "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "TF_XLA_FLAGS")
# CPU flags that select different TensorFlow (oneDNN / XNNPACK) kernels.
_CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
              "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")


def _cpu() -> dict[str, Any]:
    import os
    info: dict[str, Any] = {"machine": platform.machine(), "logical_cpus": os.cpu_count()}
    try:
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    for line in text.splitlines():
        key, _, val = line.partition(":")
        if key.strip() == "model name" and "model" not in info:
            info["model"] = val.strip()
        elif key.strip() == "flags":
            flags = set(val.split())
            info["flags"] = [f for f in _CPU_FLAGS if f in flags]
            break
    return info


def repeatability() -> dict[str, Any]:
    """What decides whether a training run repeats bit for bit: op determinism,
    thread counts, the CPU (its features pick the oneDNN / XNNPACK kernels) and
    the environment variables that change either. Reads TensorFlow's settings
    only if it is already loaded (never imports it)."""
    import os
    from .tfcompat import settings_if_loaded
    out: dict[str, Any] = {"cpu": _cpu(), "env": {k: os.environ.get(k) for k in _REPEAT_ENV}}
    out.update(settings_if_loaded())
    return out


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


@dataclass
class StageResult:
    name: str
    metrics: dict[str, Any]
    seconds: float
    skipped: bool
    outputs: list[str] = field(default_factory=list)


class RunDir:
    """A run folder. All writes go through `stage()` or the `atomic` helpers."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def name(self) -> str:
        return self.root.name

    def path(self, name: str) -> Path:
        return self.root / name

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    # -- manifest ---------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        p = self.root / MANIFEST
        if not p.exists():
            return {"run": self.name, "stages": {}}
        return json.loads(p.read_text())

    def _save_manifest(self, m: dict[str, Any]) -> None:
        m["versions"] = package_versions()
        m["repeatability"] = repeatability()
        atomic.write_json(self.root / MANIFEST, m)

    def stage_record(self, stage: str) -> dict[str, Any] | None:
        return self.manifest()["stages"].get(stage)

    # -- stages -----------------------------------------------------------
    def fingerprint(self, stage: str, params: Any, input_files: list[str]) -> str:
        """Hash of the stage's parameters and input files (by content)."""
        parts = {"stage": stage, "params": params,
                 "inputs": {f: sha256_file(self.root / f) for f in sorted(input_files)},
                 "versions": package_versions()}
        return sha256_bytes(json.dumps(parts, sort_keys=True, default=str).encode())

    def stage(self, stage: str, params: Any, input_files: list[str], outputs: list[str],
              fn: Callable[[Path], dict[str, Any]], force: bool = False) -> StageResult:
        """Run `fn(staging_dir) -> metrics` unless an identical earlier run is on record.

        `fn` must write exactly the files named in `outputs` into `staging_dir`;
        they are moved into the run folder only if it returns normally.
        """
        for f in input_files:
            if not (self.root / f).exists():
                from .errors import TinymlError
                raise TinymlError(f"stage '{stage}' needs {self.root / f}, which does not exist",
                                  hint="run the earlier stages first (or `tinyml pipeline`)")
        fp = self.fingerprint(stage, params, input_files)
        rec = self.stage_record(stage)
        if (not force and rec and rec.get("fingerprint") == fp
                and all((self.root / o).exists() for o in outputs)):
            return StageResult(stage, rec.get("metrics", {}), rec.get("seconds", 0.0), True, outputs)

        t0 = time.perf_counter()
        new_root = not self.root.exists()
        try:
            with atomic.staging_dir(self.root, stage) as tmp:
                metrics = fn(tmp) or {}
                missing = [o for o in outputs if not (tmp / o).exists()]
                if missing:
                    raise RuntimeError(f"stage '{stage}' did not write {missing}")
        except BaseException:
            if new_root and self.root.is_dir() and not any(self.root.iterdir()):
                self.root.rmdir()  # a first stage that fails leaves no empty run folder
            raise
        seconds = time.perf_counter() - t0
        m = self.manifest()
        m["stages"][stage] = {
            "fingerprint": fp, "params": params, "outputs": outputs,
            "inputs": {f: sha256_file(self.root / f) for f in sorted(input_files)},
            "output_hashes": {o: sha256_file(self.root / o) for o in outputs
                              if (self.root / o).is_file()},
            "metrics": metrics, "seconds": round(seconds, 3),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        try:
            self._save_manifest(m)
        except BaseException:
            # Unrecorded outputs would pass for the old record's: drop them, so the
            # stage simply runs again (a full disk must not leave a half-made run).
            for o in outputs:
                (self.root / o).unlink(missing_ok=True)
            if new_root:
                shutil.rmtree(self.root, ignore_errors=True)
            raise
        return StageResult(stage, metrics, seconds, False, outputs)
