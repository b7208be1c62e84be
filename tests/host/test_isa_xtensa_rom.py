"""The qemu_xtensa port's libgcc helpers (firmware/ports/qemu_xtensa/tm_xt_rom.c) against
the host's own arithmetic.

Debian's lx106 libgcc leaves out what the ESP8266 mask ROM provides (integer
division, 64-bit multiply, single/double add, subtract and multiply, int to
float, float to double), so the port brings its own. They sit under every
requantization (64-bit products) and every printed result (float), so they must
round exactly like IEEE 754 hardware: round to nearest even, subnormals, signed
zeros, infinities; a NaN result only has to be a NaN. Built for the host with
-DTM_XT_ROM_HOST_TEST (tm_host_ names) and compared with numpy, operand by
operand, on random bit patterns and on the classes random bits rarely hit:
cancellation, exponent gaps around the rounding point, ties, subnormals,
overflow, and every pair of special values.
"""
from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
ROM_C = ROOT / "firmware" / "ports" / "qemu_xtensa" / "tm_xt_rom.c"
DRIVER = Path(__file__).resolve().parent / "xt_rom_main.c"
N = 100_000


@pytest.fixture(scope="module")
def rom(tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("xt_rom") / "xt_rom"
    cp = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O2",
                         "-DTM_XT_ROM_HOST_TEST", str(ROM_C), str(DRIVER), "-o", str(exe)],
                        capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    return exe


def _call(exe: Path, op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = np.stack([a.astype(np.uint64), b.astype(np.uint64)], axis=1)
    cp = subprocess.run([str(exe), op, str(len(a))], input=ab.tobytes(), capture_output=True,
                        timeout=120)
    assert cp.returncode == 0, cp.stderr.decode()
    return np.frombuffer(cp.stdout, np.uint64)


# ------------------------------------------------------------------ operands

class _Fmt:
    def __init__(self, bits, ebits):
        self.bits, self.ebits, self.mbits = bits, ebits, bits - 1 - ebits
        self.emax = (1 << ebits) - 1
        self.u = np.uint32 if bits == 32 else np.uint64
        self.f = np.float32 if bits == 32 else np.float64

    def pack(self, s, e, m):
        s, e, m = (np.asarray(v).astype(np.uint64) for v in (s, e, m))
        return ((s << np.uint64(self.bits - 1)) | (e << np.uint64(self.mbits)) | m).astype(self.u)

    def mant(self, rng, n, keep=None):
        m = rng.integers(0, 1 << self.mbits, n, dtype=np.uint64)
        if keep is not None:                 # short mantissas: exact products and ties
            m &= np.uint64(((1 << keep) - 1) << (self.mbits - keep))
        return m

    def specials(self):
        top = (1 << self.mbits) - 1
        vals = [self.pack(s, e, m) for s in (0, 1) for e, m in
                ((0, 0), (self.emax, 0), (self.emax, 1 << (self.mbits - 1)), (0, 1), (0, top),
                 (1, 0), (self.emax - 1, top), ((1 << (self.ebits - 1)) - 1, 0))]
        v = np.array(vals, self.u)
        a, b = np.meshgrid(v, v)
        return a.ravel(), b.ravel()


F32, F64 = _Fmt(32, 8), _Fmt(64, 11)


def _operands(fmt: _Fmt, kind: str, rng) -> tuple[np.ndarray, np.ndarray]:
    n = N
    s1, s2 = rng.integers(0, 2, n), rng.integers(0, 2, n)
    mid = (1 << (fmt.ebits - 1)) - 1
    if kind == "random bits":
        hi = 1 << fmt.bits
        return (rng.integers(0, hi, n, dtype=np.uint64).astype(fmt.u),
                rng.integers(0, hi, n, dtype=np.uint64).astype(fmt.u))
    if kind == "specials":
        return fmt.specials()
    if kind == "near exponents":            # cancellation and carries
        e1 = rng.integers(1, fmt.emax, n)
        e2 = np.clip(e1 + rng.integers(-3, 4, n), 1, fmt.emax - 1)
        return fmt.pack(s1, e1, fmt.mant(rng, n)), fmt.pack(s2, e2, fmt.mant(rng, n))
    if kind == "rounding gaps":             # the smaller operand straddles the round bit
        e1 = rng.integers(fmt.mbits + 8, fmt.emax - 1, n)
        e2 = e1 - rng.integers(fmt.mbits - 3, fmt.mbits + 4, n)
        return (fmt.pack(s1, e1, fmt.mant(rng, n, keep=rng.integers(1, fmt.mbits))),
                fmt.pack(s2, e2, fmt.mant(rng, n, keep=4)))
    if kind == "short mantissas":           # exact results and exact ties
        e1 = rng.integers(mid - 20, mid + 20, n)
        e2 = rng.integers(mid - 20, mid + 20, n)
        k = fmt.mbits // 2 + 1
        return fmt.pack(s1, e1, fmt.mant(rng, n, keep=k)), fmt.pack(s2, e2, fmt.mant(rng, n, keep=k))
    if kind == "subnormal":                 # tiny sums and products that underflow
        e1 = rng.integers(0, 4, n)
        e2 = rng.integers(0, 4, n)
        a, b = fmt.pack(s1, e1, fmt.mant(rng, n)), fmt.pack(s2, e2, fmt.mant(rng, n))
        e3 = rng.integers(mid - fmt.mbits - 4, mid + 2, n)     # x tiny: products near the edge
        return np.concatenate([a, a]), np.concatenate([b, fmt.pack(s2, e3, fmt.mant(rng, n))])
    if kind == "overflow":
        e1 = rng.integers(fmt.emax - 3, fmt.emax, n)
        e2 = np.concatenate([rng.integers(fmt.emax - 3, fmt.emax, n // 2),
                             rng.integers(mid - 2, mid + 3, n - n // 2)])
        return fmt.pack(s1, e1, fmt.mant(rng, n)), fmt.pack(s2, e2, fmt.mant(rng, n))
    raise ValueError(kind)


KINDS = ["random bits", "specials", "near exponents", "rounding gaps", "short mantissas",
         "subnormal", "overflow"]


def _assert_same_float(fmt: _Fmt, got: np.ndarray, want, a, b, op: str) -> None:
    got = got.astype(fmt.u)
    want = np.asarray(want, fmt.f).view(fmt.u)
    both_nan = np.isnan(got.view(fmt.f)) & np.isnan(want.view(fmt.f))
    bad = np.flatnonzero((got != want) & ~both_nan)
    assert bad.size == 0, (f"{op}: {bad.size} of {len(got)} differ; first a={int(a[bad[0]]):#x} "
                           f"b={int(b[bad[0]]):#x} got {int(got[bad[0]]):#x} want {int(want[bad[0]]):#x}")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bits", [32, 64])
def test_soft_float_add_sub_mul_round_like_ieee(rom, bits, kind):
    fmt = F32 if bits == 32 else F64
    rng = np.random.default_rng(zlib.crc32(f"{bits} {kind}".encode()))
    a, b = _operands(fmt, kind, rng)
    x, y = a.view(fmt.f), b.view(fmt.f)
    sfx = "sf3" if bits == 32 else "df3"
    with np.errstate(all="ignore"):
        for op, want in (("add", x + y), ("sub", x - y), ("mul", x * y)):
            _assert_same_float(fmt, _call(rom, op + sfx, a, b), want, a, b, op + sfx)


def test_conversions(rom):
    rng = np.random.default_rng(5)
    a = rng.integers(0, 2**32, N, dtype=np.uint64).astype(np.uint32)
    a[:6] = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x01000001]
    z = np.zeros_like(a)
    _assert_same_float(F32, _call(rom, "floatsisf", a, z), a.view(np.int32).astype(np.float32), a, z,
                       "floatsisf")
    _assert_same_float(F32, _call(rom, "floatunsisf", a, z), a.astype(np.float32), a, z, "floatunsisf")
    f, _ = F32.specials()
    f = np.concatenate([a, f, _operands(F32, "subnormal", rng)[0]])
    z = np.zeros_like(f)
    with np.errstate(invalid="ignore"):          # NaN operands
        want = f.view(np.float32).astype(np.float64)
    _assert_same_float(F64, _call(rom, "extendsfdf2", f, z), want, f, z, "extendsfdf2")


def test_integer_division_and_multiply(rom):
    rng = np.random.default_rng(9)
    u32 = lambda: rng.integers(0, 2**32, N, dtype=np.uint64)      # noqa: E731
    small = lambda: rng.integers(1, 2**12, N, dtype=np.uint64)     # noqa: E731
    n, d = np.concatenate([u32(), u32()]), np.concatenate([u32() | 1, small()])
    assert (_call(rom, "udivsi3", n, d) == n // d).all()
    assert (_call(rom, "umodsi3", n, d) == n % d).all()
    sn, sd = n.astype(np.uint32).view(np.int32).astype(np.int64), d.astype(np.uint32).view(np.int32)
    sd = np.where(sd == 0, 1, sd).astype(np.int64)
    ok = ~((sn == -2**31) & (sd == -1))
    q = np.abs(sn) // np.abs(sd) * np.sign(sn) * np.sign(sd)           # C: truncate toward zero
    got = _call(rom, "divsi3", sn.astype(np.uint32), sd.astype(np.uint32)).astype(np.uint32).view(np.int32)
    assert (got[ok] == q[ok]).all()
    a, b = u32(), u32()
    assert (_call(rom, "umulsidi3", a, b) == a * b).all()
    a64 = rng.integers(0, 2**63, N, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, N, dtype=np.uint64)
    b64 = rng.integers(0, 2**63, N, dtype=np.uint64) * np.uint64(3)
    with np.errstate(over="ignore"):
        assert (_call(rom, "muldi3", a64, b64) == a64 * b64).all()
    b64 = (b64 >> rng.integers(0, 63, N, dtype=np.uint64)) | np.uint64(1)
    assert (_call(rom, "udivdi3", a64, b64) == a64 // b64).all()
    assert (_call(rom, "umoddi3", a64, b64) == a64 % b64).all()
    s64, t64 = a64.view(np.int64), b64.astype(np.int64) * rng.choice([-1, 1], N)
    q = [int(x) // int(y) if (x < 0) == (y < 0) else -(abs(int(x)) // abs(int(y)))
         for x, y in zip(s64[:5000], t64[:5000])]
    got = _call(rom, "divdi3", s64[:5000].view(np.uint64), t64[:5000].view(np.uint64)).view(np.int64)
    assert got.tolist() == q
