"""Renode scripts for the boards Renode models, for users who have Renode.

`tinyml emulate --emulator renode -t nano33ble` writes `renode/<board>.resc`
(the machine, the ELF, the UART) and `renode/<board>.robot` (a Renode Robot
Framework test: boot, send `selftest%`, wait for the harness's pass line),
then runs the test with `renode-test` where that exists. Renode cannot be
installed on this project's CI machines: these files are checked for content
there, never run. The text is deterministic (same inputs, same bytes).
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core import atomic
from ..core.errors import ConfigError, DeviceError

PASS_LINE = "m-selftest-pass-"      # firmware/harness/tm_harness.c, tm_cmd_selftest
FAIL_LINE = "m-selftest-fail-"


@dataclass(frozen=True)
class RenodeBoard:
    target: str          # tinyml target whose export this runs
    pio_env: str         # the PlatformIO env built for Renode
    platform: str        # Renode platform description
    uart: str            # the peripheral the firmware's serial port is on
    note: str


BOARDS = {
    "nano33ble": RenodeBoard(
        target="nano33ble", pio_env="nano33ble_renode", platform="@platforms/cpus/nrf52840.repl",
        uart="sysbus.uart0",
        note="nRF52840; the firmware talks on Serial1 (UARTE0) because Renode has no USB device"),
}


def board_for(target: str) -> RenodeBoard:
    if target not in BOARDS:
        raise ConfigError(f"Renode scripts exist for {', '.join(sorted(BOARDS))}, not '{target}'",
                          hint="the emulated targets qemu_m4 / qemu_xtensa / qemu_rv32 run in QEMU "
                               "(tinyml emulate without --emulator)")
    return BOARDS[target]


def resc_text(board: RenodeBoard, elf: Path) -> str:
    return "\n".join([
        f":name: tinyml {board.target}",
        f":description: tinyml firmware ({board.pio_env}) on Renode's {board.platform}; {board.note}",
        "",
        "using sysbus",
        f"mach create \"{board.target}\"",
        f"machine LoadPlatformDescription {board.platform}",
        f"$elf?=@{elf}",
        f"showAnalyzer {board.uart}",
        "",
        "macro reset",
        '"""',
        "    sysbus LoadELF $elf",
        '"""',
        "runMacro $reset",
        "",
    ])


def robot_text(board: RenodeBoard, resc: Path) -> str:
    return "\n".join([
        "*** Settings ***",
        "Suite Setup       Setup",
        "Suite Teardown    Teardown",
        "Test Teardown     Test Teardown",
        "Resource          ${RENODEKEYWORDS}",
        "",
        "*** Test Cases ***",
        f"tinyml self-test on {board.target}",
        f"    Execute Command           include @{resc}",
        f"    Create Terminal Tester    {board.uart}    timeout=120",
        "    Start Emulation",
        "    Wait For Line On Uart     m-init-done",
        "    Write Line To Uart        selftest%",
        f"    Wait For Line On Uart     {PASS_LINE}",
        "",
    ])


def generate(project_dir: Path, target: str) -> tuple[Path, Path, Path]:
    """Write renode/<target>.resc and .robot into the project; return (resc, robot, elf)."""
    board = board_for(target)
    project_dir = Path(project_dir).resolve()
    elf = project_dir / ".pio" / "build" / board.pio_env / "firmware.elf"
    out = project_dir / "renode"
    resc, robot = out / f"{board.target}.resc", out / f"{board.target}.robot"
    atomic.write_text(resc, resc_text(board, elf))
    atomic.write_text(robot, robot_text(board, resc))
    return resc, robot, elf


def run(robot: Path, timeout: float = 600) -> str | None:
    """Run the Robot test with renode-test; None when Renode is not installed."""
    exe = shutil.which("renode-test")
    if exe is None:
        return None
    out = subprocess.run([exe, str(robot)], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        tail = (out.stdout + out.stderr).strip().splitlines()[-5:]
        raise DeviceError(f"the Renode self-test failed ({robot}): " + " | ".join(tail),
                          hint="open the .resc in Renode (`renode <file>.resc`) to watch the UART")
    return out.stdout
