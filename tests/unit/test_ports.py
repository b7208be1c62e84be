"""Serial ports: which one is the board, and a clear error when another program holds it.

Port discovery runs on a list of port records shaped like pyserial's ListPortInfo
(SIMULATED: no USB devices exist on a CI machine); the busy-port test uses a
real pty and a real second process holding it through pyserial.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from tinyml.core.errors import DeviceError, RunBusyError
from tinyml.harness.transport import Transport
from tinyml.targets import get_target
from tinyml.targets.ports import find_port


@dataclass
class FakePort:                      # SIMULATED pyserial ListPortInfo
    device: str
    vid: int | None
    pid: int | None
    description: str = "n/a"


CP2102 = FakePort("/dev/ttyUSB0", 0x10C4, 0xEA60)
FTDI = FakePort("/dev/ttyUSB1", 0x0403, 0x6001)
STLINK = FakePort("/dev/ttyACM0", 0x0483, 0x374B)
MOUSE = FakePort("/dev/ttyS0", None, None, "ttyS0")


def test_the_boards_own_bridge_wins():
    esp = get_target("esp32")
    assert find_port(esp.name, esp.usb_ids, [MOUSE, FTDI, CP2102]) == "/dev/ttyUSB0"
    st = get_target("nucleo_l4r5zi")
    assert find_port(st.name, st.usb_ids, [CP2102, STLINK]) == "/dev/ttyACM0"


def test_any_known_bridge_when_the_board_ids_do_not_match():
    esp = get_target("esp32")
    assert find_port(esp.name, esp.usb_ids, [MOUSE, FTDI]) == "/dev/ttyUSB1"


def test_several_candidates_ask_or_fail_listing_them():
    esp = get_target("esp32")
    two = [CP2102, FakePort("/dev/ttyUSB2", 0x1A86, 0x7523)]
    asked = {}

    def ask(question, choices):
        asked["q"], asked["choices"] = question, choices
        return choices[1]
    assert find_port(esp.name, esp.usb_ids, two, ask=ask) == "/dev/ttyUSB2"
    assert "CP210x" in asked["q"] and "CH340" in asked["q"]
    with pytest.raises(DeviceError, match=r"several ports could be the esp32dev.*ttyUSB0.*ttyUSB2"):
        find_port(esp.name, esp.usb_ids, two)          # no terminal under pytest: no question


def test_no_candidate_lists_what_was_seen():
    with pytest.raises(DeviceError, match=r"no serial port looks like a pico board; ports seen: /dev/ttyS0"):
        find_port("pico", get_target("pico").usb_ids, [MOUSE])


HOLD = """
import sys, time, serial
p = serial.Serial(sys.argv[1], exclusive=True)
print("held", flush=True)
time.sleep(60)
"""


def test_a_busy_port_names_its_holder():
    master, slave = os.openpty()
    name = os.ttyname(slave)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, name], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunBusyError, match=rf"serial port {name} is busy: held by pid {holder.pid}"):
            Transport(name)
        holder.kill()
        holder.wait()
        Transport(name).close()       # free again once the holder is gone
    finally:
        holder.kill()
        holder.wait()
        os.close(master)
        os.close(slave)
