"""tinyml.harness.protocol: pure encode/decode of the EEMBC / MLPerf Tiny DUT protocol."""
from __future__ import annotations

import random
import re

import pytest

from tinyml.core.errors import DeviceError
from tinyml.harness import protocol as P

# A reply of `infer 2 1` as the firmware prints it (MLPerf Tiny order + our extensions).
INFER_REPLY = (b"m-warmup-start-1\r\nm-warmup-done\r\nm-infer-start-2\r\n"
               b"m-lap-us-1000\r\nm-lap-us-1234\r\nm-infer-done\r\n"
               b"m-tm-counter-[instructions,13400,2]\r\n"
               b"m-results-[0.000,0.996,-0.500]\r\nm-tm-raw-[-128,127,0]\r\nm-ready\r\n")


def test_encode_appends_terminator_and_refuses_bad_commands():
    assert P.encode("name") == b"name%"
    with pytest.raises(ValueError, match="terminator"):
        P.encode("db load 5%")
    with pytest.raises(ValueError, match="ASCII"):
        P.encode("näme")
    with pytest.raises(ValueError, match="accepts 512"):
        P.encode("x" * 513)
    assert P.encode("x" * 512).endswith(b"%")


def test_command_builders():
    assert P.cmd_db_load(64) == "db load 64"
    assert P.cmd_db_data(b"\x00\x7f\x80\xff") == "db 007f80ff"
    assert P.cmd_infer(10, 0) == "infer 10 0"
    assert P.cmd_db_print(8, 4) == "db print 8 4"
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError):
            P.cmd_db_load(bad)
    with pytest.raises(ValueError):
        P.cmd_infer(0, 1)
    with pytest.raises(ValueError):
        P.cmd_infer(1, -1)
    with pytest.raises(ValueError):
        P.cmd_db_data(b"")


def test_chunks_fit_the_device_line_and_cover_the_data():
    data = bytes(range(256)) * 3
    parts = P.chunks(data)
    assert b"".join(parts) == data
    assert all(len(P.encode(P.cmd_db_data(p))) <= P.MAX_LINE + 1 for p in parts)
    with pytest.raises(ValueError):
        P.chunks(data, 300)


def test_split_lines_keeps_partial_tail_and_tolerates_garbage():
    lines, rest = P.split_lines(b"m-ready\r\n\xff\xfejunk\r\n\r\nm-name-dut-[x]\nm-lap")
    assert lines[0] == "m-ready" and lines[-1] == "m-name-dut-[x]"
    assert "junk" in lines[1]
    assert rest == b"m-lap"
    assert P.split_lines(b"") == ([], b"")


def test_parse_infer_reply():
    lines, rest = P.split_lines(INFER_REPLY)
    assert rest == b"" and lines[-1] == P.READY
    body = lines[:-1]
    assert P.parse_laps(body) == [1000, 1234]
    assert P.parse_results(body) == [0.0, 0.996, -0.5]
    assert P.parse_raw(body) == [-128, 127, 0]
    c = P.parse_counter(body)
    assert (c.unit, c.total, c.runs, c.per_inference) == ("instructions", 13400, 2, 6700.0)
    assert P.errors(body) == []


def test_results_line_matches_the_mlperf_runner_regex():
    """The upstream runner's own patterns must accept what we parse."""
    lines, _ = P.split_lines(INFER_REPLY)
    assert any(re.match(r"^m-results-\[([^]]+)\]$", ln) for ln in lines)
    assert [ln for ln in lines if re.match(r"^m-lap-us-([0-9]+)$", ln)] == ["m-lap-us-1000", "m-lap-us-1234"]


def test_errors_and_raise_on_error():
    lines = ["e-[Invalid hex digit at 3]", "m-ready", "e-bare-style"]
    assert P.errors(lines) == ["Invalid hex digit at 3", "bare-style"]
    with pytest.raises(P.ProtocolError, match="device rejected `db zz`: Invalid hex digit at 3"):
        P.raise_on_error("db zz", lines)
    assert issubclass(P.ProtocolError, DeviceError)
    P.raise_on_error("name", ["m-name-dut-[a]"])


def test_missing_fields_raise_protocol_error_naming_what_was_expected():
    with pytest.raises(P.ProtocolError, match=r"m-results-\[\.\.\.\]"):
        P.parse_results(["m-infer-done"])
    with pytest.raises(P.ProtocolError, match="non-number"):
        P.parse_results(["m-results-[0.1,abc]"])
    with pytest.raises(P.ProtocolError, match="outside int8"):
        P.parse_raw(["m-tm-raw-[1,200]"])
    with pytest.raises(P.ProtocolError, match="m-name-dut"):
        P.parse_name(["garbage"])


def test_simple_messages():
    assert P.parse_name(["m-name-dut-[tinyml-qemu_m4]"]) == "tinyml-qemu_m4"
    assert P.parse_profile(["m-profile-[v1]", "m-model-[digits]"]) == ("v1", "digits")
    assert P.parse_profile(["m-profile-[v1]"]) == ("v1", None)
    assert P.parse_expecting(["m-[Expecting 64 bytes]"]) == 64
    assert P.load_done(["m-load-done"]) and not P.load_done(["m-ready"])
    assert P.parse_buffer(["m-buffer-00-ff-10", "noise", "m-buffer-7f"]) == b"\x00\xff\x10\x7f"
    assert P.parse_crc(["m-tm-crc32-[deadbeef,64]"]) == (0xDEADBEEF, 64)


def test_info_layers_and_selftest():
    info = P.parse_info(["m-tm-info-board-[qemu]", "m-tm-info-clock_hz-[25000000]",
                         "m-tm-info-cflags-[-O2 -mthumb]", "junk"])
    assert info == {"board": "qemu", "clock_hz": 25000000, "cflags": "-O2 -mthumb"}
    with pytest.raises(P.ProtocolError):
        P.parse_info(["m-ready"])
    layers, unit = P.parse_layers(["m-tm-layer-[0,CONV_2D,100]", "m-tm-layer-[1,SOFTMAX,7]",
                                   "m-tm-layers-[2,cycles]"])
    assert unit == "cycles" and [(l.index, l.op, l.count) for l in layers] == [(0, "CONV_2D", 100), (1, "SOFTMAX", 7)]
    with pytest.raises(P.ProtocolError, match="announced 3"):
        P.parse_layers(["m-tm-layer-[0,A,1]", "m-tm-layers-[3,cycles]"])
    ok = P.parse_selftest(["m-selftest-pass-[20/20]"])
    assert ok.passed and ok.vectors == 20 and ok.total == 20
    bad = P.parse_selftest(["m-selftest-fail-[vector=3,byte=7,got=-5,want=12]"])
    assert not bad.passed and (bad.vector, bad.byte, bad.got, bad.want) == (3, 7, -5, 12)
    with pytest.raises(P.ProtocolError, match="no golden"):
        P.parse_selftest(["e-[selftest: no golden vectors built in]"])
    with pytest.raises(P.ProtocolError, match="selftest-pass"):
        P.parse_selftest(["m-something-else"])


@pytest.mark.parametrize("seed", range(5))
def test_parsers_survive_random_garbage(seed):
    """Random bytes never crash a parser: each returns a well-typed value or raises
    ProtocolError, and a clean reply after the garbage is still read exactly."""
    rng = random.Random(seed)
    pieces = [b"m-", b"e-[", b"]", b"[", b",", b"-", b"\r\n", b"m-results-[", b"m-tm-raw-[",
              b"m-lap-us-", b"m-tm-layer-[", b"m-tm-info-", b"m-selftest-pass-[", b"/", b"1", b"-7"]
    blob = b"".join(rng.choice(pieces + [bytes([rng.randrange(256)])]) for _ in range(3000))
    blob += b"\r\nm-tm-crc32-[deadbeef,16]\r\nm-name-dut-[tinyml]\r\nm-[Expecting 64 bytes]\r\nm-par"
    lines, rest = P.split_lines(blob)
    assert rest == b"m-par"                                  # the unfinished line is kept back
    assert all(ln and ln == ln.strip() and "\n" not in ln and "\r" not in ln for ln in lines)
    assert all(isinstance(e, str) for e in P.errors(lines))
    assert all(isinstance(v, int) and v >= 0 for v in P.parse_laps(lines))
    assert isinstance(P.parse_buffer(lines), bytes)
    kinds = {P.parse_results: list, P.parse_raw: list, P.parse_counter: P.Counter,
             P.parse_info: dict, P.parse_layers: tuple, P.parse_selftest: P.Selftest}
    refused = 0
    for fn, kind in kinds.items():
        try:
            assert isinstance(fn(lines), kind), fn.__name__
        except P.ProtocolError:
            refused += 1
    assert refused > 0                                       # the garbage is mostly refused...
    assert P.parse_crc(lines) == (0xDEADBEEF, 16)            # ...and never hides a good reply
    assert P.parse_name(lines) == "tinyml"
    assert P.parse_expecting(lines) == 64
