"""The runtime engine's layers point one way (issue 15):

    core (speclint.apis, rulebook, diagnostics, finding, tfsig, tpu_failures, families)
      <- runtime model (errors, tfapi, locate, objects, signature, probe, context, calls)
      <- runtime checks (speclint/runtime/checks/)
      <- shim and simulation (patching, the install API in __init__, runner, pytest plugin,
         simulate, simulate_run)

Every import counts (module level, inside functions, under TYPE_CHECKING), as
/work/shared/tools/layers.py counts them.  A module imports only its own layer or lower ones, the
runtime package has no import circle, and no module is over 800 lines.
Run as a script to print the layer of every module and the edges that break the rule."""
import ast
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "speclint"
MAX_LINES = 800

CORE, MODEL, CHECKS, SHIM = 0, 1, 2, 3
LAYER_NAMES = {CORE: "core", MODEL: "runtime model", CHECKS: "runtime checks", SHIM: "shim / simulate"}

CORE_MODULES = {"speclint", "speclint.apis", "speclint.rulebook", "speclint.diagnostics",
                "speclint.finding", "speclint.tfsig", "speclint.tpu_failures", "speclint.families"}
MODEL_MODULES = {"errors", "tfapi", "locate", "objects", "signature", "probe", "context", "calls"}
SHIM_MODULES = {"", "patching", "runner", "pytest_plugin", "simulate", "simulate_run"}


def modules():
    """{dotted name: path} of every module of the package (packages by their __init__)."""
    out = {}
    for dirpath, _, files in os.walk(PACKAGE):
        for f in files:
            if f.endswith(".py"):
                path = Path(dirpath) / f
                rel = path.relative_to(ROOT).with_suffix("")
                name = ".".join(rel.parts)
                out[name[: -len(".__init__")] if name.endswith(".__init__") else name] = path
    return out


def imports(mods):
    """{module: set of package modules it imports}, counted like tools/layers.py."""
    edges = {}
    for m, path in mods.items():
        pkg = m if path.name == "__init__.py" else m.rsplit(".", 1)[0]
        targets = set()
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(n, ast.Import):
                names = [a.name for a in n.names]
            elif isinstance(n, ast.ImportFrom):
                base = n.module or ""
                if n.level:
                    parts = pkg.split(".")[: len(pkg.split(".")) - (n.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in n.names]
            targets.update(t for t in names if t in mods and t != m)
        edges[m] = targets
    return edges


def layer(module):
    """The layer of a module of the core or the runtime engine; None for the rest of speclint."""
    if module in CORE_MODULES or module.startswith("speclint.families."):
        return CORE
    if module == "speclint.runtime" or module.startswith("speclint.runtime."):
        short = module[len("speclint.runtime"):].lstrip(".")
        if short == "checks" or short.startswith("checks."):
            return CHECKS
        if short in MODEL_MODULES:
            return MODEL
        if short in SHIM_MODULES:
            return SHIM
        raise AssertionError(f"{module}: put it in a runtime layer (tests/test_runtime_layers.py)")
    return None


def violations(mods, edges):
    out = []
    for m in sorted(mods):
        mine = layer(m)
        if mine is None:
            continue
        for t in sorted(edges[m]):
            theirs = layer(t)
            if theirs is None or theirs > mine:
                out.append(f"{m} ({LAYER_NAMES[mine]}) imports {t} "
                           f"({LAYER_NAMES[theirs] if theirs is not None else 'outside core and runtime'})")
    return out


def circles(edges, within):
    """Strongly connected components (more than one module) among the modules `within` selects."""
    nodes = sorted(m for m in edges if within(m))
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if not within(w):
                continue
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
                comps.append(sorted(comp))

    for v in nodes:
        if v not in index:
            strong(v)
    return comps


def _ours(m):
    return layer(m) is not None


def test_every_runtime_module_has_a_layer_and_imports_only_downwards():
    mods = modules()
    edges = imports(mods)
    assert violations(mods, edges) == []


def test_no_import_circle_in_the_core_and_the_runtime():
    edges = imports(modules())
    assert circles(edges, _ours) == []


def test_no_module_of_the_core_or_the_runtime_is_over_800_lines():
    long = {m: n for m, p in modules().items() if _ours(m)
            for n in [len(p.read_text(encoding="utf-8").splitlines())] if n > MAX_LINES}
    assert long == {}


if __name__ == "__main__":
    mods = modules()
    edges = imports(mods)
    for lay in (CORE, MODEL, CHECKS, SHIM):
        names = sorted(m for m in mods if layer(m) == lay)
        print(f"{LAYER_NAMES[lay]}: {', '.join(names)}")
    bad = violations(mods, edges) + [f"circle: {', '.join(c)}" for c in circles(edges, _ours)]
    print("\n".join(bad) if bad else "no upward import, no circle")
    sys.exit(1 if bad else 0)
