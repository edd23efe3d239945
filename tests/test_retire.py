"""Retiring analyses a run no longer keeps (speclint/static/retire.py): the same findings, and the
analyses (with their libcst trees) freed by reference counting, without the cyclic collector."""
import gc
import weakref
from pathlib import Path

import pytest

from speclint import engine
from speclint.config import Resolver
from speclint.static import modules, parse, project_view, retire

ROOT = Path(__file__).resolve().parent.parent
TREES = [ROOT / "fixtures", ROOT / "tests" / "data" / "realmodels"]  # BERT, ELECTRA, TPU models: modules importing modules


def _fresh():
    modules.clear()
    project_view.clear()
    parse.clear()


def _findings(result):
    return sorted((d.path, d.line, d.column, d.code, d.message) for d in result.diagnostics)


@pytest.fixture
def small_memos(monkeypatch):
    """Memos small enough that followed modules and users' analyses are dropped mid-run."""
    monkeypatch.setattr(modules, "_CACHE_SIZE", 2)
    monkeypatch.setattr(project_view, "_MAX_RUNS", 1)
    _fresh()
    yield
    _fresh()


def _run(paths, jobs=1):
    result = engine.check_paths([str(p) for p in paths], Resolver(overrides={"select": ("ALL",)}), jobs=jobs)
    assert not result.internal_errors
    return result


def test_retiring_changes_no_finding(monkeypatch, small_memos):
    retired = []
    sweep = retire.sweep
    monkeypatch.setattr(retire, "sweep", lambda: retired.append(sweep()) or retired[-1])
    with_retiring = _findings(_run(TREES))
    assert sum(retired) > 20  # (most analyses of the run: the memos keep two modules and one user)
    _fresh()
    monkeypatch.setattr(retire, "sweep", lambda: 0)
    assert _findings(_run(TREES)) == with_retiring
    assert len(with_retiring) > 50


def test_pool_workers_retire_too(small_memos):
    assert _findings(_run(TREES, jobs=2)) == _findings(_run(TREES, jobs=1))


def _analyses_alive_after_a_run(monkeypatch, sweeping: bool) -> tuple:
    made = []
    note = retire.note
    monkeypatch.setattr(retire, "note", lambda an: (made.append(weakref.ref(an)), note(an)))
    if not sweeping:
        monkeypatch.setattr(retire, "sweep", lambda: 0)
    gc.collect()
    gc.disable()
    try:
        _run(TREES)
        kept = retire._closure([an for keeper in retire._KEEPERS for an in keeper()])  # (ids)
        alive = [r() for r in made if r() is not None]
        return len(made), [an for an in alive if id(an) not in kept]
    finally:
        gc.enable()


def test_retired_analyses_are_freed_without_the_collector(monkeypatch, small_memos):
    made, leftover = _analyses_alive_after_a_run(monkeypatch, sweeping=True)
    assert made > 20
    assert leftover == []


def test_without_retiring_the_analyses_wait_for_the_collector(monkeypatch, small_memos):
    # (the twin of the test above: an analysis is a web of reference cycles)
    made, leftover = _analyses_alive_after_a_run(monkeypatch, sweeping=False)
    assert len(leftover) > made // 2


def test_kept_analyses_stay_whole(small_memos):
    _run(TREES)
    kept = [an for keeper in retire._KEEPERS for an in keeper() if an is not None]
    assert kept
    assert all(an.module is not None and an.module_run is not None for an in kept)
    for an in kept:
        assert {a.module is not None for a in an.loaded_analyses()} <= {True}


def test_nothing_is_tracked_outside_a_run(tmp_path):
    # a language server's checker calls check_source directly: its memos outlive any one check
    (tmp_path / "m.py").write_text("import tensorflow as tf\n\ndef model_fn(features, labels, mode):\n"
                                   "    return tf.estimator.EstimatorSpec(mode, loss=features)\n")
    config = Resolver(overrides={"select": ("ALL",)}).for_file(str(tmp_path / "m.py"))
    engine.check_source((tmp_path / "m.py").read_bytes(), str(tmp_path / "m.py"), config)
    assert not retire.active()


TRAIN = """\
import tensorflow.compat.v1 as tf
from models.net import Net, SCALE
from models import o1, o2


def model_fn(features, labels, mode, params):
  net = Net(features, True)
  x = o1.f(net.logits)
  k = SCALE
  y = o2.g(x)
  loss = tf.reduce_mean(y)
  if mode == tf.estimator.ModeKeys.EVAL:
    return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, eval_metrics=(net.mf, [labels, net.logits]))
  train_op = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1)).minimize(
      loss, global_step=tf.train.get_global_step())
  return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op)


def main():
  est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=8, eval_batch_size=8)
  est.evaluate(None, steps=1)
"""

MODELS = {
    "__init__.py": "",
    "net.py": """\
import tensorflow.compat.v1 as tf
from models import layers


class Net(object):

  def __init__(self, features, is_training):
    self.metric_fn = layers.make_metric_fn()
    self.mf = self.metric_fn
    self.logits = tf.layers.dense(features["x"], 10)
SCALE = 3
""",
    "layers.py": """\
import tensorflow.compat.v1 as tf


def make_metric_fn():
  def metric_fn(labels, logits):
    predictions = tf.argmax(logits, axis=-1)
    return {"acc": tf.metrics.accuracy(labels, predictions), "m": tf.reduce_mean(logits)}
  return metric_fn
""",
    "o1.py": "import tensorflow.compat.v1 as tf\n\n\ndef f(x):\n  return tf.identity(x)\n",
    "o2.py": "import tensorflow.compat.v1 as tf\n\n\ndef g(x):\n  return tf.identity(x)\n",
}


def _project(tmp_path):
    (tmp_path / "models").mkdir()
    for name, text in MODELS.items():
        (tmp_path / "models" / name).write_text(text)
    (tmp_path / "pre.py").write_text("from models.net import Net\n\nBUILD = Net\n")
    for i in (1, 2, 3):
        (tmp_path / f"train_{i}.py").write_text(TRAIN)
    return tmp_path


def _after_an_untracked_check(root, monkeypatch, sweeping: bool) -> list:
    # An analysis made outside a run (check_file: flake8's and an editor's way) is kept by the
    # followed-module memo, and during the run its class's __init__ runs on it and loads modules
    # the memo then drops (found by a review: without the edges of untracked analyses, those
    # modules were retired while still in use: AttributeError on the next file)
    from speclint import files
    from speclint.static.modules import ModuleIndex

    monkeypatch.setattr(modules, "_CACHE_SIZE", 3)
    retired = []
    sweep = retire.sweep
    monkeypatch.setattr(retire, "sweep", (lambda: retired.append(sweep()) or retired[-1]) if sweeping else (lambda: 0))
    _fresh()
    resolver = Resolver(overrides={"select": ("ALL",)})
    pre = str(root / "pre.py")
    [entry] = list(files.walk([pre], resolver))
    engine.check_file(entry, resolver.for_file(pre), index=ModuleIndex([pre], disk=True), prefilter=False)
    result = engine.check_paths(sorted(str(p) for p in root.glob("train_*.py")), resolver)
    assert not result.internal_errors, result.internal_errors
    assert sum(retired) > 0 or not sweeping
    return _findings(result)


def test_an_analysis_made_before_the_run_keeps_what_it_loads(tmp_path, monkeypatch, small_memos):
    root = _project(tmp_path)
    with_retiring = _after_an_untracked_check(root, monkeypatch, sweeping=True)
    assert with_retiring == _after_an_untracked_check(root, monkeypatch, sweeping=False)


def test_an_interrupted_run_retires_nothing(monkeypatch):
    swept = []
    monkeypatch.setattr(retire, "sweep", lambda: swept.append(1))
    with pytest.raises(KeyboardInterrupt):
        with retire.tracking():
            raise KeyboardInterrupt
    assert swept == [] and not retire.active()
    with retire.tracking():
        pass
    assert swept == [1] and not retire.active()
