"""Emulated targets for instruction sets other than the Cortex-M4: the shared part.

`qemu_xtensa` (Xtensa LX106, tinyml.targets.qemu_xtensa) and `qemu_rv32`
(RV32IMC, tinyml.targets.qemu_rv32) stand in for the ESP family's two
instruction sets. They run the same harness and generated model as `qemu_m4`,
on a QEMU board with a 16550 UART (reachable as a local TCP socket or a pty,
like the M4's), semihosting for exit and host-file reads (the `bulk` fast path
of `tinyml measure`), and QEMU's `-icount shift=3` (8 ns per instruction, a
declared 125 MHz virtual clock). The counter unit is "instructions": emulated
instructions, deterministic, not cycles of any real chip.

    target = get_target("qemu_rv32")
    elf = target.build(project_dir)
    with target.emulate(elf) as emu:
        with DutClient(emu.open_transport()) as dut: ...
"""
from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BuildError, DeviceError, ToolMissingError
from .base import Target
from .qemu import ICOUNT_SHIFT, VIRTUAL_CLOCK_HZ, Emulation, _free_port, _popen, _wait_listening

__all__ = ["ICOUNT_SHIFT", "VIRTUAL_CLOCK_HZ", "QemuIsaTarget"]


@dataclass(frozen=True)
class QemuIsaTarget(Target):
    """A bare-metal image of the tinyml firmware in one QEMU machine."""

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
