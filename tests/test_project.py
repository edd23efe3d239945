"""Issue 10, item 1: the project view.  A model_fn written in one file and given to an estimator in
another runs as that other file says (TPU or not, which modes), and a file checked alone gets the
same findings as in a run over the tree: from the command line, flake8, the language server, with
and without the cache.

The shapes are tensorflow/tpu's RetinaNet and SqueezeNet: the model_fn in `model.py`, the
TPUEstimator and its train()/evaluate() calls in `main.py`.
"""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from speclint import engine, project
from speclint.config import Resolver
from speclint.static import project_view

# SL039: `labels` used on a path that also runs in PREDICT (SqueezeNet's model_fn)
MODEL = """\
import tensorflow.compat.v1 as tf


def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    optimizer = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer())
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"logits": logits})
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
"""

MAIN = """\
import tensorflow.compat.v1 as tf

import model


def main():
    est = tf.estimator.tpu.TPUEstimator(model_fn=model.model_fn, use_tpu=True, train_batch_size=8,
                                        eval_batch_size=8, predict_batch_size=8)
    est.train(input_fn=None, max_steps=10)
{more}

if __name__ == "__main__":
    main()
"""
TRAIN_ONLY = MAIN.format(more="")
PREDICTS = MAIN.format(more="    for p in est.predict(input_fn=None):\n        print(p)\n")
EXPORTS = MAIN.format(more="    est.export_saved_model('/tmp/export', None)\n")
ESCAPES = MAIN.format(more="    return est\n")


def tree(root, files):
    (root / "pyproject.toml").write_text("[tool.speclint]\n")
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root


@pytest.fixture(autouse=True)
def fresh():
    project.clear()
    project_view.clear()
    yield
    project.clear()
    project_view.clear()


def run(*paths, caches=None, jobs=1):
    result = engine.check_paths([str(p) for p in paths], Resolver(), caches=caches, jobs=jobs)
    assert not result.internal_errors, result.internal_errors
    return result


def found(result, path):
    return sorted((d.line, d.column, d.code, d.message) for d in result.diagnostics
                  if os.path.abspath(d.path) == os.path.abspath(str(path)))


def codes(result, path):
    return [c for _, _, c, _ in found(result, path)]


# ---- the RetinaNet / SqueezeNet shape ------------------------------------------------------------
def test_a_model_fn_trained_only_from_another_file_is_not_checked_in_predict(tmp_path):
    tree(tmp_path, {"model.py": MODEL, "main.py": TRAIN_ONLY})
    assert codes(run(tmp_path), tmp_path / "model.py") == []
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == []  # checked alone


@pytest.mark.parametrize("main", [PREDICTS, EXPORTS, ESCAPES], ids=["predict", "export", "escapes"])
def test_bad_twin_a_main_that_predicts_or_lets_the_estimator_escape(tmp_path, main):
    tree(tmp_path, {"model.py": MODEL, "main.py": main})
    assert codes(run(tmp_path), tmp_path / "model.py") == ["SL039"]
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == ["SL039"]


def test_a_model_fn_nobody_uses_counts_every_mode(tmp_path):
    tree(tmp_path, {"model.py": MODEL})
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == ["SL039"]


def test_a_test_never_narrows_the_modes_but_its_findings_count(tmp_path):
    # a test that only trains says nothing about how the project runs the model_fn
    tree(tmp_path, {"model.py": MODEL, "model_test.py": TRAIN_ONLY, "tests/test_model.py": TRAIN_ONLY})
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == ["SL039"]
    assert codes(run(tmp_path), tmp_path / "model.py") == ["SL039"]
    # what a test runs is reported in the model file, alone as in the tree (SL043: the test's
    # TPUEstimator(use_tpu=True) trains it without CrossShardOptimizer)
    plain = MODEL.replace("tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer())", "tf.train.AdamOptimizer()")
    tree(tmp_path, {"model.py": plain.replace("labels, logits)", "features['y'], logits)")})
    alone = found(run(tmp_path / "model.py"), tmp_path / "model.py")
    assert "SL043" in [c for _, _, c, _ in alone]
    assert alone == found(run(tmp_path), tmp_path / "model.py")


def test_two_users_count_together(tmp_path):
    tree(tmp_path, {"model.py": MODEL, "train.py": TRAIN_ONLY, "serve.py": PREDICTS})
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == ["SL039"]
    tree(tmp_path, {"serve.py": TRAIN_ONLY})
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == []


# ---- through a builder, a registry, delegation, a package --------------------------------------
BUILDER = """\
import tensorflow.compat.v1 as tf


def _model_fn(features, labels, mode, params, use_tpu_estimator_spec=False):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    optimizer = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer())
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"logits": logits})
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)


def tpu_model_fn(features, labels, mode, params):
    return _model_fn(features, labels, mode, params, use_tpu_estimator_spec=True)


def model_fn_builder(lr):
    def model_fn(features, labels, mode, params):
        return _model_fn(features, labels, mode, params)
    return model_fn
"""

DELEGATE = """\
def evaluate(eval_estimator, input_fn):
    results = []
    for p in eval_estimator.{method}(input_fn=input_fn):
        results.append(p)
    return results
"""


@pytest.mark.parametrize("use", [
    "model.tpu_model_fn",  # RetinaNet: delegates to `_model_fn(..., use_tpu_estimator_spec=True)`
    "model.model_fn_builder(0.1)",  # BERT: a builder returning a closure
    "REGISTRY['m']",  # a registry dict in another module
])
def test_wrappers_builders_and_registries(tmp_path, use):
    main = TRAIN_ONLY.replace("model.model_fn", use)
    if "REGISTRY" in use:
        main = main.replace("import model\n", "from registry import REGISTRY\n")
    # (only the model_fn that main.py uses: an unused one still counts every mode)
    builder = BUILDER.split("\n\n\ndef model_fn_builder")[0] + "\n" if "builder" not in use else \
        BUILDER.replace(BUILDER[BUILDER.index("def tpu_model_fn"):BUILDER.index("def model_fn_builder")], "")
    files = {"model.py": builder, "main.py": main,
             "registry.py": "import model\n\nREGISTRY = {'m': model.tpu_model_fn}\n"}
    tree(tmp_path, files)
    assert codes(run(tmp_path), tmp_path / "model.py") == []
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == []
    tree(tmp_path, {"main.py": main.replace("max_steps=10)", "max_steps=10)\n    list(est.predict(None))")})
    assert codes(run(tmp_path), tmp_path / "model.py") == ["SL039"]
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == ["SL039"]


@pytest.mark.parametrize("method,expected", [("predict", ["SL039"]), ("evaluate", [])])
def test_an_estimator_passed_to_a_function_of_another_module(tmp_path, method, expected):
    # RetinaNet: `evaluation.evaluate(eval_estimator, ...)` calls `eval_estimator.predict(...)`
    main = TRAIN_ONLY.replace("import model\n", "import evaluation\nimport model\n").replace(
        "max_steps=10)", "max_steps=10)\n    evaluation.evaluate(est, None)")
    tree(tmp_path, {"model.py": MODEL, "main.py": main, "evaluation.py": DELEGATE.format(method=method)})
    assert codes(run(tmp_path), tmp_path / "model.py") == expected
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == expected


EVAL_SPEC = """\
    train_spec = tf.estimator.TrainSpec(input_fn=None, max_steps=10)
    eval_spec = tf.estimator.EvalSpec(input_fn={input_fn})
    tf.estimator.train_and_evaluate(est, train_spec, eval_spec)
"""

# SL017 shape (RetinaNet's est_retinanet_model_fn): an EstimatorSpec without the eval metrics
EVAL_MODEL = """\
import tensorflow.compat.v1 as tf


def metric_fn(labels, logits):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}


def _model_fn(features, labels, mode, params, use_tpu_estimator_spec):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    train_op = tf.train.AdamOptimizer().minimize(loss, global_step=tf.train.get_global_step())
    eval_metrics = None
    if mode == tf.estimator.ModeKeys.EVAL:
        eval_metrics = (metric_fn, [labels, logits])
    if params["use_tpu"]:
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op, eval_metrics=eval_metrics)
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def est_model_fn(features, labels, mode, params):
    return _model_fn(features, labels, mode, params, use_tpu_estimator_spec=False)
"""


@pytest.mark.parametrize("input_fn,expected", [("tf.data.Dataset", []), ("input_fn", ["SL017"])])
def test_train_and_evaluate_with_a_placeholder_eval_spec(tmp_path, input_fn, expected):
    # RetinaNet's multi-worker branch: EvalSpec(input_fn=tf.data.Dataset) cannot evaluate
    main = ("import tensorflow.compat.v1 as tf\n\nimport model\n\n\ndef input_fn(params):\n    return None\n\n\n"
            "def main():\n    est = tf.estimator.Estimator(model_fn=model.est_model_fn, params={'use_tpu': False})\n"
            + EVAL_SPEC.format(input_fn=input_fn))
    tree(tmp_path, {"model.py": EVAL_MODEL, "main.py": main})
    assert [c for c in codes(run(tmp_path), tmp_path / "model.py") if c == "SL017"] == expected
    assert [c for c in codes(run(tmp_path / "model.py"), tmp_path / "model.py") if c == "SL017"] == expected


def test_a_package_reexport_reaches_the_model_file(tmp_path):
    tree(tmp_path, {"pkg/__init__.py": "", "pkg/models/__init__.py": "from pkg.models.model import model_fn\n",
                    "pkg/models/model.py": MODEL,
                    "pkg/main.py": TRAIN_ONLY.replace("import model\n", "from pkg import models as model\n")})
    target = tmp_path / "pkg" / "models" / "model.py"
    assert codes(run(tmp_path), target) == []
    assert codes(run(target), target) == []


# ---- TPU targeting from the user -----------------------------------------------------------------
TPU_MODEL = """\
import tensorflow.compat.v1 as tf


def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    optimizer = tf.train.AdamOptimizer()
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
"""


def test_tpu_findings_of_a_model_fn_given_to_a_tpu_estimator_elsewhere(tmp_path):
    # no CrossShardOptimizer on TPU (SL043) is known only from main.py's TPUEstimator(use_tpu=True)
    main = TRAIN_ONLY
    tree(tmp_path, {"model.py": TPU_MODEL, "main.py": main})
    in_tree = found(run(tmp_path), tmp_path / "model.py")
    alone = found(run(tmp_path / "model.py"), tmp_path / "model.py")
    assert in_tree == alone
    assert "SL043" in [c for _, _, c, _ in alone]
    tree(tmp_path, {"main.py": main.replace("use_tpu=True", "use_tpu=False")})
    assert "SL043" not in codes(run(tmp_path / "model.py"), tmp_path / "model.py")


XLNET_MODEL = """\
import tensorflow.compat.v1 as tf
from absl import flags

FLAGS = flags.FLAGS


def file_based_input_fn_builder(input_file, is_training):
    def input_fn(params):
        if FLAGS.use_tpu:
            batch_size = params["batch_size"]
        else:
            batch_size = FLAGS.train_batch_size
        {unguarded}
        d = tf.data.TFRecordDataset(input_file)
        return d.batch(batch_size, drop_remainder=True)
    return input_fn


def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(tf.layers.dense(features["x"], 1))
    optimizer = tf.train.AdamOptimizer()
    if FLAGS.use_tpu:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
"""

XLNET_MAIN = """\
import tensorflow.compat.v1 as tf
from absl import flags

import model

FLAGS = flags.FLAGS


def main():
    if FLAGS.use_tpu:
        estimator = tf.estimator.tpu.TPUEstimator(
            use_tpu=FLAGS.use_tpu, model_fn=model.model_fn, train_batch_size=FLAGS.train_batch_size)
    else:
        estimator = tf.estimator.Estimator(model_fn=model.model_fn)
    estimator.train(input_fn=model.file_based_input_fn_builder("train.tf_record", True), max_steps=10)
"""


@pytest.mark.parametrize("unguarded,expected", [("", []), ('n = params["batch_size"]', ["SL041"])],
                         ids=["guarded", "unguarded"])
def test_one_flag_picks_the_estimator_in_main_and_guards_the_batch_size_read_in_the_model_file(
        tmp_path, unguarded, expected):
    # zihangdai/xlnet's shape split in two files: FLAGS.use_tpu picks TPUEstimator in main.py and
    # guards params["batch_size"] (only TPUEstimator sets it) in model.py's input_fn
    tree(tmp_path, {"model.py": XLNET_MODEL.format(unguarded=unguarded), "main.py": XLNET_MAIN})
    target = tmp_path / "model.py"
    assert codes(run(tmp_path), target) == expected
    assert codes(run(target), target) == expected


# ---- the same through every entry point ----------------------------------------------------------
def _flake8(path):
    from speclint.flake8_plugin import SpeclintChecker

    lines = path.read_text().splitlines(True)
    return sorted((line, col + 1, text.split()[0]) for line, col, text, _ in SpeclintChecker(None, str(path), lines).run())


def _lsp(path):
    from speclint import lsp

    config = Resolver().for_file(str(path))
    return sorted((d.line, d.column, d.code) for d in lsp.check_in_worker(
        path.read_bytes(), str(path), config, config.relative(str(path)), str(path)))


@pytest.mark.parametrize("main,expected", [(TRAIN_ONLY, []), (PREDICTS, ["SL039"])], ids=["train", "predict"])
def test_flake8_and_the_language_server_see_the_users(tmp_path, main, expected):
    tree(tmp_path, {"model.py": MODEL, "main.py": main})
    target = tmp_path / "model.py"
    assert [c for _, _, c in _flake8(target)] == expected
    assert [c for _, _, c in _lsp(target)] == expected
    tree_run = [(line, col, code) for line, col, code, _ in found(run(tmp_path), target)]
    assert _lsp(target) == tree_run == _flake8(target)


def test_an_unsaved_buffer_is_checked_without_the_users_view(tmp_path):
    # the users see the saved file: an editor's buffer that differs is checked on its own
    from speclint import lsp

    tree(tmp_path, {"model.py": MODEL, "main.py": TRAIN_ONLY})
    target = tmp_path / "model.py"
    config = Resolver().for_file(str(target))
    buffer = (MODEL + "\n# edited\n").encode()
    diags = lsp.check_in_worker(buffer, str(target), config, config.relative(str(target)), str(target))
    assert [d.code for d in diags] == ["SL039"]


# ---- the cache ------------------------------------------------------------------------------------
def test_editing_the_user_changes_the_model_files_cached_result(tmp_path):
    from speclint.cache import Caches

    tree(tmp_path, {"model.py": MODEL, "main.py": TRAIN_ONLY})
    target = tmp_path / "model.py"
    cache_dir = str(tmp_path / "cache")
    first = run(target, caches=Caches(cache_dir))
    assert codes(first, target) == []
    again = run(target, caches=Caches(cache_dir))
    assert codes(again, target) == [] and all(f.cached for f in again.files if not f.skipped)
    tree(tmp_path, {"main.py": PREDICTS})  # the user now predicts
    project_view.clear()
    edited = run(target, caches=Caches(cache_dir))
    assert codes(edited, target) == ["SL039"]
    assert not any(f.cached for f in edited.files if not f.skipped)
    # a new user (and none before): the users' set is part of the entry
    tree(tmp_path, {"main.py": TRAIN_ONLY})
    assert codes(run(target, caches=Caches(cache_dir)), target) == []
    tree(tmp_path, {"serve.py": PREDICTS})
    assert codes(run(target, caches=Caches(cache_dir)), target) == ["SL039"]


def test_the_project_index_is_persisted_and_reread_only_where_changed(tmp_path, monkeypatch):
    from speclint.cache import Caches

    tree(tmp_path, {"model.py": MODEL, "main.py": TRAIN_ONLY, "other.py": "x = 1\n"})
    cache_dir = str(tmp_path / "cache")
    run(tmp_path / "model.py", caches=Caches(cache_dir))
    project.clear()
    reads = []
    real = project._read
    monkeypatch.setattr(project, "_read", lambda p, size: reads.append(os.path.basename(p)) or real(p, size))
    run(tmp_path / "model.py", caches=Caches(cache_dir))
    assert reads == []  # every file served from the persisted index
    (tmp_path / "other.py").write_text("x = 2  # changed\n")
    project.clear()
    run(tmp_path / "model.py", caches=Caches(cache_dir))
    assert reads == ["other.py"]


# ---- the index itself ---------------------------------------------------------------------------
def test_project_root_is_bounded(tmp_path):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / "setup.cfg").write_text("")
    assert project.project_root(str(deep / "x.py")) == str(tmp_path)
    home = os.path.expanduser("~")
    assert project.project_root(os.path.join(home, "x.py")) != os.path.abspath(os.sep)


def test_past_the_file_cap_there_is_no_project_view(tmp_path, monkeypatch):
    tree(tmp_path, {"model.py": MODEL, "main.py": TRAIN_ONLY, "c.py": "", "d.py": ""})
    monkeypatch.setattr(project, "MAX_FILES", 2)
    assert project.users_for(str(tmp_path / "model.py")) is None
    assert codes(run(tmp_path / "model.py"), tmp_path / "model.py") == ["SL039"]  # as before: every mode
    monkeypatch.setattr(project, "MAX_FILES", 100)
    project.clear()
    assert project.users_for(str(tmp_path / "model.py")) == ((str(tmp_path / "main.py"), True),)


def test_imports_of_every_spelling():
    got = project.imports_of(b"import a.b as c\nfrom . import d\nfrom ..e import f, g\nfrom h import *\n"
                             b"def x():\n    import i\n")
    assert got == sorted({"a.b", ".d", "..e", "..e.f", "..e.g", "h", "i"})


def test_no_project_root_inside_site_packages(tmp_path):
    pkg = tmp_path / "lib" / "site-packages" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    assert project.project_root(str(pkg / "model.py")) is None
    assert project.users_for(str(pkg / "model.py")) is None


TRICKY_IMPORTS = [
    b"", b"import", b"import a", b"  import a; import b\nimport c", b"from x import (a,\n  import_b,\n c)\nimport d\n",
    b"from x import (a,\n import y)\n", b"x = 'import a'\n  from . import b # import c\nimportlib.import_module('z')\n",
    b"from\timport import a\r\nimport b\r\n", b"def f():\n\tfrom .m import (n)\n\timport o.p as q, r\n",
    b"s = '''\nimport t\n'''\n", b"import u\\\n    , v\n", b"#import w\n  # from x import y\n", b"from . import (\n",
    b"reimport z\nimports = 1\nfrom a import b import c\n",
]


@pytest.mark.parametrize("data", TRICKY_IMPORTS)
def test_import_statements_are_the_patterns_matches(data):
    want = [(m.start(), m.groups()) for m in project._IMPORT.finditer(data)]
    assert [(m.start(), m.groups()) for m in project.import_statements(data)] == want


def test_import_statements_on_real_modules():
    """Over speclint's own modules and the standard library's: the same matches as finditer."""
    import email
    import json

    paths = sorted(Path(project.__file__).parent.rglob("*.py"))
    for pkg in (json, email):
        paths += sorted(Path(pkg.__file__).parent.rglob("*.py"))
    assert len(paths) > 100
    for path in paths:
        data = path.read_bytes()
        want = [(m.start(), m.groups()) for m in project._IMPORT.finditer(data)]
        assert [(m.start(), m.groups()) for m in project.import_statements(data)] == want, path
