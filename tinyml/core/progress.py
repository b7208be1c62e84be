"""Progress a user can see: a tqdm bar on a terminal, periodic plain lines otherwise
(CI logs, pipes), nothing when disabled.

    with Progress("measure", total=449, unit="sample") as p:
        for ...: p.update(1)
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, desc: str, total: int | None = None, unit: str = "it",
                 enabled: bool = True, every_s: float = 10.0, stream: TextIO | None = None):
        self.desc, self.total, self.unit = desc, total, unit
        self.enabled, self.every_s = enabled, every_s
        self.stream = stream or sys.stderr
        self.n = 0
        self._bar = None
        self._t0 = self._last = time.monotonic()
        if enabled and self.stream.isatty():
            from tqdm import tqdm
            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=self.stream)

    def update(self, k: int = 1) -> None:
        self.n += k
        if self._bar is not None:
            self._bar.update(k)
            return
        now = time.monotonic()
        if self.enabled and now - self._last >= self.every_s:
            self._last = now
            self.line()

    def line(self) -> None:
        of = f"/{self.total}" if self.total else ""
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        print(f"[{self.desc}] {self.n}{of} {self.unit}s{pct}, "
              f"{time.monotonic() - self._t0:.0f} s", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
