"""The ML pipeline: teacher -> alone -> distill -> prune -> quantize -> check -> report.

Each stage runs through `RunDir.stage`: it is skipped when its config sections,
seed and input files are unchanged, and it writes into a staging folder that
is moved into `runs/<name>/` only when the stage succeeds.

TensorFlow is imported lazily by the stage functions, never at import time.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from ..core import atomic
from ..config.schema import Config, to_toml
from ..core.errors import ConfigError, TinymlError
from ..core.runs import RunDir, StageResult
from ..core.stages import STAGES

# Bump when a stage's code changes what it produces, so old results re-run.
STAGE_VERSION = 2

TEACHER = "teacher.keras"
ALONE = "student_alone.keras"
DISTILLED = "student_distilled.keras"
PRUNED = "student_pruned.keras"
FLOAT_TFLITE = "model_float.tflite"
INT8_TFLITE = "model_int8.tflite"
CHECK_JSON = "check.json"
GOLDEN = "golden.npz"
TESTSET = "testset.npz"
RESULTS_JSON = "results.json"     # written by `tinyml measure`
IMPORT_JSON = "import.json"       # a model the user brought: format, calibration, per-layer triage
REPORT_FILES = ["metrics.json", "report.md", "report.html"]


def run_dir_for(cfg: Config) -> RunDir:
    return RunDir(Path(cfg.run.runs_dir) / cfg.run.name)


# -- shared helpers --------------------------------------------------------
_DATA_CACHE: dict[str, Any] = {}


def _dataset(cfg: Config) -> Any:
    """The dataset for this config; loaded once per process and data section."""
    from ..data import load_dataset
    key = json.dumps([asdict(cfg.data), cfg.run.seed], sort_keys=True)
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()
        _DATA_CACHE[key] = load_dataset(cfg.data, cfg.run.seed)
    return _DATA_CACHE[key]


def _fresh(seed: int) -> None:
    from ..core import tfcompat
    tfcompat.keras().backend.clear_session()
    tfcompat.seed_everything(seed)


def _load_model(path: Path) -> Any:
    from ..core import tfcompat
    try:
        return tfcompat.keras().models.load_model(str(path), compile=False)
    except Exception as e:
        raise TinymlError(f"cannot load Keras model {path}: {e}",
                          hint="re-run the stage that writes it with --force") from None


def _save_model(model: Any, path: Path) -> None:
    model.save(str(path))


def _eval(model: Any, ds: Any) -> dict[str, float]:
    from ..train import fit
    return {"accuracy": round(fit.accuracy(model, ds.x_test, ds.y_test), 6),
            "val_accuracy": round(fit.accuracy(model, ds.x_val, ds.y_val), 6)}


def _cost(model: Any) -> dict[str, int]:
    from ..train.models import model_stats
    st = model_stats(model)
    return {"params": st["params"], "macs": st["macs"], "bytes": st["int8_bytes_est"],
            "keras_params": st["keras_params"]}


def _sizing_sparsity(cfg: Config) -> float:
    """Channel pruning shrinks the student before deployment, so the budget is
    applied to the pruned model (see train/budget.py)."""
    p = cfg.prune
    return p.sparsity if p.enabled and p.method == "channels" else 0.0


def _student_spec(cfg: Config, ds: Any) -> tuple[Any, dict[str, int]]:
    from ..train.budget import size_student
    return size_student(cfg.student, ds.input_shape, ds.num_classes, _sizing_sparsity(cfg))


def _budget(cfg: Config) -> dict[str, Any]:
    return {"max_params": cfg.student.max_params, "max_macs": cfg.student.max_macs,
            "max_bytes": cfg.student.max_bytes, "applies_after_channel_pruning": _sizing_sparsity(cfg)}


def _distiller(cfg: Config, ds: Any, teacher_path: Path) -> Any:
    from ..train.distill import Distiller
    teacher = _load_model(teacher_path)
    return Distiller.from_teacher(teacher, ds.x_train, ds.x_val, ds.num_classes,
                                  cfg.distill.temperature, cfg.distill.alpha)


# -- stages ----------------------------------------------------------------
def _stage_teacher(cfg: Config, run: RunDir, tmp: Path, progress: bool) -> dict[str, Any]:
    from ..train import fit, models
    ds = _dataset(cfg)
    _fresh(cfg.run.seed)
    t0 = time.perf_counter()
    model = models.build_teacher(ds.input_shape, ds.num_classes, cfg.teacher)
    loss = fit.classification_loss(ds.num_classes, cfg.teacher.label_smoothing)
    hist = fit.train(model, ds.x_train, ds.y_train, ds.x_val, ds.y_val, loss=loss,
                     epochs=cfg.teacher.epochs, batch_size=cfg.teacher.batch_size,
                     learning_rate=cfg.teacher.learning_rate, seed=cfg.run.seed,
                     patience=cfg.teacher.patience, restore_best=cfg.teacher.restore_best,
                     progress=progress, desc="teacher")
    _save_model(model, tmp / TEACHER)
    return {**_eval(model, ds), **_cost(model), "sparsity": 0.0, "train": hist,
            "seconds": round(time.perf_counter() - t0, 3)}


def _stage_alone(cfg: Config, run: RunDir, tmp: Path, progress: bool) -> dict[str, Any]:
    from ..core import tfcompat
    from ..train import fit, models
    ds = _dataset(cfg)
    _fresh(cfg.run.seed)
    t0 = time.perf_counter()
    spec, _ = _student_spec(cfg, ds)
    # Re-seed after sizing (which builds models and so draws random numbers):
    # `alone` and `distill` start from the same initial weights.
    _fresh(cfg.run.seed)
    model = models.build_student(spec, ds.input_shape, ds.num_classes)
    loss = tfcompat.keras().losses.SparseCategoricalCrossentropy(from_logits=True)
    hist = fit.train(model, ds.x_train, ds.y_train, ds.x_val, ds.y_val, loss=loss,
                     epochs=cfg.student.epochs, batch_size=cfg.student.batch_size,
                     learning_rate=cfg.student.learning_rate, seed=cfg.run.seed,
                     patience=cfg.student.patience, progress=progress, desc="student alone")
    _save_model(model, tmp / ALONE)
    return {**_eval(model, ds), **_cost(model), "sparsity": 0.0, "student": spec.as_dict(),
            "budget": _budget(cfg), "train": hist, "seconds": round(time.perf_counter() - t0, 3)}


def _stage_distill(cfg: Config, run: RunDir, tmp: Path, progress: bool) -> dict[str, Any]:
    from ..train import models
    ds = _dataset(cfg)
    _fresh(cfg.run.seed)
    t0 = time.perf_counter()
    spec, _ = _student_spec(cfg, ds)
    distiller = _distiller(cfg, ds, run.path(TEACHER))
    _fresh(cfg.run.seed)   # same initial student weights as the `alone` stage
    model = models.build_student(spec, ds.input_shape, ds.num_classes)
    hist = distiller.fit(model, ds.x_train, ds.y_train, ds.x_val, ds.y_val,
                         epochs=cfg.distill.epochs, batch_size=cfg.student.batch_size,
                         learning_rate=cfg.student.learning_rate, seed=cfg.run.seed,
                         patience=cfg.student.patience, progress=progress, desc="distill")
    _save_model(model, tmp / DISTILLED)
    return {**_eval(model, ds), **_cost(model), "sparsity": 0.0, "student": spec.as_dict(),
            "temperature": cfg.distill.temperature, "alpha": cfg.distill.alpha,
            "train": hist, "seconds": round(time.perf_counter() - t0, 3)}


def _stage_prune(cfg: Config, run: RunDir, tmp: Path, progress: bool) -> dict[str, Any]:
    import numpy as np

    from ..compress import prune as prune_mod
    ds = _dataset(cfg)
    _fresh(cfg.run.seed)
    t0 = time.perf_counter()
    model = _load_model(run.path(DISTILLED))
    before = _eval(model, ds)
    if not cfg.prune.enabled or cfg.prune.sparsity <= 0:
        shutil.copyfile(run.path(DISTILLED), tmp / PRUNED)
        sp = prune_mod.measure_sparsity(model)
        return {**before, **_cost(model), "enabled": False, "target_sparsity": 0.0,
                "sparsity": sp["sparsity"], **_before_keys(before), "seconds": round(time.perf_counter() - t0, 3)}
    distiller = _distiller(cfg, ds, run.path(TEACHER))
    if cfg.prune.method == "channels":
        out = _prune_channels(cfg, ds, model, distiller, progress)
        _save_model(out.pop("_model"), tmp / PRUNED)
        return {**out, **_before_keys(before), "seconds": round(time.perf_counter() - t0, 3)}
    steps = int(np.ceil(len(ds.x_train) / cfg.student.batch_size))
    ramp = 0.6
    info: dict[str, Any] = {}

    def train_fn(wrapped: Any, callbacks: list) -> None:
        info["train"] = distiller.fit(
            wrapped, ds.x_train, ds.y_train, ds.x_val, ds.y_val, epochs=cfg.prune.epochs,
            batch_size=cfg.student.batch_size, learning_rate=cfg.prune.learning_rate,
            seed=cfg.run.seed, callbacks=callbacks, progress=progress, desc="prune",
            # keep best weights only once the final sparsity is reached
            min_epoch=int(np.ceil(cfg.prune.epochs * ramp)))

    pruned = prune_mod.prune(model, sparsity=cfg.prune.sparsity, steps_per_epoch=steps,
                             epochs=cfg.prune.epochs, frequency=cfg.prune.frequency,
                             train_fn=train_fn, ramp_fraction=ramp)
    sp = prune_mod.measure_sparsity(pruned)
    after = _eval(pruned, ds)
    _save_model(pruned, tmp / PRUNED)
    return {**after, **_cost(pruned), "enabled": True, "method": "magnitude",
            "target_sparsity": cfg.prune.sparsity,
            "sparsity": round(sp["sparsity"], 6), "sparsity_per_layer": sp["per_layer"],
            "sparsity_all_kernels": round(sp["sparsity_all_kernels"], 6),
            # zeros are stored like any other int8 weight: nothing smaller or faster on a device
            "pays_on_device": False, **_before_keys(before),
            "train": info.get("train"), "seconds": round(time.perf_counter() - t0, 3)}


def _before_keys(before: dict[str, float]) -> dict[str, float]:
    return {"accuracy_before": before["accuracy"], "val_accuracy_before": before["val_accuracy"]}


def _prune_channels(cfg: Config, ds: Any, model: Any, distiller: Any, progress: bool) -> dict[str, Any]:
    """Structured pruning: drop the least important channels of every layer,
    then fine-tune the narrower model against the teacher. The model is
    returned under "_model" for the stage to save."""
    from ..compress import prune as prune_mod
    full = prune_mod.kernel_weights(model)
    keep = prune_mod.plan_channels(model, cfg.prune.sparsity)
    small = prune_mod.shrink_channels(model, keep)
    at_cut = _eval(small, ds)
    hist = distiller.fit(small, ds.x_train, ds.y_train, ds.x_val, ds.y_val, epochs=cfg.prune.epochs,
                         batch_size=cfg.student.batch_size, learning_rate=cfg.prune.learning_rate,
                         seed=cfg.run.seed, progress=progress, desc="prune")
    widths = {n: [int(model.get_layer(n).output.shape[-1]), int(len(k))] for n, k in keep.items()}
    cost_before = _cost(model)
    return {"_model": small, **_eval(small, ds), **_cost(small), "enabled": True, "method": "channels",
            "target_sparsity": cfg.prune.sparsity,
            "sparsity": round(1 - prune_mod.kernel_weights(small) / full, 6),
            "channels": widths, "accuracy_at_cut": at_cut["accuracy"],
            # a narrower dense model: fewer bytes and MACs on the device
            "pays_on_device": True, "bytes_before": cost_before["bytes"], "macs_before": cost_before["macs"],
            "params_before": cost_before["params"], "train": hist}


def _stage_quantize(cfg: Config, run: RunDir, tmp: Path, progress: bool) -> dict[str, Any]:
    from ..compress import prune as prune_mod
    from ..compress import quantize as q
    from ..train import fit
    ds = _dataset(cfg)
    _fresh(cfg.run.seed)
    t0 = time.perf_counter()
    student = _load_model(run.path(PRUNED))
    float_eval = _eval(student, ds)
    sparsity = prune_mod.measure_sparsity(student)["sparsity"]
    rep = q.representative_samples(ds.x_train, cfg.quantize.representative_samples, cfg.run.seed)
    deployed = q.with_softmax(student)
    float_bytes = q.to_float_tflite(deployed)
    extra: dict[str, Any] = {}
    if cfg.quantize.method == "qat":
        distiller = _distiller(cfg, ds, run.path(TEACHER))
        qat, logits_view = q.qat_wrap(deployed, prune_preserve=sparsity > 0)
        extra["train"] = distiller.fit(
            logits_view, ds.x_train, ds.y_train, ds.x_val, ds.y_val, epochs=cfg.quantize.qat_epochs,
            batch_size=cfg.student.batch_size, learning_rate=cfg.quantize.qat_learning_rate,
            seed=cfg.run.seed, progress=progress, desc="QAT", cosine=False)
        extra["accuracy_qat_keras"] = round(fit.accuracy(qat, ds.x_test, ds.y_test), 6)
        int8 = q.to_int8_tflite(qat, rep)
    else:
        int8 = q.to_int8_tflite(deployed, rep)
    ops = q.verify_int8(int8)
    atomic.write_bytes(tmp / FLOAT_TFLITE, float_bytes)
    atomic.write_bytes(tmp / INT8_TFLITE, int8)
    acc_i8 = q.tflite_accuracy(int8, ds.x_test, ds.y_test)
    val_i8 = q.tflite_accuracy(int8, ds.x_val, ds.y_val)
    cost = _cost(student)
    max_bytes = cfg.student.max_bytes
    return {
        "method": cfg.quantize.method,
        "accuracy": round(acc_i8, 6), "val_accuracy": round(val_i8, 6),
        "accuracy_int8_litert": round(acc_i8, 6), "val_accuracy_int8_litert": round(val_i8, 6),
        "accuracy_float": float_eval["accuracy"], "val_accuracy_float": float_eval["val_accuracy"],
        "int8_drop_points": round(100 * (float_eval["accuracy"] - acc_i8), 3),
        "params": cost["params"], "macs": cost["macs"], "bytes": len(int8),
        "int8_bytes": len(int8), "float_bytes": len(float_bytes), "int8_bytes_est": cost["bytes"],
        "max_bytes": max_bytes, "within_max_bytes": None if max_bytes is None else len(int8) <= max_bytes,
        "sparsity": round(sparsity, 6), "int8_weight_sparsity": round(q.int8_weight_sparsity(int8), 6),
        "ops": ops, "representative_samples": len(rep),
        **extra, "seconds": round(time.perf_counter() - t0, 3),
    }


def _stage_check(cfg: Config, run: RunDir, tmp: Path, progress: bool) -> dict[str, Any]:
    try:
        from ..convert.check import run_check
    except ImportError as e:
        raise TinymlError(f"the host check is not available in this install ({e})",
                          hint="install the full package, or run the stages before `check` only") from None
    ds = _dataset(cfg)
    t0 = time.perf_counter()
    metrics = run_check(run.path(INT8_TFLITE), ds, cfg.check, tmp,
                        float_tflite_path=run.path(FLOAT_TFLITE), progress=progress)
    return {**metrics, "seconds": round(time.perf_counter() - t0, 3)}


def _stage_report(cfg: Config, run: RunDir, tmp: Path, progress: bool) -> dict[str, Any]:
    from ..report.render import write_report
    t0 = time.perf_counter()
    # Read the run folder, write into the staging folder: the outputs move in
    # together (and only) when the stage succeeds.
    written = write_report(run.root, tmp)
    return {"files": sorted(Path(p).name for p in written), "seconds": round(time.perf_counter() - t0, 3)}


# name -> (param sections, input files, outputs, function)
def _plan(cfg: Config, name: str) -> tuple[dict[str, Any], list[str], list[str], Callable]:
    sec = cfg.section
    base = {"version": STAGE_VERSION, "seed": cfg.run.seed, "data": sec("data")}
    if name == "teacher":
        return {**base, "teacher": sec("teacher")}, [], [TEACHER], _stage_teacher
    student = {"student": sec("student"), "sizing_sparsity": _sizing_sparsity(cfg)}
    if name == "alone":
        return {**base, **student}, [], [ALONE], _stage_alone
    if name == "distill":
        return ({**base, **student, "distill": sec("distill")}, [TEACHER], [DISTILLED],
                _stage_distill)
    if name == "prune":
        inputs = [DISTILLED, TEACHER] if cfg.prune.enabled else [DISTILLED]
        return ({**base, **student, "distill": sec("distill"), "prune": sec("prune")},
                inputs, [PRUNED], _stage_prune)
    if name == "quantize":
        params = {**base, "quantize": sec("quantize"), "max_bytes": cfg.student.max_bytes}
        inputs = [PRUNED]
        if cfg.quantize.method == "qat":
            params.update(student=sec("student"), distill=sec("distill"))
            inputs.append(TEACHER)
        return params, inputs, [FLOAT_TFLITE, INT8_TFLITE], _stage_quantize
    if name == "check":
        return ({**base, "check": sec("check")}, [INT8_TFLITE, FLOAT_TFLITE],
                [CHECK_JSON, GOLDEN, TESTSET], _stage_check)
    if name == "report":
        run = run_dir_for(cfg)
        # Re-render whenever any earlier stage's recorded result changed.
        stages = {k: v.get("fingerprint") for k, v in run.manifest()["stages"].items() if k != "report"}
        inputs = [f for f in (CHECK_JSON, RESULTS_JSON) if run.exists(f)]   # + device results
        return {"version": STAGE_VERSION, "stages": stages}, inputs, REPORT_FILES, _stage_report
    raise ConfigError(f"unknown pipeline stage '{name}'", hint=f"stages are: {', '.join(STAGES)}")


def write_config(cfg: Config) -> Path:
    run = run_dir_for(cfg)
    run.root.mkdir(parents=True, exist_ok=True)
    return atomic.write_text(run.path("config.toml"), to_toml(cfg))


def run_stage(name: str, cfg: Config, force: bool = False, progress: bool = False) -> StageResult:
    """Run one stage (skipped if its inputs are unchanged, unless `force`)."""
    params, inputs, outputs, fn = _plan(cfg, name)
    run = run_dir_for(cfg)
    result = run.stage(name, params, inputs, outputs, lambda tmp: fn(cfg, run, tmp, progress), force=force)
    write_config(cfg)  # only once a stage has succeeded: a failed first stage leaves nothing
    return result


def check_model(cfg: Config, model_path: str | Path, force: bool = False,
                progress: bool = False, use_data: bool = True) -> StageResult:
    """`tinyml check --model FILE`: host-check a model the user brings.

    A full-int8 .tflite is checked as it is; a float one (float .tflite, Keras,
    SavedModel, ONNX) is quantized first on `[model] calibration`
    (tinyml.importers.load). The file is validated before anything is written;
    on success the int8 model is in the run folder as model_int8.tflite next to
    check.json, golden.npz and import.json, so `tinyml export` can take it from
    there. Without `use_data` the checks run on seeded random inputs
    (tinyml.importers.own_model) and report no accuracy.
    """
    from ..importers import own_model
    from ..importers.load import INT8_TFLITE as INT8_FORMAT
    from ..importers.load import detect, load_user_model
    from ..convert.check import run_check
    from ..convert.hostcheck import prepare_inputs
    from ..core.runs import sha256_file
    from ..model.tflite_file import load_tflite
    src = Path(model_path)
    fmt = detect(src)  # clear ModelError naming the file if it is no model we read
    run = run_dir_for(cfg)
    own_model.guard_run(run.root, src)
    n_random = cfg.check.max_test_samples or own_model.RANDOM_SAMPLES
    mc = cfg.model
    params = {"version": STAGE_VERSION, "seed": cfg.run.seed,
              "data": cfg.section("data") if use_data else {"random_inputs": n_random},
              "check": cfg.section("check"), "model": str(src), "model_sha256": _source_hash(src),
              "import": cfg.section("model") if fmt != INT8_FORMAT else None,
              "calibration_sha256": (sha256_file(mc.calibration) if mc.calibration
                                     and Path(mc.calibration).is_file() else None)}
    outputs = [CHECK_JSON, GOLDEN, TESTSET, INT8_TFLITE, IMPORT_JSON]
    if fmt != INT8_FORMAT:
        outputs.append(FLOAT_TFLITE)

    def fn(tmp: Path) -> dict[str, Any]:
        t0 = time.perf_counter()
        imp = load_user_model(src, mc.calibration, mc.input_shape, mc.calibration_samples, cfg.run.seed,
                              lambda name, path: _dataset(_data_cfg(cfg, name, path)), use_data)
        atomic.write_bytes(tmp / INT8_TFLITE, imp.int8)
        float_path = None
        if imp.float_tflite is not None:
            float_path = atomic.write_bytes(tmp / FLOAT_TFLITE, imp.float_tflite)
        record = imp.record()
        atomic.write_json(tmp / IMPORT_JSON, {"source": src.name, **record})
        model = load_tflite(tmp / INT8_TFLITE)
        ds = _dataset(cfg) if use_data else own_model.random_dataset(tmp / INT8_TFLITE, n_random,
                                                                   cfg.run.seed)
        # A model made for other data is refused before the slow arena search.
        prepare_inputs(model, ds.x_test[:1])
        metrics = run_check(tmp / INT8_TFLITE, ds, cfg.check, tmp, float_tflite_path=float_path,
                            progress=progress, own_model=True)
        worst = (imp.triage or {}).get("worst") or {}
        return {**metrics, "model": str(src), "model_format": imp.format,
                "calibration": imp.calibration, "calibration_random": imp.calibration_random,
                "worst_layer": worst.get("layer"), "worst_layer_sqnr_db": worst.get("sqnr_db"),
                "output_sqnr_db": (imp.triage or {}).get("output_sqnr_db"),
                "import_seconds": record["seconds"],
                "seconds": round(time.perf_counter() - t0, 3)}

    result = run.stage("check", params, [], outputs, fn, force=force)
    write_config(cfg)
    return result


def _source_hash(src: Path) -> str:
    """A model file's sha256, or a SavedModel folder's (every file, by relative path)."""
    from ..core.runs import sha256_file
    if src.is_file():
        return sha256_file(src)
    import hashlib
    h = hashlib.sha256()
    for f in sorted(p for p in src.rglob("*") if p.is_file()):
        h.update(f.relative_to(src).as_posix().encode() + b"\0" + sha256_file(f).encode())
    return h.hexdigest()


def _data_cfg(cfg: Config, name: str | None, path: str | None) -> Config:
    """The config with another [data] name/path: calibration data the user named."""
    if name is None and path is None:
        return cfg
    from dataclasses import replace
    if name is None:
        p = Path(path)
        name = ("csv" if p.suffix.lower() == ".csv" else
                "wav" if any(p.rglob("*.wav")) else "images")
    from ..config.schema import load
    data = load(None, {"data": {"name": name, "path": path}}).data
    return replace(cfg, data=data)


def run_pipeline(cfg: Config, stages: list[str] | None = None, force: bool = False,
                 progress: bool = True) -> list[StageResult]:
    """Run `stages` (default: all, in pipeline order) and return their results."""
    names = list(stages) if stages is not None else list(STAGES)
    for n in names:
        if n not in STAGES:
            raise ConfigError(f"unknown pipeline stage '{n}'", hint=f"stages are: {', '.join(STAGES)}")
    names = [n for n in STAGES if n in names]
    show = progress and sys.stderr.isatty()
    results = []
    for n in names:
        if show:
            print(f"[{n}] ...", file=sys.stderr, flush=True)
        r = run_stage(n, cfg, force=force, progress=progress)
        if show:
            acc = r.metrics.get("accuracy")
            acc_s = f" test accuracy {acc:.2%}" if isinstance(acc, float) else ""
            print(f"[{n}] {'skipped (unchanged)' if r.skipped else f'done in {r.seconds:.1f} s'}{acc_s}",
                  file=sys.stderr, flush=True)
        results.append(r)
    return results
