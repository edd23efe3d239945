"""Host-call family (SL004, SL006, SL008, SL009, SL010, SL011, SL012, SL027, SL042): idioms from real
TPU / Estimator code that must stay clean, each next to a bad twin that must be flagged where
annotated, so that no clean case passes merely because the analyser saw nothing.
"""
import textwrap

import pytest

from expect import actual, mismatches

V1 = """\
import functools
import tensorflow.compat.v1 as tf


"""

# (clean module, bad twin); both are complete modules after their header.
PAIRS = {
    # ---- SL004 ------------------------------------------------------------------------------
    "SL004_t2t_flattened_dict": (V1 + """
def _flatten_dict(d):
    return {k: v for k, v in d.items()}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def all_metrics_fn(**kwargs):
        return {"acc": tf.metrics.accuracy(kwargs["labels"], tf.argmax(kwargs["logits"], 1))}
    args = _flatten_dict({"labels": {"a": labels}, "logits": logits})
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(all_metrics_fn, args))
""", V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def all_metrics_fn(**kwargs):
        return {"acc": tf.metrics.accuracy(kwargs["labels"], tf.argmax(kwargs["logits"], 1))}
    args = {"labels": {"a": labels}, "logits": logits}  # expect: SL004
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(all_metrics_fn, args))
"""),
    "SL004_python_values_through_partial_or_cpu_only": (V1 + """
def host_fn(prefix, gs, loss):
    return []

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    optimizer = tf.train.AdamOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, gs)
    if not params["use_tpu"]:
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
            host_call=(host_fn, ["train/", gs, loss]))
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(functools.partial(host_fn, "train/"), [tf.reshape(gs, [1]), tf.reshape(loss, [1])]))
""", V1 + """
def host_fn(prefix, gs, loss):
    return []

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, gs)
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(host_fn, ["train/", tf.reshape(gs, [1]), tf.reshape(loss, [1])]))  # expect: SL004
"""),
    # ---- SL006 ------------------------------------------------------------------------------
    "SL006_batch_1_and_tile_idioms_and_time_major": (V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    outputs, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.LSTMCell(8), features["seq"], time_major=True)
    def metric_fn(loss_t, loss_repeat, last, per_class, one):
        return {"m": tf.metrics.mean(loss_t)}
    tensors = [tf.reshape(loss, [1]),
               tf.tile(tf.expand_dims(loss, 0), [params["batch_size"]]),
               tf.reduce_sum(outputs, 0),
               tf.reduce_sum(tf.one_hot(labels, 2), 1),
               tf.constant([1.0])]
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, tensors))
""", V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def metric_fn(per_class, shape, cm, consts):
        return {"m": tf.metrics.mean(per_class)}
    tensors = [tf.reduce_sum(tf.one_hot(labels, 2), axis=[0]),  # expect: SL006
               tf.shape(logits),  # expect: SL006
               tf.math.confusion_matrix(labels, tf.argmax(logits, 1)),  # expect: SL006
               tf.constant([1.0, 2.0])]  # expect: SL006
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, tensors))
"""),
    # ---- SL008 ------------------------------------------------------------------------------
    "SL008_bert_metric_fn_and_unknown_helpers": (V1 + """
from mylib import metrics_lib

def metric_fn(per_example_loss, label_ids, logits, is_real_example):
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    accuracy = tf.metrics.accuracy(labels=label_ids, predictions=predictions, weights=is_real_example)
    loss = tf.metrics.mean(values=per_example_loss, weights=is_real_example)
    return {"eval_accuracy": accuracy, "eval_loss": loss}

def electra_metric_fn(*args):
    metrics = dict()
    for name, value in zip(["a", "b"], args):
        metrics[name] = tf.metrics.mean(value)
    return metrics

def retinanet_metric_fn(**kwargs):
    return metrics_lib.coco_metrics(kwargs)

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"logits": logits})
    per_example_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    loss = tf.reduce_mean(per_example_loss)
    if mode == tf.estimator.ModeKeys.EVAL:
        if params["task"] == "bert":
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(
                metric_fn, [per_example_loss, labels, logits, features["is_real_example"]]))
        if params["task"] == "electra":
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(
                electra_metric_fn, [per_example_loss, labels]))
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(
            retinanet_metric_fn, {"labels": labels, "logits": logits}))
    optimizer = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1))
    train_op = optimizer.minimize(loss, tf.train.get_global_step())
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
""", V1 + """
def metric_fn(per_example_loss, label_ids, logits, is_real_example):
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    accuracy = tf.metrics.accuracy(labels=label_ids, predictions=predictions, weights=is_real_example)
    loss = tf.metrics.mean(values=per_example_loss, weights=is_real_example)
    return [accuracy, loss]  # expect: SL008

def forgot_return(per_example_loss, label_ids):  # expect: SL008
    metrics = {"eval_loss": tf.metrics.mean(per_example_loss)}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"logits": logits})
    per_example_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    loss = tf.reduce_mean(per_example_loss)
    if mode == tf.estimator.ModeKeys.EVAL:
        if params["task"] == "bert":
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(
                metric_fn, [per_example_loss, labels, logits, features["is_real_example"]]))
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(
            forgot_return, [per_example_loss, labels]))
    optimizer = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1))
    train_op = optimizer.minimize(loss, tf.train.get_global_step())
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
"""),
    "SL008_keras_metric_only_on_the_cpu_path": (V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def metric_fn(labels, logits):
        m = tf.keras.metrics.Accuracy()
        m.update_state(labels, tf.argmax(logits, 1))
        return {"accuracy": m}
    if not params["use_tpu"]:
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))
    def tpu_metric_fn(labels, logits):
        return {"accuracy": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(tpu_metric_fn, [labels, logits]))
""", V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def metric_fn(labels, logits):
        m = tf.keras.metrics.Accuracy()
        m.update_state(labels, tf.argmax(logits, 1))
        return {"accuracy": m, "acc_value": m.result()}  # expect: SL008, SL008
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))
"""),
    # ---- SL009 ------------------------------------------------------------------------------
    "SL009_eval_loss_and_head_keys": (V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    name = "loss"
    ops = {"eval_loss": tf.metrics.mean(loss), "loss/mean": tf.metrics.mean(loss)}
    ops["%s_avg" % name] = tf.metrics.mean(loss)
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=ops)
""", V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    ops = {"loss": tf.metrics.mean(loss), "loss/mean": tf.metrics.mean(loss)}  # expect: SL009
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=ops)
"""),
    "SL009_keys_removed_before_the_spec": (V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    ops = {"loss": tf.metrics.mean(loss), "acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
    for name in params["extra"]:
        ops[name] = tf.metrics.mean(features[name])
    ops.pop("loss")
    extra = {"global_step": tf.metrics.mean(loss)}
    del extra["global_step"]
    ops.update(extra)
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=ops)
""", V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    ops = {"loss": tf.metrics.mean(loss), "acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}  # expect: SL009
    for name in params["extra"]:
        ops[name] = tf.metrics.mean(features[name])
    ops.pop("acc")
    extra = {"global_step": tf.metrics.mean(loss)}  # expect: SL009
    del extra["loss"]
    ops.update(extra)
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=ops)
"""),
    # ---- SL010 ------------------------------------------------------------------------------
    "SL010_v2_and_contrib_summaries": (V1 + """
def _write(name, value, step):
    tf.compat.v2.summary.scalar(name, value, step=step)

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, gs)
    def host_call_fn(gs, loss):
        with tf.compat.v2.summary.create_file_writer(params["model_dir"]).as_default():
            _write("loss", loss[0], gs[0])
        return tf.summary.all_v2_summary_ops()
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(host_call_fn, [tf.reshape(gs, [1]), tf.reshape(loss, [1])]))
""", V1 + """
def _write(name, value, step):
    tf.summary.scalar(name, value)  # expect: SL010

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, gs)
    def host_call_fn(gs, loss):
        with tf.compat.v2.summary.create_file_writer(params["model_dir"]).as_default():
            _write("loss", loss[0], gs[0])
        return tf.summary.all_v2_summary_ops()
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(host_call_fn, [tf.reshape(gs, [1]), tf.reshape(loss, [1])]))
"""),
    "SL010_plain_tf_summary_is_tf2_unless_the_module_is_tf1": ("""\
import tensorflow as tf


def host_call_fn(gs, loss):
    with tf.summary.create_file_writer("/tmp/m").as_default():
        tf.summary.scalar("loss", loss[0], step=gs[0])
    return tf.compat.v1.summary.all_v2_summary_ops()


def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    gs = tf.compat.v1.train.get_global_step()
    train_op = tf.compat.v1.train.AdamOptimizer(0.1).minimize(loss, gs)
    return tf.compat.v1.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(host_call_fn, [tf.reshape(gs, [1]), tf.reshape(loss, [1])]))
""", """\
import tensorflow as tf


def host_call_fn(gs, loss):
    tf.summary.scalar("loss", loss[0])  # expect: SL010
    return tf.summary.merge_all()


def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    gs = tf.train.get_global_step()
    train_op = tf.contrib.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1)).minimize(loss, gs)
    return tf.contrib.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(host_call_fn, [tf.reshape(gs, [1]), tf.reshape(loss, [1])]))
"""),
    # ---- SL011 ------------------------------------------------------------------------------
    "SL011_returns_from_helper_or_inside_with": (V1 + """
from mylib import summaries

def host_call_fn(gs, loss):
    return summaries.write_all(gs, loss)

async def host_call_fn3(gs, loss):
    return None

def host_call_fn2(gs, loss):
    with tf.compat.v2.summary.create_file_writer("/tmp").as_default():
        tf.compat.v2.summary.scalar("loss", loss[0], step=gs[0])
        return tf.summary.all_v2_summary_ops()

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, gs)
    fn = host_call_fn if params["a"] else (host_call_fn2 if params["b"] else host_call_fn3)
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(fn, [tf.reshape(gs, [1]), tf.reshape(loss, [1])]))
""", V1 + """
def host_call_fn(gs, loss):  # expect: SL011
    with tf.compat.v2.summary.create_file_writer("/tmp").as_default():
        tf.compat.v2.summary.scalar("loss", loss[0], step=gs[0])
    return

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, gs)
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
        host_call=(host_call_fn, [tf.reshape(gs, [1]), tf.reshape(loss, [1])]))
"""),
    # ---- SL012 ------------------------------------------------------------------------------
    "SL012_od_api_guard_and_flags": (V1 + """
flags = tf.flags
FLAGS = flags.FLAGS

def _add_summaries(lr, use_tpu):
    if not use_tpu:
        tf.summary.scalar("learning_rate", lr)

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    lr = tf.train.exponential_decay(0.1, gs, 100, 0.9)
    if not FLAGS.use_tpu:
        tf.summary.scalar("loss", loss)
    _add_summaries(lr, FLAGS.use_tpu)
    optimizer = tf.train.AdamOptimizer(lr)
    if FLAGS.use_tpu:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, gs)
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
""", V1 + """
flags = tf.flags
FLAGS = flags.FLAGS

def _add_summaries(lr, use_tpu):
    if use_tpu:
        tf.summary.scalar("learning_rate", lr)  # expect: SL012

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    lr = tf.train.exponential_decay(0.1, gs, 100, 0.9)
    if FLAGS.use_tpu:
        tf.summary.scalar("loss", loss)  # expect: SL012
    _add_summaries(lr, FLAGS.use_tpu)
    optimizer = tf.train.AdamOptimizer(lr)
    if FLAGS.use_tpu:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, gs)
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
"""),
    "SL012_od_api_create_model_fn": ("""\
import tensorflow as tf


def create_model_fn(detection_model_fn, configs, hparams, use_tpu=False):
  train_config = configs["train_config"]

  def model_fn(features, labels, mode, params=None):
    params = params or {}
    total_loss, train_op, detections = None, None, None
    detection_model = detection_model_fn(is_training=mode == tf.estimator.ModeKeys.TRAIN,
                                         add_summaries=(not use_tpu))
    prediction_dict = detection_model.predict(features["image"])
    if mode in (tf.estimator.ModeKeys.EVAL, tf.estimator.ModeKeys.PREDICT):
      detections = detection_model.postprocess(prediction_dict)
    if mode in (tf.estimator.ModeKeys.TRAIN, tf.estimator.ModeKeys.EVAL):
      losses_dict = detection_model.loss(prediction_dict)
      total_loss = tf.add_n(list(losses_dict.values()), name="total_loss")
      global_step = tf.train.get_or_create_global_step()
      training_optimizer, optimizer_summary_vars = build_optimizer(train_config.optimizer)
    if mode == tf.estimator.ModeKeys.TRAIN:
      if use_tpu:
        training_optimizer = tf.contrib.tpu.CrossShardOptimizer(training_optimizer)
      if not use_tpu:
        for var in optimizer_summary_vars:
          tf.summary.scalar(var.op.name, var)
      summaries = [] if use_tpu else None
      train_op = tf.contrib.layers.optimize_loss(
          loss=total_loss, global_step=global_step, learning_rate=None,
          optimizer=training_optimizer, summaries=summaries, name="")
    eval_metric_ops = None
    if mode == tf.estimator.ModeKeys.EVAL:
      eval_metric_ops = {}
      for loss_key, loss_tensor in iter(losses_dict.items()):
        eval_metric_ops[loss_key] = tf.metrics.mean(loss_tensor)
      for var in optimizer_summary_vars:
        eval_metric_ops[var.op.name] = (var, tf.no_op())
      eval_metric_ops = {str(k): v for k, v in eval_metric_ops.items()}
    # EVAL executes on CPU, so use regular non-TPU EstimatorSpec.
    if use_tpu and mode != tf.estimator.ModeKeys.EVAL:
      return tf.contrib.tpu.TPUEstimatorSpec(
          mode=mode, predictions=detections, loss=total_loss, train_op=train_op,
          eval_metrics=eval_metric_ops)
    return tf.estimator.EstimatorSpec(
        mode=mode, predictions=detections, loss=total_loss, train_op=train_op,
        eval_metric_ops=eval_metric_ops)

  return model_fn


def create_estimator(run_config, hparams, configs, detection_model_fn, use_tpu):
  model_fn = create_model_fn(detection_model_fn, configs, hparams, use_tpu=use_tpu)
  return tf.contrib.tpu.TPUEstimator(model_fn=model_fn, config=run_config, use_tpu=use_tpu,
                                     eval_on_tpu=False, train_batch_size=8, eval_batch_size=8)
""", """\
import tensorflow as tf


def create_model_fn(detection_model_fn, configs, hparams, use_tpu=False):
  train_config = configs["train_config"]

  def model_fn(features, labels, mode, params=None):
    params = params or {}
    total_loss, train_op, detections = None, None, None
    detection_model = detection_model_fn(is_training=mode == tf.estimator.ModeKeys.TRAIN,
                                         add_summaries=(not use_tpu))
    prediction_dict = detection_model.predict(features["image"])
    if mode in (tf.estimator.ModeKeys.EVAL, tf.estimator.ModeKeys.PREDICT):
      detections = detection_model.postprocess(prediction_dict)
    if mode in (tf.estimator.ModeKeys.TRAIN, tf.estimator.ModeKeys.EVAL):
      losses_dict = detection_model.loss(prediction_dict)
      total_loss = tf.add_n(list(losses_dict.values()), name="total_loss")
      global_step = tf.train.get_or_create_global_step()
      training_optimizer, optimizer_summary_vars = build_optimizer(train_config.optimizer)
    if mode == tf.estimator.ModeKeys.TRAIN:
      if use_tpu:
        training_optimizer = tf.contrib.tpu.CrossShardOptimizer(training_optimizer)
      for var in optimizer_summary_vars:
        tf.summary.scalar(var.op.name, var)  # expect: SL012
      summaries = [] if use_tpu else None
      train_op = tf.contrib.layers.optimize_loss(
          loss=total_loss, global_step=global_step, learning_rate=None,
          optimizer=training_optimizer, summaries=summaries, name="")
    eval_metric_ops = None
    if mode == tf.estimator.ModeKeys.EVAL:
      eval_metric_ops = {}
      for loss_key, loss_tensor in iter(losses_dict.items()):
        eval_metric_ops[loss_key] = tf.metrics.mean(loss_tensor)
      eval_metric_ops["loss"] = tf.metrics.mean(total_loss)  # expect: SL009
    if use_tpu and mode != tf.estimator.ModeKeys.EVAL:
      return tf.contrib.tpu.TPUEstimatorSpec(
          mode=mode, predictions=detections, loss=total_loss, train_op=train_op,
          eval_metrics=eval_metric_ops)
    return tf.estimator.EstimatorSpec(
        mode=mode, predictions=detections, loss=total_loss, train_op=train_op,
        eval_metric_ops=eval_metric_ops)

  return model_fn


def create_estimator(run_config, hparams, configs, detection_model_fn, use_tpu):
  model_fn = create_model_fn(detection_model_fn, configs, hparams, use_tpu=use_tpu)
  return tf.contrib.tpu.TPUEstimator(model_fn=model_fn, config=run_config, use_tpu=use_tpu,
                                     eval_on_tpu=False, train_batch_size=8, eval_batch_size=8)
"""),
    "SL012_optimize_loss_summaries": ("""\
import tensorflow as tf


def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    opt = tf.contrib.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1))
    if params["summarize_gradients"]:
        summaries = ["gradients"]
    else:
        summaries = []
    train_op = tf.contrib.layers.optimize_loss(loss, gs, None, opt, summaries=[])
    train_op = tf.contrib.layers.optimize_loss(loss, gs, None, opt, summaries=summaries)
    return tf.contrib.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
""", """\
import tensorflow as tf


def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    gs = tf.train.get_global_step()
    opt = tf.contrib.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1))
    train_op = tf.contrib.layers.optimize_loss(loss, gs, None, opt, summaries=None)  # expect: SL012
    train_op = tf.contrib.layers.optimize_loss(  # expect: SL012
        loss, gs, None, opt, None, None, None, None, None, None, "", ["loss"])
    return tf.contrib.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
"""),
    "SL012_estimator_spec_paths_and_as_estimator_spec": (V1 + """
def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    tf.summary.scalar("loss", loss)
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op).as_estimator_spec()

def gpu_model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    tf.summary.scalar("loss", loss)
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
""", V1 + """
def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    tf.summary.scalar("loss", loss)  # expect: SL012
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    spec = tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
    return spec

def gpu_model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    tf.summary.scalar("loss", loss)
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
"""),
    "SL012_t2t_remove_summaries": (V1 + """
def remove_summaries():
    g = tf.get_default_graph()
    key = tf.GraphKeys.SUMMARIES
    del g.get_collection_ref(key)[:]

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    tf.summary.scalar("loss", loss)
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    remove_summaries()
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
""", V1 + """
def keep_summaries():
    g = tf.get_default_graph()
    return g

def model_fn(features, labels, mode, params):
    loss = tf.losses.sparse_softmax_cross_entropy(labels, features["x"])
    tf.summary.scalar("loss", loss)  # expect: SL012
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    keep_summaries()
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
"""),
    # ---- SL027 ------------------------------------------------------------------------------
    "SL027_metric_fn_result_and_updated_keras_metric": (V1 + """
def metric_fn(labels, logits):
    return {"accuracy": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    auc = tf.keras.metrics.AUC()
    auc.update_state(labels, tf.nn.softmax(logits)[:, 1])
    ops = metric_fn(labels, logits)
    ops["auc"] = auc
    ops["mean"] = (tf.reduce_mean(loss), tf.no_op())
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=ops)
""", V1 + """
def metric_fn(labels, logits):
    return {"accuracy": tf.reduce_mean(tf.cast(tf.equal(labels, tf.argmax(logits, 1)), tf.float32))}  # expect: SL027

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    auc = tf.keras.metrics.AUC()
    ops = metric_fn(labels, logits)
    ops["auc"] = auc.update_state(labels, tf.nn.softmax(logits)[:, 1])  # expect: SL027
    ops["mean"] = (tf.reduce_mean(loss), tf.no_op(), 1)  # expect: SL027
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=ops)
"""),
    "SL027_none_and_unknown": (V1 + """
from mylib import make_metrics

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    ops = None
    if params["with_metrics"]:
        ops = make_metrics(labels, logits)
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=ops)
""", V1 + """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    ops = None
    if params["with_metrics"]:
        ops = [tf.metrics.accuracy(labels, tf.argmax(logits, 1))]
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=ops)  # expect: SL027
"""),
    # ---- SL042 ------------------------------------------------------------------------------
    "SL042_batch_size_in_model_fn_is_fine": (V1 + """
def coco_metric_fn(batch_size, boxes):
    return {"ap": tf.metrics.mean(boxes)}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def metric_fn(**kwargs):
        batch_size = tf.shape(kwargs["boxes"])[0]
        return coco_metric_fn(batch_size, kwargs["boxes"])
    loss_repeat = tf.tile(tf.expand_dims(loss, 0), [params["batch_size"]])
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss,
        eval_metrics=(metric_fn, {"boxes": logits, "loss_repeat": loss_repeat}))
""", V1 + """
def coco_metric_fn(batch_size, boxes):
    for index in range(batch_size):  # expect: SL042
        pass
    return {"ap": tf.metrics.mean(boxes)}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def metric_fn(**kwargs):
        batch_size = params["batch_size"]
        return coco_metric_fn(batch_size, kwargs["boxes"])
    loss_repeat = tf.tile(tf.expand_dims(loss, 0), [params["batch_size"]])
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss,
        eval_metrics=(metric_fn, {"boxes": logits, "loss_repeat": loss_repeat}))
"""),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_idiom_is_clean(name):
    clean, _ = PAIRS[name]
    _, diags = actual(clean, name + ".py")
    assert not diags, [f"{d.line}: {d.code} {d.message[:120]}" for d in diags]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_bad_twin_is_flagged(name):
    _, bad = PAIRS[name]
    assert mismatches(bad, name + "_bad.py") == []


def test_sl042_is_off_by_default():
    from pathlib import Path

    from speclint import engine
    from speclint.config import Config

    _, bad = PAIRS["SL042_batch_size_in_model_fn_is_fine"]
    default = engine.check_source(bad.encode(), "default.py", Config(root=Path.cwd()))
    assert not [d for d in default.diagnostics if d.code == "SL042"]
    _, diags = actual(bad, "selected.py", select=("SL042",))
    assert [d.code for d in diags] == ["SL042"]


def test_cpu_target_silences_tpu_only_rules():
    _, bad = PAIRS["SL012_od_api_guard_and_flags"]
    got, _ = actual(bad, "cpu.py", target="cpu")
    assert not got
    got, _ = actual(bad, "tpu.py", target="tpu")
    assert sum(1 for (_, code) in got.elements() if code == "SL012") == 2


def test_tf1_summary_detection():
    import libcst as cst

    from speclint.static.analyzer import ModuleAnalyzer
    from speclint.static.tfversion import v1_summary_op

    tf2 = ModuleAnalyzer(cst.parse_module("import tensorflow as tf\ntf.summary.scalar('a', 1, step=1)\n")).analyze()
    assert v1_summary_op("tensorflow.compat.v1.summary.scalar", tf2) == "scalar"
    assert v1_summary_op("tensorflow.compat.v1.compat.v2.summary.scalar", tf2) is None
    assert v1_summary_op("tensorflow.compat.v2.summary.scalar", tf2) is None
    assert v1_summary_op("tensorflow.contrib.summary.scalar", tf2) is None
    assert v1_summary_op("tensorflow.compat.v1.summary.all_v2_summary_ops", tf2) is None
    assert v1_summary_op("tensorflow.compat.v1.summary.merge_all", tf2) is None
    assert v1_summary_op("tensorflow.summary.scalar", tf2) is None
    for tf1_code in ("x = tf.contrib.layers.flatten(y)", "s = tf.Session()", "f(tf.train.AdamOptimizer(1))",
                     "tf.logging.info('x')"):
        tf1 = ModuleAnalyzer(cst.parse_module("import tensorflow as tf\n" + tf1_code + "\n")).analyze()
        assert v1_summary_op("tensorflow.summary.histogram", tf1) == "histogram", tf1_code
        assert v1_summary_op("tensorflow.summary.histogram", tf1, {"step": None}) is None, tf1_code
    contrib_import = ModuleAnalyzer(cst.parse_module("from tensorflow.contrib import tpu\n")).analyze()
    assert v1_summary_op("tensorflow.summary.image", contrib_import) == "image"


def test_host_functions_from_sibling_modules(tmp_path):
    """A metric_fn / host_call_fn imported from another linted module is run with the caller's
    tensors; its findings are reported in its own file, and whether its `tf.summary` is TF 1 is
    decided by its own module."""
    import os

    from speclint import engine
    from speclint.config import Resolver

    (tmp_path / "hostfns.py").write_text(textwrap.dedent("""\
        import tensorflow as tf

        def host_call_fn(gs, loss):
            tf.summary.scalar("loss", loss[0])
            return tf.contrib.summary.all_summary_ops()

        def metric_fn(labels, logits):
            return {"loss": tf.metrics.mean(labels), "acc": tf.reduce_mean(logits)}
        """))
    (tmp_path / "train.py").write_text(textwrap.dedent("""\
        import tensorflow as tf
        import hostfns

        def model_fn(features, labels, mode, params):
            logits = tf.compat.v1.layers.dense(features["x"], 2)
            loss = tf.reduce_mean(logits)
            gs = tf.compat.v1.train.get_global_step()
            train_op = tf.compat.v1.train.AdamOptimizer(0.1).minimize(loss, gs)
            tf.summary.scalar("lr", 0.1)
            return tf.compat.v1.estimator.tpu.TPUEstimatorSpec(
                mode, loss=loss, train_op=train_op,
                eval_metrics=(hostfns.metric_fn, [labels, logits]),
                host_call=(hostfns.host_call_fn, [tf.reshape(gs, [1]), tf.reshape(loss, [1])]))
        """))
    result = engine.check_paths([str(tmp_path)], Resolver(overrides={"select": ("ALL",)}))
    got = sorted((os.path.basename(d.path), d.line, d.code) for d in result.diagnostics)
    # train.py's plain tf.summary is TF 2 (no TF 1-only API there); hostfns.py uses tf.contrib
    assert got == [("hostfns.py", 4, "SL010"), ("hostfns.py", 8, "SL008"), ("hostfns.py", 8, "SL009")]
