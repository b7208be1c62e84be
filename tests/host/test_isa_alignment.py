"""Alignment mode: every multi-byte access the firmware makes from an int8 buffer is
aligned or done bytewise.

Real Xtensa cores trap a misaligned 32-bit load; QEMU's lx106 and RV32 return the
unaligned word instead (issue 9), so running on the emulated ISAs cannot catch
one. This host build of the AOT runtime and the harness, running real models,
does:

  -Wcast-align=strict   no cast that raises a pointer's alignment (int8_t * to
                        int32_t *, ...) exists in the runtime, the generated
                        model or the harness, whatever the host tolerates
  -fsanitize=alignment  (with the rest of UBSan, aborting on the first report)
                        every typed multi-byte access that does happen is to an
                        aligned address
  misaligned buffers    the runtime gets its input and output 1-3 bytes past an
                        8-byte boundary (the harness's buffers promise nothing)

on the four MLPerf Tiny reference models and a model covering every AOT kernel
(outputs compared byte for byte with the TFLM host runtime), and the harness with
the default digits model through a whole protocol session (upload, infer,
results, selftest, bulk from a host file).
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from aot_harness import random_inputs, run_tflm, to_int8_tflite
from tinyml.codegen.aot import RUNTIME_DIR, compile_tflite
from tinyml.harness import protocol as P

ROOT = Path(__file__).resolve().parents[2]
FW = ROOT / "firmware"
HERE = Path(__file__).resolve().parent
ALIGN_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wcast-align=strict",
               "-O1", "-g", "-fsanitize=alignment,undefined", "-fno-sanitize-recover=all")
SAN_MARKERS = ("runtime error", "UndefinedBehaviorSanitizer")


def _gcc(args: list[str]) -> None:
    cp = subprocess.run(["gcc", *ALIGN_FLAGS, *args], capture_output=True, text=True)
    assert cp.returncode == 0, f"gcc {' '.join(args)}\n{cp.stderr}"


def _run_misaligned(res, x: np.ndarray, workdir: Path) -> np.ndarray:
    for name, text in res.files.items():
        (workdir / name).write_text(text)
    exe = workdir / "aot_align"
    srcs = [workdir / n for n in sorted(res.files) if n.endswith(".c")]
    _gcc([f"-I{workdir}", f"-I{RUNTIME_DIR}", f"-I{RUNTIME_DIR.parent}", *map(str, srcs),
          *map(str, sorted(RUNTIME_DIR.glob("*.c"))), str(HERE / "aot_align_main.c"), "-o", str(exe)])
    cp = subprocess.run([str(exe), str(len(x))], input=np.ascontiguousarray(x, np.int8).tobytes(),
                        capture_output=True, timeout=600)
    err = cp.stderr.decode(errors="replace")
    assert cp.returncode == 0 and not any(m in err for m in SAN_MARKERS), err[-3000:]
    return np.frombuffer(cp.stdout, np.int8).reshape(len(x), -1)


def _every_kernel_model() -> bytes:
    """Odd channel counts and widths, so row and pixel pointers land on odd addresses."""
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(11)
    k = keras()
    L = k.layers
    inp = k.Input((11, 9, 3))
    a = L.Conv2D(7, 3, padding="same", activation="relu6")(inp)
    d = L.MaxPooling2D(2)(L.Add()([a, L.DepthwiseConv2D(3, padding="same")(a)]))
    s = L.Activation("sigmoid")(L.Conv2D(5, 1)(d))
    x = L.AveragePooling2D(2, strides=1, padding="same")(L.Concatenate()([d, s]))
    x = L.Conv2D(9, 3)(L.ZeroPadding2D(((1, 2), (0, 1)))(x))
    x = L.DepthwiseConv2D(3, strides=2, padding="valid", depth_multiplier=2)(x)
    out = L.Softmax()(L.Dense(5)(L.GlobalAveragePooling2D()(x)))
    return to_int8_tflite(k.Model(inp, out))


_BAD_LOAD = """
#include <stdint.h>
int8_t buf[16];
int32_t load(const int8_t *p) { return *(const int32_t *)%s(p + 1); }
int main(void) { return load(buf) == 12345; }
"""


def test_the_mode_catches_a_misaligned_load(tmp_path):
    """Both halves have teeth: a direct int8_t * -> int32_t * cast does not compile,
    and one laundered through void * aborts at run time."""
    src = tmp_path / "bad.c"
    src.write_text(_BAD_LOAD % "")
    cp = subprocess.run(["gcc", *ALIGN_FLAGS, str(src), "-o", str(tmp_path / "bad")],
                        capture_output=True, text=True)
    assert cp.returncode != 0 and "cast increases required alignment" in cp.stderr, cp.stderr
    src.write_text(_BAD_LOAD % "(const void *)")
    _gcc([str(src), "-o", str(tmp_path / "bad")])
    run = subprocess.run([str(tmp_path / "bad")], capture_output=True, text=True)
    assert run.returncode != 0 and "misaligned address" in run.stderr, run.stderr


@pytest.mark.parametrize("name", ["kws", "ic", "vww", "ad", "every-kernel"])
def test_runtime_is_alignment_clean_on_real_models(name, tmp_path):
    if name == "every-kernel":
        tfl = _every_kernel_model()
    else:
        from reference_models import reference_int8
        tfl = reference_int8(name)
    res = compile_tflite(tfl, name.replace("-", "_"))
    x = random_inputs(res, 6, seed=17)
    y = _run_misaligned(res, x, tmp_path)
    ref = run_tflm(tfl, x).reshape(y.shape)
    assert (y == ref).all(), f"{name}: {(y != ref).sum()} bytes differ from TFLM under the alignment mode"


@pytest.fixture(scope="module")
def digits_generated(default_run, tmp_path_factory) -> tuple[Path, Path]:
    """The default digits run exported (AOT) for qemu_xtensa into a project copy."""
    from tinyml.flows.export import export
    run, _, _ = default_run
    proj = tmp_path_factory.mktemp("align_proj")
    shutil.copy2(ROOT / "platformio.ini", proj / "platformio.ini")
    shutil.copytree(FW, proj / "firmware",
                    ignore=shutil.ignore_patterns(".pio", "generated", "__pycache__"))
    export(run, "qemu_xtensa", proj, runtime="aot")
    return run, proj / "firmware" / "generated"


@pytest.mark.slow                  # the default digits pipeline (session fixture)
def test_harness_session_is_alignment_clean_with_digits(digits_generated, tmp_path):
    from tinyml.model import golden
    run, gen = digits_generated
    srcs = [*sorted((FW / "harness").glob("*.c")), *sorted((FW / "ports" / "host").glob("*.c")),
            *sorted(RUNTIME_DIR.glob("*.c")), *sorted(gen.glob("*.c"))]
    exe = tmp_path / "harness_align"
    _gcc(["-DTM_RUNTIME_AOT=1", f"-I{FW / 'harness'}", f"-I{FW / 'ports'}", f"-I{FW / 'runtime'}",
          f"-I{RUNTIME_DIR}", f"-I{gen}", *map(str, srcs), "-o", str(exe)])
    ts = golden.load(run / "testset.npz")
    xs = np.ascontiguousarray(ts.inputs[:5], np.int8)
    samples = tmp_path / "samples.bin"
    samples.write_bytes(xs.tobytes())
    x = xs[2].tobytes()
    cmds = ([P.cmd_db_load(len(x))] + [P.cmd_db_data(c) for c in P.chunks(x, 24)]
            + ["crc", "infer 2 1", "results", "selftest", f"bulk {samples} 0 5", "info"])
    cp = subprocess.run([str(exe)], input=b"".join(c.encode() + b"%" for c in cmds),
                        capture_output=True, timeout=120)
    err = cp.stderr.decode(errors="replace")
    assert cp.returncode == 0 and not any(m in err for m in SAN_MARKERS), err[-3000:]
    lines, rest = P.split_lines(cp.stdout)
    reps, cur = [], []
    for ln in lines:
        if ln == P.READY:
            reps.append(cur)
            cur = []
        else:
            cur.append(ln)
    reps = reps[1:]                                   # reply 0: the boot banner
    assert len(reps) == len(cmds) and not any(P.errors(r) for r in reps), reps
    n = len(cmds) - 6
    want = ts.outputs[2].reshape(-1).astype(int).tolist()
    assert P.parse_crc(reps[n]) == (zlib.crc32(x), len(x))
    assert P.parse_raw(reps[n + 1]) == want and P.parse_raw(reps[n + 2]) == want
    st = P.parse_selftest(reps[n + 3])
    assert st.passed and st.vectors == st.total > 0
    got, done = P.parse_samples(reps[n + 4])
    assert done == 5 and [s.index for s in got] == list(range(5))
    for s in got:
        assert list(s.raw) == ts.outputs[s.index].reshape(-1).astype(int).tolist(), s.index
    info = P.parse_info(reps[n + 5])
    assert info["kernel_path"] == "portable"
    assert info["model_sha256"] == hashlib.sha256((run / "model_int8.tflite").read_bytes()).hexdigest()
