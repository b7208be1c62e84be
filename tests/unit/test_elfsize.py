"""Flash/RAM of an ELF as `tinyml build` prints them, against binutils' own `size -A`."""
from __future__ import annotations

import re
import subprocess

import pytest

from tinyml.targets.elfsize import sizes, usage_line

SRC = """
const unsigned char table[1000] = {1};
unsigned char zeros[3000];
int counter = 7;
int main(void) { zeros[counter] = table[counter]; return zeros[7]; }
"""


def _size_a(elf, tool):
    """{section: size} of allocated sections from `size -A`."""
    out = subprocess.run([tool, "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\.\S+)\s+(\d+)\s+\d+", out, re.M)}


@pytest.mark.tools("arm-none-eabi-gcc")
def test_arm_elf_matches_size(tmp_path):
    (tmp_path / "a.c").write_text(SRC)
    elf = tmp_path / "a.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O1", "--specs=nosys.specs",
                    str(tmp_path / "a.c"), "-o", str(elf)], check=True)
    secs = _size_a(elf, "arm-none-eabi-size")
    flash, ram = sizes(elf)
    assert ram == sum(v for k, v in secs.items() if k in (".data", ".bss", ".heap", ".stack")
                      or k.startswith((".tdata", ".tbss", ".init_array", ".fini_array")))
    assert ram >= 3000 + 4 and flash >= secs[".text"] + 1000
    line = usage_line(elf, 1 << 20, 1 << 16)
    assert f"flash {flash:,} B of 1,048,576 B" in line and f"static RAM {ram:,} B of 65,536 B" in line


def test_not_an_elf_gives_none(tmp_path):
    p = tmp_path / "firmware.bin"
    p.write_bytes(b"\x00" * 64)
    assert sizes(p) is None and usage_line(p, 1, 1) is None
