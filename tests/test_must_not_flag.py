"""Correct idioms from real TPU/Estimator code that must stay clean (precision first: unknown values never produce diagnostics).

Each case is a complete module; the bad twin of each idiom is asserted too, so that a case cannot
pass merely because the analyser saw nothing.
"""
import textwrap

import pytest

from expect import actual, mismatches

HEAD = """\
import functools
import tensorflow.compat.v1 as tf
from tensorflow_estimator.python.estimator.tpu import tpu_estimator


"""

CLEAN = {
    # SimCLR / EfficientDet / UDA: a train/eval-only model_fn never builds a PREDICT spec on purpose
    # (predict() would fail with TF's own "Missing predictions."): not reported
    "train_eval_only_model_fn": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    if mode == tf.estimator.ModeKeys.TRAIN:
        train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
    return tf.estimator.EstimatorSpec(mode, loss=loss)
""",
    "reshape_batch_1_idiom": """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(tf.square(features["x"] - labels))
    gs = tf.train.get_global_step()
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, gs)
    def host_fn(gs, loss):
        return tf.compat.v1.summary.all_v2_summary_ops()
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(host_fn, [tf.reshape(gs, [1]), tf.reshape(loss, [1])]))
""",
    "tile_expand_dims_idiom": """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(tf.square(features["x"] - labels))
    def metric_fn(loss_repeat):
        return {"eval_loss": tf.metrics.mean(loss_repeat)}
    loss_repeat = tf.tile(tf.expand_dims(loss, 0), [params["batch_size"]])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss,
        eval_metrics=(metric_fn, [loss_repeat]))
""",
    "metric_fn_with_varargs_and_kwargs": """
def metric_fn(*args):
    return {"m": tf.metrics.mean(args[0])}

def host_fn(**kwargs):
    return []

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.reduce_mean(logits)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss,
        eval_metrics=(metric_fn, [labels, logits, logits]),
        host_call=(host_fn, {"a": logits, "b": labels}))
""",
    "dict_tensors_matching_parameters": """
def metric_fn(labels, logits, weights=None):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1), weights)}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss,
        eval_metrics=(metric_fn, {"labels": labels, "logits": logits}))
""",
    "partial_metric_and_scaffold_fn": """
def metric_fn(num_classes, labels, logits):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}

def restore(ckpt):
    tf.train.init_from_checkpoint(ckpt, {"bert/": "bert/"})
    return tf.train.Scaffold()

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss,
        eval_metrics=(functools.partial(metric_fn, 3), [labels, logits]),
        scaffold_fn=functools.partial(restore, params["ckpt"]))
""",
    "scaffold_fn_capturing_variables_and_maps": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    tvars = tf.trainable_variables()
    init_checkpoint = params["init_checkpoint"]
    assignment_map = {v.name.split(":")[0]: v.name.split(":")[0] for v in tvars}
    restore_vars = {v.op.name: v for v in tvars}
    gs = tf.train.get_global_step()
    def tpu_scaffold():
        tf.train.init_from_checkpoint(init_checkpoint, assignment_map)
        saver = tf.train.Saver(restore_vars)
        print(gs)
        return tf.train.Scaffold(saver=saver)
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, gs)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
                                          scaffold_fn=tpu_scaffold)
""",
    "cpu_branch_with_eval_metric_ops_beside_tpu_branch": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label"], logits)  # labels is None in PREDICT
    def metric_fn(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
    if mode == tf.estimator.ModeKeys.EVAL:
        if params["use_tpu"]:
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss,
                eval_metrics=(metric_fn, [labels, logits]))
        return tf.estimator.EstimatorSpec(mode, loss=loss,
                                          eval_metric_ops=metric_fn(labels, logits))
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tpu_estimator.TPUEstimatorSpec(mode, predictions={"logits": logits})
    optimizer = tf.train.AdamOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, tf.train.get_global_step())
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
""",
    "metrics_chosen_by_the_same_flag_as_the_spec_class": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def metric_fn(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
    if params["use_tpu"]:
        metrics = (metric_fn, [labels, logits])
    else:
        metrics = metric_fn(labels, logits)
    if params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=metrics)
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=metrics)
""",
    "as_estimator_spec": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def metric_fn(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
    spec = tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))
    return spec.as_estimator_spec()

estimator = tf.estimator.Estimator(model_fn=model_fn)
""",
    "model_fn_method_of_a_detector_is_not_an_estimator_model_fn": """
class Detector(object):
    def model_fn(self, inputs):
        return tf.layers.dense(inputs, 4)

    def predict(self, inputs):
        return self.model_fn(inputs)
""",
    "helper_with_unknown_arguments": """
def _build_spec(mode, loss, train_op, eval_metrics, scaffold_fn):
    return tpu_estimator.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op,
                                          eval_metrics=eval_metrics, scaffold_fn=scaffold_fn)

class Model(object):
    def spec(self, mode, predictions, loss):
        return tf.estimator.EstimatorSpec(mode, predictions=predictions, loss=loss)
""",
    "mode_chain_covers_every_mode": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    is_training = mode == tf.estimator.ModeKeys.TRAIN
    train_op = None
    if is_training:
        train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
""",
    "mode_in_tuple_and_not_equal": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    predictions = None
    loss = None
    train_op = None
    if mode != tf.estimator.ModeKeys.PREDICT:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    else:
        predictions = {"logits": logits}
    if mode in (tf.estimator.ModeKeys.TRAIN,):
        train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, predictions=predictions, loss=loss, train_op=train_op)
""",
    "loss_of_shape_one_and_reduced_losses": """
def model_fn(features, labels, mode, params):
    per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=features["x"])
    loss = tf.reshape(tf.reduce_mean(per_example), [1])
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op,
                                      predictions={"p": per_example})
""",
    "eval_metrics_none_outside_eval": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label"], logits)  # labels is None in PREDICT
    eval_metrics = None
    if mode == tf.estimator.ModeKeys.EVAL:
        eval_metrics = (lambda labels, logits: {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))},
                        [labels, logits])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=eval_metrics,
        train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()),
        predictions={"logits": logits})
""",
    "cpu_only_guard_for_tpu_only_rules": """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def host_fn(loss):
        return []
    if not params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, host_call=(host_fn, [loss]),
            train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, host_call=(host_fn, [tf.reshape(loss, [1])]),
        train_op=tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1)).minimize(
            loss, tf.train.get_global_step()))
""",
}

# The bad twin of each idiom family: proves the clean cases are clean for the right reason.
BAD = {
    "scalar_without_reshape": """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(tf.square(features["x"] - labels))
    gs = tf.train.get_global_step()
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, gs)
    def host_fn(gs, loss):
        return []
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(host_fn, [gs, loss]))  # expect: SL005, SL005
""",
    "defaulted_parameter_counts_for_tf": """
def metric_fn(labels, logits, weights=None):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1), weights)}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss,
        eval_metrics=(metric_fn, [labels, logits]))  # expect: SL002
""",
    "scaffold_fn_capturing_a_tensor": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def tpu_scaffold():
        init = tf.group(tf.identity(logits))  # expect: SL015
        return tf.train.Scaffold(init_op=init)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, scaffold_fn=tpu_scaffold,
        train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
""",
    "flag_chosen_metrics_with_mismatched_spec_flag": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def metric_fn(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
    if params["use_tpu"]:
        metrics = (metric_fn, [labels, logits])
    else:
        metrics = metric_fn(labels, logits)
    if params["eval_on_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=metrics)  # expect: SL001
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=metrics)  # expect: SL027
""",
    "mode_chain_missing_predict": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    if mode == tf.estimator.ModeKeys.TRAIN:
        train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
    if mode == tf.estimator.ModeKeys.PREDICT:
        logging.info("predicting")
    return tf.estimator.EstimatorSpec(mode, loss=loss)  # expect: SL019
""",
    "helper_called_with_known_arguments": """
def _build_spec(mode, loss, train_op=None):
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)  # expect: SL019

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})
    return _build_spec(mode, loss)
""",
}


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_idiom_is_not_flagged(name):
    source = HEAD + textwrap.dedent(CLEAN[name]).lstrip("\n")
    _, diags = actual(source, name + ".py")
    assert not diags, [f"{d.line}: {d.code} {d.message[:120]}" for d in diags]


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_twin_is_flagged(name):
    source = HEAD + textwrap.dedent(BAD[name]).lstrip("\n")
    assert mismatches(source, name + ".py") == []
