"""Issue 16: a cached run equals a run without the cache (item 3), and a nested configuration
applies to findings located in its directory however they are found (item 5).

Each scenario changes something the analysis of an importer depends on without touching the
importer itself, then compares `speclint check` from the cache with `--no-cache`."""
from __future__ import annotations

import json
import textwrap

import pytest

from speclint import cache
from speclint.cli import cli

from samples import runner

METRICS = """
    import tensorflow.compat.v1 as tf

    def metric_fn(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
"""
TRAIN = """
    import tensorflow.compat.v1 as tf
    {imp}

    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        loss = tf.reduce_mean(logits)
        return tf.estimator.tpu.TPUEstimatorSpec(
            mode, loss=loss, eval_metrics=({fn}, [labels, logits, logits]))
"""  # three tensors for a two-parameter metric_fn: SL002 once metric_fn is known
BUILDERS = """
    import tensorflow.compat.v1 as tf

    def model_fn_builder(lr):
        def model_fn(features, labels, mode, params):
            loss = tf.reduce_mean(features["x"])
            def host_fn(loss):
                return []
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, host_call=(host_fn, [loss]))
        return model_fn
"""  # SL005 in this file, found only through an importer that gives the model_fn to TPUEstimator
MAIN = """
    import tensorflow.compat.v1 as tf
    from {module} import model_fn_builder

    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn_builder(0.1), use_tpu=True, train_batch_size=8)
"""


def write(root, name, text):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def check(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cache.ENV_CACHE_DIR, raising=False)

    def _check(*args, cached=True):
        flags = [] if cached else ["--no-cache"]
        result = runner().invoke(cli, ["check", "--output-format", "json", *flags, *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        diags = json.loads(result.stdout) if result.stdout.strip() else []
        return sorted((d["path"], d["line"], d["code"]) for d in diags)
    return _check


def same_with_and_without_cache(check, *args):
    fresh = check(*args, cached=False)
    assert check(*args) == fresh
    assert check(*args) == fresh  # (a second cached run: served from what the first one stored)
    return fresh


# ---- item 3a: per-file-ignores of an imported module ------------------------------------------------
def test_per_file_ignores_of_an_imported_module_invalidate_the_importer(check, tmp_path):
    write(tmp_path, "builders.py", BUILDERS)
    write(tmp_path, "main.py", MAIN.format(module="builders"))
    write(tmp_path, "pyproject.toml", '[tool.speclint]\ntarget = "auto"\n')
    assert [c for _, _, c in same_with_and_without_cache(check, ".")] == ["SL005"]
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nper-file-ignores = { "builders.py" = ["SL005"] }\n')
    assert same_with_and_without_cache(check, ".") == []
    write(tmp_path, "pyproject.toml", '[tool.speclint]\ntarget = "auto"\n')  # and back
    assert [c for _, _, c in same_with_and_without_cache(check, ".")] == ["SL005"]


# ---- item 3b: a helper module created later, outside the run ------------------------------------------
def test_a_helper_created_later_next_to_a_single_file_run(check, tmp_path):
    # pre-commit runs speclint on the staged files only: the helper is not part of the run
    write(tmp_path, "train.py", TRAIN.format(imp="import metrics", fn="metrics.metric_fn"))
    assert same_with_and_without_cache(check, "train.py") == []  # metrics unknown: nothing to say
    write(tmp_path, "metrics.py", METRICS)
    assert same_with_and_without_cache(check, "train.py") == [("train.py", 9, "SL002")]


def test_a_helper_created_later_in_an_excluded_folder(check, tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nextend-exclude = ["vendor"]\n')
    write(tmp_path, "train.py", TRAIN.format(imp="from vendor import metrics", fn="metrics.metric_fn"))
    write(tmp_path, "vendor/README.txt", "third-party code\n")
    assert same_with_and_without_cache(check, ".") == []
    write(tmp_path, "vendor/metrics.py", METRICS)
    assert same_with_and_without_cache(check, ".") == [("train.py", 9, "SL002")]


def test_a_helper_removed_later(check, tmp_path):
    # the twin: a helper that goes away (already invalidated before the fix, as a changed dep)
    write(tmp_path, "train.py", TRAIN.format(imp="import metrics", fn="metrics.metric_fn"))
    helper = write(tmp_path, "metrics.py", METRICS)
    assert same_with_and_without_cache(check, "train.py") == [("train.py", 9, "SL002")]
    helper.unlink()
    assert same_with_and_without_cache(check, "train.py") == []


# ---- item 3c: an __init__.py added later ---------------------------------------------------------------
def test_an_init_py_added_later_makes_a_package(check, tmp_path):
    write(tmp_path, "pkg/metrics.py", METRICS)
    write(tmp_path, "pkg/train.py", TRAIN.format(imp="from pkg import metrics", fn="metrics.metric_fn"))
    assert same_with_and_without_cache(check, "pkg/train.py") == []  # no package: `pkg` is not found
    write(tmp_path, "pkg/__init__.py", "")
    assert same_with_and_without_cache(check, "pkg/train.py") == [("pkg/train.py", 9, "SL002")]
    (tmp_path / "pkg" / "__init__.py").unlink()  # and removed again
    assert same_with_and_without_cache(check, "pkg/train.py") == []


# ---- item 5: a nested configuration applies to findings in its directory -------------------------------
def test_a_nested_config_applies_to_findings_found_through_an_importer(check, tmp_path):
    write(tmp_path, "lib/builders.py", BUILDERS)
    write(tmp_path, "main.py", MAIN.format(module="lib.builders"))
    assert check(".", cached=False) == [("lib/builders.py", 9, "SL005")]  # the twin: no nested config
    write(tmp_path, "lib/pyproject.toml", '[tool.speclint]\nignore = ["SL005"]\n')
    assert check(".", cached=False) == []
    assert same_with_and_without_cache(check, ".") == []
    write(tmp_path, "lib/pyproject.toml", '[tool.speclint]\nselect = ["ALL"]\n')  # cached entry invalid
    assert same_with_and_without_cache(check, ".") == [("lib/builders.py", 9, "SL005")]


def test_a_nested_per_file_ignore_applies_to_findings_found_through_an_importer(check, tmp_path):
    write(tmp_path, "lib/builders.py", BUILDERS)
    write(tmp_path, "main.py", MAIN.format(module="lib.builders"))
    write(tmp_path, "lib/pyproject.toml", '[tool.speclint]\nper-file-ignores = { "builders.py" = ["SL005"] }\n')
    assert same_with_and_without_cache(check, ".") == []
