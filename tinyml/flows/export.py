"""`tinyml export`: generate the model's C sources into the firmware project.

Reads model_int8.tflite, check.json and golden.npz from a run folder, runs the
AOT compiler and/or the TFLM generators, checks that the model fits the
target's flash and RAM BEFORE writing anything, then replaces
firmware/generated/ as one set (staging folder, then rename), so a previous
model's files never mix with the new ones.

Sizes are in bytes. Flash and RAM needs come from tinyml.targets.budget:
measured model sizes (weights, planned arena, TFLM arena) plus labelled
estimates of code size, checked against a real qemu_m4 build in CI; they
refuse clearly hopeless exports early, the linker has the last word.
"""
from __future__ import annotations

import configparser
import json
import re
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .. import __version__
from ..core.errors import BudgetError, ConfigError, ModelError, UnsupportedOpError
from ..targets.base import MemoryBudget, Target
from ..targets.budget import ModelSizes, Need, check_runtime, needs

GENERATED = Path("firmware") / "generated"
EXPORT_JSON = "export.json"
RUN_FILES = ("model_int8.tflite", "check.json", "golden.npz")
GITIGNORE = "# Written by `tinyml export`; regenerate instead of editing.\n*\n!.gitignore\n"

@dataclass
class ExportResult:
    target: str
    runtime: str
    pio_env: str
    project_dir: Path
    generated_dir: Path
    files: dict[str, int]            # generated file name -> bytes
    model_sha256: str
    budget: MemoryBudget
    flash: Need
    ram: Need

    @property
    def paths(self) -> list[Path]:
        return [self.generated_dir / f for f in sorted(self.files)]

    def summary(self) -> str:
        b = self.budget
        lines = [f"exported {len(self.files)} files to {self.generated_dir} "
                 f"(target {self.target}, runtime {self.runtime}, env {self.pio_env})",
                 f"  flash: needs {self.flash.total:,} B of {b.flash_bytes:,} B "
                 f"({100 * self.flash.total / b.flash_bytes:.1f}%)",
                 "         = code {code:,} + weights {weights:,} + goldens {goldens:,} B".format(
                     **flash_split(self.flash)),
                 f"  RAM:   needs {self.ram.total:,} B of {b.ram_bytes:,} B "
                 f"({100 * self.ram.total / b.ram_bytes:.1f}%)",
                 f"  next: pio run -e {self.pio_env}   (or `tinyml build -t {self.target}`)"]
        return "\n".join(lines)


def flash_split(flash: Need) -> dict[str, int]:
    """The flash need as code (firmware, kernels, generated code, estimates) + weights
    (AOT constant arrays, or the .tflite for TFLM) + golden vectors."""
    weights = int(flash.items.get("weights", flash.items.get("model .tflite", 0)))
    goldens = int(flash.items.get("golden vectors", 0))
    return {"code": int(flash.total) - weights - goldens, "weights": weights, "goldens": goldens}


def _say(progress: Callable[[str], Any] | None, msg: str) -> None:
    if progress is not None:
        progress(msg)


def _read_run(run_dir: Path) -> tuple[bytes, dict, Any]:
    from ..model import golden as golden_mod
    missing = [f for f in RUN_FILES if not (run_dir / f).is_file()]
    if missing:
        what = ", ".join(str(run_dir / f) for f in missing)
        hint = ("run the pipeline first (`tinyml pipeline`)" if "model_int8.tflite" in missing
                else "run `tinyml check` first (it writes check.json and golden.npz)")
        raise ModelError(f"cannot export: {what} does not exist", hint=hint)
    tflite = (run_dir / "model_int8.tflite").read_bytes()
    try:
        check = json.loads((run_dir / "check.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelError(f"{run_dir / 'check.json'}: not valid JSON ({e})",
                         hint="run `tinyml check` again") from None
    g = golden_mod.load(run_dir / "golden.npz")
    return tflite, check, g


def _arena_from_check(check: dict, path: Path) -> tuple[int, int]:
    arena = check.get("arena") or {}
    try:
        lo, rec = int(arena["min_bytes"]), int(arena["recommended_bytes"])
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"{path}: has no arena.min_bytes / arena.recommended_bytes",
                         hint="run `tinyml check` again with this version of tinyml") from None
    if lo <= 0 or rec < lo:
        raise ModelError(f"{path}: arena sizes make no sense (min {lo}, recommended {rec})",
                         hint="run `tinyml check` again")
    return lo, rec


def _labels(check: dict, run_dir: Path) -> list[str]:
    for src in (check.get("labels"), (check.get("model") or {}).get("labels"),
                (check.get("dataset_info") or {}).get("labels")):
        if isinstance(src, list):
            return [str(x) for x in src]
    p = run_dir / "labels.txt"
    if p.is_file():
        return [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return []


def _check_sha(check: dict, g: Any, sha: str, run_dir: Path) -> None:
    csha = check.get("model_sha256") or (check.get("model") or {}).get("sha256")
    if csha and csha != sha:
        raise ModelError(f"{run_dir / 'check.json'} was made for another model_int8.tflite "
                         f"(sha256 {csha[:12]}…, file is {sha[:12]}…)", hint="run `tinyml check` again")
    if g.model_sha256 and g.model_sha256 != sha:
        raise ModelError(f"{run_dir / 'golden.npz'} was made for another model_int8.tflite "
                         f"(sha256 {g.model_sha256[:12]}…, file is {sha[:12]}…)",
                         hint="run `tinyml check` again")


def _check_env(project_dir: Path, env: str, runtime: str, target: str) -> None:
    """The project's platformio.ini must exist and define the env we will tell the user to build."""
    ini = project_dir / "platformio.ini"
    if not ini.is_file():
        raise ConfigError(f"{ini} does not exist: {project_dir} is not the tinyml firmware project",
                          hint="pass --project pointing at the folder with platformio.ini")
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        cp.read(ini, encoding="utf-8")
    except configparser.Error as e:
        raise ConfigError(f"{ini}: cannot be parsed ({e})") from None
    envs = sorted(s[4:] for s in cp.sections() if s.startswith("env:"))
    if envs and env not in envs:
        raise ConfigError(f"{ini} has no [env:{env}], which target {target} with runtime {runtime} "
                          f"builds with; it has: {', '.join(envs)}",
                          hint=f"export with the other runtime, or add [env:{env}] to platformio.ini")


def _over(need: Need, have: int, what: str, target: str) -> str | None:
    if need.total <= have:
        return None
    parts = ", ".join(f"{k} {v:,} B" for k, v in need.items.items())
    return (f"needs {need.total:,} B of {what}, {target} has {have:,} B usable; "
            f"over by {need.total - have:,} B ({parts})")


def export(run_dir: str | Path, target_name: str, project_dir: str | Path, runtime: str | None = None,
           progress: Callable[[str], Any] | None = None, target: Target | None = None,
           model_id: str | None = None) -> ExportResult:
    """Generate firmware/generated/ for `target_name` from the run folder `run_dir`.

    runtime: "aot" (our compiler) or "tflm" (TensorFlow Lite Micro); default: the
    target's. `target` overrides the registry lookup (tests, custom boards).
    model_id: the name the device reports (`m-model-[...]`); default: the run name.
    Raises ModelError (missing/stale run files), UnsupportedOpError, BudgetError
    (does not fit: nothing is written), ConfigError (unknown target/env).
    """
    from ..codegen import carray, golden_c, metadata, resolver
    from ..model.golden import firmware_subset

    run_dir, project_dir = Path(run_dir), Path(project_dir)
    if target is None:
        from ..targets import get_target
        target = get_target(target_name)
    runtime = check_runtime(runtime or target.default_runtime)
    env = target.env_for(runtime)
    _check_env(project_dir, env, runtime, target.name)

    _say(progress, f"reading {run_dir}")
    tflite, check, g = _read_run(run_dir)
    info = metadata.read_model_info(tflite, source=str(run_dir / "model_int8.tflite"))
    _check_sha(check, g, info.sha256, run_dir)
    arena_min, arena_rec = _arena_from_check(check, run_dir / "check.json")
    labels = _labels(check, run_dir)
    if model_id is not None and not re.fullmatch(r"[A-Za-z0-9_.+-]{1,64}", model_id):
        raise ConfigError(f"[export] model_id {model_id!r} must be 1-64 letters, digits or _.+-",
                          hint="for the MLPerf Tiny runner use kws01, vww01, ic01 or ad01")
    name = model_id or run_dir.name       # m-model-[...]: the MLPerf runner's model ID

    files: dict[str, str] = {}
    aot = None
    if runtime == "aot":
        _say(progress, "compiling the model to C (AOT)")
        from ..codegen.aot import compile_tflite
        aot = compile_tflite(tflite, name)
        files.update(aot.files)
    # The TFLM sources are emitted whenever TFLM can run the model (a TFLM build of the
    # same export then works too); tm_model_data.c compiles to nothing outside TFLM builds.
    has_tflm = True
    try:
        files["tm_tflm_resolver.h"] = resolver.resolver_header(info.op_kinds, info.sha256)
    except UnsupportedOpError:
        if runtime == "tflm":
            raise
        has_tflm = False
    if has_tflm:
        files.update(carray.model_data_files(tflite, info.sha256))
    files.update(metadata.meta_files(
        info, model_name=name, run_name=name, runtime=runtime, arena_min=arena_min, arena_bytes=arena_rec,
        labels=labels, macs=aot.macs if aot else None, op_count=aot.op_count if aot else None,
        has_aot=aot is not None, has_tflm=has_tflm))
    # golden byte budget: a large-input model keeps fewer vectors (at least one)
    g = firmware_subset(g)
    files.update(golden_c.golden_files(g, info.input.size, info.output.size,
                                       source=str(run_dir / "golden.npz")))

    # ---- budget, before anything is written ------------------------------
    budget = target.budget_for(runtime)
    sizes = ModelSizes(runtime, tuple(aot.ops) if aot else info.ops, info.input.size,
                       info.output.size, len(g), weights=int(aot.weights_bytes) if aot else 0,
                       arena=int(aot.peak_ram_bytes) if aot else arena_rec, tflite=info.size_bytes)
    flash, ram = needs(budget, sizes)
    problems = [p for p in (_over(flash, budget.flash_bytes, "flash", target.name),
                            _over(ram, budget.ram_bytes, "RAM", target.name)) if p]
    if problems:
        raise BudgetError(f"model '{name}' does not fit {target.name} with runtime {runtime}: "
                          + "; ".join(problems),
                          hint="train a smaller student (lower [student] max_bytes / max_macs), "
                               "prune harder, try the other runtime, or pick a bigger board")

    # ---- write firmware/generated as one set --------------------------------
    record = {
        "format_version": 1, "tinyml_version": __version__,
        "run": name, "target": target.name, "runtime": runtime, "pio_env": env,
        "model_sha256": info.sha256, "model_bytes": info.size_bytes,
        "ops": list(info.ops), "macs": int(aot.macs if aot else info.macs),
        "input": {"shape": list(info.input.shape), "scale": info.input.scale,
                  "zero_point": info.input.zero_point},
        "output": {"shape": list(info.output.shape), "scale": info.output.scale,
                   "zero_point": info.output.zero_point},
        "tflm_arena": {"min_bytes": arena_min, "recommended_bytes": arena_rec},
        "aot": ({"peak_ram_bytes": int(aot.peak_ram_bytes), "weights_bytes": int(aot.weights_bytes),
                 # which kernel variant the compiler chose for each op, in execution order
                 "layers": [{"op": o, "layer": lyr, "kernel": k, "macs": int(m)}
                            for o, lyr, k, m in zip(aot.ops, aot.layers, aot.kernels, aot.op_macs)]}
                if aot else None),
        "budget": {"flash_bytes": budget.flash_bytes, "ram_bytes": budget.ram_bytes,
                   "firmware_flash_estimate": budget.firmware_flash,
                   "firmware_ram_estimate": budget.firmware_ram},
        "flash_need": flash.items, "flash_need_total": flash.total,
        "ram_need": ram.items, "ram_need_total": ram.total,
        "flash_split": flash_split(flash),
        "golden_count": len(g), "labels": labels,
        "files": {k: len(v.encode("utf-8")) for k, v in sorted(files.items())},
    }
    files[EXPORT_JSON] = json.dumps(record, indent=2, sort_keys=True) + "\n"
    files[".gitignore"] = GITIGNORE
    gen = project_dir / GENERATED
    _say(progress, f"writing {len(files)} files to {gen}")
    _replace_dir(gen, files)
    sizes = {k: len(v.encode("utf-8")) for k, v in sorted(files.items()) if k != ".gitignore"}
    return ExportResult(target=target.name, runtime=runtime, pio_env=env, project_dir=project_dir,
                        generated_dir=gen, files=sizes, model_sha256=info.sha256, budget=budget,
                        flash=flash, ram=ram)


def _replace_dir(dest: Path, files: dict[str, str]) -> None:
    """Make `dest` hold exactly `files`: write a sibling staging folder, then swap it in."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}-new-", dir=dest.parent))
    old: Path | None = None
    try:
        for fname, text in sorted(files.items()):
            with open(stage / fname, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        os.chmod(stage, 0o755)
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}-old-", dir=dest.parent))
            os.rmdir(old)
            os.replace(dest, old)
        try:
            os.replace(stage, dest)
        except OSError:
            if old is not None:          # put the previous set back
                os.replace(old, dest)
                old = None
            raise
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
