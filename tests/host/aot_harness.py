"""Build AOT-generated C with host gcc and compare it byte for byte with TFLM.

Importable from any test under tests/host (pytest puts this folder on sys.path):

    from aot_harness import assert_bit_exact, to_int8_tflite
    res = assert_bit_exact(keras_model_or_tflite_bytes, n_inputs=4, seed=0)

`assert_bit_exact` converts a Keras model with the real TFLiteConverter (full
int8, random representative data) if needed, compiles the generated model with
`gcc -std=c99 -Wall -Wextra -Werror` under UBSan together with every firmware/runtime/aot/*.c,
runs it and the TFLM host runtime on the same seeded random int8 inputs and
asserts every output byte is equal. Returns the AotResult.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from tinyml.codegen.aot import RUNTIME_DIR, AotResult, compile_tflite

HERE = Path(__file__).resolve().parent
FIRMWARE_RUNTIME = RUNTIME_DIR.parent
# UBSan on every host build of the kernels: a signed overflow or an oversized shift in
# any kernel aborts the run (and fails the test) instead of passing by luck.
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-fsanitize=undefined",
          "-fno-sanitize-recover=undefined"]
_BUILD_ROOT = Path(tempfile.gettempdir()) / "tm_aot_host_builds"


def to_int8_tflite(model, rep_data=None, n: int = 16, seed: int = 0, **kw) -> bytes:
    """The product's int8 converter (tinyml.compress.quantize) calibrated on `rep_data`,
    by default `n` seeded samples uniform in [-1, 1); `kw`: dense_per_channel."""
    from tinyml.compress.quantize import to_int8_tflite as convert
    shape = tuple(int(d) for d in model.input_shape[1:])
    if rep_data is None:
        rep_data = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, *shape))
    return convert(model, np.asarray(rep_data, np.float32).reshape(-1, *shape), **kw)


def runtime_sources() -> list[Path]:
    return sorted(RUNTIME_DIR.glob("*.c"))


def build(res: AotResult, extra_flags: tuple[str, ...] = ()) -> Path:
    """Compile the generated files + runtime + aot_main.c; returns the executable."""
    h = hashlib.sha256()
    for name in sorted(res.files):
        h.update(name.encode() + res.files[name].encode())
    for src in runtime_sources() + sorted(RUNTIME_DIR.glob("*.h")) + [HERE / "aot_main.c"]:
        h.update(src.read_bytes())
    h.update(" ".join(CFLAGS + list(extra_flags)).encode())
    out_dir = _BUILD_ROOT / h.hexdigest()[:16]
    exe = out_dir / "aot_model"
    if exe.exists():
        return exe
    _BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="build_", dir=_BUILD_ROOT))
    for name, text in res.files.items():
        (tmp / name).write_text(text)
    srcs = [str(tmp / n) for n in sorted(res.files) if n.endswith(".c")]
    # the kernels come from runtime_lib() (compiled once per flag set); the rest of the
    # runtime (tm_rt_aot.c includes the model header) is compiled with the model
    rest = [str(s) for s in runtime_sources() if not s.name.startswith("tm_k_")]
    cmd = ["gcc", *CFLAGS, *extra_flags, f"-I{tmp}", f"-I{RUNTIME_DIR}", f"-I{FIRMWARE_RUNTIME}",
           *srcs, *rest, str(HERE / "aot_main.c"), str(runtime_lib(extra_flags)),
           "-o", str(tmp / "aot_model")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"gcc failed:\n{' '.join(cmd)}\n{proc.stderr}")
    try:
        tmp.rename(out_dir)          # atomic publish; a parallel build may have won
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not exe.exists():
            raise
    return exe


def runtime_lib(extra_flags: tuple[str, ...] = ()) -> Path:
    """The kernels (firmware/runtime/aot/tm_k_*.c) compiled once into a static library,
    cached by content like build(). Fuzzing builds hundreds of models: linking this
    library means compiling only the generated model and the driver per model.
    (tm_rt_aot.c is left out: it includes the model header.)"""
    srcs = sorted(RUNTIME_DIR.glob("tm_k_*.c"))
    h = hashlib.sha256()
    for src in srcs + sorted(RUNTIME_DIR.glob("*.h")):
        h.update(src.name.encode() + src.read_bytes())
    h.update(" ".join(CFLAGS + list(extra_flags)).encode())
    out_dir = _BUILD_ROOT / f"lib_{h.hexdigest()[:16]}"
    lib = out_dir / "libtm_aot.a"
    if lib.exists():
        return lib
    _BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="lib_", dir=_BUILD_ROOT))
    objs = []
    for src in srcs:
        obj = tmp / (src.stem + ".o")
        cmd = ["gcc", *CFLAGS, *extra_flags, f"-I{RUNTIME_DIR}", f"-I{FIRMWARE_RUNTIME}",
               "-c", str(src), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(f"gcc failed:\n{' '.join(cmd)}\n{proc.stderr}")
        objs.append(str(obj))
    subprocess.run(["ar", "rcs", str(tmp / "libtm_aot.a"), *objs], check=True)
    try:
        tmp.rename(out_dir)          # atomic publish; a parallel build may have won
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not lib.exists():
            raise
    return lib


def build_with_lib(res: AotResult, workdir: Path, extra_flags: tuple[str, ...] = ()) -> Path:
    """Like build(), but links runtime_lib() and builds in `workdir` (no cache: the
    caller reuses the folder), so one model costs one small gcc call."""
    lib = runtime_lib(extra_flags)
    workdir.mkdir(parents=True, exist_ok=True)
    for name, text in res.files.items():
        (workdir / name).write_text(text)
    srcs = [str(workdir / n) for n in sorted(res.files) if n.endswith(".c")]
    exe = workdir / "aot_model"
    cmd = ["gcc", *CFLAGS, *extra_flags, f"-I{workdir}", f"-I{RUNTIME_DIR}", f"-I{FIRMWARE_RUNTIME}",
           *srcs, str(HERE / "aot_main.c"), str(lib), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"gcc failed:\n{' '.join(cmd)}\n{proc.stderr}")
    return exe


def run_aot(res: AotResult, inputs: np.ndarray, extra_flags: tuple[str, ...] = ()) -> np.ndarray:
    exe = build(res, extra_flags)
    x = np.ascontiguousarray(inputs, np.int8)
    n = x.shape[0]
    proc = subprocess.run([str(exe), str(n)], input=x.tobytes(), capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    out = np.frombuffer(proc.stdout, np.int8)
    go = res.graph.outputs[0]
    return out.reshape(n, *go.shape[1:]) if go.shape and go.shape[0] == 1 else out.reshape(n, -1)


def tflm_interpreter(model_bytes: bytes, arena_size: int | None = None):
    from tflite_micro.python.tflite_micro import runtime
    return runtime.Interpreter.from_bytes(model_bytes, arena_size=arena_size or (4 << 20))


def run_tflm(model_bytes: bytes, inputs: np.ndarray) -> np.ndarray:
    interp = tflm_interpreter(model_bytes)
    shape = interp.get_input_details(0)["shape"]
    outs = []
    for x in inputs:
        interp.reset()          # variable tensors (LSTM state) start each sample at zero
        interp.set_input(np.asarray(x, np.int8).reshape(shape), 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0)).copy())
    return np.stack(outs).reshape(len(outs), *outs[0].shape[1:]) if outs[0].shape[0] == 1 else np.stack(outs)


def random_inputs(res: AotResult, n: int, seed: int) -> np.ndarray:
    gi = res.graph.inputs[0]
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(n, *gi.shape[1:]), dtype=np.int64).astype(np.int8)
    if n >= 4:          # the extremes exercise saturation and clamping
        x[0], x[1] = -128, 127
    return x


def assert_bit_exact(model, inputs: np.ndarray | None = None, n_inputs: int = 4, seed: int = 0,
                     name: str = "model", extra_flags: tuple[str, ...] = ()) -> AotResult:
    tfl = model if isinstance(model, (bytes, bytearray)) else to_int8_tflite(model, seed=seed)
    res = compile_tflite(bytes(tfl), name)
    x = random_inputs(res, n_inputs, seed) if inputs is None else np.asarray(inputs, np.int8)
    ours = run_aot(res, x, extra_flags)
    ref = run_tflm(bytes(tfl), x).reshape(ours.shape)
    diff = np.argwhere(ours != ref)
    assert diff.size == 0, (
        f"AOT differs from TFLM in {len(diff)} of {ours.size} output bytes "
        f"(ops {res.ops}); first at {diff[0].tolist()}: aot {ours[tuple(diff[0])]} "
        f"tflm {ref[tuple(diff[0])]}")
    return res


def patch_op_options(model_bytes: bytes, op_index: int, **fields) -> bytes:
    """Return a copy of the .tflite with builtin option fields of one op changed
    (camelCase schema names, e.g. dilationHFactor=2). Used to make dilated convs:
    the converter turns Keras dilation into SPACE_TO_BATCH_ND, and with SAME padding
    the output shape does not depend on dilation, so TFLM runs the patched model."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    m = s.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    opts = m.subgraphs[0].operators[op_index].builtinOptions
    for k, v in fields.items():
        assert hasattr(opts, k), k
        setattr(opts, k, v)
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def op_index(model_bytes: bytes, builtin: str, nth: int = 0) -> int:
    from tinyml.codegen.aot.reader import read_tflite
    idx = [op.index for op in read_tflite(model_bytes).ops if op.builtin == builtin]
    return idx[nth]


def tflm_runs(model_bytes: bytes, arena: int) -> bool:
    """Does the TFLM host runtime allocate and invoke with `arena` bytes? Probed in a
    forked child: too-small arenas can crash the host runtime instead of failing."""
    import os
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)   # TFLM logs every failure
            it = tflm_interpreter(model_bytes, arena)
            it.set_input(np.zeros(it.get_input_details(0)["shape"], np.int8), 0)
            it.invoke()
            code = 0
        except BaseException:
            pass
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def tflm_min_arena(model_bytes: bytes, step: int = 16) -> int:
    """Smallest arena (multiple of `step`) the TFLM host runtime runs the model with."""
    hi = 1 << 14
    while not tflm_runs(model_bytes, hi):
        hi *= 2
    lo = hi // 2 if hi > (1 << 14) else 0
    while hi - lo > step:
        mid = (lo + hi) // 2 // step * step
        if tflm_runs(model_bytes, mid):
            hi = mid
        else:
            lo = mid
    return hi
