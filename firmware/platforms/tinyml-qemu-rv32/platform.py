"""tinyml-qemu-rv32: a project-local PlatformIO development platform.

It downloads nothing: the toolchain is the system `riscv64-unknown-elf-gcc`
with its rv32 multilibs (Debian gcc-riscv64-unknown-elf +
picolibc-riscv64-unknown-elf) and the board runs in qemu-system-riscv32.
PlatformIO finds this class by name: "tinyml-qemu-rv32" -> Tinymlqemurv32Platform.
"""
from platformio.public import PlatformBase


class Tinymlqemurv32Platform(PlatformBase):
    pass
