"""Run a model once in the TFLM host runtime in a child process.

Why a child process: the TFLM host runtime does not always fail cleanly. With a
too-small arena it usually raises RuntimeError("TFLM failed to allocate
tensors"), but for some sizes it dereferences a failed allocation and the
process dies with SIGSEGV. A crash in a child is just a failed probe.

Child protocol: `python -m tinyml.convert.tflm_probe MODEL ARENA` prints one
JSON line {"ok": bool, "stage": ..., "error": ..., "outputs_sha256": ...} on
stdout; TFLM's own messages go to stderr.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROBE_SEED = 1234          # the fixed input pattern every probe uses
TIMEOUT_S = 120


@dataclass
class ProbeResult:
    ok: bool
    arena_size: int
    returncode: int
    stage: str              # "allocate" | "set_input" | "invoke" | "crash" | "timeout" | "done"
    error: str
    stderr: str
    outputs_sha256: str | None

    @property
    def crashed(self) -> bool:
        return self.stage in ("crash", "timeout")

    def describe(self) -> str:
        if self.ok:
            return f"ran with a {self.arena_size}-byte arena"
        if self.stage == "crash":
            sig = -self.returncode
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            return f"TFLM host runtime crashed ({name}) with a {self.arena_size}-byte arena"
        tail = " | ".join(ln.strip() for ln in self.stderr.splitlines() if ln.strip())[-400:]
        return f"{self.error or self.stage}" + (f" [TFLM: {tail}]" if tail else "")


def probe_input(shape, dtype) -> np.ndarray:
    """Deterministic input pattern (int8 -> full range) used by every probe."""
    rng = np.random.default_rng(PROBE_SEED)
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, int(info.max) + 1, size=tuple(shape), dtype=dt)
    return rng.standard_normal(size=tuple(shape)).astype(dt)


def run_probe(model: str | Path | bytes, arena_size: int, timeout: float = TIMEOUT_S) -> ProbeResult:
    """Create a TFLM interpreter with `arena_size` bytes and invoke once, in a child.

    `model` is a .tflite path or the model bytes."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        with tempfile.TemporaryDirectory(prefix="tinyml-probe-") as d:
            p = Path(d) / "model.tflite"
            p.write_bytes(bytes(model))
            return run_probe(p, arena_size, timeout)
    model_path = model
    env = dict(os.environ)
    # the child must import this package even when it is not installed (tests, checkouts)
    pkg_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-m", "tinyml.convert.tflm_probe", str(model_path), str(int(arena_size))]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        return ProbeResult(False, arena_size, -1, "timeout", f"no answer within {timeout:.0f} s",
                           (e.stderr or "") if isinstance(e.stderr, str) else "", None)
    line = next((ln for ln in reversed(r.stdout.splitlines()) if ln.startswith("{")), None)
    if r.returncode < 0 or line is None:
        return ProbeResult(False, arena_size, r.returncode, "crash",
                           f"child exited with code {r.returncode}", r.stderr, None)
    d = json.loads(line)
    return ProbeResult(bool(d["ok"]), arena_size, r.returncode, d["stage"], d.get("error", ""),
                       r.stderr, d.get("outputs_sha256"))


def _child(model_path: str, arena_size: int) -> int:
    try:  # a crash here is an expected outcome: never leave a core file behind
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    from tflite_micro.python.tflite_micro import runtime

    data = Path(model_path).read_bytes()
    out = {"ok": False, "stage": "allocate", "error": ""}
    try:
        it = runtime.Interpreter.from_bytes(data, arena_size=arena_size)
        out["stage"] = "set_input"
        n_in = _count(it.get_input_details)
        for i in range(n_in):
            det = it.get_input_details(i)
            it.set_input(probe_input(det["shape"], det["dtype"]), i)
        out["stage"] = "invoke"
        it.invoke()
        h = hashlib.sha256()
        for i in range(_count(it.get_output_details)):
            h.update(np.ascontiguousarray(it.get_output(i)).tobytes())
        out.update(ok=True, stage="done", outputs_sha256=h.hexdigest())
    except Exception as e:  # report, don't trace: the parent turns this into a TinymlError
        out["error"] = f"{type(e).__name__}: {e}"
    sys.stderr.flush()
    print(json.dumps(out), flush=True)
    return 0


def _count(details_fn) -> int:
    n = 0
    while True:
        try:
            details_fn(n)
        except Exception:
            return n
        n += 1
        if n > 64:
            return n


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], int(sys.argv[2])))
