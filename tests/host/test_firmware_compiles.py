"""Compile what we ship: every firmware source that can be compiled on this machine
is compiled here with -Wall -Wextra -Werror, for the CPUs of the boards we list.

- harness, qemu_m4 port, AOT runtime: arm-none-eabi-gcc for the Cortex-M4F (DSP
  kernel path) and the Cortex-M0+ (pico: portable path); the host port and host
  runs are in test_compile_matrix.py.
- Arduino port: arm-none-eabi-g++ and host g++ against tests/host/arduino_standin,
  a minimal stand-in of our own for Arduino.h (not the Arduino core), once per
  counter branch of the port (DWT, micros(), ESP32).
- firmware/runtime/tflm needs TFLM's C++ sources, which only the `*_tflm`
  PlatformIO envs download: not verified in this repository's CI (README says so).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aot_harness import to_int8_tflite
from tinyml.codegen.aot import RUNTIME_DIR, compile_tflite

ROOT = Path(__file__).resolve().parents[2]
FW = ROOT / "firmware"
STANDIN = Path(__file__).resolve().parent / "arduino_standin"
WARN = ["-Wall", "-Wextra", "-Werror", "-O2"]
M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
M0 = ["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"]

# Every C/C++ file under firmware/ is in exactly one group; the tests below compile
# each group, and test_every_shipped_source_is_accounted_for keeps the list complete.
GROUPS = {
    "harness": sorted((FW / "harness").glob("*.c")),
    "host port": sorted((FW / "ports" / "host").glob("*.c")),       # test_compile_matrix.py
    "qemu_m4 port": sorted((FW / "ports" / "qemu_m4").glob("*.c")),
    "aot runtime": sorted(RUNTIME_DIR.glob("*.c")),
    "arduino port": sorted((FW / "ports" / "arduino").glob("*.cpp")),
}
NOT_COMPILED_HERE = {
    FW / "runtime" / "tflm" / "tm_rt_tflm.cc":
        "needs TFLM's C++ sources (PlatformIO lib_deps of the *_tflm envs, internet); "
        "not verified in this repository's CI",
}
# Port folders other tests build with their own cross compilers: folder -> the tests that do.
COMPILED_ELSEWHERE = {
    FW / "ports" / "qemu_rv32": ["tests/emu/aot_isa.py"],
    FW / "ports" / "qemu_xtensa": ["tests/emu/aot_isa.py", "tests/host/test_isa_alignment.py"],
}


def _shipped() -> set[Path]:
    exts = {".c", ".cc", ".cpp", ".cxx"}
    return {p for p in FW.rglob("*") if p.suffix in exts
            and not {"generated", ".pio"} & set(p.relative_to(FW).parts)}


def test_every_shipped_source_is_accounted_for():
    """Each C/C++ file under firmware/ is compiled here, by a named test, or listed as
    not compilable in CI: a new source cannot ship uncompiled unnoticed."""
    grouped = [p for srcs in GROUPS.values() for p in srcs]
    assert len(grouped) == len(set(grouped)) and all(GROUPS.values())
    elsewhere = {p for p in _shipped() if p.parent in COMPILED_ELSEWHERE}
    for folder, tests in COMPILED_ELSEWHERE.items():
        for t in tests:
            assert folder.name in (ROOT / t).read_text(), (folder, t)
    assert _shipped() - elsewhere == set(grouped) | set(NOT_COMPILED_HERE)


def _cc(compiler: str, flags: list[str], src: Path, out: Path) -> None:
    cmd = [compiler, *flags, "-c", str(src), "-o", str(out)]
    cp = subprocess.run(cmd, capture_output=True, text=True)
    assert cp.returncode == 0, f"{' '.join(cmd)}\n{cp.stderr}"
    assert out.stat().st_size > 0


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A generated model (tm_aot_model.h/.c) for tm_rt_aot.c to include."""
    from tinyml.core.tfcompat import keras, seed_everything
    seed_everything(1)
    k = keras()
    inp = k.Input((8, 8, 2))
    x = k.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    out = k.layers.Softmax()(k.layers.Dense(3)(k.layers.Flatten()(x)))
    res = compile_tflite(to_int8_tflite(k.Model(inp, out)), "compile-check")
    d = tmp_path_factory.mktemp("gen")
    for name, text in res.files.items():
        (d / name).write_text(text)
    return d


@pytest.mark.tools("arm-none-eabi-gcc")
@pytest.mark.parametrize("cpu", ["m4", "m0plus"])
@pytest.mark.parametrize("profile", [False, True], ids=["noprofile", "profile"])
def test_harness_and_aot_runtime_cross_compile(tmp_path, generated, cpu, profile):
    flags = (M4 if cpu == "m4" else M0) + ["-std=c99", *WARN, "-ffunction-sections", "-fdata-sections",
                                           f"-I{FW / 'harness'}", f"-I{FW / 'ports'}",
                                           f"-I{FW / 'runtime'}", f"-I{RUNTIME_DIR}", f"-I{generated}"]
    if profile:       # what the qemu_m4 env builds with (platformio.ini)
        flags += ["-DTM_ENABLE_PROFILE=1", "-include", str(FW / "ports" / "tm_profile.h")]
    srcs = GROUPS["harness"] + GROUPS["aot runtime"] + [generated / "tm_aot_model.c"]
    if cpu == "m4":   # the qemu_m4 port is Cortex-M4F only
        srcs += GROUPS["qemu_m4 port"]
        flags += [f"-I{FW / 'ports' / 'qemu_m4'}"]
    for src in srcs:
        _cc("arm-none-eabi-gcc", flags, src, tmp_path / f"{src.stem}.o")
    # The kernel path each CPU gets: SMLAD on the M4F, portable C on the M0+.
    dis = subprocess.run(["arm-none-eabi-objdump", "-d", str(tmp_path / "tm_k_fc.o")],
                         capture_output=True, text=True, check=True).stdout
    assert ("smlad" in dis) == (cpu == "m4") and dis.count("<tm_k_fc>:") == 1


ARDUINO_BUILDS = {
    "cortex-m4f DWT cycles": ("arm-none-eabi-g++", M4),
    "cortex-m0+ micros": ("arm-none-eabi-g++", M0),
    "esp32 branch": ("g++", ["-DARDUINO_ARCH_ESP32"]),
    "generic micros": ("g++", []),
}


@pytest.mark.tools("arm-none-eabi-g++", "g++")
@pytest.mark.parametrize("build", list(ARDUINO_BUILDS))
def test_arduino_port_compiles_against_the_standin_header(tmp_path, build):
    compiler, cpu = ARDUINO_BUILDS[build]
    flags = [*cpu, "-std=gnu++11", *WARN, "-fno-exceptions", "-fno-rtti", f"-I{STANDIN}",
             f"-I{FW / 'harness'}", f"-I{FW / 'ports'}"]
    for src in GROUPS["arduino port"]:
        _cc(compiler, flags, src, tmp_path / f"{src.stem}.o")
    nm = compiler.replace("g++", "nm")
    syms = subprocess.run([nm, "-C", str(tmp_path / "tm_port_arduino.o")], capture_output=True,
                          text=True, check=True).stdout
    for fn in ("tm_port_init", "tm_port_getc", "tm_port_counter", "setup()", "loop()"):
        assert f" T {fn}" in syms, fn


@pytest.mark.tools("arm-none-eabi-gcc")
@pytest.mark.parametrize("compiler,flags,path", [
    ("gcc", [], "portable"),
    ("arm-none-eabi-gcc", M4, "dsp"),
    ("arm-none-eabi-gcc", M4 + ["-DTM_AOT_FORCE_PORTABLE"], "portable"),
    ("arm-none-eabi-gcc", M0, "portable"),
], ids=["host", "m4", "m4-forced-portable", "m0plus"])
def test_kernel_path_follows_the_cpu(compiler, flags, path):
    """tm_aot.h takes the SMLAD path exactly where the compiler reports the DSP
    extension: never on the host (whose runs are the bit-exactness reference)."""
    cp = subprocess.run([compiler, *flags, "-std=c99", "-dM", "-E", f"-I{RUNTIME_DIR}",
                         "-include", "tm_aot.h", "-x", "c", "-"], input="", capture_output=True,
                        text=True, check=True)
    assert f'#define TM_AOT_KERNEL_PATH "{path}"' in cp.stdout
    assert f"#define TM_AOT_DSP {int(path == 'dsp')}" in cp.stdout


def test_profile_switch_is_tested_by_value_everywhere():
    """`-DTM_ENABLE_PROFILE=0` must mean off: no file may test only `defined(...)`."""
    import re
    srcs = [p for p in [*FW.rglob("*"), *(ROOT / "tests").rglob("*")]
            if p.suffix in (".c", ".h", ".cc", ".cpp") and "generated" not in p.parts]
    tests = [(p, ln.strip()) for p in srcs for ln in p.read_text(errors="replace").splitlines()
             if re.match(r"\s*#\s*(if|ifdef|ifndef|elif)\b.*TM_ENABLE_PROFILE", ln)]
    assert len(tests) >= 8
    bad = [f"{p.relative_to(ROOT)}: {ln}" for p, ln in tests
           if "defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE" not in ln]
    assert bad == []
