"""Kernel access patterns: when a kernel last reads each input byte and first writes
each output byte, so an output can be placed over its own dying input safely.

A kernel runs as numbered steps; within a step it reads first, then writes (the
dot products finish before the requantized stores). A pattern keeps, per input
byte, the last step that reads it (-1: never) and, per output byte, the first step
that writes it. With the output placed d bytes from the input (d = output offset -
input offset), output byte o sits on input byte o + d, and the placement is safe
iff no byte is written at one step and read at a later one:

    first_write[o] >= last_read[o + d]   for every o where both exist.

The functions below mirror the loops of the C kernels in firmware/runtime/aot/
(order, pixel pairing, channel grouping): change one, change the other. The
mirrors are checked against the compiled C by tests/host/test_aot_access.py, which
runs each kernel at every placement the pattern calls safe.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEVER = np.iinfo(np.int64).max      # first_write of a byte that is never written


@dataclass(frozen=True, eq=False)
class Access:
    last_read: np.ndarray      # int64 per input byte, -1 if never read
    first_write: np.ndarray    # int64 per output byte, NEVER if never written

    def conflicts(self, d: int) -> np.ndarray:
        """Output bytes that would be written before the input byte under them is
        last read, with the output placed at d; empty when the placement is safe."""
        lo, hi = max(0, -d), min(self.first_write.size, self.last_read.size - d)
        if hi <= lo:
            return np.zeros(0, np.int64)
        o = np.arange(lo, hi)
        return o[self.first_write[lo:hi] < self.last_read[lo + d:hi + d]]

    def _extremes(self) -> tuple[int, int] | None:
        """(max o - r, max r - o) over conflicting byte pairs (write of o at a step
        before the last read of r), or None if no pair conflicts at any placement."""
        fw, lr = self.first_write, self.last_read
        written = fw != NEVER
        r = np.flatnonzero(lr > 0)
        if not written.any() or r.size == 0:
            return None
        steps = int(max(lr.max(), fw[written].max())) + 1
        o = np.flatnonzero(written)
        hi_o = np.full(steps, -1, np.int64)           # max o written at step <= s
        lo_o = np.full(steps, fw.size, np.int64)      # min o written at step <= s
        np.maximum.at(hi_o, fw[o], o)
        np.minimum.at(lo_o, fw[o], o)
        hi_o = np.maximum.accumulate(hi_o)
        lo_o = np.minimum.accumulate(lo_o)
        before = lr[r] - 1                            # writes strictly before the read
        has = hi_o[before] >= 0
        if not has.any():
            return None
        r, before = r[has], before[has]
        return int((hi_o[before] - r).max()), int((r - lo_o[before]).max())

    def gap_below(self) -> int:
        """Smallest g >= 0 such that every placement d <= -g is safe."""
        ext = self._extremes()
        return 0 if ext is None else max(0, ext[0] + 1)

    def gap_above(self) -> int:
        """Smallest u >= 0 such that every placement d >= u is safe."""
        ext = self._extremes()
        return 0 if ext is None else max(0, ext[1] + 1)


class _Trace:
    """Builds an Access from a kernel mirror's steps."""

    def __init__(self, n_in: int, n_out: int):
        self.lr = np.full(n_in, -1, np.int64)
        self.fw = np.full(n_out, NEVER, np.int64)

    def read(self, lo: int, steps) -> None:
        steps = np.asarray(steps, np.int64)
        seg = self.lr[lo:lo + steps.size]
        np.maximum(seg, steps, out=seg)

    def write(self, lo: int, steps) -> None:
        steps = np.asarray(steps, np.int64)
        seg = self.fw[lo:lo + steps.size]
        np.minimum(seg, steps, out=seg)

    def done(self) -> Access:
        return Access(self.lr, self.fw)


def _taps(g: dict, oy: int, ox: int):
    """Input pixels (iy, ix) inside the image under output pixel (oy, ox)."""
    y0, x0 = oy * g["stride_h"] - g["pad_h"], ox * g["stride_w"] - g["pad_w"]
    for ky in range(g["k_h"]):
        iy = y0 + ky * g["dil_h"]
        if 0 <= iy < g["in_h"]:
            for kx in range(g["k_w"]):
                ix = x0 + kx * g["dil_w"]
                if 0 <= ix < g["in_w"]:
                    yield iy, ix


def _flat_pairs(npix: int, reverse: bool) -> list[tuple[int, int]]:
    """(first pixel, count) blocks of tm_k_conv / tm_k_conv_1x1: pairs in raster
    order with an odd pixel last, or, in reverse, the odd pixel first then pairs
    from the end."""
    if not reverse:
        blocks = [(p, 2) for p in range(0, npix - 1, 2)]
        return blocks + ([(npix - 1, 1)] if npix % 2 else [])
    blocks = [(npix - 1, 1)] if npix % 2 else []
    return blocks + [(p, 2) for p in range(npix - npix % 2 - 2, -1, -2)]


def conv_im2col(g: dict, reverse: bool) -> Access:
    """tm_k_conv: per block (one or two pixels) every tap of the block is copied
    into scratch (im2col), then all output channels of the block are written."""
    ic, oc = g["in_c"], g["out_c"]
    tr = _Trace(g["in_h"] * g["in_w"] * ic, g["out_h"] * g["out_w"] * oc)
    last = np.full((g["in_h"], g["in_w"]), -1, np.int64)     # per input pixel
    for step, (pix, n) in enumerate(_flat_pairs(g["out_h"] * g["out_w"], reverse)):
        for p in range(pix, pix + n):
            for iy, ix in _taps(g, *divmod(p, g["out_w"])):
                last[iy, ix] = step
        tr.write(pix * oc, np.full(n * oc, step))
    tr.lr[:] = np.repeat(last.reshape(-1), ic)
    return tr.done()


def conv_1x1(g: dict, reverse: bool) -> Access:
    """tm_k_conv_1x1: the input pixels are read in place, once per group of 4 output
    channels (then the last, smaller group), and each group's outputs are stored
    before the next group is computed: the block's inputs are read until its last
    group step. (The Arm DSP variant reads them all into its panel first: earlier,
    so this pattern holds for it too.)"""
    ic, oc = g["in_c"], g["out_c"]
    tr = _Trace(g["in_h"] * g["in_w"] * ic, g["out_h"] * g["out_w"] * oc)
    per_block = (oc + 3) // 4
    ch_step = np.arange(oc) // 4
    last = np.full((g["in_h"], g["in_w"]), -1, np.int64)
    for b, (pix, n) in enumerate(_flat_pairs(g["out_h"] * g["out_w"], reverse)):
        base = b * per_block
        for p in range(pix, pix + n):
            oy, ox = divmod(p, g["out_w"])
            last[oy * g["stride_h"], ox * g["stride_w"]] = base + per_block - 1
            tr.write(p * oc, base + ch_step)
    tr.lr[:] = np.repeat(last.reshape(-1), ic)
    return tr.done()


def _dw_blocks(g: dict, reverse: bool) -> list[tuple[int, int, int]]:
    """(oy, first ox, count) blocks of tm_k_dwconv: pairs along a row (depth
    multiplier 1 only), then single pixels; rows and pairs backwards in reverse."""
    pairs = g["out_c"] == g["in_c"]
    blocks = []
    rows = range(g["out_h"] - 1, -1, -1) if reverse else range(g["out_h"])
    for oy in rows:
        w = g["out_w"]
        if not reverse:
            ox = 0
            while pairs and ox + 2 <= w:
                blocks.append((oy, ox, 2))
                ox += 2
            blocks += [(oy, x, 1) for x in range(ox, w)]
        else:
            ox = w
            while pairs and ox >= 2:
                blocks.append((oy, ox - 2, 2))
                ox -= 2
            blocks += [(oy, x, 1) for x in range(ox - 1, -1, -1)]
    return blocks


def dwconv(g: dict, reverse: bool) -> Access:
    """tm_k_dwconv. Multiplier 1: channels in groups of four, then one by one; each
    group reads its channels of every tap of the block, then stores them. Multiplier
    m > 1: one output channel at a time, reading input channel o / m of every tap."""
    ic, oc = g["in_c"], g["out_c"]
    tr = _Trace(g["in_h"] * g["in_w"] * ic, g["out_h"] * g["out_w"] * oc)
    if oc == ic:
        groups = oc // 4
        ch = np.arange(oc)
        w_step = np.where(ch < 4 * groups, ch // 4, groups + ch - 4 * groups)
        r_step = w_step
        per_block = groups + oc % 4
    else:
        m = oc // ic
        w_step = np.arange(oc)
        r_step = np.arange(ic) * m + m - 1
        per_block = oc
    for b, (oy, ox0, n) in enumerate(_dw_blocks(g, reverse)):
        base = b * per_block
        for ox in range(ox0, ox0 + n):
            for iy, ix in _taps(g, oy, ox):
                tr.read((iy * g["in_w"] + ix) * ic, base + r_step)
            tr.write((oy * g["out_w"] + ox) * oc, base + w_step)
    return tr.done()


def _dw3_row_blocks(g: dict) -> list[tuple[list[int], list[int]]]:
    """(input columns read, output columns stored) per block of an output row in
    tm_k_dwconv_3x3: pairs of pixels, then a last single; padding columns are not read."""
    s, pw, iw, ow = g["stride_w"], g["pad_w"], g["in_w"], g["out_w"]
    inside = lambda cols: [x for x in cols if 0 <= x < iw]     # noqa: E731
    blocks, ox = [], 0
    while ox + 2 <= ow:
        blocks.append((inside(range(ox * s - pw, ox * s - pw + s + 3)), [ox, ox + 1]))
        ox += 2
    for x in range(ox, ow):
        blocks.append((inside(range(x * s - pw, x * s - pw + 3)), [x]))
    return blocks


def dwconv3x3(g: dict, reverse: bool) -> Access:
    """tm_k_dwconv_3x3: output rows in order (last first in reverse); each row's blocks
    (_dw3_row_blocks) left to right, each over every channel: channel c of the block
    reads its columns in the kernel rows inside the image (a padding row reads a real
    row with zero weights: the value is unused), then stores its outputs."""
    c, iw, ow, s = g["in_c"], g["in_w"], g["out_w"], g["stride_h"]
    tr = _Trace(g["in_h"] * iw * c, g["out_h"] * ow * c)
    blocks = _dw3_row_blocks(g)
    ch = np.arange(c, dtype=np.int64)
    step = 0
    for oy in (range(g["out_h"] - 1, -1, -1) if reverse else range(g["out_h"])):
        iys = [iy for iy in range(oy * s - g["pad_h"], oy * s - g["pad_h"] + 3)
               if 0 <= iy < g["in_h"]]
        for reads, writes in blocks:
            steps = step + ch
            for iy in iys:
                for ix in reads:
                    tr.read((iy * iw + ix) * c, steps)
            for ox in writes:
                tr.write((oy * ow + ox) * c, steps)
            step += c
    return tr.done()


def elementwise(n: int) -> Access:
    """tm_k_add / tm_k_add_bcast for a full-size input: element i is read, then
    output element i is written, in order."""
    steps = np.arange(n, dtype=np.int64)
    return Access(steps, steps.copy())
