"""Shared protocol cases for the harness tests (host gcc build and QEMU).

BAD_COMMANDS: (setup commands, bad command, substring of the expected e-[...]).
Each must be answered by exactly one e-[...] line and m-ready, and leave the
device able to serve a correct inference afterwards.
"""
from __future__ import annotations

BAD_COMMANDS: list[tuple[list[str], str, str]] = [
    ([], "db load 99999999", "exceeds the buffer"),
    ([], "db load 1000000000000", "decimal byte count"),
    ([], "db load abc", "decimal byte count"),
    ([], "db load -5", "decimal byte count"),
    ([], "db load 0", "must be >0"),
    ([], "db load", "decimal byte count"),
    ([], "db", "needs a subcommand"),
    ([], "db 00", "before db load"),
    (["db load 4"], "db zz", "Invalid hex digit"),
    (["db load 4"], "db 0g", "Invalid hex digit at 1"),
    (["db load 4"], "db 012", "odd number"),
    (["db load 4"], "db 0011223344", "too many bytes"),
    (["db load 4", "db 00112233"], "db 44", "already full"),
    (["db load 4"], "db 00 11", "one run of hex"),
    (["db load 64", "db " + "00" * 10], "infer 1 0", "input incomplete: 10 of 64"),
    (["db load 8", "db " + "00" * 8], "infer 1 0", "model input is 64 bytes"),
    ([], "infer 1 0", "input incomplete: 0 of 0"),
    ([], "infer abc", "decimal numbers"),
    ([], "infer 1 -1", "decimal numbers"),
    ([], "infer 0", "must be >0"),
    ([], "infer 4294967295 1", "decimal numbers"),
    ([], "infer 100000 1", "must be <="),
    ([], "results", "no results yet"),
    ([], "layers", "no inference yet"),
    (["db load 4", "db 00112233"], "db print 5", "range exceeds"),
    (["db load 4", "db 00112233"], "db print 1 4", "range exceeds"),
    (["db load 4", "db 00112233"], "db print x", "decimal numbers"),
    ([], "frobnicate", "Unknown command: frobnicate"),
    ([], "", "empty command"),
    ([], "   ", "empty command"),
    ([], "name a b c d e", "too many arguments"),
    ([], "x" * 600, "command too long"),
    ([], "\x01\x02\x7f", "Unknown command: ???"),
]
