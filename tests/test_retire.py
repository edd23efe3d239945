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
