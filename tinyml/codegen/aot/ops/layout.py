"""Weight layouts the AOT kernels consume: arranged at compile time in the order the
inner loops read them, so nothing is reordered at run time (flash stays int8)."""
from __future__ import annotations

import numpy as np


def quad_pad(k: int) -> int:
    """k rounded up to a multiple of 4 (the kernels' quads of 4 k-bytes)."""
    return -(-k // 4) * 4


def interleave4(w2d: np.ndarray, k_pad: int) -> np.ndarray:
    """[out_c][k] int8 weights -> the panel layout of tm_k_conv / tm_k_fc
    (tm_aot_ref.h, tm_aot_arm_dsp.h): rows zero-padded to k_pad (a multiple of 4),
    output channels in groups of 4 (the last group keeps out_c % 4 channels), and in
    a group, for every quad of 4 k-bytes, that quad of each channel in turn:
    index [g][q][j][t] = w[4g + j][4q + t]. Same size as the padded rows."""
    out_c, k = w2d.shape
    if k_pad % 4 or k_pad < k:
        raise ValueError(f"k_pad {k_pad} must be a multiple of 4 and >= {k}")
    wp = np.zeros((out_c, k_pad), np.int8)
    wp[:, :k] = w2d
    parts = []
    for g in range(0, out_c, 4):
        blk = wp[g:g + 4]                         # nb x k_pad
        nb = blk.shape[0]
        parts.append(blk.reshape(nb, k_pad // 4, 4).transpose(1, 0, 2).reshape(-1))
    return np.concatenate(parts) if parts else np.zeros(0, np.int8)
