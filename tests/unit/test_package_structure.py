"""The package's shape: no import cycles, every module importable on its own (in a
fresh interpreter, without TensorFlow), and one way to do each shared thing."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "tinyml"


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        parts = list(p.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = p
    return out


def _imports(path: Path, name: str, is_pkg: bool) -> set[str]:
    """Every module `name` imports, at import time or lazily inside a function: a
    lazy import still makes the two modules depend on each other."""
    base = name if is_pkg else name.rpartition(".")[0]
    found: set[str] = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.Import):
            found.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                pkg = base.split(".")
                pkg = pkg[:len(pkg) - (n.level - 1)]
                mod = ".".join(pkg + ([n.module] if n.module else []))
            else:
                mod = n.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in n.names)   # submodules, if any
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for imp in _imports(path, name, path.name == "__init__.py"):
            # importing a.b.c runs a/__init__ and a/b/__init__ too
            parts = imp.split(".")
            deps.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        # A module's own enclosing packages are already importing when it runs: no edge.
        own = {name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)}
        graph[name] = {d for d in deps if d in mods and d != name and d not in own}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_import_graph_has_no_cycles():
    graph = _graph()
    assert len(graph) > 50 and "tinyml.targets.budget" in graph["tinyml.flows.export"]
    # The checker sees a cycle when there is one (a package importing a module that imports it back).
    assert _cycles({"a": {"a.b"}, "a.b": {"a"}, "c": set()}) == [["a", "a.b"]]
    assert _cycles(graph) == []


# Each module in its own child of a bare interpreter (forked before anything is imported).
_IMPORT_EACH = r"""
import importlib, os, sys, traceback
bad = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            importlib.import_module(name)
            if "tensorflow" in sys.modules:
                print(f"{name}: imports tensorflow at import time", flush=True)
                code = 2
        except BaseException:
            print(f"{name}: " + traceback.format_exc(), flush=True)
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status:
        bad.append(name)
print("BAD", " ".join(bad))
"""


def test_every_module_imports_on_its_own_without_tensorflow():
    names = sorted(_modules())
    cp = subprocess.run([sys.executable, "-c", _IMPORT_EACH, *names], capture_output=True, text=True,
                        timeout=600, cwd=PKG.parent)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip().endswith("BAD"), cp.stdout[-4000:]


# -- one way to do each thing ---------------------------------------------------------

def _package_source() -> dict[str, str]:
    return {str(p.relative_to(PKG.parent)): p.read_text() for p in PKG.rglob("*.py")}


def test_one_tflite_parser_one_c_float_one_int8_converter():
    src = _package_source()

    def where(pattern: str) -> list[str]:
        return sorted(f for f, text in src.items() if re.search(pattern, text, re.M))

    # Only tflite_file.py touches the flatbuffer parser; everything else calls parse_tflite.
    assert where(r"GetRootAs|InitFromPackedBuf|InitFromObj|schema_py_generated") == ["tinyml/model/tflite_file.py"]
    assert where(r"^def (parse_tflite|load_tflite)\b") == ["tinyml/model/tflite_file.py"]
    assert where(r"^def _?c_float\b") == ["tinyml/codegen/carray.py"]
    assert where(r"TFLiteConverter\.from_") == ["tinyml/compress/quantize.py"]
    assert where(r"inference_input_type\s*=") == ["tinyml/compress/quantize.py"]
    # One layer-name rule: the AOT IR names layers with tflite_file's function.
    assert where(r"^def layer_from_tensor_name\b") == ["tinyml/model/tflite_file.py"]
    assert "layer_from_tensor_name" in src["tinyml/codegen/aot/ir.py"]


def test_registries_are_explicit_lists():
    src = _package_source()
    for f, text in src.items():
        assert "pkgutil" not in text and "iter_modules" not in text, f"auto-discovery in {f}"
    from tinyml.codegen.aot import ops
    from tinyml.data import registry as data_registry
    from tinyml.targets import registry as target_registry
    import importlib
    import pkgutil
    # Every lowering module is listed, and importing it checks its @register lines.
    # (base, common, layout: shared helpers, no lowering of their own)
    on_disk = {m.name for m in pkgutil.iter_modules(ops.__path__)} - {"base", "common", "layout"}
    assert on_disk == {mod for mod, _ in ops.LOWERINGS.values()}
    for mod in on_disk:
        importlib.import_module(f"{ops.__name__}.{mod}")
    assert set(ops.load_all()) == set(ops.LOWERINGS)
    assert set(data_registry.available()) == set(data_registry.LOADERS)
    for name in data_registry.LOADERS:
        assert callable(data_registry.get_loader(name))
    assert [t.name for t in target_registry.all_targets()] == list(target_registry.TARGET_NAMES)


def test_one_stage_table():
    from tinyml.flows import pipeline
    from tinyml.core import stages
    from tinyml.report import metrics
    assert pipeline.STAGES is stages.STAGES
    src = _package_source()
    tuples = [f for f, text in src.items() if re.search(r'\("teacher", "alone", "distill"', text)]
    assert tuples == ["tinyml/core/stages.py"]
    assert not hasattr(metrics, "STAGE_ALIASES") and not hasattr(metrics, "STAGE_ORDER")


def test_runtime_names_and_budget_estimates_live_in_targets():
    src = _package_source()
    listed = sorted(f for f, text in src.items() if re.search(r'\(\s*"aot",\s*"tflm"\s*\)', text))
    assert listed == ["tinyml/targets/budget.py"]
    estimates = sorted(f for f, text in src.items() if re.search(r'"CONV_2D":\s*\d{3,}', text))
    assert estimates == ["tinyml/targets/budget.py"]


def test_no_internal_milestone_tags():
    root = PKG.parent
    files = [*PKG.rglob("*.py"), *root.glob("*.md"), *(root / "docs").glob("*.md"),
             *(root / "firmware").rglob("*.[ch]"), *(root / "firmware").rglob("*.md")]
    tagged = sorted(str(f.relative_to(root)) for f in files
                    if re.search(r"\bH[0-9]\b", f.read_text(errors="replace")))
    assert tagged == []


# -- rooms and floors -------------------------------------------------------------------
# Each room of tinyml/ sits on a floor; a room imports only rooms on lower floors (and
# itself). A new room must be placed here, and docs/ARCHITECTURE.md shows the same map.
FLOORS = {
    "core": 0,
    "model": 1, "data": 1, "harness": 1,
    "codegen": 2, "targets": 2, "report": 2, "compress": 2, "convert": 2,
    "config": 3, "train": 3, "importers": 3,
    "flows": 4,
    "cli": 5,
}
# Rooms a light install (no TensorFlow, no LiteRT) must be able to run.
LIGHT_ROOMS = ("core", "model", "harness", "codegen", "targets")
HEAVY = ("tensorflow", "tf_keras", "tensorflow_model_optimization", "keras", "ai_edge_litert")
TF_DOOR = "tinyml.core.tfcompat"      # the one module that may import TensorFlow (lazily)


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "tinyml"


def _upward_edges(graph: dict[str, set[str]], floors: dict[str, int]) -> list[str]:
    bad = []
    for a, deps in sorted(graph.items()):
        for d in sorted(deps):
            ra, rd = _room(a), _room(d)
            if ra != rd and rd != "tinyml" and floors[rd] >= floors[ra]:
                bad.append(f"{a} ({ra}, floor {floors[ra]}) imports {d} ({rd}, floor {floors[rd]})")
    return bad


def test_top_level_holds_only_cli_init_and_rooms():
    files = sorted(p.name for p in PKG.iterdir() if p.is_file() and p.suffix == ".py")
    assert files == ["__init__.py", "cli.py"]
    rooms = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").is_file())
    assert rooms == sorted(set(FLOORS) - {"cli"}), "place every room of tinyml/ in FLOORS"


def test_rooms_import_only_lower_floors():
    graph = _graph()
    # The checker sees an edge running up, or sideways between two rooms of one floor.
    assert _upward_edges({"tinyml.core.x": {"tinyml.flows.y"}}, FLOORS)
    assert _upward_edges({"tinyml.codegen.x": {"tinyml.targets.y"}}, FLOORS)
    assert not _upward_edges({"tinyml.flows.x": {"tinyml.core.y", "tinyml.flows.z"}}, FLOORS)
    assert _upward_edges(graph, FLOORS) == []


def test_light_rooms_never_import_tensorflow():
    mods = _modules()
    bad = []
    for name, path in mods.items():
        if _room(name) not in LIGHT_ROOMS or name == TF_DOOR:
            continue
        for imp in _imports(path, name, path.name == "__init__.py"):
            door = imp == TF_DOOR and _room(name) != "core"     # core may hold the door's key
            if imp.split(".")[0] in HEAVY or door:
                bad.append(f"{name} imports {imp}")
    assert bad == []
    # The check would see one: compress imports the door and is not light.
    assert TF_DOOR in _imports(mods["tinyml.compress.quantize"], "tinyml.compress.quantize", False)
