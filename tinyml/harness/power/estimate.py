"""Energy *estimates* for runs without a meter: datasheet active power x measured latency.

An estimate is never a measurement: results carry status "estimated" and a
basis sentence naming the datasheet figure. The figures are for the chip
alone; a development board's regulator, USB bridge and LEDs add to them.
A board is listed with a figure only where the datasheet value was checked;
for the others pass board_power_w (e.g. your own meter reading).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...core.errors import ConfigError
from .base import ESTIMATED, EnergyResult, not_measured


@dataclass(frozen=True)
class BoardPower:
    active_w: float | None        # None: no checked figure
    supply_v: float | None
    source: str                   # datasheet + table + condition, or why there is no figure


BOARD_POWER: dict[str, BoardPower] = {
    "esp32dev": BoardPower(
        0.068 * 3.3, 3.3,
        "ESP32 Series Datasheet v3.5, Table 6 'Power Consumption by Power Modes': Modem-sleep "
        "(CPU on, radio off), 240 MHz, dual-core chip, 30-68 mA; upper end 68 mA x 3.3 V"),
    "esp32s3": BoardPower(
        None, 3.3, "no checked figure: see ESP32-S3 Series Datasheet, 'Current Consumption in Modem-sleep Mode'"),
    "esp32c3": BoardPower(
        None, 3.3, "no checked figure: see ESP32-C3 Series Datasheet, 'Current Consumption in Modem-sleep Mode'"),
    "nucleo_l4r5zi": BoardPower(
        None, 3.3, "no checked figure: see STM32L4R5xx datasheet, 'Current consumption in Run mode' (120 MHz)"),
    "nano33ble": BoardPower(
        None, 3.3, "no checked figure: see nRF52840 Product Specification, 'CPU running' (64 MHz, CoreMark)"),
    "pico": BoardPower(
        None, 3.3, "no checked figure: see RP2040 Datasheet, 'Power Consumption'"),
    "qemu_m4": BoardPower(
        None, None, "emulated Cortex-M4 (QEMU): no physical power to estimate"),
}


def estimate_energy(latency_s: float, board: str | None = None, board_power_w: float | None = None,
                    supply_v: float | None = None) -> EnergyResult:
    """Energy per inference = active power x latency per inference, labelled "estimated".

    `board_power_w` (W) wins over the table; with neither, the result is
    "not measured" and its basis says why."""
    if not latency_s or latency_s <= 0:
        raise ValueError(f"latency_s must be > 0 s, got {latency_s!r}")
    entry = BOARD_POWER.get(board or "")
    if board_power_w is not None:
        if board_power_w <= 0:
            raise ConfigError(f"board_power_w must be > 0 W, got {board_power_w}")
        power, basis = float(board_power_w), f"given active power {board_power_w * 1e3:.1f} mW"
        supply_v = supply_v if supply_v is not None else (entry.supply_v if entry else None)
    elif entry is not None and entry.active_w is not None:
        power, basis, supply_v = entry.active_w, f"datasheet active power ({entry.source})", entry.supply_v
    else:
        why = entry.source if entry else f"board {board!r} has no entry in tinyml's datasheet table"
        return not_measured(f"no meter, and no active-power figure to estimate from ({why}); "
                            "pass board_power_w or measure with a meter")
    return EnergyResult(status=ESTIMATED, meter=None, uj_per_inference=power * latency_s * 1e6,
                        mean_power_mw=power * 1e3, supply_v=supply_v, window_s=None, inferences=None,
                        basis=f"estimated, not measured: {basis} x measured latency {latency_s * 1e6:.1f} us "
                              "per inference; chip figure only, the board draws more")
