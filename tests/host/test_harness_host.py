"""The device harness (firmware/harness) built with host gcc + ASan/UBSan, driven over stdin/stdout.

The runtime is the test fixture (tests/emu/fixtures), whose exact outputs
Python recomputes; golden vectors come from the real generator
(tinyml.codegen.golden_c). Any sanitizer report fails the test.
"""
from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinyml.harness import protocol as P

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from harness_cases import BAD_COMMANDS  # noqa: E402


def _load_fixture_model():
    path = ROOT / "tests" / "emu" / "fixtures" / "fixture_model.py"
    spec = importlib.util.spec_from_file_location("fixture_model", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


FX = _load_fixture_model()
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-O1",
          "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
SAN_MARKERS = ("AddressSanitizer", "runtime error", "LeakSanitizer", "UndefinedBehaviorSanitizer")


def _build(out_dir: Path, golden: dict[str, str] | None, defines: tuple[str, ...] = ()) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    srcs = sorted((ROOT / "firmware" / "harness").glob("*.c")) + \
        sorted((ROOT / "firmware" / "ports" / "host").glob("*.c")) + [FX.RUNTIME_C]
    inc = ["-I", str(ROOT / "firmware" / "harness"), "-I", str(ROOT / "firmware" / "ports"),
           "-I", str(ROOT / "firmware" / "runtime")]
    if golden:
        gen = out_dir / "generated"
        gen.mkdir(exist_ok=True)
        for name, text in golden.items():
            (gen / name).write_text(text)
        inc += ["-I", str(gen)]
        srcs.append(gen / "tm_golden.c")
    exe = out_dir / "harness"
    cp = subprocess.run(["gcc", *CFLAGS, *defines, *inc, *map(str, srcs), "-o", str(exe)],
                        capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    return exe


@pytest.fixture(scope="module")
def exe(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("h_gold"), FX.golden_sources(4))


@pytest.fixture(scope="module")
def exe_bad_golden(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("h_badgold"), FX.golden_sources(4, corrupt=(2, 7)))


@pytest.fixture(scope="module")
def exe_no_golden(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("h_nogold"), None)


def run(exe: Path, data: bytes) -> list[str]:
    cp = subprocess.run([str(exe)], input=data, capture_output=True, timeout=60)
    err = cp.stderr.decode(errors="replace")
    assert not any(m in err for m in SAN_MARKERS), err[-3000:]
    assert cp.returncode == 0, err[-3000:]
    lines, rest = P.split_lines(cp.stdout)
    assert rest == b"", f"unterminated output: {rest[:80]!r}"
    return lines


def replies(lines: list[str]) -> list[list[str]]:
    """Split output into per-command replies (the boot banner is reply 0)."""
    out, cur = [], []
    for ln in lines:
        if ln == P.READY:
            out.append(cur)
            cur = []
        else:
            cur.append(ln)
    assert cur == [], f"lines after the last m-ready: {cur}"
    return out


def script(cmds: list[str]) -> bytes:
    return b"".join(c.encode("latin-1") + b"%" for c in cmds)


def load_cmds(x: bytes, chunk: int = 24) -> list[str]:
    return [P.cmd_db_load(len(x))] + [P.cmd_db_data(c) for c in P.chunks(x, chunk)]


def good_sequence(x: bytes) -> list[str]:
    return load_cmds(x) + ["crc", "infer 2 1", "results"]


def check_good(reps: list[list[str]], x: bytes) -> None:
    """The replies of good_sequence(x): checksum, lap markers and exact outputs."""
    n_load = len(load_cmds(x))
    assert P.parse_expecting(reps[0]) == len(x)
    assert P.load_done(reps[n_load - 1])
    assert P.parse_crc(reps[n_load]) == (zlib.crc32(x), len(x))
    infer = reps[n_load + 1]
    assert P.errors(infer) == []
    assert len(P.parse_laps(infer)) == 2
    want = FX.invoke(x)
    assert P.parse_raw(infer) == want.tolist()
    assert P.parse_results(infer) == FX.dequantize(want)
    assert P.parse_raw(reps[n_load + 2]) == want.tolist()


def test_boot_banner_and_basic_commands(exe):
    reps = replies(run(exe, script(["name", "profile", "timestamp", "help", "info"])))
    assert reps[0] == ["m-timestamp-mode-performance", "m-init-done"]
    assert P.parse_name(reps[1]) == "tinyml"
    assert P.parse_profile(reps[2]) == ("tinyml-harness-1.0", "fixture")
    assert len(P.parse_laps(reps[3])) == 1
    assert any("infer N" in ln for ln in reps[4])
    info = P.parse_info(reps[5])
    assert info["board"] == "host" and info["input_bytes"] == 64 and info["golden_count"] == 4
    assert info["runtime"] == "fixture" and info["counter_unit"] == "us"


def test_upload_infer_results_exact(exe):
    x = bytes(np.random.default_rng(1).integers(0, 256, 64, dtype=np.uint8))
    reps = replies(run(exe, script(good_sequence(x) + ["layers", "db print 16 8"])))[1:]
    check_good(reps, x)
    layers, unit = P.parse_layers(reps[-2])
    assert [l.op for l in layers] == ["FIXTURE_DOT", "FIXTURE_CLAMP"] and unit == "us"
    assert P.parse_buffer(reps[-1]) == x[8:24]


def test_selftest_pass(exe):
    st = P.parse_selftest(replies(run(exe, script(["selftest"])))[1])
    assert st.passed and st.vectors == 4 and st.total == 4


def test_selftest_reports_first_mismatch(exe_bad_golden):
    st = P.parse_selftest(replies(run(exe_bad_golden, script(["selftest"])))[1])
    assert not st.passed
    assert (st.vector, st.byte) == (2, 7)
    g = FX.golden(4)
    assert st.got == int(g.outputs[2, 7]) and st.want == int(np.int8(int(g.outputs[2, 7]) ^ 0x55))


def test_selftest_without_golden_is_an_error(exe_no_golden):
    rep = replies(run(exe_no_golden, script(["selftest"])))[1]
    assert P.errors(rep) and "no golden vectors" in P.errors(rep)[0]


@pytest.mark.parametrize("setup,bad,msg", BAD_COMMANDS, ids=[repr(b[1][:24]) for b in BAD_COMMANDS])
def test_bad_command_answered_then_device_still_correct(exe, setup, bad, msg):
    x = bytes(range(64))
    reps = replies(run(exe, script(setup + [bad] + good_sequence(x))))[1:]
    for r in reps[:len(setup)]:
        assert P.errors(r) == [], r
    bad_rep = reps[len(setup)]
    errs = P.errors(bad_rep)
    assert len(errs) == 1 and msg in errs[0], bad_rep
    check_good(reps[len(setup) + 1:], x)


def test_all_bad_commands_in_one_session(exe):
    cmds, expect = [], []
    for setup, bad, msg in BAD_COMMANDS:
        cmds += setup + [bad]
        expect += [None] * len(setup) + [msg]
    x = bytes(range(100, 164))
    reps = replies(run(exe, script(cmds + good_sequence(x))))[1:]
    for rep, msg in zip(reps, expect):
        # Messages depend on the state earlier cases left; what must hold is
        # exactly one e-[...] per bad command and none for the setup commands.
        assert len(P.errors(rep)) == (0 if msg is None else 1), rep
    check_good(reps[len(cmds):], x)


@pytest.mark.parametrize("seed", range(12))
def test_random_bytes_never_crash(exe, seed):
    rng = random.Random(seed)
    alphabet = [bytes([b]) for b in range(256)] + [b"%"] * 40 + [b"db ", b"db load ", b"infer ", b"00", b"ff"]
    noise = b"".join(rng.choice(alphabet) for _ in range(4000))
    x = bytes(rng.randrange(256) for _ in range(64))
    # A lone '%' ends whatever partial command the noise left, then a clean session.
    data = noise + b"%" + script(good_sequence(x))
    lines = run(exe, data)
    assert lines.count(P.READY) == 1 + data.count(b"%")
    reps = replies(lines)
    check_good(reps[-len(good_sequence(x)):], x)


FMT_MAIN = r"""
#include <stdio.h>
#include "tm_fmt.h"
#include "tm_port.h"
int main(void) {
    float v;
    tm_port_init();
    while (fread(&v, sizeof v, 1, stdin) == 1) { tm_out_f3(v); tm_out_nl(); }
    return 0;
}
"""


def test_float_format_matches_printf(tmp_path):
    """m-results uses our own %0.3f (no printf on device): compare with C-style formatting."""
    main = tmp_path / "fmt_main.c"
    main.write_text(FMT_MAIN)
    exe = tmp_path / "fmt"
    cp = subprocess.run(["gcc", *CFLAGS, "-I", str(ROOT / "firmware/harness"), "-I", str(ROOT / "firmware/ports"),
                         str(main), str(ROOT / "firmware/harness/tm_fmt.c"),
                         str(ROOT / "firmware/ports/host/tm_port_host.c"), "-o", str(exe)],
                        capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    rng = np.random.default_rng(0)
    q = np.arange(-128, 128)
    vals = np.concatenate([np.float32(0.00390625) * q, np.float32(0.1234567) * q,
                           rng.normal(0, 30, 500).astype(np.float32),
                           np.array([0.0, -0.0, 0.0005, -0.0004, 0.0015, 2.5e-4, 999.9995], np.float32)])
    lines = run(exe, vals.astype(np.float32).tobytes())
    want = []
    for v in vals:
        s = f"{float(v):.3f}"
        want.append(s[1:] if s in ("-0.000",) else s)   # we never print a negative zero
    assert lines == want


def test_energy_mode_timestamps_are_gpio_edges_not_text(tmp_path):
    """EEMBC energy mode: `timestamp` pulses the trigger pin and prints nothing;
    the timed loop is still bracketed and the results still printed."""
    exe = _build(tmp_path, None, ("-DTM_ENERGY_MODE=1",))
    x = bytes(range(64))
    reps = replies(run(exe, script(["timestamp"] + load_cmds(x) + ["infer 1 0"])))
    assert reps[0] == ["m-timestamp-mode-energy", "m-init-done"]
    assert reps[1] == []
    infer = reps[-1]
    assert P.parse_laps(infer) == []
    assert "m-infer-start-1" in infer and "m-infer-done" in infer
    assert P.parse_raw(infer) == FX.invoke(x).tolist()
