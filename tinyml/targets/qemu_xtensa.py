"""`qemu_xtensa`: Xtensa LX106 in QEMU, the emulated stand-in for the ESP family's Xtensa ISA.

It is NOT an ESP32. The ESP32 and ESP32-S3 are Xtensa LX6 / LX7 (windowed
registers, FPU, 32x32 high-half multiply; the S3 has vector instructions);
the LX106 is the ESP8266's core (call0 ABI, no FPU, no high-half multiply),
the only Xtensa core Debian ships a compiler for. What this target proves:
the generated model, the AOT kernels and the harness compile with an Xtensa
GCC and give the host TFLM runtime's bytes on an Xtensa core. Instruction
counts are LX106 instructions, not ESP32 cycles.

QEMU machine `lx60-nommu` (XTFPGA board, 16550 UART) with `-cpu lx106`; PlatformIO
env `qemu_xtensa` (project-local platform firmware/platforms/tinyml-qemu-xtensa,
port firmware/ports/qemu_xtensa). Counter: CCOUNT (40 MHz of virtual time;
3.125 instructions per tick under -icount shift=3).
"""
from __future__ import annotations

from .base import MemoryBudget
from .qemu import VIRTUAL_CLOCK_HZ, QemuTarget

QEMU_XTENSA = QemuTarget(
    name="qemu_xtensa",
    description=("Xtensa LX106 emulated by QEMU (lx60-nommu, -icount shift=3: 125 MHz virtual "
                 "clock); stands in for the ESP32 / ESP32-S3 Xtensa ISA, it is not an ESP32"),
    cpu="xtensa-lx106",
    clock_hz=VIRTUAL_CLOCK_HZ,
    # Link script (firmware/ports/qemu_xtensa/qemu_xtensa.ld): 4 MiB of the core's sysrom
    # for code + read-only data, its two data RAMs (512 KiB contiguous) for everything
    # else. Firmware overhead from the link map of the digits build: ~21 KiB of code
    # (harness, port, runtime core, picolibc, libgcc and the lx106 ROM helpers of
    # tm_xt_rom.c) and the same RAM as qemu_m4 (harness and UART state + the 16 KiB
    # minimum stack the link script enforces). CI keeps it within 10 % of the built
    # firmware (tests/emu/test_isa_targets.py).
    budget=MemoryBudget(flash_bytes=4 * 1024 * 1024, ram_bytes=512 * 1024,
                        firmware_flash=21 * 1024 + 512, firmware_ram=18 * 1024),
    default_runtime="aot",
    qemu=("qemu-system-xtensa", "-M", "lx60-nommu", "-cpu", "lx106"),
    apt_packages="qemu-system-misc gcc-xtensa-lx106 picolibc-xtensa-lx106-elf",
    stands_in_for="esp32dev, esp32s3 (Xtensa LX6 / LX7)",
)
TARGET = QEMU_XTENSA
