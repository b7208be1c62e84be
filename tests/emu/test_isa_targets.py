"""The ESP family's instruction sets in emulation: `qemu_xtensa` (Xtensa LX106, standing in
for ESP32 / ESP32-S3) and `qemu_rv32` (RV32IMC, standing in for ESP32-C3 / C6).

For each target, through the product's own paths: the default digits model is
exported (`tinyml.flows.export`), built offline with PlatformIO (project-local platform,
Debian cross compiler + picolibc), booted in QEMU and must pass `selftest`; the
whole test split then runs through `tinyml.flows.measure.measure` with 0 bytes
different from the host TFLM runtime; the UART path gives the fast path's
bytes; the export's flash/RAM estimates stay within 10 % of the linked image.
The four MLPerf Tiny reference models run bit-exact on both ISAs (6 random
inputs each, incl. all -128 and all 127), built like the firmware without the
harness (tests/emu/aot_isa.py). A missing compiler or QEMU fails the test
naming it (tests/conftest.py); nothing here skips.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))

from aot_isa import ISA_NAMES, board, run_model_isa, tools  # noqa: E402
from tinyml.model import golden
from tinyml.harness import protocol as P  # noqa: E402
from tinyml.flows.measure import MeasureOptions, measure
from tinyml.targets import get_target  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["qemu_xtensa", "qemu_rv32"]


def _param(target: str, *extra: str):
    return pytest.param(target, id=target, marks=pytest.mark.tools(*tools(target), *extra))


pytestmark = pytest.mark.emu
BUILT = [_param(t, "pio") for t in TARGETS]


@pytest.fixture(scope="module")
def built(request, default_run, project_copy, tmp_path_factory):
    """target -> (run folder, project, ELF): the default digits run exported and built
    for that target (one project copy per target, built on first use)."""
    from tinyml.flows.export import export
    run, _, _ = default_run
    cache: dict[str, tuple[Path, Path, Path]] = {}

    def get(target: str) -> tuple[Path, Path, Path]:
        if target not in cache:
            cp = subprocess.run([sys.executable, str(ROOT / "scripts" / "pio_offline.py")],
                                capture_output=True, text=True)
            assert cp.returncode == 0, cp.stderr
            proj = project_copy(tmp_path_factory.mktemp(f"proj_{target}"))
            export(run, target, proj, runtime="aot")
            t0 = time.perf_counter()
            elf = get_target(target).build(proj)
            print(f"\n[{target}] pio build {time.perf_counter() - t0:.1f} s")
            cache[target] = (run, proj, elf)
        return cache[target]
    return get


def _run_copy(run: Path, dst: Path) -> Path:
    """A copy of the run folder without earlier measurements."""
    out = dst / run.name
    shutil.copytree(run, out, ignore=shutil.ignore_patterns("results*", "report*", "*.png"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("target", BUILT)
def test_digits_builds_offline_and_passes_selftest(target, built, capsys):
    from tinyml.harness.client import DutClient
    run, _, elf = built(target)
    g = golden.load(run / "golden.npz")
    with get_target(target).emulate(elf) as emu, DutClient(emu.open_transport(), timeout=60) as dut:
        dut.sync()
        assert dut.name() == f"tinyml-{target}"
        info = dut.build_info()
        assert info["kernel_path"] == "portable"          # the Cortex-M DSP path is not compiled
        assert info["counter_unit"] == "instructions" and info["clock"] == "virtual"
        assert info["clock_hz"] == 125_000_000 and info["golden_count"] == len(g)
        st = dut.selftest()
        assert st.passed and (st.vectors, st.total) == (len(g), len(g)), st
        dut.load_input(g.inputs[1].tobytes())
        r = dut.infer(2, 1)
        want = g.outputs[1].reshape(-1).astype(int).tolist()
        assert r.raw == want
        # m-results goes through the port's soft-float helpers on the LX106
        assert r.results == [float(f"{g.output_scale * (v - g.output_zero_point):.3f}") for v in want]
        layers, unit = dut.layers()
        assert unit == "instructions" and len(layers) == info["op_count"]
        assert sum(x.count for x in layers) <= r.per_inference
        with capsys.disabled():
            print(f"\n[{target} digits] {info['board']}, {info['compiler']}: {r.per_inference:,.0f} "
                  f"instructions per inference; " + ", ".join(f"{x.op}={x.count}" for x in layers))


@pytest.mark.slow
@pytest.mark.parametrize("target", BUILT)
def test_whole_test_split_is_bit_exact_through_measure(target, built, tmp_path, capsys):
    run, proj, _ = built(target)
    run = _run_copy(run, tmp_path)
    check = json.loads((run / "check.json").read_text())
    t0 = time.perf_counter()
    r = measure(run, target, project_dir=proj, opts=MeasureOptions(progress=False))
    wall = time.perf_counter() - t0
    n = check["test_samples"]
    assert n == 449                                   # the digits test split
    assert r["samples"]["count"] == n and r["samples"]["path"] == "fast"
    assert r["bit_exact"]["compared"] == n and r["bit_exact"]["mismatched_samples"] == 0
    assert r["accuracy"]["device"] == r["accuracy"]["host"] == check["accuracy"]["int8_tflm"]
    lat = r["latency"]
    assert lat["unit"] == "instructions" and lat["clock"] == "virtual" and lat["clock_hz"] == 125_000_000
    assert lat["per_inference"]["median"] > r["model"]["macs"] > 0
    assert r["device"]["info"]["kernel_path"] == "portable"
    with capsys.disabled():
        print(f"\n[{target} measure] {n} samples, 0 mismatches, accuracy {r['accuracy']['device']:.2%}, "
              f"median {lat['per_inference']['median']:,.0f} instructions, {wall:.1f} s wall")


@pytest.mark.slow
@pytest.mark.parametrize("target", BUILT)
def test_uart_path_gives_the_fast_paths_bytes(target, built, tmp_path):
    """db uploads through the UART's RX interrupt and ring buffer, and `bulk` through
    semihosting file reads, run the same work."""
    run, proj, _ = built(target)
    a, b = _run_copy(run, tmp_path / "a"), _run_copy(run, tmp_path / "b")
    opts = dict(samples=10, progress=False, latency_runs=2)
    ra = measure(a, target, project_dir=proj, opts=MeasureOptions(fast=True, **opts))
    rb = measure(b, target, project_dir=proj, opts=MeasureOptions(fast=False, **opts))
    assert (ra["samples"]["path"], rb["samples"]["path"]) == ("fast", "uart")
    ja, jb = ([json.loads(ln) for ln in (x / "results.samples.jsonl").read_text().splitlines()[1:]
               if '"i"' in ln] for x in (a, b))
    assert [x["raw"] for x in ja] == [x["raw"] for x in jb]
    assert rb["bit_exact"]["mismatched_samples"] == 0
    # same work; only the loop around the inference differs (a few counter steps)
    assert all(abs(x["count"] - y["count"]) <= 60 for x, y in zip(ja, jb))


@pytest.mark.slow
@pytest.mark.parametrize("target", BUILT)
def test_pty_transport_and_abort(target, built):
    """The serial device path the official MLPerf Tiny runner needs, and an abort by
    host input in the middle of a long `infer` (the RX interrupt sees it)."""
    from tinyml.harness.client import DutClient
    run, _, elf = built(target)
    g = golden.load(run / "golden.npz")
    with get_target(target).emulate(elf, serial="pty") as emu:
        assert emu.address.startswith("/dev/")
        with DutClient(emu.open_transport(), timeout=60) as dut:
            dut.sync()
            dut.load_input(g.inputs[0].tobytes())
            dut.t.write(b"infer 99999 0%")
            time.sleep(0.5)
            lines = dut.command_raw(b"%", timeout=10)
            assert any(P.ABORTED.match(ln) for ln in lines), lines
            dut.sync()
            assert dut.name() == f"tinyml-{target}"


def _image_sizes(target: str, elf: Path) -> tuple[int, int, str]:
    """(flash, RAM, size table) of the linked image: flash = allocated sections in the
    ROM region plus the .data load image; RAM = allocated sections in RAM plus the
    stack the link script reserves (_min_stack)."""
    b = board(target)
    prefix = b["toolchain_prefix"]
    ld = (ROOT / "firmware" / "ports" / b["port"] / b["ldscript"]).read_text()
    ram_base = int(re.search(r"RAM\s*\(rwx\)\s*:\s*ORIGIN\s*=\s*(0x[0-9A-Fa-f]+)", ld).group(1), 16)
    rom_base = int(re.search(r"ROM\s*\(rx\)\s*:\s*ORIGIN\s*=\s*(0x[0-9A-Fa-f]+)", ld).group(1), 16)
    stack = int(re.search(r"_min_stack\s*=\s*(0x[0-9A-Fa-f]+)", ld).group(1), 16)
    out = subprocess.run([prefix + "readelf", "-S", "-W", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    flash = ram = 0
    for line in out.splitlines():
        if not re.match(r"\s*\[\s*\d+\]", line):
            continue
        cols = line.split("]", 1)[1].split()
        if len(cols) != 10 or "A" not in cols[6]:
            continue
        kind, addr, size = cols[1], int(cols[2], 16), int(cols[4], 16)
        if rom_base <= addr < rom_base + 4 * 1024 * 1024:
            flash += size
        elif addr >= ram_base:
            ram += size
            flash += size if kind == "PROGBITS" else 0        # .data is copied from ROM
    table = subprocess.run([prefix + "size", "-A", str(elf)], capture_output=True, text=True,
                           check=True).stdout
    return flash, ram + stack, table


@pytest.mark.slow
@pytest.mark.parametrize("target", BUILT)
def test_budget_estimates_match_the_built_firmware(target, built, capsys):
    _, proj, elf = built(target)
    rec = json.loads((proj / "firmware" / "generated" / "export.json").read_text())
    flash, ram, table = _image_sizes(target, elf)
    est_flash, est_ram = rec["flash_need_total"], rec["ram_need_total"]
    with capsys.disabled():
        print(f"\n[{target} aot, digits] flash: estimate {est_flash:,} B, built {flash:,} B "
              f"({100 * (est_flash - flash) / flash:+.1f} %); RAM: estimate {est_ram:,} B, built "
              f"{ram:,} B incl. the linker's minimum stack ({100 * (est_ram - ram) / ram:+.1f} %)\n{table}")
    assert abs(est_flash - flash) <= 0.10 * flash
    assert abs(est_ram - ram) <= 0.10 * ram


@pytest.mark.slow
@pytest.mark.parametrize("target", [_param("qemu_rv32", "pio")])
def test_rv32_image_needs_nothing_beyond_rv32imc(target, built):
    """The ESP32-C3 has no atomics and no FPU: the linked image (libgcc and picolibc
    included) must not ask for them. Zicsr/Zmmul are the CSR reads and the M subset."""
    _, _, elf = built(target)
    out = subprocess.run([board(target)["toolchain_prefix"] + "readelf", "-A", str(elf)],
                         capture_output=True, text=True, check=True).stdout
    arch = re.search(r'Tag_RISCV_arch: "([^"]+)"', out).group(1)
    exts = {e.rstrip("0123456789p") for e in arch.split("_")}
    assert exts <= {"rv32i", "m", "c", "zicsr", "zmmul"}, arch


# ------------------------------------------------------------------ MLPerf Tiny reference models

@pytest.fixture(scope="module")
def reference():
    """name -> (int8 .tflite, AotResult, inputs, TFLM outputs), converted once."""
    from aot_harness import random_inputs, run_tflm
    from reference_models import reference_int8
    from tinyml.codegen.aot import compile_tflite
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            tfl = reference_int8(name)
            res = compile_tflite(tfl, name)
            x = random_inputs(res, 6, seed=21)           # 6 inputs; #0 all -128, #1 all 127
            cache[name] = (tfl, res, x, run_tflm(tfl, x))
        return cache[name]
    return get


@pytest.mark.parametrize("name", ["kws", "ic", "vww", "ad"])
@pytest.mark.parametrize("target", [_param(t) for t in TARGETS])
def test_reference_model_is_bit_exact(target, name, reference, capsys):
    tfl, res, x, ref = reference(name)
    t0 = time.perf_counter()
    y, instr, (cal, expected) = run_model_isa(target, res, x)
    wall = time.perf_counter() - t0
    ref = ref.reshape(y.shape)
    assert (y == ref).all(), f"{name} on {target}: {(y != ref).sum()} of {y.size} bytes differ from TFLM"
    assert abs(cal - expected) <= 100                 # the counter counts instructions
    assert instr > res.macs                           # sanity: the work was really done
    with capsys.disabled():
        print(f"\n[{target} {name}] {len(x)} inputs bit-exact on {ISA_NAMES[target]}, "
              f"{instr:,} instructions per inference ({res.macs / instr:.3f} MAC/instr), "
              f"peak RAM {res.peak_ram_bytes:,} B, {wall:.1f} s wall")
    assert np.asarray(x).shape[0] >= 5
