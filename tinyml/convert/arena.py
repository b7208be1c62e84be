"""The smallest tensor arena the TFLM host runtime accepts, by bisection.

Each size is tried in a child process (tflm_probe): a too-small arena usually
makes TFLM raise, but some sizes crash it with SIGSEGV. A size "works" when
the interpreter allocates, invokes, and gives the same outputs as with a big
arena. Sizes are multiples of 16 (TFLM aligns arena allocations to 16 bytes).

The host runtime is 64-bit and uses TFLM's recording allocator, so its
bookkeeping is a little larger than on a 32-bit MCU: the host minimum is an
upper bound for the device, and the recommendation adds a margin on top.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ModelError
from . import tflm_probe

ALIGN = 16
MAX_ARENA = 256 << 20


@dataclass
class ArenaResult:
    min_bytes: int
    recommended_bytes: int
    margin: float
    probes: int

    def as_dict(self) -> dict:
        return {"arena_min_bytes": self.min_bytes, "arena_recommended_bytes": self.recommended_bytes,
                "arena_margin": self.margin, "arena_probes": self.probes}


def round_up(n: float, align: int = ALIGN) -> int:
    return int(math.ceil(n / align) * align)


def recommended(min_bytes: int, margin: float) -> int:
    return round_up(min_bytes * (1.0 + margin))


def find_min_arena(model_path: str | Path, margin: float = 0.10, start: int = 16 << 10,
                   reference_sha256: str | None = None) -> ArenaResult:
    """Bisect the smallest 16-byte-multiple arena that runs the model correctly."""
    probes = 0
    ref = reference_sha256

    def works(size: int) -> bool:
        nonlocal probes, ref
        probes += 1
        r = tflm_probe.run_probe(model_path, size)
        if not r.ok:
            return False
        if ref is None:
            ref = r.outputs_sha256
        return r.outputs_sha256 == ref

    # A known-good upper bound: the reference comes from a generous arena.
    if ref is None:
        big = tflm_probe.run_probe(model_path, max(start, 1 << 20))
        probes += 1
        if big.ok:
            ref = big.outputs_sha256
    lo, hi = 0, round_up(start)  # invariant: lo fails (0 always does), hi works
    while not works(hi):
        lo, hi = hi, hi * 2
        if hi > MAX_ARENA:
            raise ModelError(f"{model_path}: the TFLM host runtime fails even with a "
                             f"{MAX_ARENA >> 20} MiB arena",
                             hint="run the ops check first; the model may not run in TFLM at all")
    while hi - lo > ALIGN:
        mid = round_up((lo + hi) // 2)
        if mid >= hi:
            mid = hi - ALIGN
        if works(mid):
            hi = mid
        else:
            lo = mid
    return ArenaResult(hi, recommended(hi, margin), margin, probes)
