"""`tinyml deploy`: one command from data to a measured device.

pipeline (train, distill, prune, quantize, check; unchanged stages are reused)
-> export (refuses a model that does not fit the board, before writing)
-> PlatformIO build -> flash (boards) or boot the emulator -> measure -> report.

Each step is the library call its own command makes; this module only chains
them and turns a failed step into one clear error that says what is done and
how to finish (for example on a machine with internet, when PlatformIO could
not download a board's platform here).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..core.errors import BuildError
from .measure import MeasureOptions, measure


@dataclass
class DeployResult:
    run_dir: Path
    target: str
    results: dict
    flash_bytes: int
    ram_bytes: int
    seconds: dict
    inputs: str | None = None      # what the samples were, when not the dataset's test split


def _say(progress: Callable[[str], None] | None, msg: str) -> None:
    if progress is not None:
        progress(msg)


def deploy(cfg, target_name: str, port: str | None = None, runtime: str | None = None,
           project_dir: str | Path = ".", opts: MeasureOptions | None = None, force: bool = False,
           progress: Callable[[str], None] | None = print, model_path: str | Path | None = None,
           use_data: bool = True) -> DeployResult:
    """Chain the stages; with `model_path` the user's own int8 .tflite replaces the
    ML pipeline (checked on seeded random inputs unless `use_data`)."""
    from . import pipeline
    from .export import export
    from ..targets import get_target
    target = get_target(target_name)
    project_dir = Path(project_dir)
    run_dir = Path(cfg.run.runs_dir) / cfg.run.name
    secs: dict[str, float] = {}

    t = time.perf_counter()
    if model_path is not None:
        how = "the configured data" if use_data else "seeded random inputs (no accuracy without data)"
        _say(progress, f"[deploy] 1/5 host checks of {model_path} on {how}, run '{cfg.run.name}'")
        pipeline.check_model(cfg, model_path, force=force, progress=progress is not None,
                             use_data=use_data)
    else:
        _say(progress, f"[deploy] 1/5 pipeline for run '{cfg.run.name}' (unchanged stages are reused)")
        pipeline.run_pipeline(cfg, force=force, progress=progress is not None)
    secs["check" if model_path is not None else "pipeline"] = time.perf_counter() - t

    t = time.perf_counter()
    _say(progress, f"[deploy] 2/5 export for {target.name}")
    ex = export(run_dir, target.name, project_dir, runtime=runtime or cfg.export.runtime,
                model_id=cfg.export.model_id)
    secs["export"] = time.perf_counter() - t

    t = time.perf_counter()
    _say(progress, f"[deploy] 3/5 build ({ex.pio_env})")
    try:
        target.build(project_dir)
    except BuildError as e:
        if "no internet connection" in e.message:
            raise BuildError(
                f"{e.message.splitlines()[0]}\nThe model's C sources are generated in "
                f"{ex.generated_dir}; finish on a machine with internet, in {project_dir.resolve()}:",
                hint=(f"pio run -e {ex.pio_env} -t upload && tinyml measure --target {target.name} "
                      f"--run {cfg.run.name} --port <serial port>")) from None
        raise
    secs["build"] = time.perf_counter() - t

    t = time.perf_counter()
    if not target.emulated:
        port = port or target.find_port()
        _say(progress, f"[deploy] 4/5 flash {target.name} on {port}")
        target.flash(project_dir, port)
    else:
        _say(progress, f"[deploy] 4/5 {target.name} is emulated: the emulator boots the image")
    secs["flash"] = time.perf_counter() - t

    t = time.perf_counter()
    _say(progress, "[deploy] 5/5 measure on the device")
    res = measure(run_dir, target.name, port=port, project_dir=project_dir, opts=opts)
    secs["measure"] = time.perf_counter() - t
    return DeployResult(run_dir, target.name, res, ex.flash.total, ex.ram.total,
                        {k: round(v, 1) for k, v in secs.items()},
                        inputs=None if use_data else "seeded random inputs (no labels: no accuracy)")


def summary_lines(d: DeployResult) -> list[str]:
    """The measure headline plus what the firmware needs and where the report is."""
    from .measure import summary_lines as measured
    lines = measured(d.results)
    lines.insert(1, f"  {'firmware':<12} needs {d.flash_bytes:,} B flash, {d.ram_bytes:,} B RAM "
                    "(export estimate)")
    lines.insert(1, f"  {'model':<12} {_model_row(d.run_dir)}")
    if d.inputs:
        lines.insert(1, f"  {'inputs':<12} {d.inputs}")
    for i, row in enumerate(import_rows(d.run_dir)):
        lines.insert(2 + i, row)
    lines.append(f"  {'report':<12} {d.run_dir / 'report.html'}")
    lines.append(f"  {'seconds':<12} " + ", ".join(f"{k} {v:g}" for k, v in d.seconds.items()))
    return lines


def import_rows(run_dir: Path) -> list[str]:
    """How a model the user brought became int8: format, calibration, the layer that loses most."""
    import json
    try:
        imp = json.loads((run_dir / "import.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not imp.get("calibration"):
        return []
    rows = [f"  {'imported':<12} {imp.get('format')} -> full int8 on {imp['calibration']}"]
    worst = (imp.get("triage") or {}).get("worst")
    if worst:
        out = (imp.get("triage") or {}).get("output_sqnr_db")
        name = f"{worst['layer']} ({worst.get('op')})" if worst.get("layer") else worst.get("op")
        rows.append(f"  {'int8 error':<12} worst layer {name}, SQNR {worst.get('sqnr_db'):.1f} dB"
                    + (f"; output SQNR {out:.1f} dB" if isinstance(out, (int, float)) else ""))
    if imp.get("calibration_random"):
        rows.append(f"  {'WARNING':<12} calibrated on RANDOM inputs: int8 ranges are guesses and the "
                    "accuracy may be far from float's; give --calibration with real inputs")
    return rows


def _model_row(run_dir: Path) -> str:
    """int8 size and host accuracies from check.json (what the device is compared with)."""
    import json
    from ..report.fmt import fmt_int, fmt_pct, is_num
    try:
        m = json.loads((run_dir / "check.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "—"
    acc = m.get("accuracy") or {}
    row = f"{fmt_int((m.get('model') or {}).get('bytes'))} B int8 .tflite"
    if is_num(acc.get("int8_tflm")):
        row += f", host accuracy int8 {fmt_pct(acc['int8_tflm'])}"
        if is_num(acc.get("float")):
            row += f" vs float {fmt_pct(acc['float'])}"
    return row
