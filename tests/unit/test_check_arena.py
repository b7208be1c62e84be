"""Arena bisection against the real TFLM host runtime: min works, min-16 fails."""
import numpy as np
import pytest

from test_check_models import models
from tinyml.convert import arena, tflm_probe
from tinyml.convert.hostcheck import run_tflm
from tinyml.model.tflite_file import load_tflite


@pytest.fixture(scope="module")
def m():
    return models()


@pytest.fixture(scope="module")
def found(m):
    return arena.find_min_arena(m.int8, margin=0.10)


def test_min_arena_works_and_min_minus_16_fails(m, found):
    assert found.min_bytes % 16 == 0 and found.min_bytes > 0
    ok = tflm_probe.run_probe(m.int8, found.min_bytes)
    big = tflm_probe.run_probe(m.int8, 1 << 20)
    assert ok.ok and big.ok and ok.outputs_sha256 == big.outputs_sha256
    below = tflm_probe.run_probe(m.int8, found.min_bytes - 16)
    assert not below.ok
    assert below.stage in ("allocate", "crash")


def test_recommended_arena(found):
    assert found.recommended_bytes == arena.round_up(found.min_bytes * 1.10)
    assert found.recommended_bytes % 16 == 0 and found.recommended_bytes >= found.min_bytes
    assert arena.recommended(1000, 0.0) == 1008 and arena.round_up(1024) == 1024


def test_recommended_arena_runs_in_process(m, found):
    # the arena size the check recommends also runs real samples in-process
    t = load_tflite(m.int8)
    q = np.zeros((3, 8, 8, 1), np.int8)
    out = run_tflm(t, q, found.recommended_bytes)
    assert out.shape == (3, 10) and out.dtype == np.int8


def test_too_small_arena_never_kills_the_caller(m):
    # 0 and tiny arenas crash or raise inside the child; the parent just sees a failed probe
    for size in (0, 64, 1024):
        r = tflm_probe.run_probe(m.int8, size)
        assert not r.ok and r.describe()
