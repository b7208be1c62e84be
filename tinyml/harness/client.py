"""DutClient: drive a device that speaks the EEMBC / MLPerf Tiny protocol.

    with DutClient(open_transport("socket://127.0.0.1:4321")) as dut:
        dut.sync()
        dut.load_input(bytes_of_one_int8_input)     # chunked, CRC-verified
        r = dut.infer(n=1, warmup=0)                # Inference: latency + outputs
        dut.selftest()                              # golden vectors on the device

Every command waits for `m-ready`; `e-[...]` replies raise ProtocolError
(a DeviceError) naming the command and the device's own message.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

from ..core.errors import DeviceError
from . import protocol as P


@dataclass(frozen=True)
class Inference:
    runs: int
    warmup: int
    laps_us: tuple[int, int]     # m-lap-us before/after the timed loop (device clock; virtual under QEMU)
    counter: P.Counter           # total over `runs` in counter.unit ("cycles"/"instructions"/"us")
    results: list[float]         # dequantized outputs (MLPerf m-results)
    raw: list[int]               # int8 outputs, for bit-exact checks
    lines: list[str]

    @property
    def elapsed_us(self) -> int:
        return self.laps_us[1] - self.laps_us[0]

    @property
    def per_inference(self) -> float:
        """Counter units per inference (e.g. emulated instructions on QEMU)."""
        return self.counter.per_inference


class DutClient:
    def __init__(self, transport, timeout: float = 30.0, chunk_bytes: int = P.DEFAULT_CHUNK_BYTES):
        self.t = transport
        self.timeout = timeout
        self.chunk_bytes = chunk_bytes
        self._pending = b""
        self.log: list[str] = []        # every line received, for reports/debugging
        # tinyml firmware follows every m-tm-raw line with its CRC; once the device is
        # known to be one, a missing CRC line means the answer was garbled.
        self.raw_crc_required = False

    # ---------------------------------------------------------------- plumbing
    def _read_until_ready(self, command: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            new, self._pending = P.split_lines(self._pending)
            for ln in new:
                self.log.append(ln)
                if P.is_ready(ln):
                    return lines
                lines.append(ln)
            if len(self._pending) > 64 * 1024:     # a device that never ends a line
                raise P.ProtocolError(f"`{command}`: over 64 KiB without a line end from the device")
            left = deadline - time.monotonic()
            if left <= 0:
                got = "; ".join(lines[-3:]) or "nothing"
                raise DeviceError(f"`{command}`: no m-ready within {timeout:.0f} s (got: {got})",
                                  hint="is the firmware running and the port/baud right?")
            self._pending += self.t.read(4096, timeout=min(left, 1.0))

    def command(self, command: str, timeout: float | None = None, check: bool = True) -> list[str]:
        """Send one command, return its reply lines (without m-ready)."""
        self.t.write(P.encode(command))
        lines = self._read_until_ready(command, self.timeout if timeout is None else timeout)
        if P.rebooted(lines):     # its m-ready may be the boot's, not this command's
            raise DeviceError(f"`{command}`: the device reset while answering (m-init-done)",
                              hint="check its power supply and reset line")
        if check:
            P.raise_on_error(command, lines)
        return lines

    def command_raw(self, data: bytes, timeout: float | None = None) -> list[str]:
        """Send bytes as they are (testing malformed input); read up to m-ready.
        `data` should end with '%' or the device waits for more."""
        self.t.write(bytes(data))
        return self._read_until_ready(repr(bytes(data[:24])), self.timeout if timeout is None else timeout)

    def sync(self, attempts: int = 5, timeout: float = 5.0) -> str:
        """Get in step with a device in an unknown state (boot banner, half a line).

        Sends a lone '%' (ends any partial command), drains, then `name`.
        Returns the device name."""
        last: Exception | None = None
        for _ in range(attempts):
            self._pending = b""
            self.t.write(b"%")
            try:
                self._read_until_ready("%", timeout)
                while self.t.read(4096, timeout=0.2):
                    pass
                self._pending = b""
                return self.name()
            except DeviceError as e:
                last = e
        raise DeviceError(f"device does not answer the protocol after {attempts} tries: {last}",
                          hint="check that the firmware is the tinyml harness and the baud rate matches")

    # ---------------------------------------------------------------- commands
    def name(self) -> str:
        return P.parse_name(self.command("name"))

    def profile(self) -> tuple[str, str | None]:
        return P.parse_profile(self.command("profile"))

    def timestamp(self) -> int | None:
        laps = P.parse_laps(self.command("timestamp"))
        return laps[0] if laps else None      # None in energy mode (GPIO edge instead)

    def build_info(self) -> dict[str, str | int]:
        return P.parse_info(self.command("info"))

    def crc(self) -> tuple[int, int]:
        return P.parse_crc(self.command("crc"))

    def load_input(self, data: bytes, verify: bool = True) -> None:
        """Upload one input tensor (int8 bytes) and check the device holds exactly it."""
        data = bytes(data)
        if not data:
            raise ValueError("input is empty")
        lines = self.command(P.cmd_db_load(len(data)))
        expecting = P.parse_expecting(lines)
        if expecting != len(data):
            raise P.ProtocolError(f"device expects {expecting} bytes, we send {len(data)}")
        parts = P.chunks(data, self.chunk_bytes)
        done = False
        for i, part in enumerate(parts):
            lines = self.command(P.cmd_db_data(part))
            done = P.load_done(lines)
            if done and i != len(parts) - 1:
                raise P.ProtocolError(f"device reported m-load-done after chunk {i + 1} of {len(parts)}")
        if not done:
            raise P.ProtocolError("device did not report m-load-done after the last chunk")
        if verify:
            crc, n = self.crc()
            want = zlib.crc32(data) & 0xFFFFFFFF
            if n != len(data) or crc != want:
                raise P.ProtocolError(f"input corrupted on the way: device holds {n} bytes with CRC32 "
                                      f"{crc:08x}, we sent {len(data)} bytes with CRC32 {want:08x}",
                                      hint="lower the baud rate or the chunk size")

    def infer(self, n: int = 1, warmup: int = 0, timeout: float | None = None) -> Inference:
        lines = self.command(P.cmd_infer(n, warmup), timeout=timeout)
        laps = P.parse_laps(lines)
        if len(laps) != 2:
            raise P.ProtocolError(f"expected 2 m-lap-us lines around the timed loop, got {len(laps)}")
        return Inference(runs=n, warmup=warmup, laps_us=(laps[0], laps[1]),
                         counter=P.parse_counter(lines), results=P.parse_results(lines),
                         raw=P.parse_raw(lines, self.raw_crc_required), lines=lines)

    def bulk(self, path: str, first: int, count: int, timeout: float | None = None
             ) -> list[P.Sample]:
        """Run samples first..first+count-1 of a host file the device reads itself
        (emulators). Returns the CRC-valid sample lines; garbled ones are dropped."""
        if " " in path or "%" in path or not path.isascii():
            raise ValueError(f"bulk file path must be ASCII without spaces or '%': {path!r}")
        cmd = f"bulk {path} {int(first)} {int(count)}"
        samples, _ = P.parse_samples(self.command(cmd, timeout=timeout))
        return samples

    def results(self) -> tuple[list[float], list[int]]:
        lines = self.command("results")
        return P.parse_results(lines), P.parse_raw(lines, self.raw_crc_required)

    def layers(self) -> tuple[list[P.Layer], str]:
        return P.parse_layers(self.command("layers"))

    def selftest(self, timeout: float | None = None) -> P.Selftest:
        return P.parse_selftest(self.command("selftest", timeout=timeout, check=False))

    def run(self, data: bytes, n: int = 1, warmup: int = 0) -> Inference:
        """Upload one input and run it."""
        self.load_input(data)
        return self.infer(n, warmup)

    # ---------------------------------------------------------------- lifetime
    def close(self) -> None:
        self.t.close()

    def __enter__(self) -> "DutClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
