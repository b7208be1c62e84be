"""The report's first table: the numbers a user judges a deployment by.

Device accuracy vs host, int8 vs float, the distillation gain, size, RAM,
latency and energy, each with its unit and where it comes from; "—" for what
was not measured. The detailed sections below repeat them with context.
"""
from __future__ import annotations

from .doc import Table
from .fmt import DASH, fmt_int, fmt_pct, fmt_points, is_num


def _bytes(v) -> str:
    return f"{fmt_int(v)} B" if is_num(v) else DASH


def _latency(d: dict) -> str:
    lat = d.get("latency") or {}
    if not is_num(lat.get("us_median")):
        return DASH
    clock = " (virtual clock)" if lat.get("clock") == "virtual" else ""
    return f"{lat['us_median']:,.1f} µs median{clock}; {fmt_int(lat.get('median'))} {lat.get('unit') or ''}"


def _energy(d: dict) -> str:
    en = d.get("energy") or {}
    if is_num(en.get("uj_per_inference")):
        return f"{en['uj_per_inference']:,.2f} µJ per inference ({en.get('status')})"
    return en.get("status") or "not measured"


def headline(m: dict) -> Table:
    a, d = m["accuracy"], m.get("device") or {}
    dev_ok = d.get("state") == "ok"
    dacc = (d.get("accuracy") or {}) if dev_ok else {}
    rows = []
    if dev_ok:
        where = f"{d.get('target')}{', emulated' if d.get('emulated') else ''}"
        if is_num(dacc.get("device")):
            rows.append([f"accuracy on the device ({where}) vs host TFLM",
                         f"{fmt_pct(dacc['device'])} vs {fmt_pct(dacc['host'])} "
                         f"({fmt_points(dacc['device'], dacc['host'])})"])
        if is_num(d.get("compared_samples")):
            same = d["compared_samples"] - (d.get("mismatched_samples") or 0)
            rows.append(["outputs bit-exact with the host", f"{fmt_int(same)} of {fmt_int(d['compared_samples'])}"])
    else:
        rows.append(["on the device", "not measured yet: `tinyml measure` (or `tinyml deploy`)"])
    if is_num(a.get("int8_tflm")):
        rows.append(["int8 vs float accuracy (host)",
                     f"{fmt_pct(a['int8_tflm'])} vs {fmt_pct(a.get('float'))} "
                     f"({fmt_points(a['int8_tflm'], a.get('float'))})"])
    if is_num(a.get("distilled")) and is_num(a.get("alone")):
        rows.append(["distillation gain (distilled − student trained alone)",
                     fmt_points(a["distilled"], a["alone"])])
    rows.append(["int8 model size", _bytes(m["model_bytes"]["tflite_int8"])])
    # The device's own planned arena when measured (the AOT plan is far smaller than TFLM's);
    # TFLM's host-measured arena is a different runtime's figure and says so.
    if dev_ok and is_num(d.get("arena_bytes")):
        rows.append([f"RAM for tensors on the device ({d.get('runtime') or 'its runtime'}, planned)",
                     _bytes(d["arena_bytes"])])
        rows.append(["RAM for tensors under TFLM (host-measured arena, recommended)",
                     _bytes(m["arena_bytes"]["recommended"])])
    else:
        rows.append(["RAM for tensors (TFLM arena, recommended)", _bytes(m["arena_bytes"]["recommended"])])
    if dev_ok and (is_num(d.get("flash_bytes")) or is_num(d.get("ram_bytes"))):
        rows.append(["firmware image, flash / static RAM", f"{_bytes(d.get('flash_bytes'))} / "
                                                            f"{_bytes(d.get('ram_bytes'))}"])
    rows.append(["latency per inference", _latency(d) if dev_ok else DASH])
    rows.append(["energy per inference", _energy(d) if dev_ok else "not measured"])
    return Table(["headline", "value"], rows)
