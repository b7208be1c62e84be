"""Command line: thin click commands over library calls.

Heavy modules (TensorFlow above all) are imported inside the commands, so
`tinyml --help` stays instant.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .errors import ConfigError, TinymlError
from .targets.budget import RUNTIMES


def _handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TinymlError as e:
            click.secho(f"error: {e}", fg="red", err=True)
            sys.exit(e.exit_code)
        except OSError as e:          # full disk, read-only folder, ...: one line, no traceback
            from .errors import from_os_error
            err = from_os_error(e)
            click.secho(f"error: {err}", fg="red", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:
            click.secho("interrupted; no partial artifacts were kept", fg="yellow", err=True)
            sys.exit(130)
    return wrapper


def _run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False),
                      help="TOML config file (defaults are used for anything it leaves out).")(fn)
    fn = click.option("--run", "-r", "run_name", help="Run name: artifacts go to <runs-dir>/<run>.")(fn)
    fn = click.option("--runs-dir", help="Folder holding run folders (default: runs).")(fn)
    fn = click.option("--dataset", help="Dataset name (default: digits).")(fn)
    fn = click.option("--data-path", type=click.Path(), help="Folder or file for user datasets.")(fn)
    fn = click.option("--seed", type=int, help="Random seed for splits and training.")(fn)
    fn = click.option("--force", is_flag=True, help="Re-run even if the inputs did not change.")(fn)
    return fn


def _load_config(config_path: str | None, run_name: str | None, runs_dir: str | None,
                 dataset: str | None, data_path: str | None, seed: int | None, **extra: dict) -> Any:
    from . import config
    overrides: dict[str, dict[str, Any]] = {
        "run": {"name": run_name, "runs_dir": runs_dir, "seed": seed},
        "data": {"name": dataset, "path": data_path},
    }
    for section, kv in extra.items():
        overrides.setdefault(section, {}).update(kv)
    return config.load(config_path, overrides)


def _samples(value: str) -> int | None:
    """--samples of measure and deploy: a count, or 'all' (None)."""
    if value != "all" and not value.isdigit():
        raise ConfigError(f"--samples must be a number or 'all', got {value!r}")
    return None if value == "all" else int(value)


def _print_results(results: Any) -> None:
    for r in results:
        state = "skipped (inputs unchanged)" if r.skipped else f"{r.seconds:.1f} s"
        click.echo(f"  {r.name:<10} {state}")
        for k, v in sorted(r.metrics.items()):
            if isinstance(v, (int, float, str)) and not isinstance(v, bool):
                click.echo(f"      {k}: {v:.4f}" if isinstance(v, float) else f"      {k}: {v}")


def _stage_command(name: str, stages: list[str], help_text: str) -> click.Command:
    @click.command(name=name, help=help_text)
    @_run_options
    @_handle_errors
    def cmd(config_path, run_name, runs_dir, dataset, data_path, seed, force):
        cfg = _load_config(config_path, run_name, runs_dir, dataset, data_path, seed)
        from . import pipeline
        results = pipeline.run_pipeline(cfg, stages=stages, force=force)
        _print_results(results)
        click.echo(f"run folder: {Path(cfg.run.runs_dir) / cfg.run.name}")
    return cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinyml")
def main() -> None:
    """tinyml: train, distill, prune and quantize a model, put it on a
    microcontroller, and measure how well it runs there.

    Quick start:  tinyml pipeline   then   tinyml export --target qemu_m4

    TensorFlow's own logs go to the system temp folder (tinyml-native.log);
    set TINYML_VERBOSE=1 to see them on the terminal.
    """
    from .quiet import route_native_logs
    route_native_logs()


main.add_command(_stage_command("train", ["teacher"], "Train the float teacher model."))
main.add_command(_stage_command(
    "distill", ["alone", "distill"],
    "Train the student alone (baseline) and distilled from the teacher."))
main.add_command(_stage_command("prune", ["prune"], "Magnitude-prune the distilled student and fine-tune it."))
main.add_command(_stage_command("quantize", ["quantize"], "Convert the student to a full-int8 .tflite (PTQ or QAT)."))


@main.command()
@_run_options
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Check this int8 .tflite instead of the run's own (it is copied into the run folder).")
@_handle_errors
def check(config_path, run_name, runs_dir, dataset, data_path, seed, force, model_path):
    """Host checks: ops, TFLM arena, float vs int8 accuracy, LiteRT vs TFLM, golden vectors."""
    cfg = _load_config(config_path, run_name, runs_dir, dataset, data_path, seed)
    from . import pipeline
    if model_path:
        results = [pipeline.check_model(cfg, model_path, force=force, progress=True)]
    else:
        results = pipeline.run_pipeline(cfg, stages=["check"], force=force)
    _print_results(results)
    click.echo(f"run folder: {Path(cfg.run.runs_dir) / cfg.run.name}")

main.add_command(_stage_command("report", ["report"], "Write metrics.json and the report (Markdown, HTML, plots)."))


@main.command()
@_run_options
@click.option("--stages", help="Comma-separated subset of stages to run, in pipeline order.")
@_handle_errors
def pipeline(config_path, run_name, runs_dir, dataset, data_path, seed, force, stages):
    """Run every stage in order: train, distill, prune, quantize, check, report."""
    cfg = _load_config(config_path, run_name, runs_dir, dataset, data_path, seed)
    from . import pipeline as pl
    chosen = [s.strip() for s in stages.split(",")] if stages else None
    results = pl.run_pipeline(cfg, stages=chosen, force=force)
    _print_results(results)
    click.echo(f"run folder: {Path(cfg.run.runs_dir) / cfg.run.name}")


@main.command()
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False), help="TOML config file.")
@click.option("--run", "-r", "run_name", help="Run to export (default: from config, 'default').")
@click.option("--runs-dir", help="Folder holding run folders.")
@click.option("--target", "-t", help="Board / PlatformIO environment (see `tinyml targets`).")
@click.option("--runtime", type=click.Choice(RUNTIMES), help="Model runtime on the device.")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True,
              help="PlatformIO project folder (holds platformio.ini and firmware/).")
@_handle_errors
def export(config_path, run_name, runs_dir, target, runtime, project):
    """Generate the model's C sources into the firmware project (refuses models that don't fit)."""
    from . import config
    from .export import export as do_export
    cfg = config.load(config_path, {"run": {"name": run_name, "runs_dir": runs_dir},
                                     "export": {"target": target, "runtime": runtime}})
    res = do_export(Path(cfg.run.runs_dir) / cfg.run.name, cfg.export.target, Path(project),
                    runtime=cfg.export.runtime, model_id=cfg.export.model_id)
    click.echo(res.summary() if hasattr(res, "summary") else str(res))


@main.command()
@click.option("--target", "-t", default="qemu_m4", show_default=True, help="PlatformIO environment.")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True)
@_handle_errors
def build(target, project):
    """Build the firmware for a target with PlatformIO."""
    from .targets import get_target
    elf = get_target(target).build(Path(project))
    click.echo(f"built {elf}")


@main.command()
@click.option("--target", "-t", default="qemu_m4", show_default=True, help="Emulated target.")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True)
@click.option("--serial", "serial_kind", type=click.Choice(["tcp", "pty"]), default="tcp", show_default=True,
              help="Expose the device UART as a local TCP socket or a pty.")
@click.option("--port", type=int, default=0, help="TCP port (0 = pick a free one).")
@click.option("--no-build", is_flag=True, help="Use the already built ELF.")
@_handle_errors
def emulate(target, project, serial_kind, port, no_build):
    """Start the firmware in an emulator; its UART is reachable with pyserial."""
    from .targets import get_target
    t = get_target(target)
    if not getattr(t, "emulated", False):
        raise TinymlError(f"target '{target}' is a real board, not an emulator",
                          hint="use `tinyml targets` to see the emulated ones (qemu_m4, qemu_xtensa, qemu_rv32)")
    handle = t.emulate(Path(project), serial=serial_kind, port=port or None, build=not no_build)
    click.echo(f"emulator running; connect with pyserial to {handle.url}  (Ctrl-C stops it)")
    if serial_kind == "pty":
        click.echo(f"MLPerf Tiny runner: put `{handle.url}` as the DUT port in its devices.yaml "
                   "(it opens ports with serial.Serial, so it needs this pty, not a socket); "
                   "see docs/MLPERF_RUNNER.md")
    else:
        click.echo("for the official MLPerf Tiny runner start with --serial pty (it cannot open sockets)")
    try:
        handle.wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()


@main.command()
def targets():
    """List the boards tinyml knows, with their memory budgets and what CI verifies."""
    from .targets import all_targets
    for t in all_targets():
        b = t.budget
        kind = "emulated" if t.emulated else "board"
        click.echo(f"{t.name:<15} {kind:<8} {t.cpu:<14} {t.clock_hz / 1e6:>5.0f} MHz  "
                   f"flash {b.flash_bytes // 1024:>5} KiB  RAM {b.ram_bytes // 1024:>4} KiB  "
                   f"runtime {t.default_runtime}  {t.description}")
        click.echo(f"{'':<15} runtime {t.ci_status()}")


@main.command()
@click.option("--target", "-t", default="qemu_m4", show_default=True,
              help="Board or emulated target (see `tinyml targets`).")
@click.option("--port", "-p", help="Serial port of a connected board (or a running emulator's "
                                   "pty / socket:// address). Without it, emulated targets boot.")
@click.option("--samples", default="all", show_default=True,
              help="How many test samples to send: a number or 'all'.")
@click.option("--power", default="none", show_default=True, help="Power meter (none).")
@click.option("--uart", is_flag=True, help="Send samples through the UART even on an emulator.")
@click.option("--mlperf-dataset", type=click.Path(file_okay=False),
              help="Only write the official MLPerf Tiny runner's dataset folder (.bin + y_labels.csv).")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False), help="TOML config file.")
@click.option("--run", "-r", "run_name", help="Run to measure (default: from config, 'default').")
@click.option("--runs-dir", help="Folder holding run folders.")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True,
              help="PlatformIO project folder (holds platformio.ini and firmware/).")
@_handle_errors
def measure(target, port, samples, power, uart, mlperf_dataset, config_path, run_name, runs_dir,
            project):
    """Measure the run's model on the device: accuracy, bit-exactness, latency, energy."""
    from . import config
    from . import measure as m
    cfg = config.load(config_path, {"run": {"name": run_name, "runs_dir": runs_dir}})
    run_dir = Path(cfg.run.runs_dir) / cfg.run.name
    n = _samples(samples)
    if mlperf_dataset:
        out = m.write_mlperf_dataset(run_dir, mlperf_dataset, n)
        click.echo(f"wrote the MLPerf Tiny dataset folder {out} (see docs/MLPERF_RUNNER.md)")
        return
    opts = m.MeasureOptions(samples=n, power=power, fast=False if uart else None)
    res = m.measure(run_dir, target, port=port, project_dir=Path(project), opts=opts)
    for line in m.summary_lines(res):
        click.echo(line)
    click.echo(f"results: {run_dir / m.RESULTS_JSON}")


@main.command()
@_run_options
@click.option("--target", "-t", default="qemu_m4", show_default=True,
              help="Board or emulated target (`tinyml targets`; esp32 = esp32dev).")
@click.option("--port", "-p", help="Serial port of the board (default: found by its USB IDs).")
@click.option("--runtime", type=click.Choice(["aot", "tflm"]), help="Model runtime on the device.")
@click.option("--samples", default="all", show_default=True, help="Test samples to measure: N or 'all'.")
@click.option("--power", default="none", show_default=True, help="Power meter (none).")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True,
              help="PlatformIO project folder (holds platformio.ini and firmware/).")
@_handle_errors
def deploy(config_path, run_name, runs_dir, dataset, data_path, seed, force, target, port, runtime,
           samples, power, project):
    """Data to a measured device: pipeline, export, build, flash or emulate, measure, report."""
    n = _samples(samples)
    cfg = _load_config(config_path, run_name, runs_dir, dataset, data_path, seed)
    from . import deploy as d
    from .measure import MeasureOptions
    opts = MeasureOptions(samples=n, power=power)
    res = d.deploy(cfg, target, port=port, runtime=runtime, project_dir=Path(project), opts=opts,
                   force=force, progress=click.echo)
    for line in d.summary_lines(res):
        click.echo(line)


@main.command()
@click.option("--target", "-t", required=True, help="Board (see `tinyml targets`).")
@click.option("--port", "-p", help="Serial port (default: found by the board's USB IDs).")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True,
              help="PlatformIO project folder (holds platformio.ini and firmware/).")
@_handle_errors
def flash(target, port, project):
    """Write the built firmware to a board (pio run -t upload)."""
    from .targets import get_target
    t = get_target(target)
    t.flash(Path(project), port)
    click.echo(f"flashed {t.name}" + ("" if t.emulated else f" on {port or 'its port'}")
               + ("; emulated targets load the image at boot" if t.emulated else ""))


if __name__ == "__main__":  # pragma: no cover
    main()
