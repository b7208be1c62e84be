"""Byte transports to a device, all through pyserial.

Addresses:
  serial:///dev/ttyUSB0   a serial device (the `serial://` prefix is optional)
  /dev/ttyACM0, COM3      the same, bare
  /dev/pts/7              a pty (QEMU `-serial pty`): just a serial device path
  socket://127.0.0.1:4321 a TCP socket (QEMU `-serial tcp:...,server=on`)

A Transport has write(bytes), read(max_bytes, timeout) -> bytes (b"" on
timeout), reset_input() and close(); it is a context manager.
"""
from __future__ import annotations

import errno
import os
import time
from pathlib import Path

from ..core.errors import DeviceError, ToolMissingError

DEFAULT_BAUD = 115200


def _serial_module():
    try:
        import serial
    except ImportError:
        raise ToolMissingError("pyserial is not installed", hint="pip install pyserial") from None
    return serial


def holders(device: str) -> list[str]:
    """'pid 123 (minicom)' for each process with `device` open (Linux /proc; best effort)."""
    try:
        target = os.stat(device)
    except OSError:
        return []
    out = []
    for proc in Path("/proc").glob("[0-9]*"):
        if int(proc.name) == os.getpid():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                st = os.stat(fd)
                if st.st_rdev == target.st_rdev and st.st_ino == target.st_ino:
                    name = (proc / "comm").read_text().strip()
                    out.append(f"pid {proc.name} ({name})")
                    break
        except OSError:
            continue
    return out


def _busy(e: Exception) -> bool:
    """pyserial's words for a port another process holds (flock or TIOCEXCL)."""
    text = str(e)
    return getattr(e, "errno", None) == errno.EBUSY or "exclusively lock" in text or "Errno 16" in text


class Transport:
    """A pyserial port (device, pty or socket:// URL) with timeouts per read."""

    def __init__(self, address: str, baud: int = DEFAULT_BAUD, timeout: float = 10.0):
        serial = _serial_module()
        self.address = address
        url = address[len("serial://"):] if address.startswith("serial://") else address
        try:
            self._port = serial.serial_for_url(url, baudrate=baud, timeout=0.05,
                                               write_timeout=timeout, do_not_open=True)
            if "://" not in url:
                self._port.exclusive = True     # a second reader would steal the device's answers
            self._port.open()
        except (serial.SerialException, OSError, ValueError) as e:
            if "://" not in url and _busy(e):
                from ..core.errors import RunBusyError
                who = holders(url)
                raise RunBusyError(f"serial port {address} is busy" +
                                   (f": held by {', '.join(who)}" if who else ": another program holds it"),
                                   hint="close the serial monitor (or other tinyml) using it, "
                                        "or pass another --port") from None
            raise DeviceError(f"cannot open {address}: {e}",
                              hint="check the port name / that the emulator is running, "
                                   "and permissions (Linux: the dialout group)") from None
        self.timeout = timeout

    def write(self, data: bytes) -> None:
        serial = _serial_module()
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as e:
            raise DeviceError(f"write to {self.address} failed: {e}") from None

    def read(self, max_bytes: int = 4096, timeout: float | None = None) -> bytes:
        """Whatever arrives within `timeout` seconds (returns early once data came)."""
        serial = _serial_module()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                waiting = self._port.in_waiting
                data = self._port.read(max(1, min(max_bytes, waiting or 1)))
            except (serial.SerialException, OSError) as e:
                raise DeviceError(f"read from {self.address} failed: {e}",
                                  hint="the device or emulator went away") from None
            if data:
                if len(data) < max_bytes:
                    try:
                        more = self._port.in_waiting
                        if more:
                            data += self._port.read(min(more, max_bytes - len(data)))
                    except (serial.SerialException, OSError):
                        pass
                return data
            if time.monotonic() >= deadline:
                return b""

    def reset_input(self) -> None:
        try:
            self._port.reset_input_buffer()
        except Exception:   # socket:// may not support it everywhere; draining is best effort
            pass

    def close(self) -> None:
        try:
            self._port.close()
        except Exception:
            pass

    def __enter__(self) -> "Transport":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_transport(address: str, baud: int = DEFAULT_BAUD, timeout: float = 10.0) -> Transport:
    """Open any supported address (see module docstring)."""
    if not address:
        raise DeviceError("no device address given", hint="pass --port /dev/ttyUSB0 or socket://host:port")
    return Transport(address, baud=baud, timeout=timeout)


def open_serial(port: str, baud: int = DEFAULT_BAUD, timeout: float = 10.0, **_: object) -> Transport:
    """A serial device or pty path (what the real-board Targets call)."""
    return Transport(port, baud=baud, timeout=timeout)


def open_socket(host: str, port: int, timeout: float = 10.0) -> Transport:
    return Transport(f"socket://{host}:{int(port)}", timeout=timeout)
