"""Idioms found by running `speclint --select ALL` over real public Estimator/TPUEstimator code
(the precision sweeps of issues 3 and 10; docs/precision.md).  Each clean idiom is reduced from
the repository and path cited beside it and must stay clean; each has a bad twin that differs in
the one thing that makes it a real bug and is flagged exactly where annotated (`# expect: SLnnn`),
so no clean case passes vacuously.
"""
import textwrap

import pytest

from expect import actual, mismatches

HEAD = """\
import tensorflow.compat.v1 as tf
from absl import flags
from tensorflow_estimator.python.estimator.tpu import tpu_estimator

FLAGS = flags.FLAGS


"""

# name -> (clean idiom, bad twin)
PAIRS = {
    # ---- SL044 -----------------------------------------------------------------------------
    # google-research/bert run_classifier.py (also run_classifier_with_tfhub.py, ALBERT's
    # run_classifier.py): on the path where FLAGS.use_tpu is false the TPUEstimator runs on
    # CPU/GPU, where a partial last batch is fine; on TPU drop_remainder is True.
    "bert_eval_drop_remainder_follows_use_tpu": ("""
def file_based_input_fn_builder(input_file, is_training, drop_remainder):
    def input_fn(params):
        batch_size = params["batch_size"]
        d = tf.data.TFRecordDataset(input_file)
        if is_training:
            d = d.repeat()
        d = d.apply(tf.data.experimental.map_and_batch(
            lambda record: tf.parse_single_example(record, {}),
            batch_size=batch_size, drop_remainder=drop_remainder))
        return d
    return input_fn

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())

def main(_):
    tpu_cluster_resolver = None
    if FLAGS.use_tpu and FLAGS.tpu_name:
        tpu_cluster_resolver = tf.distribute.cluster_resolver.TPUClusterResolver(FLAGS.tpu_name)
    estimator = tpu_estimator.TPUEstimator(use_tpu=FLAGS.use_tpu, model_fn=model_fn,
                                           train_batch_size=32, eval_batch_size=8)
    if FLAGS.do_eval:
        eval_drop_remainder = True if FLAGS.use_tpu else False
        eval_input_fn = file_based_input_fn_builder(
            input_file=FLAGS.eval_file, is_training=False, drop_remainder=eval_drop_remainder)
        estimator.evaluate(input_fn=eval_input_fn, steps=None)
""", """
def file_based_input_fn_builder(input_file, is_training, drop_remainder):
    def input_fn(params):
        batch_size = params["batch_size"]
        d = tf.data.TFRecordDataset(input_file)
        if is_training:
            d = d.repeat()
        d = d.apply(tf.data.experimental.map_and_batch(  # expect: SL044
            lambda record: tf.parse_single_example(record, {}),
            batch_size=batch_size, drop_remainder=drop_remainder))
        return d
    return input_fn

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())

def main(_):
    tpu_cluster_resolver = None
    if FLAGS.use_tpu and FLAGS.tpu_name:
        tpu_cluster_resolver = tf.distribute.cluster_resolver.TPUClusterResolver(FLAGS.tpu_name)
    estimator = tpu_estimator.TPUEstimator(use_tpu=FLAGS.use_tpu, model_fn=model_fn,
                                           train_batch_size=32, eval_batch_size=8)
    if FLAGS.do_eval:
        eval_drop_remainder = False if FLAGS.use_tpu else True
        eval_input_fn = file_based_input_fn_builder(
            input_file=FLAGS.eval_file, is_training=False, drop_remainder=eval_drop_remainder)
        estimator.evaluate(input_fn=eval_input_fn, steps=None)
"""),
    # ---- SL034 / SL017 ---------------------------------------------------------------------
    # tensorflow/models research/object_detection/model_lib.py: the model_fn reaches the
    # TPUEstimator through a `model_fn_creator` parameter speclint cannot resolve; the
    # estimator has eval_on_tpu=False ("Eval runs on CPU, so disable eval on TPU"), and the
    # model_fn returns a plain EstimatorSpec (with a Saver scaffold) in EVAL.
    "od_api_model_fn_creator_with_eval_on_tpu_false": ("""
def create_model_fn(detection_model_fn, configs, hparams, use_tpu=False):
    def model_fn(features, labels, mode, params=None):
        total_loss = tf.reduce_mean(features["image"])
        scaffold_fn = None
        train_op = None
        if mode == tf.estimator.ModeKeys.TRAIN:
            train_op = tf.no_op()
        scaffold = None
        if mode == tf.estimator.ModeKeys.EVAL:
            saver = tf.train.Saver(sharded=True, save_relative_paths=True)
            scaffold = tf.train.Scaffold(saver=saver)
        # EVAL executes on CPU, so use regular non-TPU EstimatorSpec.
        if use_tpu and mode != tf.estimator.ModeKeys.EVAL:
            return tpu_estimator.TPUEstimatorSpec(
                mode=mode, scaffold_fn=scaffold_fn, predictions={"d": features["image"]},
                loss=total_loss, train_op=train_op)
        else:
            if scaffold is None:
                saver = tf.train.Saver(sharded=True, save_relative_paths=True)
                scaffold = tf.train.Scaffold(saver=saver)
            return tf.estimator.EstimatorSpec(
                mode=mode, predictions={"d": features["image"]}, loss=total_loss,
                train_op=train_op, eval_metric_ops={}, scaffold=scaffold)
    return model_fn

def create_estimator_and_inputs(run_config, hparams, model_fn_creator=create_model_fn,
                                use_tpu_estimator=False, use_tpu=False, params=None):
    model_fn = model_fn_creator(None, {}, hparams, use_tpu)
    if use_tpu_estimator:
        estimator = tpu_estimator.TPUEstimator(
            model_fn=model_fn, train_batch_size=8, eval_batch_size=1, use_tpu=use_tpu,
            eval_on_tpu=False,  # Eval runs on CPU, so disable eval on TPU
            config=run_config, params=params if params else {})
    else:
        estimator = tf.estimator.Estimator(model_fn=model_fn, config=run_config)
    return dict(estimator=estimator)
""", """
def create_model_fn(detection_model_fn, configs, hparams, use_tpu=False):
    def model_fn(features, labels, mode, params=None):
        total_loss = tf.reduce_mean(features["image"])
        scaffold_fn = None
        train_op = None
        if mode == tf.estimator.ModeKeys.TRAIN:
            train_op = tf.no_op()
        scaffold = None
        if mode == tf.estimator.ModeKeys.EVAL:
            saver = tf.train.Saver(sharded=True, save_relative_paths=True)
            scaffold = tf.train.Scaffold(saver=saver)
        # EVAL executes on CPU, so use regular non-TPU EstimatorSpec.
        if use_tpu and mode != tf.estimator.ModeKeys.EVAL:
            return tpu_estimator.TPUEstimatorSpec(
                mode=mode, scaffold_fn=scaffold_fn, predictions={"d": features["image"]},
                loss=total_loss, train_op=train_op)
        else:
            if scaffold is None:
                saver = tf.train.Saver(sharded=True, save_relative_paths=True)
                scaffold = tf.train.Scaffold(saver=saver)
            return tf.estimator.EstimatorSpec(  # expect: SL034
                mode=mode, predictions={"d": features["image"]}, loss=total_loss,
                train_op=train_op, eval_metric_ops={}, scaffold=scaffold)
    return model_fn

def create_estimator_and_inputs(run_config, hparams, model_fn_creator=create_model_fn,
                                use_tpu_estimator=False, use_tpu=False, params=None):
    model_fn = model_fn_creator(None, {}, hparams, use_tpu)
    if use_tpu_estimator:
        estimator = tpu_estimator.TPUEstimator(
            model_fn=model_fn, train_batch_size=8, eval_batch_size=1, use_tpu=use_tpu,
            config=run_config, params=params if params else {})
    else:
        estimator = tf.estimator.Estimator(model_fn=model_fn, config=run_config)
    return dict(estimator=estimator)
"""),
    # The bad twin above (the OD API before eval_on_tpu=False was added) gets SL034 only: its
    # scaffold is never "silently ignored", TPU evaluation fails outright.  SL017 is for an
    # EstimatorSpec scaffold in TPU TRAIN, where TF only logs a warning.
    "estimator_spec_scaffold_only_in_tpu_eval_is_sl034_not_sl017": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    if mode == tf.estimator.ModeKeys.EVAL:
        scaffold = tf.train.Scaffold(saver=tf.train.Saver(sharded=True))
        return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={}, scaffold=scaffold)
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                          predictions={"x": features["x"]})

estimator = tpu_estimator.TPUEstimator(model_fn=model_fn, use_tpu=FLAGS.use_tpu, eval_on_tpu=False,
                                       train_batch_size=8)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    if mode != tf.estimator.ModeKeys.PREDICT:
        scaffold = tf.train.Scaffold(saver=tf.train.Saver(sharded=True))
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),  # expect: SL034
                                          eval_metric_ops={},
                                          scaffold=scaffold)  # expect: SL017
    return tpu_estimator.TPUEstimatorSpec(mode, predictions={"x": features["x"]})

estimator = tpu_estimator.TPUEstimator(model_fn=model_fn, use_tpu=FLAGS.use_tpu, train_batch_size=8)
"""),
    # tensorflow/tpu models/official/retinanet/retinanet_model.py @ 0205ac77: the model_fn
    # module has no estimator; PREDICT returns a plain EstimatorSpec for CPU serving, and
    # retinanet_main.py never calls predict() (exporting accepts an EstimatorSpec).
    "retinanet_predict_estimator_spec_without_estimator_in_sight": ("""
def _model_fn(features, labels, mode, params, model):
    cls_outputs, box_outputs = model(features, min_level=params["min_level"])
    if mode == tf.estimator.ModeKeys.PREDICT:
        predictions = {"image": features}
        for level in cls_outputs.keys():
            predictions["cls_outputs_%d" % level] = cls_outputs[level]
        return tf.estimator.EstimatorSpec(mode=mode, predictions=predictions)
    total_loss = tf.reduce_sum(labels["mean_num_positives"])
    train_op = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        optimizer = tf.train.MomentumOptimizer(0.1, momentum=0.9)
        if params["use_tpu"]:
            optimizer = tf.tpu.CrossShardOptimizer(optimizer)
        train_op = optimizer.minimize(total_loss, tf.train.get_global_step())
    return tpu_estimator.TPUEstimatorSpec(mode=mode, loss=total_loss, train_op=train_op)

def retinanet_50_model_fn(features, labels, mode, params):
    return _model_fn(features, labels, mode, params, model=params["model"])
""", """
def _model_fn(features, labels, mode, params, model):
    cls_outputs, box_outputs = model(features, min_level=params["min_level"])
    if mode == tf.estimator.ModeKeys.PREDICT:
        predictions = {"image": features}
        for level in cls_outputs.keys():
            predictions["cls_outputs_%d" % level] = cls_outputs[level]
        if params["use_tpu"]:
            tf.logging.info("predicting on TPU")
        return tf.estimator.EstimatorSpec(mode=mode, predictions=predictions)  # expect: SL034
    total_loss = tf.reduce_sum(labels["mean_num_positives"])
    train_op = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        optimizer = tf.train.MomentumOptimizer(0.1, momentum=0.9)
        if params["use_tpu"]:
            optimizer = tf.tpu.CrossShardOptimizer(optimizer)
        train_op = optimizer.minimize(total_loss, tf.train.get_global_step())
    return tpu_estimator.TPUEstimatorSpec(mode=mode, loss=total_loss, train_op=train_op)

def retinanet_50_model_fn(features, labels, mode, params):
    return _model_fn(features, labels, mode, params, model=params["model"])
"""),
    # tensorflow/tpu models/official/resnet/resnet_main.py @ 08032e4d (before export_to_tpu
    # existed): the local TPUEstimator is trained, evaluated and exported, never predict()ed.
    "old_resnet_estimator_exported_but_never_predicted": ("""
def resnet_model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features, 1000)
    if mode == tf.estimator.ModeKeys.PREDICT:
        predictions = {"classes": tf.argmax(logits, axis=1)}
        return tf.estimator.EstimatorSpec(
            mode=mode, predictions=predictions,
            export_outputs={"classify": tf.estimator.export.PredictOutput(predictions)})
    loss = tf.losses.softmax_cross_entropy(logits=logits, onehot_labels=tf.one_hot(labels, 1000))
    train_op = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        optimizer = tf.train.MomentumOptimizer(learning_rate=0.1, momentum=0.9)
        if FLAGS.use_tpu:
            optimizer = tf.tpu.CrossShardOptimizer(optimizer)
        train_op = optimizer.minimize(loss, tf.train.get_global_step())
    return tpu_estimator.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op)

def main(unused_argv):
    resnet_classifier = tpu_estimator.TPUEstimator(
        use_tpu=FLAGS.use_tpu, model_fn=resnet_model_fn, train_batch_size=1024,
        eval_batch_size=1024)
    resnet_classifier.train(input_fn=FLAGS.train_input_fn, max_steps=FLAGS.train_steps)
    resnet_classifier.evaluate(input_fn=FLAGS.eval_input_fn, steps=50)
    if FLAGS.export_dir is not None:
        resnet_classifier.export_savedmodel(
            export_dir_base=FLAGS.export_dir, serving_input_receiver_fn=FLAGS.serving_fn)
""", """
def resnet_model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features, 1000)
    if mode == tf.estimator.ModeKeys.PREDICT:
        predictions = {"classes": tf.argmax(logits, axis=1)}
        return tf.estimator.EstimatorSpec(  # expect: SL034
            mode=mode, predictions=predictions,
            export_outputs={"classify": tf.estimator.export.PredictOutput(predictions)})
    loss = tf.losses.softmax_cross_entropy(logits=logits, onehot_labels=tf.one_hot(labels, 1000))
    train_op = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        optimizer = tf.train.MomentumOptimizer(learning_rate=0.1, momentum=0.9)
        if FLAGS.use_tpu:
            optimizer = tf.tpu.CrossShardOptimizer(optimizer)
        train_op = optimizer.minimize(loss, tf.train.get_global_step())
    return tpu_estimator.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op)

def main(unused_argv):
    resnet_classifier = tpu_estimator.TPUEstimator(
        use_tpu=FLAGS.use_tpu, model_fn=resnet_model_fn, train_batch_size=1024,
        eval_batch_size=1024, predict_batch_size=8)
    resnet_classifier.train(input_fn=FLAGS.train_input_fn, max_steps=FLAGS.train_steps)
    resnet_classifier.evaluate(input_fn=FLAGS.eval_input_fn, steps=50)
    for p in resnet_classifier.predict(input_fn=FLAGS.predict_input_fn):
        tf.logging.info(p)
    if FLAGS.export_dir is not None:
        resnet_classifier.export_savedmodel(
            export_dir_base=FLAGS.export_dir, serving_input_receiver_fn=FLAGS.serving_fn)
"""),
    # ---- SL039 -----------------------------------------------------------------------------
    # magenta/models/onsets_frames_transcription model.py and estimator_spec_util.py: labels
    # are put into the PREDICT predictions on purpose; train_util.create_estimator wraps the
    # model_fn and restores labels from features (tensorflow/tensorflow#17824), and a TPU
    # predict() passes the dataset's labels anyway.
    "magenta_labels_returned_in_predictions": ("""
def model_fn(features, labels, mode, params, config):
    frame_probs = tf.sigmoid(tf.layers.dense(features.spec, 88))
    metrics_values = {"frame_accuracy": tf.reduce_mean(
        tf.cast(tf.equal(frame_probs > 0.5, labels.labels > 0), tf.float32))}
    predictions = {
        "frame_probs": frame_probs,
        "sequence_ids": features.sequence_id,
        # Include some features and labels in output because Estimator 'predict'
        # API does not give access to them.
        "sequence_labels": labels.note_sequence,
        "frame_labels": labels.labels,
    }
    loss = None
    train_op = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        loss = tf.losses.log_loss(labels.labels, frame_probs)
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, tf.train.get_global_step())
    metric_ops = {k: tf.metrics.mean(v) for k, v in metrics_values.items()}
    if mode == tf.estimator.ModeKeys.EVAL:
        loss = tf.losses.log_loss(labels.labels, frame_probs)
    return tf.estimator.EstimatorSpec(mode=mode, predictions=predictions, loss=loss,
                                      train_op=train_op, eval_metric_ops=metric_ops)
""", """
def model_fn(features, labels, mode, params, config):
    frame_probs = tf.sigmoid(tf.layers.dense(features.spec, 88))
    metrics_values = {"frame_accuracy": tf.reduce_mean(
        tf.cast(tf.equal(frame_probs > 0.5, labels.labels > 0), tf.float32))}  # expect: SL039
    predictions = {
        "frame_probs": frame_probs,
        "sequence_ids": features.sequence_id,
    }
    loss = None
    train_op = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        loss = tf.losses.log_loss(labels.labels, frame_probs)
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, tf.train.get_global_step())
    metric_ops = {k: tf.metrics.mean(v) for k, v in metrics_values.items()}
    if mode == tf.estimator.ModeKeys.EVAL:
        loss = tf.losses.log_loss(labels.labels, frame_probs)
    return tf.estimator.EstimatorSpec(mode=mode, predictions=predictions, loss=loss,
                                      train_op=train_op, eval_metric_ops=metric_ops)
"""),
    # ---- SL036 / SL037 ---------------------------------------------------------------------
    # mesh_tensorflow transformer/utils.py tpu_estimator_model_fn: `mode` is rebound to the
    # string "score" for scoring in PREDICT, then compared with "score" and with ModeKeys; the
    # TRAIN spec is only reached in TRAIN.
    "mesh_tf_mode_rebound_to_score": ("""
def tpu_estimator_model_fn(score_in_predict_mode, use_tpu):
    def my_model_fn(features, labels, mode, params=None, config=None):
        if mode == tf.estimator.ModeKeys.PREDICT and score_in_predict_mode:
            mode = "score"
        logits = tf.layers.dense(features["inputs"], 8)
        if mode == "score":
            scores = tf.reduce_sum(logits, -1)
        if mode in ["score", tf.estimator.ModeKeys.PREDICT]:
            return tpu_estimator.TPUEstimatorSpec(
                mode=tf.estimator.ModeKeys.PREDICT, predictions={"outputs": logits})
        assert (mode == tf.estimator.ModeKeys.TRAIN or
                mode == tf.estimator.ModeKeys.EVAL)
        loss = tf.reduce_mean(logits)
        if mode == tf.estimator.ModeKeys.TRAIN:
            if use_tpu:
                return tpu_estimator.TPUEstimatorSpec(
                    mode=tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=tf.no_op())
            return tf.estimator.EstimatorSpec(
                tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=tf.no_op())
        return tpu_estimator.TPUEstimatorSpec(tf.estimator.ModeKeys.EVAL, loss=loss)
    return my_model_fn
""", """
def tpu_estimator_model_fn(score_in_predict_mode, use_tpu):
    def my_model_fn(features, labels, mode, params=None, config=None):
        logits = tf.layers.dense(features["inputs"], 8)
        if mode == "score":  # expect: SL037
            scores = tf.reduce_sum(logits, -1)
        if mode in ["score", tf.estimator.ModeKeys.PREDICT]:  # expect: SL037
            return tpu_estimator.TPUEstimatorSpec(
                mode=tf.estimator.ModeKeys.PREDICT, predictions={"outputs": logits})
        loss = tf.reduce_mean(logits)
        if use_tpu:
            return tpu_estimator.TPUEstimatorSpec(
                mode=tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=tf.no_op())  # expect: SL036
        return tf.estimator.EstimatorSpec(
            tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=tf.no_op())  # expect: SL036
    return my_model_fn
"""),
    # ---- issue 10 item 3: one diagnostic per misuse, true messages ---------------------------
    # tensorflow/estimator estimator_test.py:1262-1314 (EstimatorDatasetIntegrationTest): the loss
    # is the input itself; `Dataset.from_tensors([1.])` has no batch dimension and `.batch(1)` one
    # element, so its shape is [1] (or (None, 1)), which TF accepts (model_fn.py:331-335).  The twin
    # computes on a model output, which keeps the batch dimension.
    "tf_estimator_loss_is_the_input": ("""
def _input_fn():
    return tf.data.Dataset.from_tensors(([1.], [2.]))

def _model_fn(features, labels, mode):
    return tf.estimator.EstimatorSpec(
        mode, loss=features + labels,
        train_op=tf.assign_add(tf.train.get_global_step(), 1))

def main(_):
    est = tf.estimator.Estimator(model_fn=_model_fn)
    est.train(_input_fn, steps=1)
""", """
def _input_fn():
    return tf.data.Dataset.from_tensors(([1.], [2.]))

def _model_fn(features, labels, mode):
    features = tf.layers.dense(features, 1)
    return tf.estimator.EstimatorSpec(
        mode, loss=features + labels,  # expect: SL020
        train_op=tf.assign_add(tf.train.get_global_step(), 1))

def main(_):
    est = tf.estimator.Estimator(model_fn=_model_fn)
    est.train(_input_fn, steps=1)
"""),
    # tensorflow/estimator estimator_test.py:2101, 2118 (test_yield_rows_of_tensor / _of_dict): a
    # constant's dimension 0 is fixed, so predict() yields its rows; the test asserts them.  The twin
    # (test_batch_size_mismatch, :2008) mixes constants of 1 and 2 rows, which TF rejects with
    # "Batch length of predictions should be same" (estimator.py:1052-1060).
    "tf_estimator_constant_prediction_rows": ("""
def _model_fn(features, labels, mode):
    _, _ = features, labels
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(
            mode, predictions={"y1": tf.constant([[10.], [12]]), "y2": tf.constant([[0.], [2.]])})
    return tf.estimator.EstimatorSpec(
        mode, loss=tf.constant(0.), train_op=tf.assign_add(tf.train.get_global_step(), 1),
        predictions=tf.constant([[10.], [12.]]))
""", """
def _model_fn(features, labels, mode):
    _, _ = features, labels
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(
            mode, predictions={"y1": tf.constant([[10.]]), "y2": tf.constant([[12.], [13.]])})  # expect: SL025
    return tf.estimator.EstimatorSpec(
        mode, loss=tf.constant(0.), train_op=tf.assign_add(tf.train.get_global_step(), 1),
        predictions=tf.constant([[10.], [12.]]))
"""),
    # tensorflow/estimator canned/head_test.py:123, head/base_head_test.py:150: a head's
    # create_estimator_spec(self, features, mode, logits, ...) builds an EVAL spec; it takes
    # `logits`, so no Estimator calls it as a model_fn.  The twin has a model_fn's signature.
    "tf_estimator_head_method_is_not_a_model_fn": ("""
class _HeadWithOutTPUSupport(object):
    def create_estimator_spec(self, features, mode, logits, labels=None, optimizer=None):
        return tf.estimator.EstimatorSpec(
            mode=tf.estimator.ModeKeys.EVAL, loss=tf.constant(0.0, dtype=tf.float32))
""", """
class _HeadWithOutTPUSupport(object):
    def create_estimator_spec(self, features, mode, labels=None):
        return tf.estimator.EstimatorSpec(
            mode=tf.estimator.ModeKeys.EVAL, loss=tf.constant(0.0, dtype=tf.float32))  # expect: SL036
"""),
    # ---- issue 10 item 4: SL045-SL047 ------------------------------------------------------
    # google-research/bert run_classifier.py: train_batch_size from a flag, use_tpu from a flag;
    # the twin is the predict-only script of bert#376.
    "bert_tpu_estimator_with_train_batch_size": ("""
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    return tpu_estimator.TPUEstimatorSpec(mode, predictions={"logits": logits})

def main(_):
    run_config = tpu_estimator.RunConfig(master=FLAGS.master)
    estimator = tpu_estimator.TPUEstimator(
        use_tpu=FLAGS.use_tpu, model_fn=model_fn, config=run_config,
        train_batch_size=FLAGS.train_batch_size, predict_batch_size=FLAGS.predict_batch_size)
    cpu_estimator = tpu_estimator.TPUEstimator(
        use_tpu=False, model_fn=model_fn, config=run_config, predict_batch_size=8)
    return estimator, cpu_estimator
""", """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    return tpu_estimator.TPUEstimatorSpec(mode, predictions={"logits": logits})

def main(_):
    run_config = tpu_estimator.RunConfig(master=FLAGS.master)
    estimator = tpu_estimator.TPUEstimator(  # expect: SL045
        use_tpu=FLAGS.use_tpu, model_fn=model_fn, config=run_config,
        predict_batch_size=FLAGS.predict_batch_size)
    return estimator
"""),
    # TF 2 ports of BERT: `tf.compat.v1.estimator.tpu.TPUEstimator`, `tf.compat.v1.tpu.
    # CrossShardOptimizer`; the twin is google-research/bert#1135's tf.estimator.tpu.CrossShardOptimizer.
    "tf2_port_tpu_names_in_their_modules": ("""
import tensorflow as tf2

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(tf.layers.dense(features["x"], 1))
    optimizer = tf2.compat.v1.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3))
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf2.compat.v1.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)

def main(_):
    return tf2.compat.v1.estimator.tpu.TPUEstimator(
        model_fn=model_fn, config=tf2.compat.v1.estimator.tpu.RunConfig(), train_batch_size=64)
""", """
import tensorflow as tf2

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(tf.layers.dense(features["x"], 1))
    optimizer = tf2.compat.v1.estimator.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3))  # expect: SL046
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf2.compat.v1.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)

def main(_):
    return tf2.compat.v1.estimator.tpu.TPUEstimator(
        model_fn=model_fn, config=tf2.compat.v1.estimator.tpu.RunConfig(), train_batch_size=64)
"""),
    # tensorflow#43999: a Keras application in a TPU model_fn loads weights only with weights=None
    # there; pretrained weights are fine in a plain Estimator's model_fn (CPU/GPU).
    "keras_application_weights_none_on_tpu": ("""
def tpu_model_fn(features, labels, mode, params):
    backbone = tf.keras.applications.ResNet50(include_top=False, weights=None, pooling="avg")
    loss = tf.reduce_mean(tf.layers.dense(backbone(features["image"]), 1))
    optimizer = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3))
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)

def gpu_model_fn(features, labels, mode, params):
    backbone = tf.keras.applications.ResNet50(include_top=False, weights="imagenet", pooling="avg")
    loss = tf.reduce_mean(tf.layers.dense(backbone(features["image"]), 1))
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

def main(_):
    tpu = tpu_estimator.TPUEstimator(model_fn=tpu_model_fn, use_tpu=True, train_batch_size=64)
    gpu = tf.estimator.Estimator(model_fn=gpu_model_fn)
    return tpu, gpu
""", """
def tpu_model_fn(features, labels, mode, params):
    backbone = tf.keras.applications.ResNet50(include_top=False, weights="imagenet", pooling="avg")  # expect: SL047
    loss = tf.reduce_mean(tf.layers.dense(backbone(features["image"]), 1))
    optimizer = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3))
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)

def main(_):
    return tpu_estimator.TPUEstimator(model_fn=tpu_model_fn, use_tpu=True, train_batch_size=64)
"""),
}

# Reduced from real code where the fix is about *how many* findings, or which one: the first source
# gets exactly its annotated findings, the twin (the one difference that makes the other finding
# true) gets its own.
EXACT = {
    # tensorflow/tpu models/official/unet3d/unet_model.py:428-430: the CPU EVAL spec passes
    # eval_metrics= to EstimatorSpec, which raises TypeError (SL018): nothing is "silently dropped"
    # (no SL017), and the helper run on its own and from the model_fn is one finding, not two.
    # The twin omits the keyword: then evaluate() on CPU silently reports only the loss (SL017).
    "unet3d_eval_metrics_on_estimator_spec": ("""
def get_metric_fn(shape):
    def metric_fn(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, logits)}
    return metric_fn

def _unet_model_fn(image, labels, mode, params):
    logits = tf.layers.dense(image, 3)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"classes": tf.argmax(logits, -1)})
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    if mode == tf.estimator.ModeKeys.TRAIN:
        optimizer = tf.train.AdamOptimizer(0.1)
        if params["use_tpu"]:
            optimizer = tf.tpu.CrossShardOptimizer(optimizer)
            return tpu_estimator.TPUEstimatorSpec(
                mode=mode, loss=loss, train_op=optimizer.minimize(loss, tf.train.get_global_step()))
        train_op = optimizer.minimize(loss, tf.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)
    labels_r2 = tf.reshape(labels, [params["eval_batch_size"], -1])
    logits_r2 = tf.reshape(logits, [params["eval_batch_size"], -1])
    if params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(
            mode=mode, loss=loss, eval_metrics=(get_metric_fn(1), [labels_r2, logits_r2]))
    return tf.estimator.EstimatorSpec(
        mode=mode, loss=loss,
        eval_metrics=(get_metric_fn(1), [labels_r2, logits_r2]))  # expect: SL018

def unet_model_fn(features, labels, mode, params):
    with tf.variable_scope("unet", reuse=tf.AUTO_REUSE):
        return _unet_model_fn(features, labels, mode, params)
""", """
def get_metric_fn(shape):
    def metric_fn(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, logits)}
    return metric_fn

def _unet_model_fn(image, labels, mode, params):
    logits = tf.layers.dense(image, 3)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"classes": tf.argmax(logits, -1)})
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    if mode == tf.estimator.ModeKeys.TRAIN:
        optimizer = tf.train.AdamOptimizer(0.1)
        if params["use_tpu"]:
            optimizer = tf.tpu.CrossShardOptimizer(optimizer)
            return tpu_estimator.TPUEstimatorSpec(
                mode=mode, loss=loss, train_op=optimizer.minimize(loss, tf.train.get_global_step()))
        train_op = optimizer.minimize(loss, tf.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)
    labels_r2 = tf.reshape(labels, [params["eval_batch_size"], -1])
    logits_r2 = tf.reshape(logits, [params["eval_batch_size"], -1])
    if params["use_tpu"]:
        return tpu_estimator.TPUEstimatorSpec(
            mode=mode, loss=loss, eval_metrics=(get_metric_fn(1), [labels_r2, logits_r2]))
    return tf.estimator.EstimatorSpec(  # expect: SL017
        mode=mode, loss=loss)

def unet_model_fn(features, labels, mode, params):
    with tf.variable_scope("unet", reuse=tf.AUTO_REUSE):
        return _unet_model_fn(features, labels, mode, params)
"""),
}


def _source(snippet: str) -> str:
    return HEAD + textwrap.dedent(snippet).lstrip("\n")


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_real_world_idiom_is_clean(name):
    _, diags = actual(_source(PAIRS[name][0]), name + ".py")
    assert not diags, [f"{d.line}: {d.code} {d.message[:120]}" for d in diags]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_bad_twin_is_flagged_where_annotated(name):
    source = _source(PAIRS[name][1])
    assert "# expect:" in source
    assert mismatches(source, name + "-bad.py") == []


def test_bert_eval_drop_remainder_is_clean_also_with_target_tpu():
    # On TPU FLAGS.use_tpu is true, so `True if FLAGS.use_tpu else False` is True there; the
    # bad twin (`False if FLAGS.use_tpu else True`) stays flagged.
    good, bad = PAIRS["bert_eval_drop_remainder_follows_use_tpu"]
    assert [d.code for d in actual(_source(good), "bert.py", target="tpu")[1]] == []
    assert mismatches(_source(bad), "bert-bad.py", target="tpu") == []


@pytest.mark.parametrize("name", sorted(EXACT))
@pytest.mark.parametrize("twin", [0, 1])
def test_exactly_the_annotated_findings(name, twin):
    source = _source(EXACT[name][twin])
    assert "# expect:" in source
    assert mismatches(source, f"{name}-{twin}.py") == []
