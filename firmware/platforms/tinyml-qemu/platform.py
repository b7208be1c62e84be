"""tinyml-qemu: a project-local PlatformIO development platform.

It downloads nothing: the toolchain is the system `arm-none-eabi-gcc`
(Debian package gcc-arm-none-eabi) and the board runs in qemu-system-arm.
PlatformIO finds this class by name: "tinyml-qemu" -> TinymlqemuPlatform.
"""
from platformio.public import PlatformBase


class TinymlqemuPlatform(PlatformBase):
    pass
