"""digits loader, stratified splits, registry."""
import dataclasses
import sys

import numpy as np
import pytest

from tinyml.config import schema as config
from tinyml.data import available, load_dataset
from tinyml.data.splits import cap_per_class, stratified_indices, train_val_test
from tinyml.core.errors import DataError


def _cfg(**kw):
    return dataclasses.replace(config.load().data, **kw)


def test_registry_lists_builtin_loaders():
    assert set(available()) >= {"digits", "images", "wav", "csv", "speech_commands", "cifar10"}


def test_unknown_dataset_is_a_data_error():
    with pytest.raises(DataError, match="unknown dataset 'nope'"):
        load_dataset(_cfg(name="nope"))


def test_digits_shapes_values_and_split_sizes():
    d = load_dataset(_cfg(), seed=0)
    assert d.labels == [str(i) for i in range(10)]
    assert d.input_shape == (8, 8, 1)
    n = len(d.y_train) + len(d.y_val) + len(d.y_test)
    assert n == 1797
    assert len(d.y_test) == round(1797 * 0.25)                       # 449
    assert len(d.y_val) == round((1797 - len(d.y_test)) * 0.1)       # 135
    for x in (d.x_train, d.x_val, d.x_test):
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
    assert d.x_train.max() == 1.0                                    # 16/16 occurs
    # Stratified: every class is in every split, within one sample of its share.
    counts = np.bincount(np.concatenate([d.y_train, d.y_val, d.y_test]), minlength=10)
    for y, frac in ((d.y_test, 0.25),):
        share = np.bincount(y, minlength=10)
        assert np.all(np.abs(share - counts * frac) <= 1.0)
    assert set(np.unique(d.y_val)) == set(range(10))
    # Splits are disjoint and cover the data: no image appears twice.
    flat = np.concatenate([d.x_train, d.x_val, d.x_test]).reshape(n, -1)
    from sklearn.datasets import load_digits
    ref = load_digits().data.astype(np.float32) / 16.0
    assert sorted(map(bytes, flat)) == sorted(map(bytes, ref))


def test_digits_same_seed_same_split_other_seed_differs():
    a = load_dataset(_cfg(), seed=3)
    b = load_dataset(_cfg(), seed=3)
    c = load_dataset(_cfg(), seed=4)
    for k in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert np.array_equal(getattr(a, k), getattr(b, k))
    assert not np.array_equal(a.y_test, c.y_test)


def test_training_order_is_mixed_not_class_blocks():
    d = load_dataset(_cfg(), seed=0)
    # The first 100 training samples (e.g. representative data) cover all classes.
    assert len(np.unique(d.y_train[:100])) == 10


def test_max_samples_per_class_caps_each_class():
    d = load_dataset(_cfg(max_samples_per_class=20), seed=0)
    total = np.bincount(np.concatenate([d.y_train, d.y_val, d.y_test]), minlength=10)
    assert total.tolist() == [20] * 10


def test_split_helper_exact_totals_and_disjoint():
    y = np.repeat(np.arange(3), [10, 7, 3])
    tr, va, te = train_val_test(y, 0.3, 0.2, seed=1)
    assert len(te) == 6 and len(va) == round(14 * 0.2)
    allidx = np.concatenate([tr, va, te])
    assert sorted(allidx.tolist()) == list(range(20))
    # A class never loses its last sample to the held-out part.
    rest, taken = stratified_indices(np.array([0, 0, 0, 1]), 0.5, seed=0)
    assert 3 in rest and len(taken) == 2
    assert np.array_equal(cap_per_class(y, 4, 0), cap_per_class(y, 4, 0))
    with pytest.raises(DataError):
        train_val_test(y, 1.0, 0.1, 0)


def test_data_package_never_imports_tensorflow(tmp_path):
    import subprocess
    code = ("import sys; from tinyml.config import schema as config; from tinyml.data import load_dataset; "
            "load_dataset(config.load().data); "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
