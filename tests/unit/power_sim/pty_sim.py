"""SIMULATOR support: a pseudo-terminal whose far end a test thread plays.

The driver opens `self.port` (the pty's slave path) exactly as it would open
/dev/ttyACM0; the simulator reads and writes the master side.
"""
from __future__ import annotations

import os
import select
import threading
import tty


class PtySim:
    def __init__(self):
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)                 # bytes pass untouched, no echo
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self.received = bytearray()             # every byte the driver sent
        self.done = threading.Event()           # set by a simulator when its stream has been written
        self._quit = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "PtySim":
        self._thread.start()
        return self

    # ---------------------------------------------------------------- for subclasses
    def read(self, timeout: float = 0.05) -> bytes:
        r, _, _ = select.select([self._master], [], [], timeout)
        if not r:
            return b""
        try:
            data = os.read(self._master, 65536)
        except (BlockingIOError, OSError):
            return b""
        self.received += data
        return data

    def write(self, data: bytes) -> None:
        """Write everything, waiting while the driver has not read yet (unless the test ends)."""
        view = memoryview(data)
        while view and not self._quit.is_set():
            _, w, _ = select.select([], [self._master], [], 0.05)
            if not w:
                continue
            try:
                n = os.write(self._master, view[:4096])
            except (BlockingIOError, OSError):
                continue
            view = view[n:]

    def serve(self) -> None:                    # the simulator's main loop
        raise NotImplementedError

    def _run(self) -> None:
        try:
            self.serve()
        except Exception:                       # a broken simulator shows up as a failing assertion
            self.done.set()
            raise

    @property
    def quitting(self) -> bool:
        return self._quit.is_set()

    def close(self) -> None:
        self._quit.set()
        self._thread.join(timeout=5)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
