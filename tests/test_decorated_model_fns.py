"""Issue 10 item 2: decorated model_fns are analysed like plain ones — `@tf.function`, a
`functools.wraps` wrapper of the linted code, and `functools.partial` — so a misuse inside them is
found (a real user's missed bug was inside a `@tf.function` model_fn), and a correct one stays
clean.  Each clean case beside its bad twin, flagged where annotated."""
import textwrap

import pytest

from expect import mismatches

HEAD = """\
import functools
import tensorflow.compat.v1 as tf


def log_calls(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        tf.logging.info("model_fn called")
        return fn(*args, **kwargs)
    return wrapper

"""

BODY = """
{decorator}
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    def metric_fn(labels, logits):
        return {{"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}}
    opt = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer())
    return tf.estimator.tpu.TPUEstimatorSpec(
        mode, loss=loss, train_op=opt.minimize(loss, tf.train.get_global_step()),
        eval_metrics=(metric_fn, [labels, {tensor}]))  {expect}


def main():
    est = tf.estimator.tpu.TPUEstimator(model_fn={ref}, use_tpu=True, train_batch_size=8,
                                        eval_batch_size=8)
    est.train(None)
    est.evaluate(None)
"""

DECORATIONS = {
    "tf_function": ("@tf.function", "model_fn"),
    "wraps_wrapper": ("@log_calls", "model_fn"),
    "partial": ("", "functools.partial(model_fn)"),
}


@pytest.mark.parametrize("name", sorted(DECORATIONS))
@pytest.mark.parametrize("bad", [False, True], ids=["clean", "bad_twin"])
def test_decorated_model_fn(name, bad):
    decorator, ref = DECORATIONS[name]
    src = HEAD + textwrap.dedent(BODY.format(
        decorator=decorator, ref=ref,
        tensor="loss" if bad else "logits",  # a scalar loss in eval_metrics: SL005
        expect="# expect: SL005" if bad else ""))
    assert mismatches(src) == []
