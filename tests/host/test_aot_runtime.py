"""tm_runtime.h on top of the generated model (firmware/runtime/aot/tm_rt_aot.c)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from aot_harness import CFLAGS, FIRMWARE_RUNTIME, HERE, run_tflm, runtime_sources, to_int8_tflite
from tinyml.codegen.aot import RUNTIME_DIR, compile_tflite


@pytest.fixture(scope="module")
def model() -> bytes:
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(4)
    k = keras()
    inp = k.Input((6, 5, 2))
    x = k.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    out = k.layers.Dense(3)(k.layers.Flatten()(x))
    return to_int8_tflite(k.Model(inp, out))


def _run(res, x: np.ndarray, tmp: Path, flags: tuple[str, ...]) -> dict:
    for n, t in res.files.items():
        (tmp / n).write_text(t)
    exe = tmp / "rt"
    subprocess.run(["gcc", *CFLAGS, *flags, f"-I{tmp}", f"-I{RUNTIME_DIR}", f"-I{FIRMWARE_RUNTIME}",
                    str(tmp / "tm_aot_model.c"), *map(str, runtime_sources()),
                    str(HERE / "aot_rt_main.c"), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout
    info: dict = {}
    for line in out.decode().splitlines():
        k, v = line.split("=", 1)
        info.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 else v for k, v in info.items()}


# TM_ENABLE_PROFILE is tested by value everywhere: =0 means off, like leaving it out.
@pytest.mark.parametrize("flags,profile", [((), False), (("-DTM_ENABLE_PROFILE=0",), False),
                                           (("-DTM_ENABLE_PROFILE=1",), True),
                                           (("-DTM_ENABLE_PROFILE",), True)],
                         ids=["unset", "0", "1", "bare"])
def test_tm_rt_info_invoke_profile(model, tmp_path, flags, profile):
    res = compile_tflite(model, "rt-test")
    x = np.random.default_rng(0).integers(-128, 128, 60).astype(np.int8)
    info = _run(res, x, tmp_path, flags)
    g = res.graph
    assert info["runtime"] == "aot" and info["kernel_path"] == "portable"
    assert info["name"] == "rt-test" and info["sha256"] == g.sha256
    assert int(info["input_bytes"]) == 60 and int(info["output_bytes"]) == 3
    assert int(info["arena_bytes"]) == res.peak_ram_bytes
    assert int(info["op_count"]) == res.op_count and int(info["macs"]) == res.macs
    assert info["input_dims"] == "1,6,5,2,"
    assert int(info["input_zero_point"]) == g.inputs[0].scalar_zp()
    ref = run_tflm(model, x[None]).reshape(-1).astype(np.int8)
    assert bytes.fromhex(info["output"]) == ref.tobytes()
    if profile:
        assert int(info["profile_layers"]) == res.op_count
        prof = info["profile"] if isinstance(info["profile"], list) else [info["profile"]]
        assert [p.split(":")[0] for p in prof] == res.ops
        assert all(int(p.split(":")[1]) == 3 for p in prof)   # stand-in counter: +3 per read
    else:
        assert int(info["profile_layers"]) == 0
