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
from .core.errors import ConfigError, TinymlError
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
            from .core.errors import from_os_error
            err = from_os_error(e)
            click.secho(f"error: {err}", fg="red", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:
            click.secho("interrupted; no partial artifacts were kept", fg="yellow", err=True)
            sys.exit(130)
    return wrapper


def _run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False),
                     help="TOML config file (`tinyml init` writes one; defaults fill the rest)."),
        click.option("--run", "-r", "run_name", help="Run name: artifacts go to <runs-dir>/<run>."),
        click.option("--runs-dir", help="Folder holding run folders  [default: runs]"),
        click.option("--dataset", help="Dataset name  [default: digits]"),
        click.option("--data-path", type=click.Path(), help="Folder or file for user datasets."),
        click.option("--seed", type=int, help="Random seed for splits and training  [default: 0]"),
        click.option("--force", is_flag=True, help="Re-run even if the inputs did not change."),
    ]
    for opt in reversed(opts):        # click lists options in the reverse order of decoration
        fn = opt(fn)
    return fn


def _load_config(config_path: str | None, run_name: str | None, runs_dir: str | None,
                 dataset: str | None, data_path: str | None, seed: int | None, **extra: dict) -> Any:
    from .config import schema as config
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


def _print_results(results: Any, cfg: Any) -> None:
    from .flows.summary import pipeline_lines
    for line in pipeline_lines(results, Path(cfg.run.runs_dir) / cfg.run.name):
        click.echo(line)


def _locked(cfg: Any) -> Any:
    """Hold the run folder for this process (a second tinyml on the same run gets a clear error)."""
    from .core.runlock import hold
    return hold(Path(cfg.run.runs_dir) / cfg.run.name)


def _stage_command(name: str, stages: list[str], help_text: str) -> click.Command:
    @click.command(name=name, help=help_text)
    @_run_options
    @_handle_errors
    def cmd(config_path, run_name, runs_dir, dataset, data_path, seed, force):
        cfg = _load_config(config_path, run_name, runs_dir, dataset, data_path, seed)
        from .flows import pipeline
        with _locked(cfg):
            results = pipeline.run_pipeline(cfg, stages=stages, force=force)
        _print_results(results, cfg)
    return cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinyml")
def main() -> None:
    """tinyml: train, distill, prune and quantize a model, put it on a
    microcontroller, and measure how well it runs there.

    Quick start:  tinyml deploy   (train, quantize, build for the emulated
    Cortex-M4, measure; offline). `tinyml init` writes a commented config.

    TensorFlow's own logs go to one file per invocation in the system temp
    folder (tinyml-logs/); set TINYML_VERBOSE=1 to see them on the terminal.
    Exit codes: 0 ok, 2 config, 3 data, 4 does not fit, 5 model, 6 check,
    7 build, 8 device, 9 missing tool, 10 file system, 11 run folder or port
    busy, 130 interrupted.
    """
    from .core.quiet import route_native_logs
    route_native_logs()


main.add_command(_stage_command("train", ["teacher"], "Train the float teacher model."))
main.add_command(_stage_command(
    "distill", ["alone", "distill"],
    "Train the student alone (baseline) and distilled from the teacher."))
main.add_command(_stage_command("prune", ["prune"], "Prune the distilled student (whole channels by default, or "
                                "weight magnitudes) and fine-tune it against the teacher."))
main.add_command(_stage_command("quantize", ["quantize"], "Convert the student to a full-int8 .tflite (PTQ or QAT)."))


def _own_model_cfg(model_path: str, config_path: str | None, run_name: str | None,
                   runs_dir: str | None, dataset: str | None = None, data_path: str | None = None,
                   seed: int | None = None, **extra: dict) -> tuple[Any, bool]:
    """Config for `--model FILE`: a run folder of its own, data only if the user named some."""
    from .importers.own_model import default_run_name, wants_data
    cfg = _load_config(config_path, run_name or default_run_name(model_path), runs_dir, dataset,
                       data_path, seed, **extra)
    return cfg, wants_data(dataset, data_path, config_path)


_MODEL_HELP = ("Your own model instead of the pipeline's: a full-int8 .tflite, or a float .tflite, "
               ".keras, .h5, SavedModel folder or .onnx (quantized on --calibration). It gets a run "
               "folder of its own (default model-<name>); without --dataset/--data-path it is checked "
               "on seeded random inputs, and no accuracy is reported.")
_CALIBRATION_HELP = ("Calibration inputs for a float --model: a .npy/.npz (float, N x input shape), a "
                     "dataset name, a data folder, or 'random' (ranges are guesses)  "
                     "[default: the --dataset's training split]")


def _model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--input-shape", help="Sizes after the batch for a --model with unknown "
                                            "dimensions, e.g. 96,96,3.")(fn)
    fn = click.option("--calibration", help=_CALIBRATION_HELP)(fn)
    return click.option("--model", "model_path", type=click.Path(), help=_MODEL_HELP)(fn)


def _model_section(calibration: str | None, input_shape: str | None) -> dict[str, Any]:
    shape = None
    if input_shape is not None:
        try:
            shape = [int(v) for v in input_shape.replace("x", ",").split(",") if v.strip()]
        except ValueError:
            raise ConfigError(f"--input-shape {input_shape!r}: give sizes separated by commas, "
                              "e.g. 96,96,3") from None
    return {"model": {"calibration": calibration, "input_shape": shape}}


@main.command()
@_run_options
@_model_options
@_handle_errors
def check(config_path, run_name, runs_dir, dataset, data_path, seed, force, model_path, calibration,
          input_shape):
    """Host checks: ops, TFLM arena, float vs int8 accuracy, LiteRT vs TFLM, golden vectors."""
    from .flows import pipeline
    if model_path:
        cfg, use_data = _own_model_cfg(model_path, config_path, run_name, runs_dir, dataset,
                                       data_path, seed, **_model_section(calibration, input_shape))
        with _locked(cfg):
            results = [pipeline.check_model(cfg, model_path, force=force, progress=True,
                                            use_data=use_data)]
    else:
        cfg = _load_config(config_path, run_name, runs_dir, dataset, data_path, seed)
        with _locked(cfg):
            results = pipeline.run_pipeline(cfg, stages=["check"], force=force)
    _print_results(results, cfg)

main.add_command(_stage_command("report", ["report"], "Write metrics.json and the report (Markdown, HTML, plots)."))


@main.command()
@_run_options
@click.option("--stages", help="Comma-separated subset of stages to run, in pipeline order.")
@_handle_errors
def pipeline(config_path, run_name, runs_dir, dataset, data_path, seed, force, stages):
    """Run every stage in order: train, distill, prune, quantize, check, report."""
    cfg = _load_config(config_path, run_name, runs_dir, dataset, data_path, seed)
    from .flows import pipeline as pl
    chosen = [s.strip() for s in stages.split(",")] if stages else None
    with _locked(cfg):
        results = pl.run_pipeline(cfg, stages=chosen, force=force)
    _print_results(results, cfg)
    click.echo("next: `tinyml deploy` puts this model on the emulated Cortex-M4 and measures it")


_PROJECT_HELP = "PlatformIO project folder (holds platformio.ini and firmware/)."


@main.command()
@click.option("--target", "-t", help="Board or emulated target (`tinyml targets`)  "
                                     "[default: [export] target, qemu_m4]")
@click.option("--runtime", type=click.Choice(RUNTIMES),
              help="Model runtime on the device  [default: [export] runtime, aot]")
@_model_options
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False), help="TOML config file.")
@click.option("--run", "-r", "run_name", help="Run to export  [default: [run] name, default]")
@click.option("--runs-dir", help="Folder holding run folders  [default: runs]")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True,
              help=_PROJECT_HELP)
@_handle_errors
def export(target, runtime, model_path, calibration, input_shape, config_path, run_name, runs_dir,
           project):
    """Generate the model's C sources into the firmware project (refuses models that don't fit)."""
    from .flows.export import export as do_export
    extra = {"export": {"target": target, "runtime": runtime}}
    if model_path:
        from .flows import pipeline
        cfg, use_data = _own_model_cfg(model_path, config_path, run_name, runs_dir, **extra,
                                       **_model_section(calibration, input_shape))
        with _locked(cfg):
            pipeline.check_model(cfg, model_path, progress=True, use_data=use_data)
    else:
        cfg = _load_config(config_path, run_name, runs_dir, None, None, None, **extra)
    res = do_export(Path(cfg.run.runs_dir) / cfg.run.name, cfg.export.target, Path(project),
                    runtime=cfg.export.runtime, model_id=cfg.export.model_id)
    click.echo(res.summary() if hasattr(res, "summary") else str(res))


@main.command()
@click.option("--target", "-t", default="qemu_m4", show_default=True,
              help="Board or emulated target (`tinyml targets`).")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True,
              help=_PROJECT_HELP)
@_handle_errors
def build(target, project):
    """Build the firmware for a target with PlatformIO; print its flash and RAM use."""
    from .targets.elfsize import usage_line
    from .targets import get_target
    t = get_target(target)
    elf = t.build(Path(project))
    click.echo(f"built {elf}")
    line = usage_line(elf, t.budget.flash_bytes, t.budget.ram_bytes)
    if line:
        click.echo(line)


@main.command()
@click.option("--target", "-t", default="qemu_m4", show_default=True, help="Emulated target.")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True,
              help=_PROJECT_HELP)
@click.option("--serial", "serial_kind", type=click.Choice(["tcp", "pty"]), default="tcp", show_default=True,
              help="Expose the device UART as a local TCP socket or a pty.")
@click.option("--port", type=int, default=0, help="TCP port (0 = pick a free one).")
@click.option("--no-build", is_flag=True, help="Use the already built ELF.")
@click.option("--emulator", type=click.Choice(["qemu", "renode"]), default="qemu", show_default=True,
              help="renode: write a .resc and a Robot self-test for a board Renode models "
                   "(nano33ble) and run it if renode-test is installed (not run in this repository's CI).")
@_handle_errors
def emulate(target, project, serial_kind, port, no_build, emulator):
    """Start the firmware in an emulator; its UART is reachable with pyserial."""
    from .targets import get_target
    if emulator == "renode":
        _renode(target, Path(project), build=not no_build)
        return
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


def _renode(target: str, project: Path, build: bool) -> None:
    from .targets import renode
    from .targets.pio import pio_run
    board = renode.board_for(target)
    resc, robot, elf = renode.generate(project, board.target)
    click.echo(f"wrote {resc}\nwrote {robot}")
    if build:
        from .targets.boards import exported_env
        exported_env(project, board.target)        # the model must be exported for this board
        pio_run(project, board.pio_env)
    if renode.run(robot) is None:
        click.echo(f"renode-test is not installed: run `renode-test {robot}` where Renode is "
                   f"(or `renode {resc}` to watch the UART)")
    else:
        click.echo(f"Renode self-test passed ({robot.name})")


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
    from .config import schema as config
    from .flows import measure as m
    cfg = config.load(config_path, {"run": {"name": run_name, "runs_dir": runs_dir}})
    run_dir = Path(cfg.run.runs_dir) / cfg.run.name
    n = _samples(samples)
    if mlperf_dataset:
        out = m.write_mlperf_dataset(run_dir, mlperf_dataset, n)
        click.echo(f"wrote the MLPerf Tiny dataset folder {out} (see docs/MLPERF_RUNNER.md)")
        return
    opts = m.MeasureOptions(samples=n, power=power, fast=False if uart else None)
    with _locked(cfg):
        res = m.measure(run_dir, target, port=port, project_dir=Path(project), opts=opts)
    for line in m.summary_lines(res):
        click.echo(line)
    click.echo(f"results: {run_dir / m.RESULTS_JSON}")


@main.command()
@click.option("--target", "-t", default="qemu_m4", show_default=True,
              help="Board or emulated target (`tinyml targets`; esp32 = esp32dev).")
@click.option("--port", "-p", help="Serial port of the board (default: found by its USB IDs).")
@click.option("--runtime", type=click.Choice(RUNTIMES),
              help="Model runtime on the device  [default: the target's, aot]")
@_model_options
@click.option("--samples", default="all", show_default=True, help="Test samples to measure: N or 'all'.")
@click.option("--power", default="none", show_default=True,
              help="Power meter: none, ppk2, joulescope, lpm01a (docs/POWER.md).")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True,
              help=_PROJECT_HELP)
@_run_options
@_handle_errors
def deploy(target, port, runtime, model_path, calibration, input_shape, samples, power, project,
           config_path, run_name, runs_dir, dataset, data_path, seed, force):
    """Data to a measured device: pipeline, export, build, flash or emulate, measure, report."""
    n = _samples(samples)
    if model_path:
        cfg, use_data = _own_model_cfg(model_path, config_path, run_name, runs_dir, dataset,
                                       data_path, seed, **_model_section(calibration, input_shape))
    else:
        cfg, use_data = _load_config(config_path, run_name, runs_dir, dataset, data_path, seed), True
    from .flows import deploy as d
    from .flows.measure import MeasureOptions
    opts = MeasureOptions(samples=n, power=power)
    with _locked(cfg):
        res = d.deploy(cfg, target, port=port, runtime=runtime, project_dir=Path(project), opts=opts,
                       force=force, progress=click.echo, model_path=model_path, use_data=use_data)
    for line in d.summary_lines(res):
        click.echo(line)


@main.command()
@click.option("--target", "-t", required=True, help="Board (see `tinyml targets`).")
@click.option("--port", "-p", help="Serial port (default: found by the board's USB IDs).")
@click.option("--project", type=click.Path(file_okay=False), default=".", show_default=True,
              help=_PROJECT_HELP)
@_handle_errors
def flash(target, port, project):
    """Write the built firmware to a board (pio run -t upload)."""
    from .targets import get_target
    t = get_target(target)
    t.flash(Path(project), port)
    click.echo(f"flashed {t.name}" + ("" if t.emulated else f" on {port or 'its port'}")
               + ("; emulated targets load the image at boot" if t.emulated else ""))


@main.command()
@click.argument("path", default="tinyml.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@_handle_errors
def init(path, force):
    """Write a commented config (every option with its default) to PATH."""
    from .config.template import write_template
    out = write_template(Path(path), overwrite=force)
    click.echo(f"wrote {out}; edit it, then `tinyml deploy --config {out}`")


if __name__ == "__main__":  # pragma: no cover
    main()
