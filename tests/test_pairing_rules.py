"""Spec/estimator pairing family (SL014, SL016, SL017, SL031, SL033, SL034, SL035, SL043) and TPU
targeting: idioms from real TPU/Estimator code that must stay clean, each beside a bad twin that
is flagged exactly where annotated (`# expect: SLnnn`), so no clean case passes vacuously.
"""
import textwrap

import pytest

from expect import actual, mismatches

HEAD = """\
import functools
import tensorflow.compat.v1 as tf
from absl import flags
from tensorflow_estimator.python.estimator.tpu import tpu_estimator

FLAGS = flags.FLAGS


"""

# name -> (clean idiom, bad twin)
PAIRS = {
    # ---- SL014 -----------------------------------------------------------------------------
    "bert_tpu_scaffold_returns_scaffold": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def tpu_scaffold():
        tf.train.init_from_checkpoint(params["ckpt"], {"bert/": "bert/"})
        return tf.train.Scaffold()
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, scaffold_fn=tpu_scaffold)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def tpu_scaffold():  # expect: SL014
        tf.train.init_from_checkpoint(params["ckpt"], {"bert/": "bert/"})
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, scaffold_fn=tpu_scaffold)
"""),
    "resnet_restore_scaffold_partial_wraps_the_saver": ("""
def restore_scaffold(var_list):
    saver = tf.train.Saver(var_list)
    return tf.train.Scaffold(saver=saver)

def model_fn(features, labels, mode, params):
    ema = tf.train.ExponentialMovingAverage(decay=0.9999)
    restore_vars_dict = ema.variables_to_restore(tf.trainable_variables())
    return tpu_estimator.TPUEstimatorSpec(mode, predictions={"x": features["x"]},
        scaffold_fn=functools.partial(restore_scaffold, restore_vars_dict))
""", """
def restore_scaffold(var_list):
    saver = tf.train.Saver(var_list)
    return saver  # expect: SL014

def model_fn(features, labels, mode, params):
    ema = tf.train.ExponentialMovingAverage(decay=0.9999)
    restore_vars_dict = ema.variables_to_restore(tf.trainable_variables())
    return tpu_estimator.TPUEstimatorSpec(mode, predictions={"x": features["x"]},
        scaffold_fn=functools.partial(restore_scaffold, restore_vars_dict))
"""),
    "scaffold_fn_from_a_function_we_cannot_see_or_the_class": ("""
import checkpoint_utils

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def scaffold_fn():
        return checkpoint_utils.build_scaffold(params["ckpt"])
    spec_a = tpu_estimator.TPUEstimatorSpec(mode, loss=loss, scaffold_fn=scaffold_fn)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, scaffold_fn=tf.train.Scaffold)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def scaffold_fn():  # expect: SL014
        if params["ckpt"]:
            tf.train.init_from_checkpoint(params["ckpt"], {"/": "/"})
            return tf.train.Scaffold()
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, scaffold_fn=scaffold_fn)
"""),
    "scaffold_fn_returning_none_only_matters_on_tpu": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def tpu_scaffold():
        tf.train.init_from_checkpoint(params["ckpt"], {"bert/": "bert/"})
    if not params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, scaffold_fn=tpu_scaffold)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def tpu_scaffold():  # expect: SL014
        tf.train.init_from_checkpoint(params["ckpt"], {"bert/": "bert/"})
    if params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, scaffold_fn=tpu_scaffold)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss)
"""),
    # ---- SL016 -----------------------------------------------------------------------------
    "bert_init_from_checkpoint_in_scaffold_on_tpu_directly_on_cpu": ("""
def model_fn_builder(init_checkpoint, use_tpu):
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        scaffold_fn = None
        if use_tpu:
            def tpu_scaffold():
                tf.train.init_from_checkpoint(init_checkpoint, {"bert/": "bert/"})
                return tf.train.Scaffold()
            scaffold_fn = tpu_scaffold
        else:
            tf.train.init_from_checkpoint(init_checkpoint, {"bert/": "bert/"})
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, scaffold_fn=scaffold_fn)
    return model_fn

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn_builder("gs://b/c", FLAGS.use_tpu),
                                       use_tpu=FLAGS.use_tpu)
""", """
def model_fn_builder(init_checkpoint, use_tpu):
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        tf.train.init_from_checkpoint(init_checkpoint, {"bert/": "bert/"})  # expect: SL016
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss)
    return model_fn

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn_builder("gs://b/c", FLAGS.use_tpu),
                                       use_tpu=FLAGS.use_tpu)
"""),
    "init_from_checkpoint_in_a_model_fn_given_to_a_plain_estimator": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    tf.train.init_from_checkpoint(params["ckpt"], {"bert/": "bert/"})
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op())

estimator = tf.estimator.Estimator(model_fn=model_fn)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    tf.train.init_from_checkpoint(params["ckpt"], {"bert/": "bert/"})  # expect: SL016
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn)
"""),
    # ---- SL017 -----------------------------------------------------------------------------
    "cpu_branch_carries_the_scaffold": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def scaffold_fn():
        tf.train.init_from_checkpoint(params["ckpt"], {"resnet/": "resnet/"})
        return tf.train.Scaffold()
    if params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                              scaffold_fn=scaffold_fn)
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(), scaffold=scaffold_fn())
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def scaffold_fn():
        tf.train.init_from_checkpoint(params["ckpt"], {"resnet/": "resnet/"})
        return tf.train.Scaffold()
    if params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                              scaffold_fn=scaffold_fn)
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op())  # expect: SL017
"""),
    "mask_rcnn_scaffold_fn_only_when_a_checkpoint_is_set": ("""
def model_fn(features, labels, mode, params):
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tpu_estimator.TPUEstimatorSpec(mode=mode, predictions={"x": features["x"]})
    total_loss = tf.reduce_mean(features["x"])
    train_op = None
    scaffold_fn = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        optimizer = tf.train.MomentumOptimizer(0.02, 0.9)
        if params["use_tpu"]:
            optimizer = tf.tpu.CrossShardOptimizer(optimizer)
        if params["checkpoint"]:
            def backbone_scaffold_fn():
                tf.train.init_from_checkpoint(params["checkpoint"], {"resnet50/": "resnet50/"})
                return tf.train.Scaffold()
            scaffold_fn = backbone_scaffold_fn
        train_op = optimizer.minimize(total_loss, tf.train.get_global_step())
    if params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(mode=mode, loss=total_loss, train_op=train_op,
                                              scaffold_fn=scaffold_fn)
    return tf.estimator.EstimatorSpec(mode=mode, loss=total_loss, train_op=train_op,
                                      scaffold=scaffold_fn() if scaffold_fn else None)
""", """
def model_fn(features, labels, mode, params):
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tpu_estimator.TPUEstimatorSpec(mode=mode, predictions={"x": features["x"]})
    total_loss = tf.reduce_mean(features["x"])
    train_op = None
    scaffold_fn = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        optimizer = tf.train.MomentumOptimizer(0.02, 0.9)
        if params["use_tpu"]:
            optimizer = tf.tpu.CrossShardOptimizer(optimizer)
        if params["checkpoint"]:
            def backbone_scaffold_fn():
                tf.train.init_from_checkpoint(params["checkpoint"], {"resnet50/": "resnet50/"})
                return tf.train.Scaffold()
            scaffold_fn = backbone_scaffold_fn
        train_op = optimizer.minimize(total_loss, tf.train.get_global_step())
    if params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(mode=mode, loss=total_loss, train_op=train_op,
                                              scaffold_fn=scaffold_fn)
    return tf.estimator.EstimatorSpec(mode=mode, loss=total_loss, train_op=train_op)  # expect: SL017
"""),
    "t2t_cpu_eval_branch_with_eval_metric_ops": ("""
def metric_fn(labels, logits):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label"], logits)  # labels is None in PREDICT
    if mode == tf.estimator.ModeKeys.EVAL:
        if params["use_tpu"]:
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss,
                                                  eval_metrics=(metric_fn, [labels, logits]))
        return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=metric_fn(labels, logits))
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          predictions={"logits": logits})
""", """
def metric_fn(labels, logits):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label"], logits)  # labels is None in PREDICT
    if mode == tf.estimator.ModeKeys.EVAL:
        if params["use_tpu"]:
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss,
                                                  eval_metrics=(metric_fn, [labels, logits]))
        return tf.estimator.EstimatorSpec(mode, loss=loss)  # expect: SL017
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          predictions={"logits": logits})
"""),
    "estimator_spec_scaffold_with_a_cpu_tpu_estimator": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    saver = tf.train.Saver(max_to_keep=3)
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                      scaffold=tf.train.Scaffold(saver=saver))

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=False)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    saver = tf.train.Saver(max_to_keep=3)
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                      scaffold=tf.train.Scaffold(saver=saver))  # expect: SL017

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=FLAGS.use_tpu)
"""),
    # ---- SL031 -----------------------------------------------------------------------------
    "electra_hook_tensors_only_off_tpu_and_variables": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    hook = tf.train.LoggingTensorHook({} if params["use_tpu"] else {"loss": loss}, every_n_iter=10)
    step_hook = tf.train.LoggingTensorHook({"step": tf.train.get_global_step()}, every_n_iter=10)
    name_hook = tf.train.LoggingTensorHook(["loss"], every_n_iter=10)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          training_hooks=[hook, step_hook, name_hook])

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    hook = tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)  # expect: SL031
    step_hook = tf.train.LoggingTensorHook({"step": tf.train.get_global_step()}, every_n_iter=10)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          training_hooks=[hook, step_hook])

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
"""),
    "logging_hook_in_a_model_fn_run_on_cpu": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    nan_hook = tf.train.NanTensorHook(loss)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          training_hooks=[nan_hook])

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=False)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    nan_hook = tf.train.NanTensorHook(loss)  # expect: SL031
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          training_hooks=[nan_hook])

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
"""),
    # ---- SL033 -----------------------------------------------------------------------------
    "as_estimator_spec_called_for_a_plain_estimator": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    spec = tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())
    return spec.as_estimator_spec()

estimator = tf.estimator.Estimator(model_fn=model_fn)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    spec = tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())  # expect: SL033
    return spec

estimator = tf.estimator.Estimator(model_fn=model_fn)
"""),
    "tpu_spec_only_under_the_tpu_flag_with_a_plain_estimator": ("""
def model_fn_builder(use_tpu):
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        if use_tpu:
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op())
    return model_fn

estimator = tf.estimator.Estimator(model_fn=model_fn_builder(FLAGS.use_tpu))
""", """
def model_fn_builder(use_tpu):
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        if mode == tf.estimator.ModeKeys.EVAL:
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss)  # expect: SL033
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          predictions={"x": features["x"]})
    return model_fn

estimator = tf.estimator.Estimator(model_fn=model_fn_builder(FLAGS.use_tpu))
"""),
    "tpu_spec_given_to_both_estimators": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())

def main():
    if FLAGS.use_tpu:
        return tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
    return tf.estimator.Estimator(model_fn=model_fn)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op()).as_estimator_spec  # expect: SL033

def main():
    if FLAGS.use_tpu:
        return tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
    return tf.estimator.Estimator(model_fn=model_fn)
"""),
    # ---- SL034 -----------------------------------------------------------------------------
    "od_api_eval_on_cpu_with_eval_on_tpu_false": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    if mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={})
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          predictions={"x": features["x"]})

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=FLAGS.use_tpu, eval_on_tpu=False)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    if mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={})  # expect: SL034
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          predictions={"x": features["x"]})

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=FLAGS.use_tpu)
"""),
    "cpu_estimator_spec_beside_the_tpu_branch": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    if mode == tf.estimator.ModeKeys.PREDICT:
        if params["use_tpu"]:
            return tpu_estimator.TPUEstimatorSpec(mode, predictions={"x": features["x"]})
        return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    if mode == tf.estimator.ModeKeys.PREDICT:
        if params["use_tpu"]:
            pass
        return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})  # expect: SL034
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())
"""),
    "chief_hooks_on_cpu_only": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    hook = tf.train.StepCounterHook(every_n_steps=10)
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                      training_chief_hooks=[hook])

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=False)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    hook = tf.train.StepCounterHook(every_n_steps=10)
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                      training_chief_hooks=[hook])  # expect: SL034

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
"""),
    "resnet_predict_for_export_only": ("""
def model_fn(features, labels, mode, params):
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})
    loss = tf.reduce_mean(features["x"])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=FLAGS.use_tpu, export_to_tpu=False)
""", """
def model_fn(features, labels, mode, params):
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})  # expect: SL034
    loss = tf.reduce_mean(features["x"])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=FLAGS.use_tpu)
"""),
    # ---- SL035 -----------------------------------------------------------------------------
    "spec_overridden_by_a_later_spec_which_is_returned": ("""
def metric_fn(labels, logits):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    spec = tpu_estimator.TPUEstimatorSpec(mode, loss=loss)
    spec = tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))
    return spec._replace(loss=loss * 2.0)
""", """
def metric_fn(labels, logits):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    spec = tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))
    other = tpu_estimator.TPUEstimatorSpec(mode, loss=loss)
    return spec  # expect: SL035
"""),
    "specs_on_different_paths": ("""
def metric_fn(labels, logits):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}

def other_fn(labels, logits):
    return {"auc": tf.metrics.auc(labels, logits[:, 1])}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    if params["auc"]:
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(other_fn, [labels, logits]))
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))
""", """
def metric_fn(labels, logits):
    return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}

def other_fn(labels, logits):
    return {"auc": tf.metrics.auc(labels, logits[:, 1])}

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    auc_spec = tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(other_fn, [labels, logits]))
    acc_spec = tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))
    if params["auc"]:
        return auc_spec  # expect: SL035
    return acc_spec
"""),
    # ---- SL043 -----------------------------------------------------------------------------
    "bert_optimizer_from_a_module_we_cannot_see": ("""
import optimization

def model_fn_builder(use_tpu):
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        train_op = optimization.create_optimizer(loss, 2e-5, 1000, 100, use_tpu)
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
    return model_fn

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn_builder(FLAGS.use_tpu), use_tpu=FLAGS.use_tpu)
""", """
def model_fn_builder(use_tpu):
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        optimizer = tf.train.AdamOptimizer(2e-5)
        train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())  # expect: SL043
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
    return model_fn

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn_builder(FLAGS.use_tpu), use_tpu=FLAGS.use_tpu)
"""),
    "same_module_create_optimizer_wraps_under_use_tpu": ("""
def create_optimizer(loss, lr, use_tpu):
    optimizer = tf.train.AdamOptimizer(lr)
    if use_tpu:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    return optimizer.minimize(loss, global_step=tf.train.get_global_step())

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    train_op = create_optimizer(loss, 1e-3, params["use_tpu"])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
""", """
def create_optimizer(loss, lr, use_tpu):
    optimizer = tf.train.AdamOptimizer(lr)
    return optimizer.minimize(loss, global_step=tf.train.get_global_step())  # expect: SL043

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    train_op = create_optimizer(loss, 1e-3, params["use_tpu"])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
"""),
    "explicit_cross_replica_sum_of_the_gradients": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    grads_and_vars = optimizer.compute_gradients(loss)
    grads_and_vars = [(tf.tpu.cross_replica_sum(g), v) for g, v in grads_and_vars]
    train_op = optimizer.apply_gradients(grads_and_vars, global_step=tf.train.get_global_step())
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    grads_and_vars = optimizer.compute_gradients(loss)
    train_op = optimizer.apply_gradients(grads_and_vars, global_step=tf.train.get_global_step())  # expect: SL043
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
"""),
    "mesh_tensorflow_needs_no_wrapper": ("""
import mesh_tensorflow as mtf

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    optimizer = mtf.optimize.AdafactorOptimizer()
    update_ops = optimizer.apply_grads(params["grads"], params["variables"])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.group(update_ops))

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    optimizer = tf.tpu.CrossShardOptimizer(tf.keras.optimizers.Adam(1e-3))  # expect: SL043
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=True)
"""),
    "cross_shard_optimizer_under_the_tpu_flag": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    optimizer = tf.train.MomentumOptimizer(0.1, 0.9)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

estimator = tf.estimator.Estimator(model_fn=model_fn)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    optimizer = tf.train.MomentumOptimizer(0.1, 0.9)
    if not params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)  # expect: SL043
    # and on TPU the optimizer is not wrapped
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())  # expect: SL043
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
"""),
    # ---- targeting: literal flags passed to a builder ------------------------------------------
    "use_tpu_false_passed_to_the_builder": ("""
def model_fn_builder(use_tpu):
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        optimizer = tf.train.AdamOptimizer(1e-3)
        if use_tpu:
            return tpu_estimator.TPUEstimatorSpec(
                mode, loss=loss, train_op=optimizer.minimize(loss, tf.train.get_global_step()))
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss)
    return model_fn

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn_builder(use_tpu=False), use_tpu=FLAGS.use_tpu)
""", """
def model_fn_builder(use_tpu):
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        optimizer = tf.train.AdamOptimizer(1e-3)
        if use_tpu:
            return tpu_estimator.TPUEstimatorSpec(
                mode, loss=loss, train_op=optimizer.minimize(loss, tf.train.get_global_step()))  # expect: SL043
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss)
    return model_fn

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn_builder(use_tpu=True), use_tpu=FLAGS.use_tpu)
"""),
}


def _source(snippet: str) -> str:
    return HEAD + textwrap.dedent(snippet).lstrip("\n")


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_idiom_is_clean(name):
    _, diags = actual(_source(PAIRS[name][0]), name + ".py")
    assert not diags, [f"{d.line}: {d.code} {d.message[:120]}" for d in diags]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_bad_twin_is_flagged_where_annotated(name):
    source = _source(PAIRS[name][1])
    assert "# expect:" in source
    assert mismatches(source, name + "-bad.py") == []


# ---- the target override --------------------------------------------------------------------
ON_CPU_BY_ESTIMATOR = _source("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    optimizer = tf.train.AdamOptimizer(1e-3)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    hooks = [tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)]
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
                                          training_hooks=hooks, host_call=(lambda l: [], [loss]))

estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=False)
""")


def _codes(source, target):
    return sorted(d.code for d in actual(source, target=target)[1])


def test_use_tpu_false_estimator_means_cpu_and_target_tpu_overrides_it():
    assert _codes(ON_CPU_BY_ESTIMATOR, "auto") == []
    assert _codes(ON_CPU_BY_ESTIMATOR, "cpu") == []
    # --target tpu: the model_fn runs on TPU whatever estimator is visible
    assert _codes(ON_CPU_BY_ESTIMATOR, "tpu") == ["SL005", "SL031"]


def test_target_tpu_still_honours_cpu_guards_and_target_cpu_flags_unguarded_cross_shard():
    source = _source("""
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        if not params["use_tpu"]:
            hooks = [tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)]
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(), training_hooks=hooks)
        optimizer = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3))
        train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
    """)
    # the code after `if not use_tpu: return` is the TPU path, whatever the target
    assert _codes(source, "tpu") == []
    assert _codes(source, "auto") == []
    assert _codes(source, "cpu") == []
    unguarded = _source("""
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        optimizer = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3))
        train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
    """)
    assert _codes(unguarded, "auto") == [] and _codes(unguarded, "tpu") == []
    # with --target cpu a CrossShardOptimizer outside any TPU guard runs off TPU
    assert _codes(unguarded, "cpu") == ["SL043"]


def test_model_fn_without_estimator_or_tpu_branch_is_not_held_to_generic_tpu_rules():
    # TPUEstimatorSpec alone is also used with TPUEstimator(use_tpu=False) on GPUs: the generic
    # rules (optimizer, hooks, checkpoint loading) need a TPU branch or a visible TPUEstimator
    source = _source("""
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        tf.train.init_from_checkpoint(params["ckpt"], {"/": "/"})
        hook = tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, tf.train.get_global_step())
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op, training_hooks=[hook])
    """)
    assert _codes(source, "auto") == []
    assert _codes(source, "tpu") == ["SL016", "SL031", "SL043"]


def test_diagnostics_point_at_the_offending_expression():
    source = _source(PAIRS["electra_hook_tensors_only_off_tpu_and_variables"][1])
    (d,) = actual(source)[1]
    line = source.splitlines()[d.line - 1]
    assert line[d.column - 1:d.end_column - 1] == "loss"
    assert "LoggingTensorHook" in d.message and "training_hooks" in d.message


# ---- across modules: the estimator is built in the script, the model_fn in a library ------------
def _run_tree(tmp_path, files, target="auto"):
    import os

    from speclint import engine
    from speclint.config import Resolver

    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    result = engine.check_paths([str(tmp_path)], Resolver(overrides={"select": ("ALL",), "target": target}))
    assert not result.internal_errors
    return sorted((os.path.basename(d.path), d.line, d.code) for d in result.diagnostics)


MODEL_LIB = """
import tensorflow.compat.v1 as tf

def model_fn_builder(learning_rate):
    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        optimizer = tf.train.AdamOptimizer(learning_rate)
        train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
    return model_fn
"""


def test_estimator_in_another_module_decides_where_the_model_fn_runs(tmp_path):
    script = """
    import tensorflow.compat.v1 as tf
    import modeling

    estimator = tf.estimator.tpu.TPUEstimator(train_batch_size=8, model_fn=modeling.model_fn_builder(1e-3), use_tpu={})
    """
    on_cpu = _run_tree(tmp_path, {"modeling.py": MODEL_LIB, "run.py": script.format("False")})
    assert on_cpu == []
    on_tpu = _run_tree(tmp_path, {"modeling.py": MODEL_LIB, "run.py": script.format("True")})
    # the unwrapped optimizer is reported where it is, in the library
    assert [c for _, _, c in on_tpu] == ["SL043"] and on_tpu[0][0] == "modeling.py"


def test_hooks_of_user_classes_are_seen():
    source = _source("""
    class ThroughputHook(tf.train.SessionRunHook):
        def __init__(self, tensors, every_n=100):
            self._tensors = tensors

        def before_run(self, run_context):
            return tf.train.SessionRunArgs(self._tensors)


    class EtaHook(ThroughputHook):
        pass


    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        hooks = [
            ThroughputHook({"loss": loss}),  # expect: SL031
            EtaHook({} if params["use_tpu"] else {"loss": loss}),
            EtaHook(tensors=loss),  # expect: SL031
        ]
        return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(), training_hooks=hooks)

    estimator = tpu_estimator.TPUEstimator(train_batch_size=8, model_fn=model_fn, use_tpu=FLAGS.use_tpu)
    """)
    assert mismatches(source, "user_hooks.py") == []


def test_sl017_suggests_keyword_call_for_dict_tensors():
    # TPUEstimator calls the metric_fn with `**tensors` when they are a dict (tpu_estimator.py:2148),
    # so the EstimatorSpec's eval_metric_ops are `metric_fn(**tensors)`; with a list, `*tensors`.
    template = """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 10)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    def metric_fn(labels, logits):
        return {"accuracy": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
    if mode == tf.estimator.ModeKeys.EVAL:
        if params["use_tpu"]:
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, TENSORS))
        return tf.estimator.EstimatorSpec(mode, loss=loss)
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
"""
    for tensors, call in (('{"labels": labels, "logits": logits}', "metric_fn(**tensors)"),
                          ("[labels, logits]", "metric_fn(*tensors)")):
        _, diags = actual(HEAD + textwrap.dedent(template).replace("TENSORS", tensors))
        msgs = [d.message for d in diags if d.code == "SL017"]
        assert len(msgs) == 1 and f"eval_metric_ops={call}`" in msgs[0], msgs
