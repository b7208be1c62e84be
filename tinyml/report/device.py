"""The device part of the report, from results.json (schema: docs/RESULTS.md).

Headline first: accuracy on the device vs the host and the samples whose bytes
differ, latency, memory, energy. An energy estimate is labelled "estimated"
everywhere it appears; emulated instructions are never called cycles or time.
"""
from __future__ import annotations

import json
from typing import Any

from . import plots
from .doc import Block, Figure, Heading, Para, Table
from .fmt import DASH, fmt_1, fmt_int, fmt_lsb, fmt_mhz, fmt_pct, fmt_points, fmt_secs, fmt_triple, is_num
from .results import RESULTS_JSON, SAMPLES_JSONL, Results

MEASURE_CMD = "tinyml measure --target qemu_m4"
STATS = ("median", "p90", "max")
# Plot name -> PNG file; the report deletes those it did not draw this time.
PLOT_FILES = {"latency": "device_latency.png", "layers": "device_layers.png",
              "confusion": "device_confusion.png", "diff": "device_diff.png"}


def _num(v: Any) -> Any:
    return v if is_num(v) else None


def _short(sha: Any) -> str:
    return str(sha)[:12] if sha else DASH


# -- the numbers ----------------------------------------------------------------
def summary(res: Results, run_sha: str | None) -> dict[str, Any] | None:
    """metrics.json's `device` entry: null before any measurement."""
    if res.state == "missing":
        return None
    if res.state == "error":
        return {"state": "error", "error": res.error}
    d = res.data
    acc, be, lat, en = res.section("accuracy"), res.section("bit_exact"), res.section("latency"), \
        res.section("energy")
    per, us = lat.get("per_inference") or {}, lat.get("us") or {}
    sha = res.section("model").get("sha256")
    return {
        "state": "ok", "error": None,
        "target": d.get("target"), "emulated": d.get("emulated"), "created": d.get("created"),
        "samples": _num(res.section("samples").get("count")), "outputs": res.kind,
        "accuracy": {"device": _num(acc.get("device")), "host": _num(acc.get("host"))},
        "compared_samples": _num(be.get("compared")),
        "mismatched_samples": _num(be.get("mismatched_samples")),
        "max_abs_diff": _num(be.get("max_abs_diff")),
        "latency": {"unit": lat.get("unit"), **{k: _num(per.get(k)) for k in STATS},
                    **{f"us_{k}": _num(us.get(k)) for k in STATS},
                    "clock_hz": _num(lat.get("clock_hz")), "clock": lat.get("clock")},
        "energy": {"status": en.get("status") or "not measured",
                   "uj_per_inference": _num(en.get("uj_per_inference")),
                   "mean_power_mw": _num(en.get("mean_power_mw"))},
        "arena_bytes": _num((res.section("device").get("info") or {}).get("arena_bytes")),
        "flash_bytes": _num(res.section("memory").get("flash_bytes")),
        "ram_bytes": _num(res.section("memory").get("ram_bytes")),
        "runtime": (res.section("device").get("info") or {}).get("runtime"),
        "model_sha256": sha,
        "model_matches_run": (sha == run_sha) if sha and run_sha else None,
    }


def energy_text(en: dict) -> str:
    status = en.get("status") or "not measured"
    uj = en.get("uj_per_inference")
    if status == "measured":
        if not is_num(uj):
            return "measured, but no value recorded"
        power = f"mean {en['mean_power_mw']:.2f} mW" if is_num(en.get("mean_power_mw")) else ""
        if power and is_num(en.get("supply_v")):
            power += f" at {en['supply_v']:.2f} V"
        extra = "; ".join(x for x in (power, f"meter {en['meter']}" if en.get("meter") else "") if x)
        return f"{uj:,.2f} µJ per inference, measured" + (f" ({extra})" if extra else "")
    if status == "estimated":
        basis = f"; basis: {en['basis']}" if en.get("basis") else ""
        val = f"≈ {uj:,.2f} µJ per inference" if is_num(uj) else "no value"
        return f"estimated, not measured: {val}{basis}"
    why = en.get("basis") or "no power meter"
    return f"not measured ({why}; `tinyml measure --power METER`)"


def _clock_phrase(lat: dict) -> str:
    hz = lat.get("clock_hz")
    if not is_num(hz):
        return ""
    if lat.get("clock") == "virtual":
        return f" of a declared {fmt_mhz(hz)} virtual clock (emulated, not a real chip)"
    return f" at {fmt_mhz(hz)}"


def _samples_text(res: Results) -> str:
    s = res.section("samples")
    extra = [x for x in (f"requested: {s['requested']}" if s.get("requested") is not None else "",
                         f"{s['path']} path" if s.get("path") else "") if x]
    return fmt_int(s.get("count")) + (f": {s['data']}" if s.get("data") else "") + \
        (f" ({'; '.join(extra)})" if extra else "")


def _memory_rows(res: Results) -> list[list[str]]:
    info = res.section("device").get("info") or {}
    mem = res.section("memory")
    rows = []
    if is_num(info.get("arena_bytes")) or is_num(info.get("arena_used_bytes")):
        rows.append(["tensor arena on the device, planned / used (bytes)",
                     f"{fmt_int(info.get('arena_bytes'))} / {fmt_int(info.get('arena_used_bytes'))}"])
    if is_num(mem.get("flash_bytes")) or is_num(mem.get("ram_bytes")):
        src = f" ({mem['source']})" if mem.get("source") else ""
        rows.append(["firmware image, flash / static RAM (bytes)",
                     f"{fmt_int(mem.get('flash_bytes'))} / {fmt_int(mem.get('ram_bytes'))}{src}"])
    return rows


def headline_table(res: Results) -> Table:
    acc, be, lat = res.section("accuracy"), res.section("bit_exact"), res.section("latency")
    unit = lat.get("unit") or "counts"
    if res.kind == "classes":
        rows = [["accuracy on the device", fmt_pct(acc.get("device"))],
                ["accuracy on the host (int8, TFLM), same samples", fmt_pct(acc.get("host"))],
                ["device − host", fmt_points(acc.get("device"), acc.get("host"))]]
    else:      # values (an autoencoder, a regression): bit-exactness leads, no empty accuracy box
        rows = []
    mism = be.get("mismatched_samples")
    diff = f"; max |Δ| {fmt_lsb(be['max_abs_diff'])}" if is_num(be.get("max_abs_diff")) else ""
    rows.append(["samples whose output bytes differ from the host",
                 f"{fmt_int(mism)} of {fmt_int(be.get('compared'))}{diff}" if is_num(mism) else DASH])
    per, us = lat.get("per_inference") or {}, lat.get("us") or {}
    runs = f", {lat['runs']} runs" if is_num(lat.get("runs")) else ""
    rows.append([f"latency median / p90 / max ({unit}{runs})",
                 fmt_triple([per.get(k) for k in STATS], unit)])
    if any(is_num(us.get(k)) for k in STATS):
        rows.append(["latency median / p90 / max (µs)",
                     fmt_triple([us.get(k) for k in STATS], "µs", fmt_1) + _clock_phrase(lat)])
    rows += _memory_rows(res)
    rows.append(["energy per inference", energy_text(res.section("energy"))])
    rows.append(["samples measured", _samples_text(res)])
    return Table(["on the device", "value"], rows)


def energy_table(en: dict) -> Table:
    status = en.get("status") or "not measured"
    tag = " (estimated)" if status == "estimated" else ""

    def val(v: Any, fmt: str, unit: str) -> str:
        return f"{format(v, fmt)} {unit}{tag}" if is_num(v) else DASH
    rows = [["status", status],
            ["energy per inference", val(en.get("uj_per_inference"), ",.2f", "µJ")],
            ["mean power", val(en.get("mean_power_mw"), ".2f", "mW")],
            ["supply voltage", val(en.get("supply_v"), ".2f", "V")],
            ["meter", str(en.get("meter") or DASH)]]
    if is_num(en.get("window_s")) or is_num(en.get("inferences")):
        rows.append(["timed window / inferences in it",
                     f"{val(en.get('window_s'), '.3f', 's')} / {fmt_int(en.get('inferences'))}"])
    rows.append(["basis (estimated from)" if tag else "basis", str(en.get("basis") or DASH)])
    return Table(["energy", "value"], rows)


def layers_table(items: list[dict], unit: str) -> Table:
    counts = [it.get("count") for it in items]
    total = sum(c for c in counts if is_num(c))
    rows = [[str(it.get("index")), str(it.get("op")), fmt_int(it.get("count")),
             fmt_pct(it["count"] / total, 1) if total and is_num(it.get("count")) else DASH] for it in items]
    rows.append(["", "total", fmt_int(total), fmt_pct(1.0, 1) if total else DASH])
    return Table(["#", "op", unit, "share"], rows)


def _layers_share(items: list[dict], lat: dict) -> float | None:
    """Layers' total as a percentage of the median inference (same unit only)."""
    total = sum(it["count"] for it in items if is_num(it.get("count")))
    median = (lat.get("per_inference") or {}).get("median")
    return 100.0 * total / median if is_num(median) and median > 0 and total else None


def _journal_samples(res: Results) -> int | None:
    """Distinct samples in the per-sample journal (its first line is a header)."""
    name = res.section("samples").get("journal") or SAMPLES_JSONL
    p = res.path.with_name(str(name)) if res.path else None
    if p is None or not p.is_file():
        return None
    seen = set()
    with open(p, encoding="utf-8", errors="replace") as f:
        for ln in f:
            try:
                rec = json.loads(ln)
            except ValueError:
                continue                 # a line cut short by an interruption
            if isinstance(rec, dict) and isinstance(rec.get("i"), int):
                seen.add(rec["i"])
    return len(seen)


def details_table(res: Results) -> Table:
    d, dev, model = res.data, res.section("device"), res.section("model")
    info = dev.get("info") or {}
    lat, wall = res.section("latency"), res.section("wall_seconds")
    journal = _journal_samples(res)
    rows = [
        ["target", f"{d.get('target') or DASH}" + (" (emulated)" if res.emulated else "")],
        ["port", str(d.get("port") or DASH)],
        ["board", str(info.get("board") or DASH)],
        ["device / profile", f"{dev.get('name') or DASH} / {dev.get('profile') or DASH}"],
        ["runtime / kernel path", f"{info.get('runtime') or DASH} / {info.get('kernel_path') or DASH}"],
        ["counter unit", str(lat.get("unit") or info.get("counter_unit") or DASH)],
        ["clock", (fmt_mhz(lat.get("clock_hz")) + (f" ({lat['clock']})" if lat.get("clock") else ""))
         if is_num(lat.get("clock_hz")) else DASH],
        ["timed runs / warm-up", f"{fmt_int(lat.get('runs'))} / {fmt_int(lat.get('warmup'))}"],
        ["model", f"{model.get('file') or DASH}, sha256 {_short(model.get('sha256'))}…"],
        ["model MACs / input / output bytes",
         f"{fmt_int(model.get('macs'))} / {fmt_int(model.get('input_bytes'))} / {fmt_int(model.get('output_bytes'))}"],
        ["measured", f"{d.get('created') or DASH} by tinyml {d.get('tinyml_version') or DASH}"],
        ["wall time total / samples / latency",
         " / ".join(fmt_secs(wall.get(k)) for k in ("total", "samples", "latency"))],
        ["per-sample records", f"{res.section('samples').get('journal') or SAMPLES_JSONL} "
                               f"({journal} samples)" if journal is not None else DASH],
    ]
    link = d.get("link") if isinstance(d.get("link"), dict) else {}
    if is_num(link.get("recoveries")):
        rows.append(["link recoveries (re-syncs, reopened port)", fmt_int(link["recoveries"])])
    if is_num(link.get("resent_samples")):
        rows.append(["samples asked for again (garbled or lost lines)", fmt_int(link["resent_samples"])])
    return Table(["measurement", "value"], rows)


# -- warnings -------------------------------------------------------------------
def _mismatch_ids(first: list) -> str:
    ids = [str(x.get("i")) if isinstance(x, dict) else str(x) for x in first[:10]]
    return ", ".join(ids)


def warnings(res: Results, run_name: str, run_sha: str | None) -> list[Para]:
    out = []
    d, be = res.data, res.section("bit_exact")
    if d.get("run") and d["run"] != run_name:
        out.append(Para(f"{RESULTS_JSON} is for run '{d['run']}', this report is run '{run_name}'.", "warn"))
    sha = res.section("model").get("sha256")
    if sha and run_sha and sha != run_sha:
        out.append(Para(f"the device measured model sha256 {_short(sha)}…, but this run's model_int8.tflite "
                        f"is {_short(run_sha)}…: the device numbers are stale; measure again "
                        f"(`{MEASURE_CMD}`).", "warn"))
    mism = be.get("mismatched_samples")
    if is_num(mism) and mism > 0:
        first = be.get("first_mismatches") or []
        ids = f" First: {_mismatch_ids(first)}." if first else ""
        out.append(Para(f"{mism} samples' output bytes differ from the host TFLM runtime: the device does not "
                        f"compute what the host does.{ids}", "warn"))
    return out


# -- figures and blocks -----------------------------------------------------------
def figures(res: Results) -> dict[str, Figure]:
    if res.state != "ok":
        return {}
    lat = res.section("latency")
    unit = lat.get("unit") or "counts"
    layers = res.section("layers")
    acc = res.section("accuracy")
    drawn = {
        "latency": (plots.latency(lat, unit), "latency distribution"),
        "layers": (plots.layers(layers.get("items") or [], layers.get("unit") or unit), "per-layer profile"),
    }
    if res.kind == "classes":
        drawn["confusion"] = (plots.confusion(acc.get("confusion"), acc.get("labels")), "confusion matrix")
    else:
        per = res.section("bit_exact").get("per_sample_max_abs_diff") or []
        drawn["diff"] = (plots.diff_histogram(per), "output difference per sample")
    return {k: Figure(PLOT_FILES[k], png, alt) for k, (png, alt) in drawn.items() if png is not None}


def not_measured_blocks() -> list[Block]:
    return [Heading(2, "On the device"),
            Para(f"The device was not measured yet: there is no {RESULTS_JSON} in this run folder. "
                 f"Run `{MEASURE_CMD}` (emulated Cortex-M4, offline, no hardware), or "
                 "`tinyml measure --port PORT` for a connected board. It writes "
                 f"{RESULTS_JSON}; `tinyml report --force` then shows the device's numbers here.")]


def device_blocks(res: Results, run_name: str, run_sha: str | None, figs: dict[str, Figure]) -> list[Block]:
    if res.state == "missing":
        return not_measured_blocks()
    if res.state == "error":
        return [Heading(2, "On the device"),
                Para(f"{RESULTS_JSON} could not be read, so no device numbers are shown: {res.error}. "
                     f"Measure again (`{MEASURE_CMD}`).", "warn")]
    d, lat, layers = res.data, res.section("latency"), res.section("layers")
    where = f"{d.get('target') or 'device'}" + (" (emulated)" if res.emulated else "")
    out: list[Block] = [Heading(2, f"On the device: {where}"), headline_table(res)]
    out += warnings(res, run_name, run_sha)
    if lat.get("note"):
        out.append(Para(str(lat["note"]), "note"))
    if (res.section("energy").get("status")) == "estimated":
        out.append(Para("The energy figure is estimated from latency and datasheet power, not measured "
                        "with a meter.", "note"))
    spread = plots.latency_spread(lat)
    if "latency" in figs:
        out += [Heading(3, "Latency"), figs["latency"]]
    elif spread is not None:
        width, frac = spread
        med = (lat.get("per_inference") or {}).get("median")
        unit = lat.get("unit") or "counts"
        out += [Heading(3, "Latency"),
                Para(f"Every timed run took {fmt_int(med)} {unit} (median); the runs differ by at most "
                     f"{fmt_int(width)} {unit} ({100 * frac:.2f} %), so no plot is drawn.")]
    items = layers.get("items") or []
    if items:
        unit = layers.get("unit") or lat.get("unit") or "counts"
        out.append(Heading(3, "Per-layer profile"))
        if "layers" in figs:
            out.append(figs["layers"])
        out.append(layers_table(items, unit))
        share = _layers_share(items, lat)
        if share is not None:
            out.append(Para(f"The layers add up to {share:.1f} % of the median inference; the rest is "
                            "spent outside the ops (runtime and harness around them).", "note"))
    if "confusion" in figs:
        out += [Heading(3, "Confusion matrix"), figs["confusion"],
                Para("Rows: true label; columns: the class the device predicted.", "note")]
    if "diff" in figs:
        out += [Heading(3, "Output difference per sample"), figs["diff"]]
    en = res.section("energy")
    out.append(Heading(3, "Energy"))
    if (en.get("status") or "not measured") == "not measured":
        out.append(Para(f"Energy: {energy_text(en)}."))
    else:
        out.append(energy_table(en))
    out += [Heading(3, "Measurement details"), details_table(res)]
    return out
