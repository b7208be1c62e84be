"""The harness + QEMU port on the emulated Cortex-M4F, driven over the TCP UART.

Runtime: the TEST FIXTURE (tests/emu/fixtures), whose outputs Python
recomputes exactly. The real exported model is tested in test_model_qemu.py.
"""
from __future__ import annotations

import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinyml.harness import protocol as P

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness_cases import BAD_COMMANDS  # noqa: E402

pytestmark = pytest.mark.emu


@pytest.fixture(scope="module")
def FX(fx_model):
    return fx_model


def test_name_profile_info(fixture_elf, dut_factory):
    dut = dut_factory(fixture_elf)
    assert dut.name() == "tinyml-qemu_m4"
    assert dut.profile() == ("tinyml-harness-1.0", "fixture")
    info = dut.build_info()
    assert info["board"] == "qemu-mps2-an386"
    assert info["counter_unit"] == "instructions" and info["counter_resolution"] == 5
    assert info["clock_hz"] == 125_000_000 and info["clock"] == "virtual"   # -icount shift=3
    assert "-mcpu=cortex-m4" in info["cflags"] and "-mfpu=fpv4-sp-d16" in info["cflags"]
    assert info["golden_count"] == 4 and info["input_bytes"] == 64


def test_upload_checksum_infer_results(fixture_elf, dut_factory, FX):
    dut = dut_factory(fixture_elf)
    x = bytes(np.random.default_rng(7).integers(0, 256, 64, dtype=np.uint8))
    dut.load_input(x)                       # chunked upload + CRC32 verify
    assert dut.crc() == (zlib.crc32(x), 64)
    assert P.parse_buffer(dut.command("db print 64 0")) == x
    r = dut.infer(1, 0)
    want = FX.invoke(x)
    assert r.raw == want.tolist()
    assert r.results == FX.dequantize(want)
    assert r.counter.unit == "instructions" and r.counter.runs == 1
    assert r.counter.total > 64 * 10 and r.counter.total % 5 == 0    # whole timer ticks (5 instr.)
    assert r.laps_us[1] >= r.laps_us[0]
    assert dut.results() == (r.results, r.raw)
    layers, unit = dut.layers()
    assert [l.op for l in layers] == ["FIXTURE_DOT", "FIXTURE_CLAMP"] and unit == "instructions"


def test_instruction_count_is_deterministic(fixture_elf, dut_factory):
    """-icount: the same work costs the same number of emulated instructions."""
    dut = dut_factory(fixture_elf)
    dut.load_input(bytes(range(64)))
    a = dut.infer(3, 1).counter.total
    b = dut.infer(3, 1).counter.total
    assert abs(a - b) <= 5           # at most one timer tick of phase


def test_selftest_passes(fixture_elf, dut_factory):
    st = dut_factory(fixture_elf).selftest()
    assert st.passed and (st.vectors, st.total) == (4, 4)


def test_bad_commands_answered_and_results_still_correct(fixture_elf, dut_factory, FX):
    dut = dut_factory(fixture_elf)
    for setup, bad, msg in BAD_COMMANDS:
        for cmd in setup:
            dut.command(cmd)
        lines = dut.command_raw(bad.encode("latin-1") + b"%")
        errs = P.errors(lines)
        assert len(errs) == 1, (bad[:40], lines)   # messages depend on earlier state; the host test checks them
    x = bytes(range(64, 128))
    dut.load_input(x)
    assert dut.infer(1, 0).raw == FX.invoke(x).tolist()


def test_garbage_bytes_do_not_wedge_the_device(fixture_elf, dut_factory, FX):
    dut = dut_factory(fixture_elf)
    rng = np.random.default_rng(3)
    noise = bytes(rng.integers(0, 256, 3000, dtype=np.uint8)).replace(b"%", b"")
    dut.t.write(noise)                        # no terminator: the line overflows and is discarded
    lines = dut.command("ignored", check=False)
    assert any("command too long" in e for e in P.errors(lines))
    x = bytes(range(64))
    dut.load_input(x)
    assert dut.infer(1, 0).raw == FX.invoke(x).tolist()


def test_pty_transport(fixture_elf, dut_factory):
    dut = dut_factory(fixture_elf, serial="pty")
    assert dut.name() == "tinyml-qemu_m4"
