"""The C runtime and the harness under a host compile matrix, every configuration
with -Wall -Wextra -Wpedantic -Werror, and real code run in each:

  m32            32-bit x86 (-m32, gcc-multilib): 32-bit pointers/longs like the MCUs
  unsigned-char  plain `char` unsigned, as on Arm EABI
  ubsan          UndefinedBehaviorSanitizer, any report aborts the run

In each: a model covering every AOT kernel must give the TFLM host runtime's
bytes, and the harness (host port + test fixture runtime) must answer a
protocol session exactly.
"""
from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from aot_harness import assert_bit_exact, to_int8_tflite
from tinyml.harness import protocol as P

ROOT = Path(__file__).resolve().parents[2]
FW = ROOT / "firmware"
STRICT = ("-Wpedantic",)
CONFIGS = {
    "m32": ("-m32",),
    "unsigned-char": ("-funsigned-char",),
    "ubsan": ("-fsanitize=undefined", "-fno-sanitize-recover=all"),
}


@pytest.fixture(scope="module")
def every_kernel_model() -> bytes:
    """CONV, DEPTHWISE, ADD, MAX/AVG pool, CONCATENATION (+ requantizing QUANTIZE), PAD,
    MEAN, FULLY_CONNECTED, LOGISTIC and SOFTMAX in one small int8 model."""
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(7)
    k = keras()
    L = k.layers
    inp = k.Input((10, 9, 3))
    a = L.Conv2D(8, 3, padding="same", activation="relu6")(inp)
    d = L.MaxPooling2D(2)(L.Add()([a, L.DepthwiseConv2D(3, padding="same")(a)]))
    s = L.Activation("sigmoid")(L.Conv2D(4, 1)(d))      # fixed 1/256 scale: concat requantizes
    x = L.AveragePooling2D(2, strides=1, padding="same")(L.Concatenate()([d, s]))
    x = L.Conv2D(6, 3)(L.ZeroPadding2D(((1, 2), (0, 1)))(x))   # asymmetric: stays a PAD op
    out = L.Softmax()(L.Dense(4)(L.GlobalAveragePooling2D()(x)))
    return to_int8_tflite(k.Model(inp, out))


@pytest.mark.parametrize("config", list(CONFIGS))
def test_aot_model_bit_exact(every_kernel_model, config):
    res = assert_bit_exact(every_kernel_model, n_inputs=6, seed=1, name=f"matrix-{config}",
                           extra_flags=STRICT + CONFIGS[config])
    want = {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MAX_POOL_2D", "AVERAGE_POOL_2D", "CONCATENATION",
            "QUANTIZE", "PAD", "MEAN", "FULLY_CONNECTED", "LOGISTIC", "SOFTMAX"}
    assert want <= set(res.ops), sorted(want - set(res.ops))


def _fixture_model():
    import importlib.util
    spec = importlib.util.spec_from_file_location("fixture_model",
                                                  ROOT / "tests" / "emu" / "fixtures" / "fixture_model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("config", list(CONFIGS))
def test_harness_session_exact(tmp_path, config):
    fx = _fixture_model()
    gen = tmp_path / "generated"
    gen.mkdir()
    for name, text in fx.golden_sources(4).items():
        (gen / name).write_text(text)
    srcs = [*sorted((FW / "harness").glob("*.c")), *sorted((FW / "ports" / "host").glob("*.c")),
            fx.RUNTIME_C, gen / "tm_golden.c"]
    exe = tmp_path / "harness"
    cmd = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", *STRICT, *CONFIGS[config],
           f"-I{FW / 'harness'}", f"-I{FW / 'ports'}", f"-I{FW / 'runtime'}", f"-I{gen}",
           *map(str, srcs), "-o", str(exe)]
    cp = subprocess.run(cmd, capture_output=True, text=True)
    assert cp.returncode == 0, f"{' '.join(cmd)}\n{cp.stderr}"

    x = bytes(np.random.default_rng(5).integers(0, 256, fx.IN_BYTES, dtype=np.uint8))
    x = b"\x80\x7f" + x[2:]                             # -128 and 127 among the inputs
    cmds = ([P.cmd_db_load(len(x))] + [P.cmd_db_data(c) for c in P.chunks(x, 24)]
            + ["crc", "infer 1 0", "results", "selftest"])
    run = subprocess.run([str(exe)], input=b"".join(c.encode() + b"%" for c in cmds),
                         capture_output=True, timeout=60)
    assert run.returncode == 0 and b"runtime error" not in run.stderr, run.stderr.decode()[-2000:]
    lines, rest = P.split_lines(run.stdout)
    assert rest == b""
    reps, cur = [], []
    for ln in lines:
        if ln == P.READY:
            reps.append(cur)
            cur = []
        else:
            cur.append(ln)
    reps = reps[1:]                                     # reply 0: the boot banner
    assert len(reps) == len(cmds) and not any(P.errors(r) for r in reps), reps
    n_load = len(cmds) - 4
    assert P.parse_crc(reps[n_load]) == (zlib.crc32(x), len(x))
    want = fx.invoke(x).tolist()
    assert P.parse_raw(reps[n_load + 1]) == want and P.parse_raw(reps[n_load + 2]) == want
    assert P.parse_results(reps[n_load + 1]) == fx.dequantize(np.array(want))
    st = P.parse_selftest(reps[n_load + 3])
    assert st.passed and st.vectors == st.total == 4
