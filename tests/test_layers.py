"""The package's layers (docs/ARCHITECTURE.md): imports point one way, there is no import circle,
and no module is over 800 lines.  Every import counts: module level, inside functions and under
TYPE_CHECKING.  A new module must be given a layer in LAYERS (the test says so)."""
from __future__ import annotations

import ast
import collections
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "speclint"
MAX_LINES = 800

# Lowest first.  A module may import modules of its own layer (without a circle) and of lower
# layers, never of a higher one.  Keys are module names or package prefixes ending in ".";
# the longest matching key wins.
LAYERS = [
    ("core", ["speclint", "speclint.apis", "speclint.bytecache", "speclint.finding", "speclint.diagnostics", "speclint.heap", "speclint.record",
              "speclint.rulebook", "speclint.tpu_failures", "speclint.suppressions", "speclint.tfsig"]),
    ("rule families", ["speclint.families.", "speclint.families"]),
    ("static syntax", ["speclint.static", "speclint.static.safeparse", "speclint.static.parse",
                       "speclint.static.imports", "speclint.static.scopes", "speclint.static.positions",
                       "speclint.static.tfversion", "speclint.static.syntax", "speclint.static.walk",
                       "speclint.static.reparse", "speclint.static.lazydefs"]),
    ("static model", ["speclint.static.values", "speclint.static.facts", "speclint.static.state",
                      "speclint.static.retire"]),
    ("static semantics", ["speclint.static.tfops", "speclint.static.semantics"]),
    ("static interpreter", ["speclint.static.evaluate", "speclint.static.calls", "speclint.static.interpret"]),
    ("static analysis", ["speclint.static.extra_runs", "speclint.static.analyzer", "speclint.static.targeting",
                         "speclint.static.modules"]),
    ("static checks", ["speclint.static.checks.", "speclint.static.checks"]),
    ("static check runner", ["speclint.static.checks.runner"]),
    ("static project view", ["speclint.static.project_view"]),
    ("static pipeline", ["speclint.static.pipeline"]),
    ("runtime model", ["speclint.runtime.errors", "speclint.runtime.tfapi", "speclint.runtime.locate",
                       "speclint.runtime.signature",
                       "speclint.runtime.objects", "speclint.runtime.probe", "speclint.runtime.context",
                       "speclint.runtime.calls"]),
    ("runtime checks", ["speclint.runtime.checks.", "speclint.runtime.checks"]),
    ("runtime shim and simulation", ["speclint.runtime.", "speclint.runtime"]),
    ("files, config and cache", ["speclint.config", "speclint.files", "speclint.cache", "speclint.ondisk",
                                  "speclint.progress", "speclint.lifetime", "speclint.project", "speclint.schedule"]),
    ("engine", ["speclint.engine", "speclint.importcache", "speclint.workers"]),
    ("reporters and baseline", ["speclint.report.", "speclint.report", "speclint.baseline"]),
    ("fixes", ["speclint.fixes.", "speclint.fixes"]),
    ("explain", ["speclint.explain.", "speclint.explain"]),
    ("front ends", ["speclint.cli", "speclint.lsp", "speclint.flake8_plugin", "speclint.settings",
                    "speclint.check_command", "speclint.launcher", "speclint.__main__"]),
]


def _modules():
    mods = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts)
        mods[name[: -len(".__init__")] if name.endswith(".__init__") else name] = path
    return mods


def _edges(mods):
    edges = collections.defaultdict(set)
    for name, path in mods.items():
        pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            edges[name].update(t for t in targets if t in mods and t != name)
    return edges


def layer_of(name: str):
    best, best_len = None, -1
    for i, (_, keys) in enumerate(LAYERS):
        for key in keys:
            hit = name.startswith(key) if key.endswith(".") else name == key
            if hit and len(key) > best_len:
                best, best_len = i, len(key)
    return best


def test_every_module_has_a_layer():
    missing = sorted(m for m in _modules() if layer_of(m) is None)
    assert not missing, f"give these modules a layer in tests/test_layers.py LAYERS: {missing}"


def test_imports_point_down():
    mods = _modules()
    upward = []
    for src, targets in _edges(mods).items():
        for dst in targets:
            a, b = layer_of(src), layer_of(dst)
            if a is not None and b is not None and b > a:
                upward.append(f"{src} ({LAYERS[a][0]}) imports {dst} ({LAYERS[b][0]})")
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def _circles(edges, nodes):
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
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

    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return comps


def test_no_import_circle():
    mods = _modules()
    assert _circles(_edges(mods), mods) == []


def test_circle_detection_works():
    # the checker itself: a two-module circle and a self-contained chain
    assert _circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}, ["a", "b", "c"]) == [["a", "b"]]
    assert _circles({"a": {"b"}, "b": {"c"}}, ["a", "b", "c"]) == []


def test_no_module_over_800_lines():
    big = {m: n for m, p in _modules().items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, big
