"""Finding a board's serial port (who holds a busy one: harness/transport.py).

A board is recognised by its USB VID:PID: first the board's own IDs, then the
USB-serial bridges dev boards carry. With several candidates a terminal user
is asked; a script gets an error listing them. `--port` always wins.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Sequence

from ..core.errors import DeviceError, ToolMissingError

# VID:PID -> bridge, for the ports dev boards expose.
KNOWN_BRIDGES: dict[tuple[int, int], str] = {
    (0x10C4, 0xEA60): "Silicon Labs CP210x",
    (0x1A86, 0x7523): "WCH CH340", (0x1A86, 0x55D4): "WCH CH9102", (0x1A86, 0x55D3): "WCH CH343",
    (0x0403, 0x6001): "FTDI FT232R", (0x0403, 0x6010): "FTDI FT2232", (0x0403, 0x6014): "FTDI FT232H",
    (0x0403, 0x6015): "FTDI FT230X",
    (0x303A, 0x1001): "Espressif USB-Serial/JTAG", (0x303A, 0x0002): "Espressif USB CDC",
    (0x0483, 0x374B): "ST-LINK/V2-1", (0x0483, 0x374E): "STLINK-V3", (0x0483, 0x374F): "STLINK-V3",
    (0x0483, 0x3752): "ST-LINK/V2-1",
    (0x2341, 0x805A): "Arduino Nano 33 BLE", (0x2341, 0x005A): "Arduino Nano 33 BLE (bootloader)",
    (0x2E8A, 0x000A): "Raspberry Pi Pico (CDC)", (0x2E8A, 0x00C0): "Raspberry Pi Pico",
}


def _describe(p: Any) -> str:
    ids = (p.vid, p.pid)
    what = KNOWN_BRIDGES.get(ids) or (p.description if p.description not in (None, "n/a") else "")
    return f"{p.device} ({(p.vid or 0):04x}:{(p.pid or 0):04x}{', ' + what if what else ''})"


def comports() -> list[Any]:
    try:
        from serial.tools import list_ports
    except ImportError:
        raise ToolMissingError("pyserial is not installed", hint="pip install pyserial") from None
    return sorted(list_ports.comports(), key=lambda p: p.device)


def find_port(board: str, board_ids: Sequence[tuple[int, int]], ports: list[Any] | None = None,
              ask: Callable[[str, list[str]], str] | None = None) -> str:
    """The serial port of `board`: its own USB IDs first, then any known bridge.

    `ask(question, choices) -> choice` is called when several ports match and
    someone can answer (the CLI passes a prompt when stdin is a terminal).
    """
    ports = comports() if ports is None else ports
    hits = [p for p in ports if (p.vid, p.pid) in set(board_ids)]
    if not hits:
        hits = [p for p in ports if (p.vid, p.pid) in KNOWN_BRIDGES]
    if len(hits) == 1:
        return hits[0].device
    seen = ", ".join(_describe(p) for p in ports) or "none"
    if not hits:
        raise DeviceError(f"no serial port looks like a {board} board; ports seen: {seen}",
                          hint="plug the board in (a data cable, not a charge-only one) or pass --port")
    choices = [p.device for p in hits]
    if ask is None and sys.stdin.isatty() and sys.stdout.isatty():
        ask = _prompt
    if ask is None:
        raise DeviceError(f"several ports could be the {board}: " + ", ".join(_describe(p) for p in hits),
                          hint="pass --port to choose one")
    return ask(f"Several ports could be the {board}:\n" +
               "\n".join(f"  {i + 1}) {_describe(p)}" for i, p in enumerate(hits)), choices)


def _prompt(question: str, choices: list[str]) -> str:
    import click
    click.echo(question)
    n = click.prompt("Which one", type=click.IntRange(1, len(choices)), default=1)
    return choices[n - 1]
