"""The EEMBC / MLPerf Tiny DUT protocol: encode commands, parse replies. No I/O.

Commands are ASCII and end with '%'. The device answers with lines ending in
"\\r\\n": `m-...` messages, `e-[...]` errors, and `m-ready` after each command.
Formats kept to the letter of MLPerf Tiny (its runner matches
`^m-results-\\[([^]]+)\\]$` and `^m-lap-us-([0-9]+)$`); our extensions use their
own names (`m-tm-*`, `m-selftest-*`), so the upstream runner ignores them.

Every parser takes the reply lines of one command and is defensive: noise
lines, partial lines and garbage bytes are skipped, never fatal; a missing
field raises ProtocolError naming what was expected and what arrived.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from ..core.errors import DeviceError

READY = "m-ready"
TERMINATOR = "%"
MAX_LINE = 512             # firmware TM_CMD_MAX: longest command without the '%'
DEFAULT_CHUNK_BYTES = 120  # bytes per `db HH..` command: 3 + 240 hex digits, well under MAX_LINE


class ProtocolError(DeviceError):
    """The device said something we cannot make sense of, or reported an error."""


# ------------------------------------------------------------------ encoding

def encode(command: str) -> bytes:
    """One command as wire bytes. Refuses what the device would misread."""
    if not isinstance(command, str):
        raise TypeError("command must be str")
    if TERMINATOR in command:
        raise ValueError(f"command contains the terminator '%': {command!r}")
    try:
        raw = command.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"command is not ASCII: {command!r}") from None
    if len(raw) > MAX_LINE:
        raise ValueError(f"command is {len(raw)} characters, the device accepts {MAX_LINE}")
    return raw + TERMINATOR.encode()


def cmd_db_load(n: int) -> str:
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"db load needs a positive byte count, got {n!r}")
    return f"db load {n}"


def cmd_db_data(chunk: bytes) -> str:
    if not chunk:
        raise ValueError("db data chunk is empty")
    return "db " + bytes(chunk).hex()


def cmd_db_print(n: int = 16, offset: int = 0) -> str:
    return f"db print {int(n)} {int(offset)}"


def cmd_infer(n: int = 1, warmup: int = 0) -> str:
    if n <= 0 or warmup < 0:
        raise ValueError(f"infer needs n > 0 and warmup >= 0, got n={n}, warmup={warmup}")
    return f"infer {int(n)} {int(warmup)}"


def chunks(data: bytes, size: int = DEFAULT_CHUNK_BYTES) -> list[bytes]:
    if size <= 0 or 2 * size + 3 > MAX_LINE:
        raise ValueError(f"chunk size {size} does not fit a {MAX_LINE}-character command")
    return [bytes(data[i:i + size]) for i in range(0, len(data), size)]


# ------------------------------------------------------------------ lines

def split_lines(buf: bytes) -> tuple[list[str], bytes]:
    """Complete lines (decoded leniently, stripped) and the unfinished rest."""
    *done, rest = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    lines = [ln.decode("ascii", errors="replace").strip() for ln in done]
    return [ln for ln in lines if ln], rest


def is_ready(line: str) -> bool:
    return line == READY


_ERR = re.compile(r"^e-\[(.*)\]$")


def errors(lines: list[str]) -> list[str]:
    """Messages of every e-[...] line (and bare e-... lines some DUTs print)."""
    out = []
    for ln in lines:
        m = _ERR.match(ln)
        if m:
            out.append(m.group(1))
        elif ln.startswith("e-"):
            out.append(ln[2:])
    return out


def raise_on_error(command: str, lines: list[str]) -> None:
    errs = errors(lines)
    if errs:
        raise ProtocolError(f"device rejected `{command}`: {errs[0]}",
                            hint="see the firmware's `help%` for the accepted syntax")


def _one(pattern: re.Pattern, lines: list[str], what: str, last: bool = False) -> re.Match:
    found = [m for m in (pattern.match(ln) for ln in lines) if m]
    if not found:
        got = "; ".join(lines[-5:]) or "nothing"
        raise ProtocolError(f"expected {what} from the device, got: {got}")
    return found[-1] if last else found[0]


# ------------------------------------------------------------------ MLPerf Tiny messages

_NAME = re.compile(r"^m-name-dut-\[(.*)\]$")
_PROFILE = re.compile(r"^m-profile-\[(.*)\]$")
_MODEL = re.compile(r"^m-model-\[(.*)\]$")
_LAP = re.compile(r"^m-lap-us-([0-9]+)$")
_RESULTS = re.compile(r"^m-results-\[([^]]*)\]$")
_EXPECT = re.compile(r"^m-\[Expecting ([0-9]+) bytes\]$")
_BUFFER = re.compile(r"^m-buffer-([0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2})*)$")


def parse_name(lines: list[str]) -> str:
    return _one(_NAME, lines, "m-name-dut-[...]").group(1)


def parse_profile(lines: list[str]) -> tuple[str, str | None]:
    prof = _one(_PROFILE, lines, "m-profile-[...]").group(1)
    model = [m.group(1) for m in (_MODEL.match(ln) for ln in lines) if m]
    return prof, (model[0] if model else None)


def parse_laps(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for m in (_LAP.match(ln) for ln in lines) if m]


def parse_results(lines: list[str]) -> list[float]:
    body = _one(_RESULTS, lines, "m-results-[...]", last=True).group(1)
    try:
        return [float(x) for x in body.split(",") if x.strip()]
    except ValueError:
        raise ProtocolError(f"m-results-[...] holds a non-number: {body[:80]!r}") from None


def parse_expecting(lines: list[str]) -> int:
    return int(_one(_EXPECT, lines, "m-[Expecting N bytes]").group(1))


def parse_buffer(lines: list[str]) -> bytes:
    out = bytearray()
    for m in (_BUFFER.match(ln) for ln in lines):
        if m:
            out += bytes(int(h, 16) for h in m.group(1).split("-"))
    return bytes(out)


def load_done(lines: list[str]) -> bool:
    return "m-load-done" in lines


# ------------------------------------------------------------------ tinyml extensions

_RAW = re.compile(r"^m-tm-raw-\[([^]]*)\]$")
_RAW_CRC = re.compile(r"^m-tm-raw-crc32-\[([0-9a-f]{8})\]$")
_SAMPLE = re.compile(r"^m-tm-sample-\[([0-9]+),([0-9]+),([0-9a-f]{8}),((?:[0-9a-f]{2})*),([0-9a-f]{8})\]$")
_BULK_DONE = re.compile(r"^m-tm-bulk-done-\[([0-9]+)\]$")
ABORTED = re.compile(r"^e-\[infer aborted by host input")
BOOT = "m-init-done"
_COUNTER = re.compile(r"^m-tm-counter-\[([a-z]+),([0-9]+),([0-9]+)\]$")
_CRC = re.compile(r"^m-tm-crc32-\[([0-9a-f]{8}),([0-9]+)\]$")
_INFO = re.compile(r"^m-tm-info-([a-z0-9_]+)-\[(.*)\]$")
_LAYER = re.compile(r"^m-tm-layer-\[([0-9]+),([^,\]]*),([0-9]+)\]$")
_LAYERS = re.compile(r"^m-tm-layers-\[([0-9]+),([a-z]+)\]$")
_ST_PASS = re.compile(r"^m-selftest-pass-\[([0-9]+)/([0-9]+)\]$")
_ST_FAIL = re.compile(r"^m-selftest-fail-\[vector=([0-9]+),byte=([0-9]+),got=(-?[0-9]+),want=(-?[0-9]+)\]$")


def parse_raw(lines: list[str], require_crc: bool = False) -> list[int]:
    body = _one(_RAW, lines, "m-tm-raw-[...]", last=True).group(1)
    try:
        vals = [int(x) for x in body.split(",") if x.strip()]
    except ValueError:
        raise ProtocolError(f"m-tm-raw-[...] holds a non-integer: {body[:80]!r}") from None
    if any(v < -128 or v > 127 for v in vals):
        raise ProtocolError(f"m-tm-raw-[...] holds a value outside int8: {body[:80]!r}")
    crc = [m.group(1) for m in (_RAW_CRC.match(ln) for ln in lines) if m]
    if not crc and require_crc:       # tinyml firmware always sends it: it was garbled
        raise ProtocolError("m-tm-raw-crc32-[...] missing after m-tm-raw-[...] (garbled on the way)")
    if crc and int(crc[-1], 16) != crc32_i8(vals):    # other firmware has no CRC line
        raise ProtocolError("m-tm-raw-[...] does not match its m-tm-raw-crc32 (garbled on the way)")
    return vals


def crc32_i8(values) -> int:
    return zlib.crc32(bytes(v & 0xFF for v in values)) & 0xFFFFFFFF


@dataclass(frozen=True)
class Sample:
    """One line of `bulk`: sample index, counter of its inference, CRC-32 of the
    input the device read, and its int8 outputs (CRC-checked)."""
    index: int
    count: int
    input_crc: int
    raw: tuple[int, ...]


def parse_samples(lines: list[str]) -> tuple[list[Sample], int | None]:
    """Samples whose output CRC holds (garbled lines are dropped: the caller asks
    again for what is missing) and the count of m-tm-bulk-done, if it came."""
    out = []
    done = None
    for ln in lines:
        m = _SAMPLE.match(ln)
        if m:
            data = bytes.fromhex(m.group(4))
            if zlib.crc32(data) & 0xFFFFFFFF == int(m.group(5), 16):
                raw = tuple(b - 256 if b > 127 else b for b in data)
                out.append(Sample(int(m.group(1)), int(m.group(2)), int(m.group(3), 16), raw))
            continue
        m = _BULK_DONE.match(ln)
        if m:
            done = int(m.group(1))
    return out, done


def rebooted(lines: list[str]) -> bool:
    """The device printed its boot banner: it was reset and lost its state."""
    return BOOT in lines


@dataclass(frozen=True)
class Counter:
    unit: str       # "cycles", "instructions" or "us"
    total: int      # over all timed runs
    runs: int

    @property
    def per_inference(self) -> float:
        return self.total / self.runs


def parse_counter(lines: list[str]) -> Counter:
    m = _one(_COUNTER, lines, "m-tm-counter-[unit,total,runs]", last=True)
    return Counter(m.group(1), int(m.group(2)), int(m.group(3)))


def parse_crc(lines: list[str]) -> tuple[int, int]:
    m = _one(_CRC, lines, "m-tm-crc32-[crc,bytes]")
    return int(m.group(1), 16), int(m.group(2))


def parse_info(lines: list[str]) -> dict[str, str | int]:
    info: dict[str, str | int] = {}
    for m in (_INFO.match(ln) for ln in lines):
        if m:
            val = m.group(2)
            info[m.group(1)] = int(val) if val.isdigit() else val
    if not info:
        raise ProtocolError("expected m-tm-info-KEY-[VALUE] lines, got none")
    return info


@dataclass(frozen=True)
class Layer:
    index: int
    op: str
    count: int


def parse_layers(lines: list[str]) -> tuple[list[Layer], str]:
    layers = [Layer(int(m.group(1)), m.group(2), int(m.group(3)))
              for m in (_LAYER.match(ln) for ln in lines) if m]
    tail = _one(_LAYERS, lines, "m-tm-layers-[count,unit]")
    if int(tail.group(1)) != len(layers):
        raise ProtocolError(f"device announced {tail.group(1)} layers but sent {len(layers)}")
    return layers, tail.group(2)


@dataclass(frozen=True)
class Selftest:
    passed: bool
    vectors: int                 # vectors checked (all of them when passed)
    total: int
    vector: int | None = None    # first mismatch
    byte: int | None = None
    got: int | None = None
    want: int | None = None
    lines: list[str] = field(default_factory=list)


def parse_selftest(lines: list[str]) -> Selftest:
    for ln in lines:
        m = _ST_PASS.match(ln)
        if m:
            return Selftest(True, int(m.group(1)), int(m.group(2)), lines=list(lines))
        m = _ST_FAIL.match(ln)
        if m:
            v, b, g, w = (int(x) for x in m.groups())
            return Selftest(False, v, -1, vector=v, byte=b, got=g, want=w, lines=list(lines))
    raise_on_error("selftest", lines)
    raise ProtocolError("expected m-selftest-pass-[N/N] or m-selftest-fail-[...], got: "
                        + ("; ".join(lines[-5:]) or "nothing"))
