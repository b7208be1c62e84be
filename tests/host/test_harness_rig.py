"""Harness features the measuring rig relies on, on the host build (ASan/UBSan):
`bulk` (samples read from a host file, here by the host port's fopen), the CRC of
every raw output line, and no stale data after a new upload or a refused infer."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from test_harness_host import FX, _build, replies, run, script, load_cmds
from tinyml.harness import protocol as P


@pytest.fixture(scope="module")
def exe(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("h_rig"), FX.golden_sources(4))


def test_bulk_reads_samples_from_a_host_file(exe, tmp_path):
    xs = np.random.default_rng(3).integers(-128, 128, (6, 64), dtype=np.int64).astype(np.int8)
    f = tmp_path / "samples.bin"
    f.write_bytes(xs.tobytes())
    reps = replies(run(exe, script([f"bulk {f} 1 4", "results", "db print 4"])))[1:]
    samples, done = P.parse_samples(reps[0])
    assert done == 4 and [s.index for s in samples] == [1, 2, 3, 4]
    for s in samples:
        assert s.input_crc == zlib.crc32(xs[s.index].tobytes())
        assert list(s.raw) == FX.invoke(xs[s.index].tobytes()).tolist()
    assert P.parse_raw(reps[1], require_crc=True) == FX.invoke(xs[4].tobytes()).tolist()
    assert P.parse_buffer(reps[2]) == xs[4].tobytes()[:4]     # the buffer holds the last sample


def test_bulk_errors_are_clear(exe, tmp_path):
    f = tmp_path / "short.bin"
    f.write_bytes(bytes(64 * 2))
    reps = replies(run(exe, script([f"bulk {tmp_path}/missing.bin 0 1", f"bulk {f} 1 2",
                                    "bulk x", "bulk x 0 0", "results"])))[1:]
    assert P.errors(reps[0]) == ["bulk: cannot read sample 0 from the host file"]
    samples, done = P.parse_samples(reps[1])
    assert [s.index for s in samples] == [1] and done is None       # sample 2 is past the end
    assert P.errors(reps[1]) == ["bulk: cannot read sample 2 from the host file"]
    assert "bulk PATH FIRST COUNT" in P.errors(reps[2])[0]
    assert "COUNT must be" in P.errors(reps[3])[0]
    assert P.errors(reps[4]) == ["no results yet: run infer first"]  # a failed bulk left none


def test_raw_crc_guards_every_output(exe):
    x = bytes(range(64))
    reps = replies(run(exe, script(load_cmds(x) + ["infer 1 0"])))[1:]
    infer = reps[-1]
    assert P.parse_raw(infer, require_crc=True) == FX.invoke(x).tolist()
    garbled = [ln.replace("m-tm-raw-[", "m-tm-raw-[1") for ln in infer]
    with pytest.raises(P.ProtocolError, match="garbled"):
        P.parse_raw(garbled)
    without = [ln for ln in infer if not ln.startswith("m-tm-raw-crc32")]
    with pytest.raises(P.ProtocolError, match="missing"):
        P.parse_raw(without, require_crc=True)


def test_no_stale_data_after_a_new_upload_or_a_refused_infer(exe):
    a, b = bytes(range(64)), bytes(range(100, 164))
    cmds = load_cmds(a) + ["infer 1 0"] + [P.cmd_db_load(64), P.cmd_db_data(b[:8]),
                                            "db print 8", "db print 9", "results", "infer 1 0",
                                            "results"]
    reps = replies(run(exe, script(cmds)))[1:]
    tail = reps[len(load_cmds(a)) + 1:]
    assert P.parse_buffer(tail[2]) == b[:8]              # only bytes of the new upload
    assert "exceeds the 8 bytes received" in P.errors(tail[3])[0]
    assert P.errors(tail[4]) == ["no results yet: run infer first"]
    assert "input incomplete" in P.errors(tail[5])[0]
    assert P.errors(tail[6]) == ["no results yet: run infer first"]
