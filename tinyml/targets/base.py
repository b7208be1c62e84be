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


@dataclass(frozen=True)
class MemoryBudget:
    flash_bytes: int          # total flash usable by the application
    ram_bytes: int            # total SRAM usable by the application
    firmware_flash: int       # estimated flash taken by harness + port + runtime code
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

    @abstractmethod
    def build(self, project_dir: Path, progress: Any = None) -> Path:
        """Build the firmware with PlatformIO; return the path of the ELF/binary."""

    @abstractmethod
    def flash(self, project_dir: Path, port: str | None = None) -> None:
        """Write the built image to the board (or prepare the emulator)."""

    @abstractmethod
    def open_transport(self, project_dir: Path, port: str | None = None, **kw: Any) -> Any:
        """Return an open transport (see tinyml.harness.transport) to the device."""
