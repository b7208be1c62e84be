"""Kernel access patterns (tinyml/codegen/aot/access.py) against the compiled C kernels.

Each pattern is a Python mirror of a kernel's loops; the memory planner trusts it to
overlap an output with its dying input. access_sweep.c runs the real kernel with its
output at every byte offset d from its input and reports which placements gave the
out-of-place bytes: every placement the pattern calls safe must be one of them.
"""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from aot_harness import CFLAGS, HERE, _BUILD_ROOT
from tinyml.codegen.aot import RUNTIME_DIR, access
from tinyml.codegen.aot.ops.conv import out_size, pad_before

KINDS = {"conv": 0, "conv_1x1": 1, "dwconv": 2, "add": 3, "add_lut": 4, "add_lin": 5, "dwconv3x3": 6}


@pytest.fixture(scope="module")
def sweep_exe():
    _BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    exe = _BUILD_ROOT / "access_sweep"
    srcs = [HERE / "access_sweep.c", *(s for k in ("conv", "dwconv", "add") for s in sorted(RUNTIME_DIR.glob(f"tm_k_{k}*.c")))]
    subprocess.run(["gcc", *CFLAGS, "-fsanitize=address,undefined", "-fno-sanitize-recover",
                    f"-I{RUNTIME_DIR}", *map(str, srcs), "-o", str(exe)], check=True)
    return exe


def geometry(kind: str, rng: np.random.Generator) -> dict:
    """A random small geometry; width and height 1, odd channels, strides 2 included."""
    ih, iw = (int(rng.choice([1, 2, 3, 5, 7, 8])) for _ in range(2))
    ic = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 9]))
    if kind.startswith("add"):
        return dict(in_h=ih, in_w=iw, in_c=ic, out_h=ih, out_w=iw, out_c=ic, k_h=1, k_w=1,
                    stride_h=1, stride_w=1, dil_h=1, dil_w=1, pad_h=0, pad_w=0)
    kh, kw = (1, 1) if kind == "conv_1x1" else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    if kind == "dwconv3x3":
        kh = kw = 3
    sh, sw = (int(rng.choice([1, 2])) for _ in range(2))
    dh, dw = (1, 1) if kind == "conv_1x1" or rng.random() < 0.7 else (2, 2)
    if kind == "dwconv3x3":
        sh = sw = int(rng.choice([1, 2]))
        dh = dw = 1
    pad = "VALID" if kind == "conv_1x1" else str(rng.choice(["SAME", "VALID"]))
    oh, ow = out_size(pad, ih, kh, sh, dh), out_size(pad, iw, kw, sw, dw)
    if oh < 1 or ow < 1:
        return geometry(kind, rng)
    oc = ic * int(rng.integers(1, 4)) if kind == "dwconv" else int(rng.choice([1, 2, 3, 5, 8, 12]))
    oc = ic if kind == "dwconv3x3" else oc
    return dict(in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow, out_c=oc, k_h=kh, k_w=kw,
                stride_h=sh, stride_w=sw, dil_h=dh, dil_w=dw,
                pad_h=pad_before(ih, kh, sh, dh, oh), pad_w=pad_before(iw, kw, sw, dw, ow))


def pattern(kind: str, g: dict, reverse: bool) -> access.Access:
    if kind.startswith("add"):
        return access.elementwise(g["in_h"] * g["in_w"] * g["in_c"])
    return {"conv": access.conv_im2col, "conv_1x1": access.conv_1x1,
            "dwconv": access.dwconv, "dwconv3x3": access.dwconv3x3}[kind](g, reverse)


def sweep(exe, cases: list[tuple[str, bool, dict]]) -> list[tuple[range, np.ndarray]]:
    """(placements, C result same-as-reference per placement) for each case."""
    lines, ranges = [], []
    for kind, rev, g in cases:
        ni = g["in_h"] * g["in_w"] * g["in_c"]
        no = g["out_h"] * g["out_w"] * g["out_c"]
        dmin, dmax = -no - 4, ni + 4
        ranges.append(range(dmin, dmax + 1))
        keys = ("in_h", "in_w", "in_c", "out_h", "out_w", "out_c", "k_h", "k_w", "stride_h",
                "stride_w", "dil_h", "dil_w", "pad_h", "pad_w")
        lines.append(" ".join(str(v) for v in (KINDS[kind], int(rev), *(g[k] for k in keys),
                                                dmin, dmax)))
    out = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True, timeout=600).stdout.split()
    assert len(out) == len(cases)
    return [(r, np.frombuffer(s.encode(), np.uint8) == ord("1")) for r, s in zip(ranges, out)]


def _cases(seed: int, n: int) -> list[tuple[str, bool, dict]]:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        kind = list(KINDS)[i % len(KINDS)]
        cases.append((kind, not kind.startswith("add") and bool(rng.integers(0, 2)), geometry(kind, rng)))
    return cases


def test_every_safe_placement_gives_the_right_bytes(sweep_exe):
    cases = _cases(seed=0, n=240)
    # The real model's failing shape: a 1x1 conv on width 1, 40 -> 128 channels.
    bug = dict(in_h=28, in_w=1, in_c=40, out_h=28, out_w=1, out_c=128, k_h=1, k_w=1,
               stride_h=1, stride_w=1, dil_h=1, dil_w=1, pad_h=0, pad_w=0)
    cases += [("conv_1x1", False, bug), ("conv_1x1", True, bug)]
    caught = 0
    for (kind, rev, g), (ds, ok) in zip(cases, sweep(sweep_exe, cases)):
        acc = pattern(kind, g, rev)
        safe = np.array([acc.conflicts(d).size == 0 for d in ds])
        wrong = [d for d, s, o in zip(ds, safe, ok) if s and not o]
        assert not wrong, (f"{kind} reverse={rev} {g}: the pattern calls placements {wrong[:8]} "
                           f"safe but the C kernel gives wrong bytes there")
        # The planner's rule: forward at d <= -gap_below, reverse at d >= gap_above.
        gap = acc.gap_above() if rev else -acc.gap_below()
        assert safe[ds.index(max(ds.start, min(gap, ds.stop - 1)))]
        caught += int((~safe & ~ok).any())
    assert caught > 50, "the sweep should see the kernels clobber unsafe placements"


def test_1x1_width1_gap_covers_the_whole_pixel_pair():
    """The old per-row gap (40 B) let output pixel 0 overwrite input pixel 1 while
    the pair's later channel steps still read it."""
    bug = dict(in_h=28, in_w=1, in_c=40, out_h=28, out_w=1, out_c=128, k_h=1, k_w=1,
               stride_h=1, stride_w=1, dil_h=1, dil_w=1, pad_h=0, pad_w=0)
    rev = access.conv_1x1(bug, reverse=True)
    assert rev.conflicts(48).size > 0          # the placement the old planner chose
    assert rev.gap_above() >= 2 * 40           # both input pixels of the top pair
    fwd = access.conv_1x1(bug, reverse=False)
    assert fwd.conflicts(-fwd.gap_below()).size == 0
    assert fwd.conflicts(-fwd.gap_below() + 1).size > 0     # the gap is tight


def test_gaps_match_brute_force():
    """gap_below / gap_above (prefix extremes over steps) equal a scan of all d."""
    rng = np.random.default_rng(1)
    for i in range(60):
        kind = list(KINDS)[i % len(KINDS)]
        g = geometry(kind, rng)
        for rev in (False, True):
            acc = pattern(kind, g, rev)
            ni, no = acc.last_read.size, acc.first_write.size
            unsafe = [d for d in range(-no, ni + 1) if acc.conflicts(d).size]
            below = max([-d for d in unsafe if d <= 0], default=-1) + 1
            above = max([d for d in unsafe if d >= 0], default=-1) + 1
            assert (acc.gap_below(), acc.gap_above()) == (below, above), (kind, rev, g)


def test_elementwise_is_in_place_only_downwards():
    acc = access.elementwise(10)
    assert acc.gap_below() == 0 and acc.conflicts(0).size == 0
    assert acc.conflicts(1).size == 9          # output one byte above: each read is late
