"""Real boards built and flashed with PlatformIO: ESP32, ESP32-S3, ESP32-C3, STM32L4R5, nRF52840, RP2040.

Memory numbers are the published ones (source in the comment next to each).
Firmware overheads (harness + port + framework + runtime core) are ESTIMATES
for budgeting only; `tinyml export` adds the model's own needs on top
(tinyml.targets.budget) and refuses models that would not fit. These paths
need a board and, once, internet (PlatformIO downloads the board's platform and
toolchain): builds, sizes and runs of these boards are not verified in this
repository's CI. What CI does cover for the ESP boards is their instruction
sets: the emulated targets qemu_xtensa (Xtensa, for esp32dev / esp32s3) and
qemu_rv32 (RV32IMC, for an ESP32-C3 / C6) build and run the same firmware
sources, bit-exact against the host TFLM runtime.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import BuildError, DeviceError, ToolMissingError
from .base import MemoryBudget, Target, env_for
from .budget import RUNTIME_OVERHEAD, check_runtime
from .pio import build_dir, pio_run, require_platform

KiB = 1024


def exported_env(project_dir: Path, target_name: str) -> str:
    """The env matching what `tinyml export` last wrote into firmware/generated/export.json."""
    rec_path = Path(project_dir) / "firmware" / "generated" / "export.json"
    if not rec_path.is_file():
        raise BuildError(f"{rec_path} does not exist: no model has been exported into this project",
                         hint=f"run `tinyml export -t {target_name}` first")
    try:
        rec = json.loads(rec_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise BuildError(f"{rec_path} is unreadable ({e})", hint="run `tinyml export` again") from None
    if rec.get("target") != target_name:
        raise BuildError(f"firmware/generated was exported for target '{rec.get('target')}', "
                         f"not '{target_name}' (memory budget and env differ)",
                         hint=f"run `tinyml export -t {target_name}` first")
    return str(rec.get("pio_env") or env_for(target_name, rec.get("runtime", "aot")))


@dataclass(frozen=True)
class PioBoard(Target):
    """A real board: one PlatformIO environment, flashed over USB, talked to over serial."""

    platform: str = ""
    pio_board: str = ""
    base_flash: int = 0        # ESTIMATE: startup + framework + harness + port code
    base_ram: int = 0          # ESTIMATE: framework/RTOS state + harness buffers + main stack
    usb_ids: tuple[tuple[int, int], ...] = ()   # (VID, PID) pairs to auto-detect the port
    baud: int = 115200
    notes: str = ""

    def budget_for(self, runtime: str) -> MemoryBudget:
        """The board's memory with the firmware overhead of `runtime` (ESTIMATES, see budget.py)."""
        rf, rr = RUNTIME_OVERHEAD[check_runtime(runtime)]
        return MemoryBudget(flash_bytes=self.budget.flash_bytes, ram_bytes=self.budget.ram_bytes,
                            firmware_flash=self.base_flash + rf, firmware_ram=self.base_ram + rr)

    def ci_status(self) -> str:
        from .pio import platform_installed
        have = "installed here" if platform_installed(self.platform) else "not installed here"
        return (f"{super().ci_status()}; needs the board and, once, internet for PlatformIO's "
                f"'{self.platform}' platform ({have})")

    # -- build / flash ------------------------------------------------------
    def build(self, project_dir: Path, progress: Any = None) -> Path:
        env = exported_env(project_dir, self.name)
        require_platform(self.platform, env)
        pio_run(project_dir, env, progress=progress)
        out = build_dir(project_dir, env)
        for name in ("firmware.elf", "firmware.bin", "firmware.hex"):
            if (out / name).is_file():
                return out / name
        raise BuildError(f"`pio run -e {self.name}` succeeded but {out} holds no firmware.elf",
                         hint="check build_dir in platformio.ini")

    def flash(self, project_dir: Path, port: str | None = None) -> None:
        env = exported_env(project_dir, self.name)
        require_platform(self.platform, env)
        pio_run(project_dir, env, target="upload", upload_port=port or self.find_port())

    # -- serial -------------------------------------------------------------
    def find_port(self) -> str:
        """The board's serial port by its USB IDs (asks on a terminal when several match)."""
        from .ports import find_port
        return find_port(self.name, self.usb_ids)

    def open_transport(self, project_dir: Path, port: str | None = None, **kw: Any) -> Any:
        port = port or self.find_port()
        baud = int(kw.pop("baud", self.baud))
        try:
            from ..harness import transport as tr   # tinyml's transports (pyserial based)
        except ImportError:
            tr = None
        if tr is not None:
            for name in ("open_serial", "SerialTransport"):
                factory = getattr(tr, name, None)
                if factory is not None:
                    return factory(port, baud, **kw)
        try:
            import serial
        except ImportError:
            raise ToolMissingError("pyserial is not installed", hint="pip install pyserial") from None
        try:
            return serial.Serial(port, baud, timeout=kw.get("timeout", 5.0))
        except serial.SerialException as e:
            raise DeviceError(f"cannot open {port}: {e}", hint="check the cable and permissions "
                              "(on Linux: add yourself to the dialout group)") from None


# Common USB-serial bridges of the boards below.
_CP210X, _CH340, _CH9102 = (0x10C4, 0xEA60), (0x1A86, 0x7523), (0x1A86, 0x55D4)

BOARDS: tuple[PioBoard, ...] = (
    PioBoard(
        name="esp32dev",
        description=("Espressif ESP32-DevKitC (ESP32-D0WD, Xtensa LX6); its ISA family is emulated "
                     "in CI by qemu_xtensa (an LX106, not an ESP32)"),
        cpu="xtensa-lx6", clock_hz=240_000_000,
        # ESP32 datasheet: 520 KB SRAM, 240 MHz; DevKitC: 4 MB flash. Flash budget = the app
        # partition of Arduino-ESP32's default.csv (app0 0x140000 = 1,310,720 B), not all 4 MB.
        # RAM: of ~320 KB DRAM only 160 KB may be *statically* allocated (ESP-IDF "Memory
        # Types"); our harness, arena and AOT buffers are static, so 160 KB is the budget.
        budget=MemoryBudget(flash_bytes=1_310_720, ram_bytes=163_840,
                            firmware_flash=0, firmware_ram=0),
        default_runtime="aot", platform="espressif32", pio_board="esp32dev",
        base_flash=240 * KiB, base_ram=32 * KiB,   # ESTIMATE: Arduino-ESP32 (IDF, FreeRTOS) + harness
        usb_ids=(_CP210X, _CH340, _CH9102),
        notes="app partition 1,280 KiB of 4 MB (default.csv); static DRAM limit 160 KiB"),
    PioBoard(
        name="esp32s3",
        description=("Espressif ESP32-S3-DevKitC-1 N8 (Xtensa LX7, vector ext.); its ISA family is "
                     "emulated in CI by qemu_xtensa (an LX106 without the S3's vector unit)"),
        cpu="xtensa-lx7", clock_hz=240_000_000,
        # ESP32-S3 datasheet: 512 KB SRAM, 240 MHz; DevKitC-1-N8: 8 MB flash. Flash budget = app0
        # of default_8MB.csv (0x330000 = 3,342,336 B), the table PlatformIO's esp32-s3-devkitc-1
        # board selects for Arduino. RAM: of the 512 KB SRAM, ESP-IDF leaves ~320 KiB of DRAM
        # to the application (the rest is instruction RAM and cache); budget 320 KiB.
        budget=MemoryBudget(flash_bytes=3_342_336, ram_bytes=327_680,
                            firmware_flash=0, firmware_ram=0),
        default_runtime="aot", platform="espressif32", pio_board="esp32-s3-devkitc-1",
        base_flash=260 * KiB, base_ram=40 * KiB,   # ESTIMATE: Arduino-ESP32 (IDF, FreeRTOS, USB) + harness
        usb_ids=(_CP210X, _CH340, _CH9102, (0x303A, 0x1001)),
        notes="app partition 3,264 KiB of 8 MB (default_8MB.csv)"),
    PioBoard(
        name="esp32c3",
        description=("Espressif ESP32-C3-DevKitM-1 (RISC-V RV32IMC); its ISA is emulated in CI by "
                     "qemu_rv32 (RV32IMC on QEMU's virt board, not an ESP32-C3)"),
        cpu="rv32imc", clock_hz=160_000_000,
        # ESP32-C3 datasheet: 400 KB SRAM (16 KB of it cache), 160 MHz; DevKitM-1: 4 MB flash.
        # Flash budget = app0 of Arduino-ESP32's default.csv (1,310,720 B), as for esp32dev.
        # RAM: budgeted like esp32dev at 160 KiB of static data, a conservative share of the
        # ~320 KB of DRAM ESP-IDF leaves the application (the rest is IRAM and cache).
        budget=MemoryBudget(flash_bytes=1_310_720, ram_bytes=163_840,
                            firmware_flash=0, firmware_ram=0),
        default_runtime="aot", platform="espressif32", pio_board="esp32-c3-devkitm-1",
        base_flash=230 * KiB, base_ram=40 * KiB,   # ESTIMATE: Arduino-ESP32 (IDF, FreeRTOS) + harness
        usb_ids=(_CP210X, _CH340, _CH9102, (0x303A, 0x1001)),
        notes="CP2102 bridge on the DevKitM-1; 0x303A:0x1001 is the chip's own USB-Serial/JTAG"),
    PioBoard(
        name="nucleo_l4r5zi", description="ST NUCLEO-L4R5ZI (STM32L4R5ZI, Cortex-M4F)",
        cpu="cortex-m4f", clock_hz=120_000_000,
        # STM32L4R5xx datasheet (DS12023): 2 MB flash, 640 KB SRAM (SRAM1 192 + SRAM2 64 +
        # SRAM3 384 KB, contiguous from 0x20000000), 120 MHz. MLPerf Tiny's reference board.
        budget=MemoryBudget(flash_bytes=2_097_152, ram_bytes=655_360,
                            firmware_flash=0, firmware_ram=0),
        default_runtime="aot", platform="ststm32", pio_board="nucleo_l4r5zi",
        base_flash=40 * KiB, base_ram=12 * KiB,    # ESTIMATE: STM32duino core (HAL) + harness + stack
        usb_ids=((0x0483, 0x374B), (0x0483, 0x374E), (0x0483, 0x374F)),
        notes="ST-LINK/V2-1 or V3 virtual COM port"),
    PioBoard(
        name="nano33ble", description="Arduino Nano 33 BLE (nRF52840, Cortex-M4F)",
        cpu="cortex-m4f", clock_hz=64_000_000,
        # nRF52840 product specification: 1 MB flash, 256 KB RAM, 64 MHz. The Arduino bootloader
        # keeps the first 64 KB, so the application gets 983,040 B (PlatformIO's maximum_size).
        budget=MemoryBudget(flash_bytes=983_040, ram_bytes=262_144,
                            firmware_flash=0, firmware_ram=0),
        default_runtime="aot", platform="nordicnrf52", pio_board="nano33ble",
        base_flash=120 * KiB, base_ram=48 * KiB,   # ESTIMATE: Mbed OS core + USB CDC + harness
        usb_ids=((0x2341, 0x805A), (0x2341, 0x005A)),
        notes="Arduino Mbed OS core; app starts after the 64 KB bootloader"),
    PioBoard(
        name="pico", description="Raspberry Pi Pico (RP2040, dual Cortex-M0+)",
        cpu="cortex-m0plus", clock_hz=133_000_000,
        # RP2040 datasheet: 264 KB SRAM (4 x 64 KB striped + 2 x 4 KB), 133 MHz; Pico: 2 MB QSPI
        # flash (W25Q16JV). RAM budget = the 256 KB striped main SRAM (the 4 KB banks hold stacks).
        budget=MemoryBudget(flash_bytes=2_097_152, ram_bytes=262_144,
                            firmware_flash=0, firmware_ram=0),
        default_runtime="aot", platform="raspberrypi", pio_board="pico",
        base_flash=100 * KiB, base_ram=40 * KiB,   # ESTIMATE: Arduino Mbed OS RP2040 core + USB CDC + harness
        usb_ids=((0x2E8A, 0x000A), (0x2E8A, 0x00C0)),
        notes="Cortex-M0+: no DSP instructions, the AOT portable kernels are used"),
)


def _with_default_budget(b: PioBoard) -> PioBoard:
    """Fill `budget`'s overhead fields from the default runtime (keeps Target.budget meaningful)."""
    import dataclasses
    return dataclasses.replace(b, budget=b.budget_for(b.default_runtime))


BOARDS = tuple(_with_default_budget(b) for b in BOARDS)
