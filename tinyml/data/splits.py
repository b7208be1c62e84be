"""Deterministic, seeded, stratified splits.

Every class is split in the same proportion, the total size of each split is
exact (largest-remainder rounding), and the same labels + seed always give the
same index arrays. Indices come back in a seeded shuffled order so that code
taking "the first N samples" (representative data, golden vectors) sees every
class rather than one class block.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import DataError


def _allocate(counts: np.ndarray, fraction: float) -> np.ndarray:
    """How many of each class to take so the total is round(N*fraction) and every
    class gets its share (floor, then the largest remainders; ties by class order).
    A class never gives away its last sample."""
    want = counts * fraction
    take = np.floor(want).astype(np.int64)
    total = int(round(counts.sum() * fraction))
    spare = np.maximum(counts - 1 - take, 0)
    order = np.lexsort((np.arange(len(counts)), -(want - take)))  # largest remainder first
    for c in order:
        if take.sum() >= total:
            break
        if spare[c] > 0:
            take[c] += 1
            spare[c] -= 1
    return np.minimum(take, np.maximum(counts - 1, 0))


def stratified_indices(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split positions 0..len(y)-1 into (rest, taken) with `fraction` of each class taken."""
    y = np.asarray(y)
    if not 0.0 <= fraction < 1.0:
        raise DataError(f"split fraction {fraction} must be in [0, 1)")
    rng = np.random.default_rng(seed)
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    take = _allocate(counts, fraction)
    rest_parts, taken_parts = [], []
    for c in range(len(classes)):
        idx = np.flatnonzero(inverse == c)
        idx = idx[rng.permutation(len(idx))]
        taken_parts.append(idx[:take[c]])
        rest_parts.append(idx[take[c]:])
    rest = np.concatenate(rest_parts) if rest_parts else np.zeros(0, np.int64)
    taken = np.concatenate(taken_parts) if taken_parts else np.zeros(0, np.int64)
    return rest[rng.permutation(len(rest))], taken[rng.permutation(len(taken))]


def train_val_test(y: np.ndarray, test_split: float, val_split: float,
                   seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices (train, val, test): `test_split` of every class is held out first,
    then `val_split` of what is left becomes validation."""
    y = np.asarray(y)
    if not 0.0 < test_split < 1.0:
        raise DataError(f"test_split {test_split} must be between 0 and 1")
    # Different sub-seeds for the two cuts, both derived from `seed`.
    rest, test = stratified_indices(y, test_split, seed)
    tr, va = stratified_indices(y[rest], val_split, seed + 7919)
    return rest[tr], rest[va], test


def split_from_train(y_train: np.ndarray, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) indices for datasets whose test set is fixed (CIFAR-10)."""
    return stratified_indices(y_train, val_split, seed + 7919)


def cap_per_class(y: np.ndarray, max_per_class: int | None, seed: int) -> np.ndarray:
    """Indices keeping at most `max_per_class` samples of every class (seeded pick),
    in original order. None keeps everything."""
    y = np.asarray(y)
    if max_per_class is None:
        return np.arange(len(y))
    rng = np.random.default_rng(seed + 104729)
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if len(idx) > max_per_class:
            idx = np.sort(rng.choice(idx, max_per_class, replace=False))
        keep.append(idx)
    return np.sort(np.concatenate(keep))


def shuffled(n: int, seed: int) -> np.ndarray:
    """A seeded permutation of 0..n-1 (used to mix fixed splits)."""
    return np.random.default_rng(seed + 15485863).permutation(n)
