"""SIMULATOR of an ST X-NUCLEO-LPM01A (PowerShield firmware) on a pty (not a real device; for CI).

Speaks the text protocol as MLPerf Tiny's runner uses it (see
tinyml/harness/power/lpm01a.py): "PowerShield > ack <cmd>" answers, "error"
plus "Error detail:" for refused commands, and after `start` the ascii_dec
stream: one "dddd-ee" line per sample (joules over the sample period, computed
exactly from the waveform), "event N ris" after the sample in which a D7
falling edge happened, and a "TimeStamp: ..." line every second of samples.
`stop` is answered by "Acquisition completed".
"""
from __future__ import annotations

import math

from .pty_sim import PtySim
from .waveform import Waveform

ACK_ONLY = ("htc", "hrc", "pwr", "acqtime", "trigdelay", "trigsrc", "eventsrc", "output", "format", "freq")


def ascii_dec(x: float) -> str:
    """4-digit mantissa and a signed 2-digit power of ten: 0.0006409 -> '6409-07'."""
    e = math.floor(math.log10(x)) - 3
    m = round(x / 10.0 ** e)
    if m == 10000:
        m, e = 1000, e + 1
    return f"{m:04d}{'-' if e < 0 else '+'}{abs(e):02d}"


class LPM01ASim(PtySim):
    """behaviour: "ok", "silent", "garbage" (answers every command with noise),
    "reject:<cmd>" (refuses that command). garble_every: corrupt every Nth sample line."""

    def __init__(self, wave: Waveform, behaviour: str = "ok", garble_every: int = 0,
                 measured_v: float | None = None):
        super().__init__()
        self.wave, self.behaviour, self.garble_every = wave, behaviour, garble_every
        self.measured_v = wave.supply_v if measured_v is None else measured_v
        self.freq = 100
        self.commands: list[str] = []

    def reply(self, line: str) -> None:
        self.write(f"PowerShield > {line}\r\n".encode())

    def stream(self) -> None:
        fs, w = self.freq, self.wave
        n = int(round(w.duration * fs))
        edges = sorted(int(math.floor(t * fs)) for t in (w.t_start, w.t_end))
        out, event = [], 0
        for k in range(n):
            if k and k % fs == 0:
                out.append(f"TimeStamp: {k // fs:03d}s 000ms, buff 00%")
            line = ascii_dec(w.energy(k / fs, (k + 1) / fs))
            if self.garble_every and k % self.garble_every == self.garble_every - 1:
                line = line[:2] + "#" + line[3:]
            out.append(line)
            while event < len(edges) and edges[event] == k:     # the edge fell inside sample k
                out.append(f"event {event} ris")
                event += 1
        self.write(("\r\n".join(out) + "\r\n").encode())

    def serve(self) -> None:
        buf = b""
        while not self.quitting:
            buf += self.read()
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                cmd = raw.decode().strip()
                self.commands.append(cmd)
                if not cmd or self.behaviour == "silent":
                    continue
                if self.behaviour == "garbage":
                    self.write(b"\x8f#@! ?? x\r\n")
                    continue
                if self.behaviour == f"reject:{cmd.split()[0]}":
                    self.reply(f"error {cmd}")
                    self.write(b"Error detail: argument out of range\r\n")
                    continue
                word = cmd.split()[0]
                if word == "freq":
                    arg = cmd.split()[1]
                    self.freq = int(arg[:-1]) * 1000 if arg.endswith("k") else int(arg)
                if word in ACK_ONLY or cmd.startswith("volt ") and cmd != "volt get":
                    self.reply(f"ack {cmd}")
                elif cmd == "volt get":
                    self.reply(f"ack volt get {ascii_dec(self.measured_v)}")
                elif cmd == "start":
                    self.reply("ack start")
                    self.stream()
                    self.done.set()
                elif cmd == "stop":
                    self.reply("Acquisition completed")
                else:
                    self.reply(f"error {cmd}")
                    self.write(b"Error detail: unknown command\r\n")
