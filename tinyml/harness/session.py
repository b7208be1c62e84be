"""A device session that survives what serial links do: dropped or garbled bytes,
a device reset, a stall, a cable pulled and plugged back.

Every call is retried a bounded number of times. Between tries the session gets
back in step with the device: a lone '%' ends any half-sent command (and aborts a
running `infer`/`bulk` on tinyml firmware), the line is drained and `name` must
answer; if that fails the transport is closed and opened again. Callers validate
what they get (CRC of uploads and outputs), so a corrupted answer becomes an
error here and is retried, never a wrong result. When the device is gone for good
the error names the address and the last command.
"""
from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

from ..core.errors import DeviceError
from .client import DutClient

T = TypeVar("T")


class DeviceSession:
    def __init__(self, open_transport: Callable[[], Any], address: str, retries: int = 3,
                 timeout: float = 30.0, reconnect_wait: float = 0.5,
                 on_retry: Callable[[str, Exception], None] | None = None):
        self.open_transport = open_transport
        self.address = address
        self.retries = retries
        self.timeout = timeout
        self.reconnect_wait = reconnect_wait
        self.on_retry = on_retry
        self.dut: DutClient | None = None
        self.last_command = "(none)"
        self.recoveries = 0
        self.strict = False           # set once the device proved to be tinyml firmware

    def connect(self) -> DutClient:
        if self.dut is None:
            self.dut = DutClient(self.open_transport(), timeout=self.timeout)
            self.dut.raw_crc_required = self.strict
            self.dut.sync()
        return self.dut

    def call(self, what: str, fn: Callable[[DutClient], T]) -> T:
        """Run fn(client), getting back in step and retrying on device errors."""
        self.last_command = what
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                return fn(self.connect())
            except DeviceError as e:
                last = e
                if attempt == self.retries:
                    break
                if self.on_retry is not None:
                    self.on_retry(what, e)
                self._recover()
        raise DeviceError(f"device at {self.address} failed `{what}` {self.retries + 1} times; "
                          f"last error: {getattr(last, 'message', last)}",
                          hint="check the cable / that the firmware or emulator still runs; "
                               "a re-run resumes where this one stopped")

    def _recover(self) -> None:
        self.recoveries += 1
        if self.dut is not None:
            try:
                self.dut.sync(attempts=2, timeout=3.0)
                return
            except DeviceError:
                self.close()
        time.sleep(self.reconnect_wait)
        try:
            self.connect()
        except DeviceError:
            self.close()          # the next try reconnects again

    def close(self) -> None:
        if self.dut is not None:
            try:
                self.dut.close()
            finally:
                self.dut = None
