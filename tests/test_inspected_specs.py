"""Issue 10 (TF Estimator's own tests): a spec built in a function that is not a model_fn and only
inspected there — a bare statement or a name whose attributes are read — never reaches an
Estimator.  What evaluate() (SL009) and predict() (SL025) would do with it does not apply, nor does
SL036's `mode=None` (also for a spec handed straight to another call, e.g. a Mock); its
construction-time errors still do.  Shapes from tensorflow_estimator's model_fn_test.py, each beside a
bad twin where the same spec is returned by a model_fn an Estimator predicts/evaluates with."""
import textwrap

import pytest

from expect import mismatches

HEAD = """\
import tensorflow.compat.v1 as tf
from tensorflow_estimator.python.estimator import model_fn
from tensorflow_estimator.python.estimator.mode_keys import ModeKeys


"""

PAIRS = {
    "predictions_scalar_bare_statement": ("""
class EstimatorSpecTest(tf.test.TestCase):
    def testPredictionsTensor(self):
        with tf.Graph().as_default():
            model_fn.EstimatorSpec(mode=ModeKeys.PREDICT, predictions=tf.constant(1.))
""", """
def my_model_fn(features, labels, mode):
    return model_fn.EstimatorSpec(mode=ModeKeys.PREDICT, predictions=tf.constant(1.))  # expect: SL025

def main():
    est = tf.estimator.Estimator(model_fn=my_model_fn)
    list(est.predict(None))
"""),
    "reserved_metric_name_inspected": ("""
class EstimatorSpecTest(tf.test.TestCase):
    def testEvalMetricOps(self):
        loss = tf.constant(1.)
        spec = model_fn.EstimatorSpec(
            mode=ModeKeys.EVAL, loss=loss, eval_metric_ops={'loss': tf.metrics.mean(loss)})
        self.assertIn('loss', spec.eval_metric_ops)
""", """
class EstimatorSpecTest(tf.test.TestCase):
    def testEvalMetricOps(self):
        def my_model_fn(features, labels, mode):
            loss = tf.constant(1.)
            return model_fn.EstimatorSpec(
                mode=ModeKeys.EVAL, loss=loss, eval_metric_ops={'loss': tf.metrics.mean(loss)})  # expect: SL009
        est = tf.estimator.Estimator(model_fn=my_model_fn)
        est.evaluate(None)
"""),
    # TF's canned-head tests (rnn_test.py): a spec handed to a Mock goes nowhere speclint can follow
    "mode_none_spec_in_a_mock": ("""
def _get_mock_head(multi_head_lib):
    mock_head = multi_head_lib.MultiClassHead(3)
    mock_head.create_estimator_spec = tf.test.mock.Mock(return_value=model_fn.EstimatorSpec(None))
    return mock_head
""", """
def build_spec(loss):
    return model_fn.EstimatorSpec(None, loss=loss)  # expect: SL036
"""),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("which", [0, 1], ids=["clean", "bad_twin"])
def test_inspected_spec(name, which):
    src = HEAD + textwrap.dedent(PAIRS[name][which])
    assert mismatches(src) == []


def test_construction_errors_still_reported_on_an_inspected_spec():
    src = HEAD + textwrap.dedent("""
    class EstimatorSpecTest(tf.test.TestCase):
        def testMissingLoss(self):
            model_fn.EstimatorSpec(mode=ModeKeys.TRAIN, train_op=tf.no_op())  # expect: SL019
    """)
    assert mismatches(src) == []
