"""The Target interface every board family implements.

A Target knows its PlatformIO environment, its memory budget, how to build
and flash, and how to open a transport (serial port or emulator socket) to
the device. Nothing here imports TensorFlow.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .budget import RUNTIMES, check_runtime


def env_for(target_name: str, runtime: str) -> str:
    """PlatformIO env: `<target>` builds the AOT runtime, `<target>_tflm` the TFLM one."""
    return target_name if check_runtime(runtime) == "aot" else f"{target_name}_{runtime}"


@dataclass(frozen=True)
class MemoryBudget:
    flash_bytes: int          # total flash usable by the application
    ram_bytes: int            # total SRAM usable by the application
    firmware_flash: int       # estimated flash taken by harness + port + runtime code (see budget.py)
    firmware_ram: int         # estimated RAM taken by harness buffers, stack, runtime state

    @property
    def model_flash(self) -> int:
        return self.flash_bytes - self.firmware_flash

    @property
    def model_ram(self) -> int:
        return self.ram_bytes - self.firmware_ram


@dataclass(frozen=True)
class Target(ABC):
    name: str                 # PlatformIO environment name, e.g. "qemu_m4"
    description: str
    cpu: str                  # e.g. "cortex-m4f"
    clock_hz: int
    budget: MemoryBudget
    default_runtime: str      # "aot" or "tflm"
    emulated: bool = False
    # Runtimes whose firmware this repository's CI builds and runs for this target;
    # anything else is "not verified in this repository's CI".
    ci_verified: tuple[str, ...] = ()

    def budget_for(self, runtime: str) -> MemoryBudget:
        """The memory budget of a firmware with `runtime` (default: same for every runtime)."""
        check_runtime(runtime)
        return self.budget

    def env_for(self, runtime: str) -> str:
        return env_for(self.name, runtime)

    def ci_status(self) -> str:
        """What this repository's CI proves about the target, for `tinyml targets`."""
        others = [r for r in RUNTIMES if r not in self.ci_verified]
        parts = [f"{', '.join(self.ci_verified)} built and run in CI"] if self.ci_verified else []
        if others:
            parts.append(f"{', '.join(others)} not verified in this repository's CI")
        return "; ".join(parts)

    @abstractmethod
    def build(self, project_dir: Path, progress: Any = None) -> Path:
        """Build the firmware with PlatformIO; return the path of the ELF/binary."""

    @abstractmethod
    def flash(self, project_dir: Path, port: str | None = None) -> None:
        """Write the built image to the board (or prepare the emulator)."""

    @abstractmethod
    def open_transport(self, project_dir: Path, port: str | None = None, **kw: Any) -> Any:
        """Return an open transport (see tinyml.harness.transport) to the device."""
