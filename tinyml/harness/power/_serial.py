"""A meter's serial port with a background reader.

Why a thread: between start() and stop() the host is busy talking to the
device under test, often for 10 s or more. Meters stream hundreds of kB/s
(PPK2: 400 kB/s); if nobody reads, the USB CDC buffers fill and the meter
drops samples. The reader only appends bytes; all parsing happens in stop().
"""
from __future__ import annotations

import threading
import time

from ...core.errors import DeviceError, ToolMissingError
from ..transport import open_transport


class SerialLink:
    def __init__(self, meter: str, port: str, baud: int):
        self.meter, self.port = meter, port
        if not port:
            raise DeviceError(f"{meter}: no serial port given; pass port=/dev/ttyACM0 (Linux) or COM3 (Windows)")
        try:
            self.t = open_transport(port, baud=baud, timeout=5.0)
        except ToolMissingError:
            raise ToolMissingError(f"{meter} on {port} needs pyserial, which is not installed: "
                                   "pip install pyserial") from None
        except DeviceError as e:
            raise DeviceError(f"{meter}: {e.message}; check the port name (ls /dev/ttyACM* /dev/ttyUSB*), "
                              "that no other program holds it, and permissions (Linux: dialout group)") from None
        self._chunks: list[bytes] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None

    # ---------------------------------------------------------------- plain I/O
    def write(self, data: bytes) -> None:
        try:
            self.t.write(data)
        except DeviceError as e:
            raise DeviceError(f"{self.meter}: {e.message}; the meter went away (USB cable?)") from None

    def read(self, timeout: float) -> bytes:
        try:
            return self.t.read(1 << 16, timeout=timeout)
        except DeviceError as e:
            raise DeviceError(f"{self.meter}: {e.message}; the meter went away (USB cable?)") from None

    def read_until(self, marker: bytes, timeout: float) -> tuple[bytes, bool]:
        """Read until `marker` has arrived or `timeout` passed. Returns (bytes, found)."""
        buf = bytearray()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = max(0, len(buf) - len(marker))
            buf += self.read(min(0.1, max(0.0, deadline - time.monotonic())))
            if marker in buf[seen:]:
                return bytes(buf), True
        return bytes(buf), False

    def drain(self, quiet_s: float = 0.05, max_s: float = 1.0) -> bytes:
        """Everything that arrives until the line is quiet for `quiet_s`."""
        buf = bytearray()
        deadline = time.monotonic() + max_s
        while time.monotonic() < deadline:
            got = self.read(quiet_s)
            if not got:
                break
            buf += got
        return bytes(buf)

    # ---------------------------------------------------------------- capture
    def _reader(self) -> None:
        try:
            while not self._stop.is_set():
                got = self.t.read(1 << 16, timeout=0.05)
                if got:
                    self._chunks.append(got)
        except Exception as e:          # surfaced by stop_capture(), never lost
            self._error = e

    def start_capture(self) -> None:
        self._chunks, self._error = [], None
        self._stop.clear()
        self._thread = threading.Thread(target=self._reader, name=f"{self.meter}-reader", daemon=True)
        self._thread.start()

    def stop_capture(self, until: bytes | None = None, timeout: float = 2.0) -> tuple[bytes, bool]:
        """End the background reader, then keep reading in the foreground until
        `until` arrives (or, without a marker, until the line goes quiet).
        Returns (all captured bytes, marker seen)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise DeviceError(f"{self.meter}: reading {self.port} failed during the capture: {self._error}; "
                              "the meter went away (USB cable?)")
        buf = bytearray(b"".join(self._chunks))
        self._chunks = []
        found = until is None or until in buf
        deadline = time.monotonic() + timeout
        while not found and time.monotonic() < deadline:
            seen = max(0, len(buf) - len(until))
            buf += self.read(0.1)
            found = until in buf[seen:]
        if found:
            buf += self.drain(max_s=timeout)
        return bytes(buf), found

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self.t.close()
