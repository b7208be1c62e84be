"""Flash and RAM use of a built firmware, from its ELF section headers.

Flash: every allocated section with contents (code, read-only data, and the
initial values of .data). RAM: every allocated writable section (.data,
.bss, and the stack/heap sections a linker script reserves). That is how
`arm-none-eabi-size` and PlatformIO count; no toolchain is needed to read it.
"""
from __future__ import annotations

import struct
from pathlib import Path

SHF_WRITE, SHF_ALLOC = 0x1, 0x2
SHT_NOBITS = 8


def sizes(elf_path: str | Path) -> tuple[int, int] | None:
    """(flash_bytes, ram_bytes), or None when the file is not an ELF."""
    data = Path(elf_path).read_bytes()
    if len(data) < 52 or data[:4] != b"\x7fELF":
        return None
    is64, end = data[4] == 2, "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
        fmt = end + "IIQQQQ"
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
        fmt = end + "IIIIII"
    flash = ram = 0
    for i in range(shnum):
        off = shoff + i * shentsize
        if off + struct.calcsize(fmt) > len(data):
            return None
        _, sh_type, flags, _, _, size = struct.unpack_from(fmt, data, off)
        if not flags & SHF_ALLOC:
            continue
        if sh_type != SHT_NOBITS:
            flash += size
        if flags & SHF_WRITE:
            ram += size
    return flash, ram


def usage_line(elf_path: str | Path, flash_total: int, ram_total: int) -> str | None:
    """'flash 61,480 B of 4,194,304 B (1.5 %), RAM ...' for `tinyml build`."""
    got = sizes(elf_path)
    if got is None:
        return None
    flash, ram = got

    def part(name: str, used: int, total: int) -> str:
        return f"{name} {used:,} B of {total:,} B ({100 * used / total:.1f} %)" if total else \
            f"{name} {used:,} B"
    return (f"uses {part('flash', flash, flash_total)}, {part('static RAM', ram, ram_total)} "
            "(from the ELF; static RAM = .data + .bss, the stack comes on top)")
