"""Flash and RAM needs of an exported firmware: every size estimate lives here.

A firmware image is the target's fixed part (startup, framework, harness,
port, runtime core: `MemoryBudget.firmware_flash` / `firmware_ram`, set per
target in qemu.py and boards.py) plus what the model brings: weights or the
.tflite, the kernels its op kinds pull in, the arena, golden vectors and the
harness's I/O buffers. `tinyml export` refuses a model whose needs exceed the
target's memory.

Checked against a real build: qemu_m4 with the AOT runtime, whose estimates
must stay within 10 % of `arm-none-eabi-size` of the built digits firmware
(tests/emu/test_model_qemu.py::test_budget_estimates_match_the_built_firmware).
The real boards and the TFLM runtime are not verified in this repository's CI.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from ..core.errors import ConfigError

RUNTIMES: tuple[str, ...] = ("aot", "tflm")
KiB = 1024

# Code-size ESTIMATES (bytes) of the kernels each op kind pulls in, per runtime.
# aot: our C99 kernels (firmware/runtime/aot) at -O2 for Cortex-M4, rounded up from the
# digits firmware's link map (depthwise 4.0 KB, softmax 1.1; conv 8.0 and FC 3.5 from the
# objects since the interleaved-weight kernels, one copy per requantization form; views
# alias their input and have no code; pool, add, mean, pad, ... are 0.1-0.9 KB).
# tflm: reference/optimized TFLM kernels incl. their Prepare/Eval and parsing code
# (not verified in this repository's CI).
KERNEL_CODE: dict[str, dict[str, int]] = {
    "aot": {"CONV_2D": 8192, "DEPTHWISE_CONV_2D": 4096, "FULLY_CONNECTED": 3584,
            "SOFTMAX": 1024, "ADD": 1024, "RESHAPE": 0, "SQUEEZE": 0, "EXPAND_DIMS": 0,
            "_other": 512},
    "tflm": {"CONV_2D": 12288, "DEPTHWISE_CONV_2D": 12288, "FULLY_CONNECTED": 6144,
             "SOFTMAX": 4096, "TRANSPOSE_CONV": 12288, "_other": 3072},
}
# aot: the generated tm_aot_model.c's own code (one kernel call and its arguments per op),
# from the same link map (~120 B per op).
AOT_CODE_PER_OP = 128

# Fixed runtime cost on a real board, on top of its base firmware (ESTIMATES, bytes; unverified).
# aot: the dispatch core (kernels are counted per op kind). tflm: interpreter, allocator,
# flatbuffer parsing, logging.
RUNTIME_OVERHEAD: dict[str, tuple[int, int]] = {   # runtime -> (flash, ram)
    "aot": (2 * KiB, 512),
    "tflm": (48 * KiB, 4 * KiB),
}

# The harness's db / output buffers: TM_DB_CAPACITY and TM_OUT_CAPACITY in
# firmware/harness/tm_harness.c (at least this many bytes whatever the model).
HARNESS_MIN_DB, HARNESS_MIN_OUT = 256, 16


def check_runtime(runtime: str) -> str:
    """The one validation of a runtime name."""
    if runtime not in RUNTIMES:
        raise ConfigError(f"unknown runtime '{runtime}'", hint=f"use one of: {', '.join(RUNTIMES)}")
    return runtime


def kernel_code(runtime: str, op_kinds: Iterable[str]) -> int:
    table = KERNEL_CODE[check_runtime(runtime)]
    return sum(table.get(op, table["_other"]) for op in dict.fromkeys(op_kinds))


def harness_io(input_bytes: int, output_bytes: int) -> int:
    return max(input_bytes, HARNESS_MIN_DB) + max(output_bytes, HARNESS_MIN_OUT)


def golden_bytes(count: int, input_bytes: int, output_bytes: int) -> int:
    """tm_golden.c: every vector's input and output, plus a label (int16) each."""
    return count * (input_bytes + output_bytes + 2)


@dataclass
class Need:
    """What the exported firmware needs of one memory, item by item (bytes)."""
    items: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.items.values())


@dataclass(frozen=True)
class ModelSizes:
    """What the model brings, measured from the export (bytes)."""
    runtime: str
    ops: tuple[str, ...]      # op name per op, execution order
    input_bytes: int
    output_bytes: int
    golden_count: int
    weights: int = 0          # aot: constant arrays of the generated C
    arena: int = 0            # aot: planned peak; tflm: recommended TFLM arena
    tflite: int = 0           # tflm: the .tflite in flash


def needs(budget, m: ModelSizes) -> tuple[Need, Need]:
    """(flash, RAM) needs of the firmware for `m` on a target with MemoryBudget `budget`."""
    flash, ram = Need(), Need()
    flash.items["firmware (harness+port+runtime core, estimate)"] = budget.firmware_flash
    if check_runtime(m.runtime) == "aot":
        flash.items["weights"] = m.weights
        flash.items["kernel code (estimate)"] = kernel_code("aot", m.ops)
        flash.items["generated model code (estimate)"] = AOT_CODE_PER_OP * len(m.ops)
        ram.items["planned arena"] = m.arena
    else:
        flash.items["model .tflite"] = m.tflite
        flash.items["TFLM kernels (estimate)"] = kernel_code("tflm", m.ops)
        ram.items["TFLM arena"] = m.arena
    flash.items["golden vectors"] = golden_bytes(m.golden_count, m.input_bytes, m.output_bytes)
    ram.items["firmware (harness+port+runtime, estimate)"] = budget.firmware_ram
    ram.items["harness I/O buffers"] = harness_io(m.input_bytes, m.output_bytes)
    return flash, ram
