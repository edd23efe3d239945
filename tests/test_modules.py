"""The run's module index: helpers imported from other linted modules, `self.x` attributes."""
import os
import textwrap

from speclint import engine
from speclint.config import Resolver
from speclint.static.modules import ModuleIndex

SPEC = "tf.estimator.tpu.TPUEstimatorSpec"

METRICS = """
import tensorflow.compat.v1 as tf

def metric_fn(labels, logits):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
"""

MODEL_FN = """
import tensorflow.compat.v1 as tf
{imp}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.reduce_mean(logits)
    return {spec}(mode, loss=loss, eval_metrics=({fn}, [labels, logits, logits]))
"""


def _tree(tmp_path, files):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return tmp_path


def _run(*paths):
    result = engine.check_paths([str(p) for p in paths], Resolver(overrides={"select": ("ALL",)}))
    assert not result.internal_errors
    return result


def _codes(result, name):
    return [d.code for d in result.diagnostics if os.path.basename(d.path) == name]


def test_sibling_script_import_is_followed(tmp_path):
    _tree(tmp_path, {"metrics.py": METRICS, "train.py": MODEL_FN.format(
        imp="import metrics", spec=SPEC, fn="metrics.metric_fn")})
    assert _codes(_run(tmp_path), "train.py") == ["SL002"]


def test_package_absolute_relative_and_reexported_imports(tmp_path):
    _tree(tmp_path, {
        "pkg/__init__.py": "from .metrics import metric_fn\n",
        "pkg/metrics.py": METRICS,
        "pkg/a.py": MODEL_FN.format(imp="from pkg import metrics", spec=SPEC, fn="metrics.metric_fn"),
        "pkg/b.py": MODEL_FN.format(imp="from . import metrics", spec=SPEC, fn="metrics.metric_fn"),
        "pkg/c.py": MODEL_FN.format(imp="from .metrics import metric_fn", spec=SPEC, fn="metric_fn"),
        "pkg/sub/d.py": MODEL_FN.format(imp="from ..metrics import metric_fn as mf", spec=SPEC, fn="mf"),
        "pkg/e.py": MODEL_FN.format(imp="import pkg", spec=SPEC, fn="pkg.metric_fn"),
    })
    result = _run(tmp_path)
    for name in ("a.py", "b.py", "c.py", "d.py", "e.py"):
        assert _codes(result, name) == ["SL002"], name


def test_module_outside_the_run_is_followed_on_disk_but_not_reported(tmp_path):
    # pre-commit passes only the staged files: an unstaged sibling module is still read
    _tree(tmp_path, {"metrics.py": METRICS, "train.py": MODEL_FN.format(
        imp="import metrics", spec=SPEC, fn="metrics.metric_fn")})
    assert _codes(_run(tmp_path / "train.py"), "train.py") == ["SL002"]
    # ... but a finding located inside that module belongs to a run that lints it
    _tree(tmp_path, {"builders.py": BUILDERS, "main.py": MAIN})
    assert [d.code for d in _run(tmp_path / "main.py").diagnostics] == []
    assert [d.code for d in _run(tmp_path / "main.py", tmp_path / "builders.py").diagnostics] == ["SL005"]


def test_a_missing_module_stays_unknown(tmp_path):
    _tree(tmp_path, {"train.py": MODEL_FN.format(imp="import metrics", spec=SPEC, fn="metrics.metric_fn")})
    assert _codes(_run(tmp_path / "train.py"), "train.py") == []


def test_library_roots_are_never_looked_up_in_the_tree(tmp_path):
    # a tree that vendors a module named like a library keeps resolving the library's APIs
    index = ModuleIndex([str(tmp_path / "tensorflow" / "__init__.py"), str(tmp_path / "x.py")])
    assert index.find("tensorflow.compat.v1", str(tmp_path / "x.py")) is None


def test_import_cycle_terminates(tmp_path):
    _tree(tmp_path, {
        "a.py": "import b\n" + MODEL_FN.format(imp="", spec=SPEC, fn="b.metric_fn"),
        "b.py": "import a\n" + METRICS,
    })
    assert _codes(_run(tmp_path), "a.py") == ["SL002"]


def test_deps_record_the_imported_modules_with_their_hash(tmp_path):
    _tree(tmp_path, {"metrics.py": METRICS, "train.py": MODEL_FN.format(
        imp="import metrics", spec=SPEC, fn="metrics.metric_fn")})
    result = _run(tmp_path)
    train = [f for f in result.files if f.path.endswith("train.py")][0]
    present = {p: h for p, h in train.deps.items() if h is not None}
    assert list(present) == [str(tmp_path / "metrics.py")]
    assert len(next(iter(present.values()))) == 64
    # files looked for and not found are recorded as absent (issue 16: a cached result is
    # invalidated when one appears): here the directory is no package, `metrics` no package either
    absent = {p for p, h in train.deps.items() if h is None}
    assert str(tmp_path / "__init__.py") in absent


def test_an_edited_imported_module_is_reread(tmp_path):
    _tree(tmp_path, {"metrics.py": METRICS, "train.py": MODEL_FN.format(
        imp="import metrics", spec=SPEC, fn="metrics.metric_fn")})
    assert _codes(_run(tmp_path), "train.py") == ["SL002"]
    (tmp_path / "metrics.py").write_text(textwrap.dedent(METRICS).replace(
        "(labels, logits)", "(labels, logits, loss)") + "\n# edited\n")
    assert _codes(_run(tmp_path), "train.py") == []


BUILDERS = """
    import tensorflow.compat.v1 as tf

    def model_fn_builder(lr):
        def model_fn(features, labels, mode, params):
            loss = tf.reduce_mean(features["x"])
            def host_fn(loss):
                return []
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, host_call=(host_fn, [loss]))
        return model_fn
"""
MAIN = """
    import tensorflow.compat.v1 as tf
    from builders import model_fn_builder

    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn_builder(0.1), use_tpu=True, train_batch_size=8)
"""


def test_finding_inside_an_imported_builder_is_reported_once_at_its_file(tmp_path):
    _tree(tmp_path, {"builders.py": BUILDERS, "main.py": MAIN})
    result = _run(tmp_path)
    assert [(os.path.basename(d.path), d.code) for d in result.diagnostics] == [("builders.py", "SL005")]


SELF_ATTRS = """
import tensorflow.compat.v1 as tf

def metric_fn(labels, logits):
    return {{"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}}

class Trainer(object):
    def __init__(self):
        self.metric_fn = metric_fn
{extra}
    def model_fn(self, features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        return tf.estimator.tpu.TPUEstimatorSpec(
            mode, loss=tf.reduce_mean(logits), eval_metrics=(self.metric_fn, [labels, logits, logits]))
"""


def test_self_attribute_set_in_init_is_followed(tmp_path):
    _tree(tmp_path, {"t.py": SELF_ATTRS.format(extra="")})
    assert _codes(_run(tmp_path), "t.py") == ["SL002"]


def test_self_attribute_reassigned_elsewhere_is_unknown(tmp_path):
    _tree(tmp_path, {"t.py": SELF_ATTRS.format(
        extra="    def use(self, fn):\n        self.metric_fn = fn\n")})
    assert _codes(_run(tmp_path), "t.py") == []
    _tree(tmp_path, {"t.py": SELF_ATTRS.format(extra="") + "\nTrainer().metric_fn = print\n"})
    assert _codes(_run(tmp_path), "t.py") == []
