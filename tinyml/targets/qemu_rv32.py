"""`qemu_rv32`: RV32IMC code in QEMU, the emulated stand-in for the ESP32-C3 / C6 ISA.

It is NOT an ESP32-C3 or C6: QEMU's generic `virt` board (16550 UART, PLIC)
runs code compiled for RV32IMC, the instruction set of the ESP32-C3 (the C6
adds atomics, which tinyml's code does not use). What this target proves: the
generated model, the AOT kernels and the harness compile with a RISC-V GCC and
give the host TFLM runtime's bytes on an RV32IMC core. Instruction counts are
RV32 instructions, not cycles of an Espressif chip.

PlatformIO env `qemu_rv32` (project-local platform firmware/platforms/tinyml-qemu-rv32,
port firmware/ports/qemu_rv32). Counter: minstret (exact instructions under
-icount shift=3).
"""
from __future__ import annotations

from .base import MemoryBudget
from .qemu import VIRTUAL_CLOCK_HZ, QemuTarget

QEMU_RV32 = QemuTarget(
    name="qemu_rv32",
    description=("RV32IMC emulated by QEMU (virt, -icount shift=3: 125 MHz virtual clock); "
                 "stands in for the ESP32-C3 / C6 RISC-V ISA, it is not one of those chips"),
    cpu="rv32imc",
    clock_hz=VIRTUAL_CLOCK_HZ,
    # Link script (firmware/ports/qemu_rv32/qemu_rv32.ld): the first 4 MiB of virt's RAM
    # hold code + read-only data, the next 512 KiB are the RAM (an ESP32-C6 has 512 KB of
    # SRAM). Firmware overhead from the link map of the digits build: ~21 KiB of code
    # (harness, port, runtime core, picolibc, libgcc soft-float) and the same RAM as
    # qemu_m4. CI keeps it within 10 % of the built firmware (tests/emu/test_isa_targets.py).
    budget=MemoryBudget(flash_bytes=4 * 1024 * 1024, ram_bytes=512 * 1024,
                        firmware_flash=21 * 1024 + 512, firmware_ram=18 * 1024),
    default_runtime="aot",
    qemu=("qemu-system-riscv32", "-M", "virt", "-bios", "none", "-m", "8M"),
    apt_packages="qemu-system-misc gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf",
    stands_in_for="esp32c3 / esp32c6 (RV32IMC / RV32IMAC)",
)
TARGET = QEMU_RV32
