"""`static/lazydefs.py`: a followed module parsed with its top-level function bodies left for
later is, read through, the module a whole-file parse gives; what the analysis records of it is
the same; and a body nobody reads is never parsed."""
from __future__ import annotations

import dataclasses
import re
import importlib.util
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from speclint.static import lazydefs, positions, reparse, safeparse
from speclint.static import parse as P
from speclint.static.analyzer import ModuleAnalyzer
from speclint.static.facts import FactLog
from speclint.static.walk import Walker, walk

ROOT = Path(__file__).resolve().parents[1]


def _estimator_sources():
    """TensorFlow Estimator's own modules (real Estimator code, imported as libraries by users'
    model files), when tensorflow-estimator is installed; found without importing it."""
    spec = importlib.util.find_spec("tensorflow_estimator")
    if spec is None or not spec.submodule_search_locations:
        return []
    base = Path(list(spec.submodule_search_locations)[0]) / "python" / "estimator"
    names = ("estimator.py", "tpu/tpu_estimator.py", "canned/head.py", "canned/dnn.py", "training.py",
             "model_fn.py", "util.py", "export/export_lib.py", "canned/boosted_trees.py")
    return [base / n for n in names if (base / n).is_file()]


def _largest(paths, n):
    return sorted(paths, key=lambda p: -p.stat().st_size)[:n]


REAL = sorted(ROOT.joinpath("fixtures").rglob("*.py")) + _largest(ROOT.joinpath("speclint").rglob("*.py"), 12) \
    + _estimator_sources()


def _ids(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return "tensorflow_estimator/" + p.name


def _lazy(data: bytes) -> cst.Module:
    reparse.clear()
    reason, outline = safeparse.check(data, lazy=True)
    assert reason is None
    module = reparse.parse_module(data, outline, lazy=True)
    assert module is not None
    return module


def _plain(node: cst.CSTNode) -> cst.CSTNode:
    """A lazy function as the FunctionDef it stands for, and a class with lazy methods as the
    ClassDef (libcst's `deep_equals` compares types)."""
    if isinstance(node, lazydefs.LazyFunctionDef):
        return cst.FunctionDef(**{f.name: getattr(node, f.name) for f in dataclasses.fields(cst.FunctionDef)})
    if isinstance(node, cst.ClassDef) and isinstance(node.body, cst.IndentedBlock):
        return node.with_changes(body=node.body.with_changes(body=[_plain(s) for s in node.body.body]))
    return node


def _lazies(module: cst.Module, methods: bool = True):
    """The lazy functions of a module, and of its top-level classes."""
    out = []
    for s in module.body:
        if isinstance(s, lazydefs.LazyFunctionDef):
            out.append(s)
        elif methods and isinstance(s, cst.ClassDef) and isinstance(s.body, cst.IndentedBlock):
            out.extend(m for m in s.body.body if isinstance(m, lazydefs.LazyFunctionDef))
    return out


def _defs(module: cst.Module):
    """The top-level functions and the methods of top-level classes, in order."""
    out = []
    for s in module.body:
        if isinstance(s, cst.FunctionDef):
            out.append(s)
        elif isinstance(s, cst.ClassDef) and isinstance(s.body, cst.IndentedBlock):
            out.extend(m for m in s.body.body if isinstance(m, cst.FunctionDef))
    return out


@pytest.mark.parametrize("path", REAL, ids=_ids)
def test_read_through_it_is_the_whole_parse(path):
    data = path.read_bytes()
    whole = cst.parse_module(data)
    module = _lazy(data)
    lazies = _lazies(module)
    assert all(not f.parsed for f in lazies)
    assert module.code == whole.code == data.decode("utf-8")  # generated from the text, unparsed
    assert all(not f.parsed for f in lazies)
    # positions of every top-level statement and of each function's name (a function's range
    # ends where its last statement does: computing it reads the body)
    stmts = list(module.body)
    pairs = [(a, b) for a, b in zip(_defs(module), _defs(whole), strict=True) if isinstance(a, lazydefs.LazyFunctionDef)]
    assert [a for a, _ in pairs] == lazies
    names = [f.name for f in lazies]
    got, _ = positions.compute(module, stmts + names)
    want, _ = positions.compute(whole, list(whole.body) + [b.name for _, b in pairs])
    assert [got[s] for s in stmts] == [want[s] for s in whole.body]
    assert [got[n] for n in names] == [want[b.name] for _, b in pairs]
    # each body, read, is node for node the whole parse's
    for stmt, full in zip(module.body, whole.body):
        assert _plain(stmt).deep_equals(full)
    assert all(f.parsed for f in lazies)
    assert module.code == whole.code


def test_the_real_files_have_lazy_bodies():
    """(so the test above compares something): most of these files' top-level functions are lazy."""
    counted = [len(_lazies(_lazy(p.read_bytes()))) for p in REAL]
    assert sum(counted) >= 100 and sum(1 for c in counted if c) >= len(REAL) // 2


def _defs(module) -> list:
    """Every function of a module, nested ones included (reading every lazy body)."""
    class Defs(Walker):
        def __init__(self):
            self.found = []

        def visit_FunctionDef(self, node):
            self.found.append(node)

    walker = Defs()
    walk(module, walker)
    return walker.found


def _summary(an: ModuleAnalyzer) -> dict:
    """What importers of a module get from its analysis, by name (the nodes differ)."""
    def name(node):
        return node.name.value if node is not None else ""

    facts = sorted((type(f).__name__, cst.Module([]).code_for_node(f.site.node))
                   for facts in an.log._by_type.values() for f in facts)
    return {
        "imports": {k: sorted(v) for k, v in an.imports.bindings.items()},
        # (every function, nested ones in bodies read later too: `parent_of` takes them in)
        "parents": sorted((name(fn), name(an.parent_of(fn))) for fn in _defs(an.module)),
        "methods": sorted((name(cls), sorted(ms)) for cls, ms in an.methods.items()),
        "attr_writers": sorted((name(k[0]), k[1], sorted(map(str, v))) for k, v in an.attr_writers.items()),
        "foreign_attr_writes": sorted(an.foreign_attr_writes),
        "facts": facts,
        "env": sorted((k, type(v).__name__) for k, v in an.module_run.final_env().items()),
    }


@pytest.mark.parametrize("path", REAL, ids=_ids)
def test_the_analysis_of_a_followed_module_is_the_same(path):
    data = path.read_bytes()
    whole = ModuleAnalyzer(cst.parse_module(data), path=str(path)).analyze_library()
    module = _lazy(data)
    lazy = ModuleAnalyzer(module, path=str(path)).analyze_library()
    assert _summary(lazy) == _summary(whole)


HELPER = '''\
import tensorflow as tf


class Holder(object):
    def __init__(self):
        self.tensor = None


def build(features, holder):
    """Writes an attribute of another class's instance, calls nothing the pre-pass knows."""
    hidden = tf.layers.dense(features, 10)
    hidden = tf.nn.relu(hidden)
    hidden = tf.layers.dense(hidden, 2)
    holder.tensor = hidden
    return hidden


def untouched(x):
    y = x + 1
    y = y * 2
    y = y - 3
    y = y / 4
    y = y % 5
    return y
'''


def test_a_body_nobody_reads_is_not_parsed_and_its_writes_are_recorded():
    module = _lazy(HELPER.encode())
    an = ModuleAnalyzer(module, path="helper.py").analyze_library()
    by_name = {f.name.value: f for f in _lazies(module)}
    assert set(by_name) == {"build", "untouched"}
    assert not by_name["build"].parsed and not by_name["untouched"].parsed
    # `holder.tensor = ...` outside Holder's methods: Holder.tensor is not known to be None
    assert "tensor" in an.foreign_attr_writes
    assert "<elsewhere>" in {str(w) for k, v in an.attr_writers.items() if k[1] == "tensor" for w in v}


def test_a_body_with_what_the_prepass_reports_is_walked_whole():
    """Bad twin of the above: a ModeKeys name that does not exist (SL037) and a cleared summary
    collection are recorded node by node, so such a body is parsed and walked."""
    bad = HELPER.replace("return hidden", "tf.get_collection_ref(tf.GraphKeys.SUMMARIES).clear()\n"
                                          "    return tf.estimator.ModeKeys.EVALUATE")
    module = _lazy(bad.encode())
    whole = ModuleAnalyzer(cst.parse_module(bad), path="helper.py").analyze_library()
    an = ModuleAnalyzer(module, path="helper.py").analyze_library()
    by_name = {f.name.value: f for f in _lazies(module)}
    assert by_name["build"].parsed and not by_name["untouched"].parsed
    kinds = {t.__name__ for t, facts in an.log._by_type.items() if facts}
    assert {"ModeKeysAttribute", "SummariesCleared"} <= kinds
    assert _summary(an) == _summary(whole)


@pytest.mark.parametrize("body, lazy", [
    ("    return x\n", False),  # short: not worth it
    ("    import os\n" + "    x = x + 1\n" * 6 + "    return os.sep\n", False),  # an import
    ("    def inner():\n        return 1\n" + "    x = x + 1\n" * 6 + "    return inner\n", True),  # a nested def
    # bad twins: a nested def with a model_fn's parameters (analyze() picks it by them), at any depth
    ("    def model_fn(features, labels, mode):\n        return 1\n" + "    x = x + 1\n" * 6 + "    return model_fn\n",
     False),
    ("    def a():\n        def b(features, mode, *, params=None):\n            return 1\n        return b\n"
     + "    x = x + 1\n" * 6 + "    return a\n", False),
    ("    class A:\n        pass\n" + "    x = x + 1\n" * 6 + "    return A\n", False),
    ("    x = x + 1\n" * 6 + "    return x\n", True),
])
@pytest.mark.parametrize("header", ["def f(x):", "def f(x, features=None, mode=None):"])
def test_which_bodies_are_left_for_later(body, lazy, header):
    if "features" in header and "def inner" in body:
        lazy = False  # a function with a model_fn's parameters that defines one: walked whole
    src = header + "\n" + body + "\n\ny = f(1)\n"
    module = _lazy(src.encode())
    assert bool(_lazies(module)) is lazy
    assert module.code == src
    assert all(_plain(a).deep_equals(b) for a, b in zip(module.body, cst.parse_module(src).body))


def test_a_body_libcst_rejects_says_so_when_read():
    """CPython accepts what libcst 1.x does not in rare cases; a lazy body that libcst rejects is
    reported when read (the caller treats it like a failed parse), never parsed wrong."""
    src = "def f(x):\n" + "    x = x + 1\n" * 6 + "    return x\n"
    module = _lazy(src.encode())
    (fn,) = _lazies(module)
    later = fn.__dict__["_later"]
    later.parse = lambda text: None
    with pytest.raises(ValueError):
        fn.body


def test_a_file_and_a_library_share_one_lazy_parse():
    """A module followed from another file and checked as a file of its own is parsed once
    (lazily: its bodies are parsed when read, by either analysis)."""
    src = textwrap.dedent("""\
        def f(x):
            x = x + 1
            x = x + 1
            x = x + 1
            x = x + 1
            x = x + 1
            return x
        """).encode()
    P.clear()
    first = P.parse(src).module
    assert _lazies(first) and not _lazies(first)[0].parsed
    assert P.parse(src).module is first
    P.clear()


def test_a_fresh_log_records_nothing_for_an_unread_body():
    """The log of a lazy module's analysis holds no fact from inside an unread body (the pre-pass
    never walks it; the body's facts appear when an importer's run reads it)."""
    module = _lazy(HELPER.encode())
    an = ModuleAnalyzer(module, path="helper.py")
    assert isinstance(an.log, FactLog)
    an.analyze_library()
    assert not any(an.log._by_type.values())


# ---- the files checked: their bodies are lazy too ------------------------------------------------
TREES = [ROOT / "fixtures", ROOT / "tests" / "data" / "realmodels"]


def _fresh():
    from speclint.static import modules, project_view

    modules.clear()
    project_view.clear()
    P.clear()


def _tree_findings(monkeypatch, lazy: bool, made: list) -> list:
    from speclint import engine
    from speclint.config import Resolver

    monkeypatch.setattr(P, "LAZY_BODIES", lazy)
    _fresh()
    result = engine.check_paths([str(p) for p in TREES], Resolver(overrides={"select": ("ALL",)}), jobs=1)
    assert not result.internal_errors
    return sorted((d.path, d.line, d.column, d.end_line, d.end_column, d.code, d.message, repr(d.fix))
                  for d in result.diagnostics)


def test_lazy_bodies_change_no_finding(monkeypatch):
    """The fixtures and the real models (BERT, ELECTRA, TPU models) checked with lazy bodies and
    parsed whole: the same findings, positions and fixes; and some lazy bodies stay unparsed (these
    files are mostly model_fns and what they call: on the 19 repositories of the sweep, most do)."""
    made = []
    shell = lazydefs.from_shell
    monkeypatch.setattr(lazydefs, "from_shell", lambda *a: made.append(shell(*a)) or made[-1])
    lazy = _tree_findings(monkeypatch, True, made)
    unread = sum(1 for f in made if not f.parsed)
    assert unread >= 10 and len(made) > 100
    whole = _tree_findings(monkeypatch, False, made)
    assert lazy == whole
    assert len(lazy) > 50 and any(f[-1] != "None" for f in lazy)
    _fresh()


def _check(src: str):
    from speclint import engine
    from speclint.config import Config

    P.clear()
    return engine.check_source(src.encode(), "m.py", Config(root=ROOT, select=("ALL",)))


FIRST = textwrap.dedent('''\
    import tensorflow.compat.v1 as tf


    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        hook = tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)
        train_op = tf.train.AdamOptimizer(1e-3).minimize(tf.reduce_mean(loss))
        return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(loss), train_op=train_op,
                                          training_hooks=hook)


    def unused(x):
        y = x + 1
        y = y * 2
        y = y - 3
        y = y / 4
        y = y % 5
        return tf.contrib.layers.flatten(y)
    ''')


def test_a_model_fn_with_no_call_before_it_is_found():
    """The model_fn's body holds the module's first call (its calls are put back at the start of
    the pre-pass's list); the helper nobody runs stays unparsed."""
    made = []
    shell = lazydefs.from_shell
    lazydefs.from_shell = lambda *a: made.append(shell(*a)) or made[-1]
    try:
        result = _check(FIRST)
    finally:
        lazydefs.from_shell = shell
    assert [d.code for d in result.diagnostics] == ["SL023", "SL030"]  # (no global_step; a hook not in a list)
    assert {f.name.value: f.parsed for f in made} == {"model_fn": True, "unused": False}


TF1_HELPER = textwrap.dedent('''\
    import tensorflow as tf


    def model_fn(features, labels, mode):
        tf.summary.scalar("x", tf.reduce_mean(features))
        return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(features))


    def unused(x):
        y = x + 1
        y = y * 2
        y = y - 3
        y = (y / 4, tf.math)
        y = y * 5
        return tf.contrib.layers.flatten(y[0])
    ''')


def test_a_tf1_attribute_in_an_unread_body_makes_the_module_tf1():
    """`tfversion.is_tf1_module` answers from the summary of a body nobody read (the chains of
    attributes on names), the same as from its nodes, and leaves it unparsed; twin without it."""
    from speclint.static import tfversion

    for src, tf1 in ((TF1_HELPER, True), (TF1_HELPER.replace("tf.contrib.layers.flatten", "tf.identity"), False)):
        module = _lazy(src.encode())
        an = ModuleAnalyzer(module, path="m.py").analyze_library()
        assert tfversion.is_tf1_module(an) is tf1
        assert [f.parsed for f in _lazies(module)] == [False]
        assert tfversion.is_tf1_module(ModuleAnalyzer(cst.parse_module(src), path="m.py").analyze_library()) is tf1


def test_positions_after_an_unread_body_come_from_its_text():
    src = FIRST + "\n\nx = unused(1)\n"
    module = _lazy(src.encode())
    whole = cst.parse_module(src)
    got, stmts = positions.compute(module, [module.body[-1]])
    want, _ = positions.compute(whole, [whole.body[-1]])
    assert got[module.body[-1]] == want[whole.body[-1]] == (22, 0, 22, 13)
    assert not any(f.parsed for f in _lazies(module))
    # a node of an unread function's header: its range is the whole parse's (the body is read)
    name = _lazies(module)[1].name
    got, _ = positions.compute(module, [name])
    want, _ = positions.compute(whole, [whole.body[2].name])
    assert got[name] == want[whole.body[2].name]


def test_a_body_libcst_rejects_in_the_file_checked_is_sl000(monkeypatch):
    """A lazy body libcst rejects, read by the analysis: the file is parsed whole to say why
    (SL000, as when it is parsed whole from the start); one of another module is an internal error."""
    from speclint.static import pipeline

    monkeypatch.setattr(reparse, "_def_body_parser", lambda indent, newline: (lambda text: None))
    monkeypatch.setattr(pipeline, "parse_whole", lambda data: P.Parsed(None, "syntax error: rejected", (4, 0, 4, 0)))
    result = _check(FIRST)
    assert [(d.code, d.line, d.message) for d in result.diagnostics] == [
        ("SL000", 4, "could not check this file: syntax error: rejected")]
    monkeypatch.undo()
    monkeypatch.setattr(reparse, "_def_body_parser", lambda indent, newline: (lambda text: None))
    with pytest.raises(lazydefs.BodyRejected):
        _check(FIRST)
    P.clear()


# ---- methods ---------------------------------------------------------------------------------------
MODEL = textwrap.dedent('''\
    import tensorflow as tf


    class Model(object):
        """A model class (t2t, official/ models): most methods never run in an analysis."""

        def __init__(self, hparams):
            self.hparams = hparams
            self.layers = 2
            self.units = 10
            self.cache = None
            other = Model
            other.shared = 1

        # a comment between methods
        @property
        def depth(self):
            d = self.layers
            d = d * 2
            d = d + 1
            d = d - 1
            d = d * 1
            return d

        def body(self, features):
            x = tf.layers.dense(features, self.units)
            x = tf.nn.relu(x)
            x = tf.layers.dense(x, 2)
            x = tf.identity(x)
            self.cache = x
            return x
      ''').replace("  ''')", "")


def test_methods_are_lazy_and_their_writes_recorded_by_method():
    module = _lazy(MODEL.encode())
    assert [f.name.value for f in _lazies(module)] == ["__init__", "depth", "body"]
    assert module.code == MODEL
    whole = ModuleAnalyzer(cst.parse_module(MODEL), path="model.py").analyze_library()
    an = ModuleAnalyzer(module, path="model.py").analyze_library()
    assert not any(f.parsed for f in _lazies(module))
    cls = next(iter(an.methods))
    assert an.attr_writers[(cls, "hparams")] == {"__init__"}
    assert an.attr_writers[(cls, "cache")] == {"__init__", "body"}
    assert "shared" in an.foreign_attr_writes
    assert set(an.methods[cls]) == {"__init__", "depth", "body"} and an.class_def[an.methods[cls]["body"]] is cls
    # what `__init__` gives `self.units` (its body read when asked)
    assert an.instance_attr(cls, "units") is not None and an.methods[cls]["__init__"].parsed
    assert not an.methods[cls]["body"].parsed
    assert _summary(an) == _summary(whole)  # (reads every body)


@pytest.mark.parametrize("src", [
    re.sub(r"\n {8}(?=\S)", "\n      ", MODEL),  # method bodies indented by 2 more, not 4
    MODEL.replace("class Model(object):", "if True:\n  class Model(object):").replace("\n    ", "\n      "),
])
def test_methods_indented_otherwise_are_parsed_with_their_class(src):
    """Bad twins: bodies not indented by the file's unit past their class's (and a class not at
    the top level) are parsed whole; the module is the same."""
    module = _lazy(src.encode())
    assert _lazies(module) == []
    assert module.deep_equals(cst.parse_module(src))


def test_a_node_of_a_body_read_after_a_module_was_indexed_is_inside_it():
    """The project view asks which followed module a finding is in (`project_view._inside`): its
    index of a module's nodes leaves unread bodies unread, and takes in a body read since."""
    from speclint.static import project_view

    module = _lazy(MODEL.encode())
    an = ModuleAnalyzer(module, path="model.py").analyze_library()
    cls = next(iter(an.methods))
    body = an.methods[cls]["body"]
    assert project_view._inside(body.name, an) and not body.parsed
    stmt = body.body.body[0]  # (read now)
    assert project_view._inside(stmt, an) and project_view._inside(stmt.body[0].value, an)
    assert not project_view._inside(cst.parse_module(MODEL).body[0], an)
    project_view.clear()


NESTED = textwrap.dedent('''\
    import tensorflow.compat.v1 as tf


    class Model(object):
        def __init__(self, units):
            self.units = units
            self.cache = {}
            self.built = False

        def layer(self, x):
            def act(y, scale=2):
                self.cache["act"] = y
                self.last = y  # written in a nested function: never trusted
                return tf.nn.relu(y) * scale
            h = tf.layers.dense(x, self.units)
            h = act(h)
            self.built = True
            return h


    def build_spec(mode, loss):
        def _train_op():
            return tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=tf.train.get_global_step())

        def _hooks():
            return tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)
        if mode == tf.estimator.ModeKeys.TRAIN:
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=_train_op(), training_hooks=_hooks())
        return tf.estimator.EstimatorSpec(mode, loss=loss)


    def model_fn(features, labels, mode, params):
        logits = Model(2).layer(features["x"])
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return build_spec(mode, loss)


    def unused(x):
        def inner(a, *rest, key=None, **kw):
            b = a + 1
            return b
        y = inner(x)
        y = y * 2
        y = y - 3
        return tf.contrib.layers.flatten(y)
    ''')


def test_bodies_with_nested_functions_are_lazy_and_change_no_finding(monkeypatch):
    """Functions that define functions (no model_fn among them) are lazy too: the one nobody
    runs stays unparsed; the findings, positions and fixes are those of a whole parse."""
    made = []
    shell = lazydefs.from_shell
    monkeypatch.setattr(lazydefs, "from_shell", lambda *a: made.append(shell(*a)) or made[-1])
    lazy = _check(NESTED)
    parsed = {f.name.value: f.parsed for f in made}
    assert parsed["unused"] is False and parsed["build_spec"] is True
    assert {"layer", "build_spec", "unused"} <= {f.name.value for f in made if f.lazy.nested}
    monkeypatch.setattr(P, "LAZY_BODIES", False)
    whole = _check(NESTED)
    assert "SL030" in {d.code for d in lazy.diagnostics}

    def key(d):
        return d.line, d.column, d.end_line, d.end_column, d.code, d.message, repr(d.fix)
    assert sorted(map(key, lazy.diagnostics)) == sorted(map(key, whole.diagnostics))


def test_a_nested_function_read_later_has_its_parent_and_bindings():
    """What the pre-pass records of a nested function (its parent, its qualified name, the names
    it binds, `self.x` written in it) is the same whether its body was walked or read later."""
    from speclint.static.analyzer import qualified_name
    from speclint.static.checks import fixes

    module = _lazy(NESTED.encode())
    an = ModuleAnalyzer(module, path="m.py").analyze_library()
    whole = ModuleAnalyzer(cst.parse_module(NESTED), path="m.py").analyze_library()
    unused = {f.name.value: f for f in _lazies(module)}["unused"]
    assert not unused.parsed
    lazy_names, whole_names = fixes._Bindings(), fixes._Bindings()
    walk(module, lazy_names)
    walk(whole.module, whole_names)
    assert not unused.parsed and lazy_names.names == whole_names.names
    assert {"inner", "a", "rest", "key", "kw", "b", "y"} <= lazy_names.names
    cls = next(iter(an.methods))
    assert an.attr_writers[(cls, "built")] == {"__init__", "layer"} and "last" in an.foreign_attr_writes
    assert (cls, "last") not in an.attr_writers
    inner = unused.body.body[0]  # (read now)
    assert isinstance(inner, cst.FunctionDef) and an.parent_of(inner) is unused
    assert qualified_name(an, inner) == "unused.inner"
    assert _summary(an) == _summary(whole)


FACTORY = textwrap.dedent('''\
    from tensor2tensor.utils import contrib
    import tensorflow as tf


    def build(mode, loss):
        g = tf.get_default_graph().get_collection("x")
        loss = loss + 1
        loss = loss + 2
        loss = loss + 3
        loss = loss + 4
        return contrib.tpu().TPUEstimatorSpec(mode, loss=loss, eval_metric_ops={})


    def helper(x):
        y = x + 1
        y = y + 2
        y = y + 3
        y = y + 4
        y = y + 5
        return tf.get_default_graph().get_tensor_by_name(y)
    ''')


def test_a_call_through_a_module_factory_is_walked_only_when_it_resolves(monkeypatch):
    """`contrib.tpu().TPUEstimatorSpec(...)` (tensor2tensor's module factory) in a lazy body: the
    body is walked and the spec found, as in a whole parse; `tf.get_default_graph().x(...)` (a
    call of a call's attribute that resolves to nothing) leaves its body unparsed."""
    made = []
    shell = lazydefs.from_shell
    monkeypatch.setattr(lazydefs, "from_shell", lambda *a: made.append(shell(*a)) or made[-1])
    lazy = _check(FACTORY)
    assert {f.name.value: f.parsed for f in made} == {"build": True, "helper": False}
    assert {f.name.value: f.lazy.factory_calls for f in made} == {
        "build": {("tf.get_default_graph", ("get_collection",)), ("contrib.tpu", ("TPUEstimatorSpec",))},
        "helper": {("tf.get_default_graph", ("get_tensor_by_name",))}}
    monkeypatch.setattr(P, "LAZY_BODIES", False)
    whole = _check(FACTORY)
    assert [d.code for d in lazy.diagnostics] == [d.code for d in whole.diagnostics] == ["SL018"]
    assert [(d.line, d.column) for d in lazy.diagnostics] == [(d.line, d.column) for d in whole.diagnostics]


def test_the_code_of_a_read_method_is_its_nodes_code():
    """A method generated on its own after its body was read: the code of a whole parse's
    method (the body's text is at the file's indentation; its nodes' code is not)."""
    module = _lazy(MODEL.encode())
    whole = cst.parse_module(MODEL)
    lazy_cls = next(s for s in module.body if isinstance(s, cst.ClassDef))
    whole_cls = next(s for s in whole.body if isinstance(s, cst.ClassDef))
    for lazy_fn, whole_fn in zip(lazy_cls.body.body, whole_cls.body.body):
        if isinstance(lazy_fn, lazydefs.LazyFunctionDef):
            lazy_fn.body  # (read)
            assert cst.Module([]).code_for_node(lazy_fn) == cst.Module([]).code_for_node(whole_fn)
    assert module.code == MODEL


MULTI_LINE_DECORATOR = '''import functools
import tensorflow.compat.v1 as tf


def _weighted_metric_fn(labels, logits, weights, num_classes):
  return {'accuracy': tf.metrics.accuracy(labels, tf.argmax(logits, 1), weights=weights)}


@decorate(
    1)
def short():
  return 1


class Holder:
  @staticmethod
  @decorate(
      2)
  def also_short():
    return 2

  def method(self, x):
    a = x + 1
    b = a + 2
    c = b + 3
    d = c + 4
    return d


def _fashion_model_fn(features, labels, mode, params):
  logits = tf.layers.dense(features['image'], 10)
  if mode == tf.estimator.ModeKeys.PREDICT:
    return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={'logits': logits})
  loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
  weighted_fn = functools.partial(_weighted_metric_fn, num_classes=10)
  return tf.estimator.tpu.TPUEstimatorSpec(
      mode=mode, loss=loss, eval_metrics=(weighted_fn, [labels, logits]))
'''


def test_a_decorator_over_several_lines_does_not_give_a_body_to_another_function():
    """The text alone cannot tell a def under `@decorate(\\n    1)` from another statement: the
    module is then parsed without lazy bodies (before, the bodies went to the wrong functions:
    a model_fn became `pass`, its findings lost or misplaced)."""
    from speclint import engine
    from speclint.config import Config

    data = MULTI_LINE_DECORATOR.encode()
    lazy = P._parse_file(data, None, lazy=True)
    assert lazy.module.code == MULTI_LINE_DECORATOR

    def findings(lazy_bodies):
        P.clear()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(P, "LAZY_BODIES", lazy_bodies)
            result = engine.check_source(data, "m.py", Config(root=ROOT, select=("ALL",)))
            return [(d.code, d.line, d.column, d.message) for d in result.diagnostics]

    got, want = findings(True), findings(False)
    assert got == want and any(code == "SL019" for code, *_ in want)
