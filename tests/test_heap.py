"""The collector's settings during a run (speclint/heap.py): set for the run, undone after it."""
import gc
import textwrap

from speclint import engine, heap
from speclint.config import Resolver


def test_run_sets_and_restores_the_collector():
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with heap.run():
        assert gc.get_threshold()[0] >= heap.YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() >= frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_run_restores_the_collector_when_the_run_fails():
    before = gc.get_threshold()
    try:
        with heap.run():
            raise KeyError("boom")
    except KeyError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_check_paths_leaves_the_collector_as_it_found_it(tmp_path):
    (tmp_path / "m.py").write_text(textwrap.dedent("""\
        import tensorflow as tf

        def model_fn(features, labels, mode, params):
            loss = tf.reduce_sum(features["x"])
            return tf.estimator.EstimatorSpec(mode, loss=loss)

        est = tf.estimator.Estimator(model_fn=model_fn)
        """))
    before = gc.get_threshold()
    result = engine.check_paths([str(tmp_path)], Resolver())
    assert [r.internal_error for r in result.files] == [None]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
