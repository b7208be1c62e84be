"""tinyml-qemu-xtensa: a project-local PlatformIO development platform.

It downloads nothing: the toolchain is the system `xtensa-lx106-elf-gcc`
(Debian gcc-xtensa-lx106 + picolibc-xtensa-lx106-elf) and the board runs in
qemu-system-xtensa. PlatformIO finds this class by name:
"tinyml-qemu-xtensa" -> TinymlqemuxtensaPlatform.
"""
from platformio.public import PlatformBase


class TinymlqemuxtensaPlatform(PlatformBase):
    pass
