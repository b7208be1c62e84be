"""`tinyml measure`: on-device accuracy, bit-exactness, latency (and energy) of a
run's int8 model, through the EEMBC / MLPerf Tiny protocol.

Flow: open the device (boot the emulator, or a board's port) -> handshake (name,
profile, info; refuse a device whose model hash is not the run's) -> every test
sample (testset.npz, written by `check`) through the device, each output compared
byte for byte with the TFLM host runtime's -> repeated timed runs -> per-layer
profile -> energy -> results.json and the report.

Samples travel by UART (`db` upload, CRC-checked) or, on emulators, by the fast
path: the device reads them from a host file itself (`bulk`, semihosting) and
returns only results. Each sample's result is appended to results.samples.jsonl
as it arrives, so an interrupted measurement resumes where it stopped.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from ..core import atomic
from ..model import golden
from ..core.errors import DataError, DeviceError, ModelError
from ..harness import protocol as P
from ..harness.session import DeviceSession
from ..core.progress import Progress

RESULTS_JSON = "results.json"
SAMPLES_JSONL = "results.samples.jsonl"
TESTSET = "testset.npz"
MODEL = "model_int8.tflite"
SCHEMA_VERSION = 1
BULK_BATCH = 64


@dataclass
class MeasureOptions:
    samples: int | None = None        # None: all of the test split
    latency_runs: int = 20
    warmup: int = 3
    fast: bool | None = None          # None: the fast path where the device offers it
    power: str = "none"
    power_options: dict = field(default_factory=dict)
    retries: int = 3
    progress: bool = True


# ------------------------------------------------------------------ journal

class Journal:
    """results.samples.jsonl: a header line, then one line per measured sample, and
    a last line {"complete": true} once the measurement finished. Only an
    unfinished journal of the same model, target and sample set is resumed; any
    other is set aside (.old) and the measurement starts afresh."""

    def __init__(self, path: Path, header: dict):
        self.path, self.header = path, header
        self.done: dict[int, dict] = {}
        if path.exists():
            lines = path.read_text(errors="replace").splitlines()
            try:
                same = json.loads(lines[0]).get("header") == header if lines else False
            except ValueError:
                same = False
            if same:
                for ln in lines[1:]:
                    try:
                        rec = json.loads(ln)
                        if rec.get("complete"):
                            same, self.done = False, {}
                            break
                        self.done[int(rec["i"])] = rec
                    except (ValueError, KeyError, TypeError, AttributeError):
                        pass          # a line cut short by an interruption
            if not same:
                os.replace(path, path.with_suffix(".jsonl.old"))
        if not path.exists() or not self.done:
            atomic.write_text(path, json.dumps({"header": header}) + "\n")
            self.done = {}
        self._f = open(path, "a", encoding="utf-8")

    def add(self, rec: dict) -> None:
        self.done[int(rec["i"])] = rec
        self._f.write(json.dumps(rec) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def finish(self) -> None:
        self._f.write(json.dumps({"complete": True}) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()


# ------------------------------------------------------------------ device

@dataclass
class Device:
    session: DeviceSession
    address: str
    emulated: bool
    stop: Callable[[], None] = lambda: None


def open_device(target, project_dir: Path, port: str | None, retries: int) -> Device:
    """Boot the target's emulator (no port given) or open a board's port."""
    from ..harness.transport import open_transport
    if port:
        sess = DeviceSession(lambda: open_transport(port), port, retries=retries)
        return Device(sess, port, emulated=False)
    if not target.emulated:
        raise DeviceError(f"target '{target.name}' is a real board: give its serial port with --port",
                          hint="e.g. --port /dev/ttyUSB0 (see `pyserial-ports`)")
    elf = target.elf_path(project_dir)
    if not elf.is_file():
        raise DeviceError(f"no firmware at {elf}",
                          hint=f"tinyml export --target {target.name} && tinyml build --target {target.name}")
    emu = target.emulate(elf)
    sess = DeviceSession(lambda: open_transport(emu.address), emu.address, retries=retries)

    def stop() -> None:
        sess.close()
        emu.stop()
    return Device(sess, emu.address, emulated=True, stop=stop)


# ------------------------------------------------------------------ helpers

def _crc(b: bytes) -> int:
    return zlib.crc32(b) & 0xFFFFFFFF


def _stats(values: list[float]) -> dict:
    a = np.asarray(values, np.float64)
    return {"min": float(a.min()), "median": float(np.median(a)),
            "p90": float(np.percentile(a, 90)), "max": float(a.max())}


def _load_run(run_dir: Path) -> tuple[str, golden.Golden]:
    model = run_dir / MODEL
    if not model.is_file():
        raise DataError(f"{model} does not exist", hint="run `tinyml pipeline` (or check --model) first")
    from ..core.runs import sha256_file
    sha = sha256_file(model)
    ts_path = run_dir / TESTSET
    if not ts_path.is_file():
        raise DataError(f"{ts_path} does not exist (runs checked before `measure` existed lack it)",
                        hint="re-run `tinyml check` for this run")
    ts = golden.load(ts_path)
    if ts.model_sha256 != sha:
        raise ModelError(f"{ts_path} belongs to model {ts.model_sha256[:12]}, but {model} is {sha[:12]}",
                         hint="re-run `tinyml check` for this run")
    return sha, ts


def _kind(ts: golden.Golden) -> str:
    per_out = int(np.prod(ts.outputs.shape[1:]))
    return "classes" if per_out > 1 and (ts.labels >= 0).all() else "values"


# ------------------------------------------------------------------ passes

def _handshake(sess: DeviceSession, sha: str) -> dict:
    name = sess.call("name", lambda d: d.name())
    profile, model_id = sess.call("profile", lambda d: d.profile())
    seen: list[str] = []
    for _ in range(sess.retries + 2):
        info = sess.call("info", lambda d: d.build_info())
        dev_sha = str(info.get("model_sha256", ""))
        if dev_sha == sha:
            break
        if dev_sha in seen:           # the same other hash twice: not a garbled line
            raise DeviceError(f"the device at {sess.address} runs model {dev_sha[:12] or '(unknown)'}, "
                              f"but this run's model is {sha[:12]}",
                              hint="export and build this run's model, then flash or restart it: "
                                   "tinyml export ... && tinyml build ...")
        seen.append(dev_sha)
    else:
        raise DeviceError(f"the device at {sess.address} never reported a readable model hash",
                          hint="check the link (baud rate, cable)")
    if str(info.get("harness", "")).startswith("tinyml-harness"):
        sess.strict = True            # its output lines carry CRCs: require them
        if sess.dut is not None:
            sess.dut.raw_crc_required = True
    return {"name": name, "profile": profile, "model_id": model_id, "info": info}


def _sample_record(i: int, raw, host: np.ndarray, label: int, count: int | None, path: str) -> dict:
    raw = [int(v) for v in raw]
    return {"i": i, "label": int(label), "raw": raw, "host": host.reshape(-1).astype(int).tolist(),
            "match": raw == host.reshape(-1).astype(int).tolist(), "count": count, "path": path}


def _run_bulk(sess: DeviceSession, ts: golden.Golden, todo: list[int], journal: Journal,
              file: str, prog: Progress, link: dict) -> list[int]:
    """Fast path; returns the samples it could not get (left for the UART path)."""
    crcs = {i: _crc(ts.inputs[i].tobytes()) for i in todo}
    pending = list(todo)
    for _ in range(sess.retries + 1):
        if not pending:
            break
        missed = []
        runs = _contiguous(pending)
        for first, count in runs:
            for lo in range(first, first + count, BULK_BATCH):
                n = min(BULK_BATCH, first + count - lo)
                got = sess.call(f"bulk {lo} {n}", lambda d, lo=lo, n=n: d.bulk(file, lo, n))
                by_i = {s.index: s for s in got if s.index in crcs and s.input_crc == crcs[s.index]}
                for i in range(lo, lo + n):
                    if i in journal.done:
                        continue
                    s = by_i.get(i)
                    if s is None:           # garbled, or lost to a reset: ask again
                        missed.append(i)
                        continue
                    journal.add(_sample_record(i, s.raw, ts.outputs[i], ts.labels[i], s.count, "fast"))
                    prog.update(1)
        link["resent_samples"] += len(missed)
        pending = missed
    return pending


def _contiguous(idx: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in sorted(idx):
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((i, 1))
    return runs


def _run_uart(sess: DeviceSession, ts: golden.Golden, todo: list[int], journal: Journal,
              prog: Progress) -> None:
    for i in todo:
        x = ts.inputs[i].tobytes()

        def one(d, x=x):
            d.load_input(x)
            return d.infer(1, 0)
        r = sess.call(f"sample {i}", one)
        journal.add(_sample_record(i, r.raw, ts.outputs[i], ts.labels[i],
                                   int(r.counter.total), "uart"))
        prog.update(1)


def _accuracy(ts: golden.Golden, recs: list[dict], kind: str) -> tuple[dict | None, dict]:
    raw = np.array([r["raw"] for r in recs], np.int64)
    host = np.array([r["host"] for r in recs], np.int64)
    diff = np.abs(raw - host).max(axis=1) if len(recs) else np.zeros(0, np.int64)
    mism = [r["i"] for r in recs if not r["match"]]
    exact = {"compared": len(recs), "mismatched_samples": len(mism),
             "max_abs_diff": int(diff.max()) if diff.size else 0, "first_mismatches": mism[:20]}
    if kind != "classes":
        exact["per_sample_max_abs_diff"] = diff.astype(int).tolist()
        return None, exact
    labels = np.array([r["label"] for r in recs], np.int64)
    classes = raw.shape[1]
    dev, hst = raw.argmax(axis=1), host.argmax(axis=1)
    conf = np.zeros((classes, classes), np.int64)
    np.add.at(conf, (labels, dev), 1)
    return {"device": float((dev == labels).mean()), "host": float((hst == labels).mean()),
            "classes": int(classes), "confusion": conf.tolist()}, exact


def _latency(sess: DeviceSession, ts: golden.Golden, opts: MeasureOptions, info: dict,
             bulk_file: str | None, emulated: bool) -> tuple[dict, dict | None]:
    """Repeated timed runs of sample 0, then its per-layer profile."""
    loaded = [False]          # a device that failed may have been reset: load again

    def infer(n: int, w: int, then=None):
        def fn(d):
            if not loaded[0]:
                if bulk_file:
                    d.bulk(bulk_file, 0, 1)          # leaves sample 0 loaded
                else:
                    d.load_input(ts.inputs[0].tobytes())
                loaded[0] = True
            try:
                r = d.infer(n, w)
                return r if then is None else then(d)
            except DeviceError:
                loaded[0] = False
                raise
        return sess.call(f"infer {n} {w} (sample 0)", fn)

    infer(1, opts.warmup)
    counts, laps = [], []
    for _ in range(opts.latency_runs):
        r = infer(1, 0)
        counts.append(r.counter.per_inference)
        laps.append(r.elapsed_us)
    unit = str(info.get("counter_unit", "us"))
    clock_hz = int(info.get("clock_hz", 0) or 0)
    if unit == "us":
        us = [float(c) for c in counts]
    elif clock_hz:
        us = [c * 1e6 / clock_hz for c in counts]
    else:
        us = [float(v) for v in laps]
    clock = str(info.get("clock", "device"))
    note = (f"emulated instructions (QEMU -icount); µs of a declared {clock_hz / 1e6:g} MHz "
            "virtual clock at one instruction per cycle, not a real chip"
            if emulated or clock == "virtual" else f"{unit} of the device counter")
    return {"unit": unit, "runs": opts.latency_runs, "warmup": opts.warmup,
            "per_inference": _stats(counts), "us": _stats(us), "clock_hz": clock_hz,
            "clock": "virtual" if (emulated or clock == "virtual") else "device",
            "samples_per_inference": [float(c) for c in counts], "note": note}, infer(1, 0, _layers)


def _layers(d) -> dict | None:
    """Per-layer profile of the inference just run; None for builds without one."""
    lines = d.command("layers", check=False)
    errs = P.errors(lines)
    if errs and "TM_ENABLE_PROFILE" in errs[0]:
        return None
    P.raise_on_error("layers", lines)
    items, unit = P.parse_layers(lines)
    return {"unit": unit, "items": [{"index": x.index, "op": x.op, "count": x.count} for x in items]}


# ------------------------------------------------------------------ entry point

def measure(run_dir: str | Path, target_name: str, port: str | None = None,
            project_dir: str | Path = ".", opts: MeasureOptions | None = None,
            device: Device | None = None) -> dict:
    """Measure the run's model on a device; writes results.json (+ the journal) into
    the run folder and returns the results. `device` overrides how it is opened
    (tests pass a fault-injecting one)."""
    from ..targets import get_target
    opts = opts or MeasureOptions()
    run_dir, project_dir = Path(run_dir), Path(project_dir)
    t_start = time.perf_counter()
    sha, ts = _load_run(run_dir)
    n_all = len(ts)
    count = n_all if opts.samples is None else max(1, min(int(opts.samples), n_all))
    target = get_target(target_name)
    kind = _kind(ts)
    header = {"model_sha256": sha, "target": target.name, "testset_crc32": _crc(ts.inputs.tobytes())}
    journal = Journal(run_dir / SAMPLES_JSONL, header)
    dev = device or open_device(target, project_dir, port, opts.retries)
    tmp = Path(tempfile.mkdtemp(prefix="tinyml-measure-"))
    wall: dict[str, float] = {}
    link = {"resent_samples": 0}
    try:
        hs = _handshake(dev.session, sha)
        todo = [i for i in range(count) if i not in journal.done]
        bulk_file = None
        use_fast = dev.emulated if opts.fast is None else opts.fast
        t = time.perf_counter()
        with Progress("measure", total=count, unit="sample", enabled=opts.progress) as prog:
            prog.update(count - len(todo))
            if use_fast:
                bulk_file = str(tmp / "samples.bin")
                Path(bulk_file).write_bytes(np.ascontiguousarray(ts.inputs, np.int8).tobytes())
                try:
                    todo = _run_bulk(dev.session, ts, todo, journal, bulk_file, prog, link)
                except DeviceError as e:
                    if opts.fast or "no host file access" not in str(e):
                        raise
                    bulk_file = None       # this device has no fast path: use the UART
            _run_uart(dev.session, ts, todo, journal, prog)
        wall["samples"] = time.perf_counter() - t
        t = time.perf_counter()
        latency, layers = _latency(dev.session, ts, opts, hs["info"], bulk_file, dev.emulated)
        energy = _energy(dev.session, target, latency, opts, dev.emulated)
        wall["latency"] = time.perf_counter() - t
        journal.finish()
    finally:
        journal.close()
        dev.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    recs = [journal.done[i] for i in range(count)]
    accuracy, exact = _accuracy(ts, recs, kind)
    wall["total"] = time.perf_counter() - t_start
    results = {
        "schema": "tinyml-results", "schema_version": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tinyml_version": __version__, "run": run_dir.name, "target": target.name,
        "port": port or dev.address, "emulated": dev.emulated,
        "device": hs,
        "model": {"file": MODEL, "sha256": sha, "input_bytes": int(np.prod(ts.inputs.shape[1:])),
                  "output_bytes": int(np.prod(ts.outputs.shape[1:])),
                  "macs": hs["info"].get("macs")},
        "samples": {"count": count, "requested": "all" if opts.samples is None else int(opts.samples),
                    "path": "fast" if bulk_file else "uart", "data": f"test split ({n_all} samples)",
                    "journal": SAMPLES_JSONL},
        "outputs": {"kind": kind},
        "accuracy": accuracy, "bit_exact": exact, "latency": latency, "layers": layers,
        "energy": energy,
        "link": {"recoveries": dev.session.recoveries, **link},
        "wall_seconds": {k: round(v, 2) for k, v in wall.items()},
    }
    atomic.write_json(run_dir / RESULTS_JSON, results)
    if (run_dir / "manifest.json").is_file():
        from ..report.render import write_report
        write_report(run_dir)           # the device section goes to the top of the report
    return results


def _energy(sess: DeviceSession, target, latency: dict, opts: MeasureOptions,
            emulated: bool) -> dict:
    """Measured with a meter over a timed window the firmware marks with its trigger
    pin; without one, an estimate from the datasheet labelled "estimated"."""
    from ..harness import power
    if opts.power == "none":
        if emulated:
            return power.not_measured("an emulator draws no power; energy needs a board "
                                      "and a meter (--power)").to_dict()
        return power.estimate_energy(latency["us"]["median"] / 1e6, board=target.name).to_dict()
    window_s = 2.0
    n = max(1, int(window_s * 1e6 / max(latency["us"]["median"], 1.0)))
    meter = power.get_meter(opts.power, **opts.power_options)
    with meter:
        meter.start()
        sess.call(f"infer {n} 1 (energy window)", lambda d: d.infer(n, 1, timeout=60 + 4 * window_s))
        trace = meter.stop()
    return power.energy_per_inference(trace, inferences=n).to_dict()


def summary_lines(r: dict) -> list[str]:
    """The headline numbers, aligned, units stated."""
    from ..report.fmt import fmt_pct
    lat, ex, acc, en = r["latency"], r["bit_exact"], r["accuracy"], r["energy"]
    rows = [("target", f"{r['target']}" + (" (emulated)" if r["emulated"] else ""))]
    if acc:
        rows.append(("accuracy", f"device {fmt_pct(acc['device'])}  host {fmt_pct(acc['host'])}  "
                                 f"({r['samples']['count']} samples)"))
    rows.append(("bit-exact", f"{ex['compared'] - ex['mismatched_samples']}/{ex['compared']} samples "
                              f"match the host TFLM runtime"))
    pi, us = lat["per_inference"], lat["us"]
    rows.append(("latency", f"median {pi['median']:,.0f} {lat['unit']}  = {us['median']:,.1f} µs"
                            + (" (virtual clock)" if lat["clock"] == "virtual" else "")
                            + f"  p90 {us['p90']:,.1f} µs  max {us['max']:,.1f} µs"))
    if en["status"] == "not measured":
        rows.append(("energy", "not measured" + (f": {en['basis']}" if en.get("basis") else "")))
    else:
        rows.append(("energy", f"{en['uj_per_inference']:.2f} µJ/inference ({en['status']})"))
    rows.append(("samples via", f"{r['samples']['path']} path, {r['wall_seconds']['total']:.1f} s wall"))
    return [f"  {k:<12} {v}" for k, v in rows]


# ------------------------------------------------------------------ MLPerf Tiny runner

def write_mlperf_dataset(run_dir: str | Path, out_dir: str | Path, samples: int | None = None) -> Path:
    """The official runner's dataset folder for this run's test split: one .bin of
    int8 input bytes per sample and y_labels.csv ("file,classes,label")."""
    _, ts = _load_run(Path(run_dir))
    if _kind(ts) != "classes":
        raise DataError("the MLPerf Tiny dataset format here covers classifiers (labels known)")
    n = len(ts) if samples is None else max(1, min(samples, len(ts)))
    out_dir = Path(out_dir)
    classes = int(np.prod(ts.outputs.shape[1:]))
    with atomic.staging_dir(out_dir, "mlperf") as tmp:
        rows = []
        for i in range(n):
            name = f"tm_{i:05d}.bin"
            (tmp / name).write_bytes(np.ascontiguousarray(ts.inputs[i], np.int8).tobytes())
            rows.append(f"{name},{classes},{int(ts.labels[i])}")
        (tmp / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return out_dir
