"""Emulated targets: one QemuTarget class, and the Cortex-M4F `qemu_m4` (PlatformIO env
`qemu_m4`, qemu-system-arm `mps2-an386`). `qemu_xtensa` and `qemu_rv32` are
QemuTarget instances in their own modules.

QEMU runs with `-icount shift=3`: every guest instruction advances virtual
time by 8 ns, a declared 125 MHz virtual clock at one instruction per cycle
(close to a real Cortex-M4). The firmware's counter (APB timer, 25 MHz of
virtual time -> 5 instructions per tick) measures emulated INSTRUCTIONS,
deterministic and independent of the host's speed, and `m-lap-us` is in
microseconds of that virtual clock. Neither is a measurement of real silicon.
A 10 s virtual window is 1.25e9 instructions: a few seconds of wall time.

    target = QEMU_M4
    elf = target.build(project_dir)
    with target.emulate(elf) as emu:          # UART on a local TCP socket
        with DutClient(emu.open_transport()) as dut: ...
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import BuildError, DeviceError, ToolMissingError
from .base import MemoryBudget, Target

QEMU_BINARY = "qemu-system-arm"
MACHINE = "mps2-an386"
ICOUNT_SHIFT = 3                       # TM_QEMU_ICOUNT_SHIFT in firmware/ports/qemu_m4
VIRTUAL_CLOCK_HZ = 10**9 >> ICOUNT_SHIFT


def qemu_command(elf: str | Path, serial: str) -> list[str]:
    """The exact QEMU command line of qemu_m4 (exposed for reports and users)."""
    return QEMU_M4.qemu_command(elf, serial)


def _die_with_parent() -> None:
    """Linux: QEMU gets SIGTERM if the Python process that started it dies, so a
    killed test or CLI never leaves an emulator running. No-op elsewhere."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _popen(cmd: list[str], **kw: Any) -> subprocess.Popen:
    import sys
    if sys.platform.startswith("linux"):
        kw["preexec_fn"] = _die_with_parent
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kw)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Emulation:
    """A running QEMU. `address` is what transport.open_transport() accepts."""
    process: subprocess.Popen
    address: str
    command: list[str]

    @property
    def url(self) -> str:
        return self.address

    def wait(self) -> int:
        """Block until QEMU exits (firmware called tm_port_exit, or it was stopped)."""
        return self.process.wait()

    def open_transport(self, timeout: float = 10.0):
        from ..harness.transport import open_transport
        return open_transport(self.address, timeout=timeout)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """Terminate QEMU (this process only); returns its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode

    def __enter__(self) -> "Emulation":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _wait_listening(proc: subprocess.Popen, port: int, deadline: float) -> bool:
    """True once something listens on the port. With wait=off QEMU accepts a
    later (re)connection, so this probe costs nothing but the boot banner."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def emulate(elf: str | Path, port: int | None = None, serial: str = "tcp",
            startup_timeout: float = 10.0) -> Emulation:
    """Boot a qemu_m4 ELF (see QemuTarget.emulate)."""
    return QEMU_M4.emulate(elf, serial=serial, port=port, startup_timeout=startup_timeout)


@dataclass(frozen=True)
class QemuTarget(Target):
    """A bare-metal image of the tinyml firmware in one QEMU machine, its UART on a
    local TCP socket or a pty, run with -icount shift=ICOUNT_SHIFT."""

    qemu: tuple[str, ...] = ()          # binary, machine and CPU options
    apt_packages: str = ""              # what provides the compiler and QEMU (for hints)
    stands_in_for: str = ""             # the real chips whose ISA this covers
    emulated: bool = True
    ci_verified: tuple[str, ...] = ("aot",)

    @property
    def qemu_binary(self) -> str:
        return self.qemu[0]

    def qemu_command(self, elf: str | Path, serial: str) -> list[str]:
        """The exact QEMU command line (exposed for reports, tests and users)."""
        return [*self.qemu, "-nographic", "-monitor", "none", "-icount", f"shift={ICOUNT_SHIFT}",
                "-semihosting-config", "enable=on,target=native", "-serial", serial,
                "-kernel", str(elf)]

    def elf_path(self, project_dir: Path) -> Path:
        return Path(project_dir) / ".pio" / "build" / self.name / "firmware.elf"

    def build(self, project_dir: Path, progress: Any = None) -> Path:
        from .pio import pio_run
        pio_run(project_dir, self.name, progress=progress)
        elf = self.elf_path(project_dir)
        if not elf.is_file():
            raise BuildError(f"`pio run -e {self.name}` succeeded but {elf} is missing")
        return elf

    def flash(self, project_dir: Path, port: str | None = None) -> None:
        """Nothing to write: the emulator loads the ELF at start."""
        elf = self.elf_path(project_dir)
        if not elf.is_file():
            raise BuildError(f"{elf} does not exist",
                             hint=f"build first: tinyml build --target {self.name}")

    def emulate(self, project_or_elf: str | Path, serial: str = "tcp", port: int | None = None,
                build: bool = False, progress: Any = None, startup_timeout: float = 10.0
                ) -> Emulation:
        """Boot firmware in QEMU with its UART on 127.0.0.1:port (serial="tcp"; a free
        port when none is given) or on a pty (serial="pty"). `project_or_elf`: an
        ELF, or the PlatformIO project (its ELF, built first when build=True)."""
        path = Path(project_or_elf)
        if path.is_dir():
            path = self.build(path, progress=progress) if build else self.elf_path(path)
        if serial not in ("tcp", "socket", "pty"):
            raise ValueError(f"serial must be 'tcp' or 'pty', got {serial!r}")
        if not path.is_file():
            raise BuildError(f"{path} does not exist", hint=f"build first: pio run -e {self.name}")
        if shutil.which(self.qemu_binary) is None:
            raise ToolMissingError(f"{self.qemu_binary} is not installed",
                                   hint=f"install it: apt-get install {self.apt_packages} "
                                        "(scripts/setup.sh does it)")
        if serial == "pty":
            return self._emulate_pty(path, startup_timeout)
        last_err, cmd = "", []
        for _ in range(5):       # another process may grab the free port first: retry
            p = port or _free_port()
            cmd = self.qemu_command(path, f"tcp:127.0.0.1:{p},server=on,wait=off")
            proc = _popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if _wait_listening(proc, p, time.monotonic() + startup_timeout):
                return Emulation(proc, f"socket://127.0.0.1:{p}", cmd)
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            last_err = proc.stderr.read() if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
            if port is not None or "in use" not in last_err.lower():
                break
        raise DeviceError(f"QEMU did not start: {last_err.strip() or 'no listening socket'}",
                          hint=" ".join(cmd))

    def _emulate_pty(self, elf: Path, startup_timeout: float) -> Emulation:
        cmd = self.qemu_command(elf, "pty")
        proc = _popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + startup_timeout
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if "redirected to" in line:   # "char device redirected to /dev/pts/N (label serial0)"
                return Emulation(proc, line.split("redirected to", 1)[1].split()[0], cmd)
        proc.kill()
        proc.wait()
        raise DeviceError(f"QEMU did not report its pty within {startup_timeout} s", hint=" ".join(cmd))

    def open_transport(self, project_dir: Path, port: str | None = None, **kw: Any) -> Any:
        """With `port` (socket://... or a pty path): connect to a running emulator.
        Without: boot the built ELF and return a transport whose close() also
        stops QEMU."""
        from ..harness.transport import open_transport
        if port:
            return open_transport(port, timeout=kw.get("timeout", 10.0))
        emu = self.emulate(self.elf_path(project_dir))
        try:
            t = emu.open_transport(timeout=kw.get("timeout", 10.0))
        except Exception:
            emu.stop()
            raise
        inner_close = t.close

        def close() -> None:
            inner_close()
            emu.stop()
        t.close = close          # the transport owns the emulator it started
        t.emulation = emu
        return t


QEMU_M4 = QemuTarget(
    name="qemu_m4",
    description=("Arm Cortex-M4F emulated by QEMU (mps2-an386, -icount shift=3: "
                 "125 MHz virtual clock)"),
    cpu="cortex-m4f",
    clock_hz=VIRTUAL_CLOCK_HZ,
    # AN386: 4 MiB code at 0x0, 4 MiB RAM at 0x20000000. Firmware overhead, from the
    # link map of the digits build: ~16 KB of code (harness, port, runtime core, libgcc /
    # newlib helpers); ~1.8 KB of harness and UART state plus the 16 KiB minimum stack
    # the linker script enforces. CI keeps it within 10 % of the built firmware
    # (tests/emu/test_model_qemu.py::test_budget_estimates_match_the_built_firmware).
    budget=MemoryBudget(flash_bytes=4 * 1024 * 1024, ram_bytes=4 * 1024 * 1024,
                        firmware_flash=16 * 1024, firmware_ram=18 * 1024),
    default_runtime="aot",
    qemu=(QEMU_BINARY, "-M", MACHINE),
    apt_packages="qemu-system-arm gcc-arm-none-eabi",
)
TARGET = QEMU_M4
