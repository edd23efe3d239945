"""Mode handling, model_fn signature and TPU input rules (SL036-SL041, SL044).

Each case is a pair: an idiom from real Estimator/TPUEstimator code that must stay clean (no
diagnostic of any rule), and its bad twin, annotated with `# expect: SLnnn`, which differs in the
one detail that makes it wrong.  So a clean case cannot pass merely because the analyser saw
nothing.
"""
import textwrap

import pytest

from expect import actual, mismatches

HEAD = """\
import functools
import sys

import tensorflow.compat.v1 as tf
from absl import flags

FLAGS = flags.FLAGS


"""

PAIRS = {
    # ---- SL036 spec-mode-mismatch ------------------------------------------------------------
    # t2t: estimator_spec_train / estimator_spec_eval helpers hard-code their mode and are only
    # called in that mode.
    "t2t_mode_specific_spec_helpers": ("""
def estimator_spec_train(loss, train_op):
    return tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=train_op)

def estimator_spec_eval(loss):
    return tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.EVAL, loss=loss)

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    if mode == tf.estimator.ModeKeys.TRAIN:
        return estimator_spec_train(loss, tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
    return estimator_spec_eval(loss)
""", """
def estimator_spec_train(loss, train_op):
    return tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=train_op)  # expect: SL036

def estimator_spec_eval(loss):
    return tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.EVAL, loss=loss)

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    if mode != tf.estimator.ModeKeys.PREDICT:
        return estimator_spec_train(loss, train_op)
    return estimator_spec_eval(loss)
"""),
    # a spec helper nobody in the module calls: its callers are unknown
    "constant_mode_in_uncalled_helper": ("""
def build_train_spec(loss, train_op):
    return tf.estimator.EstimatorSpec(mode=tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=train_op)
""", """
def build_train_spec(loss, train_op):
    return tf.estimator.EstimatorSpec(mode=tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=train_op)  # expect: SL036

def model_fn(features, labels, mode, params):
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})
    loss = tf.reduce_mean(features["x"])
    return build_train_spec(loss, tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
"""),
    # the mode value of the string form, and a mode carried on an object, are not reported
    "mode_from_attribute_or_mode_string": ("""
class Model(object):
    def __init__(self, mode):
        self.mode = mode

    def spec(self, loss, train_op):
        return tf.estimator.EstimatorSpec(self.mode, loss=loss, train_op=train_op)

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == "infer":
        return tf.estimator.EstimatorSpec("infer", predictions={"logits": logits})
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    return Model(mode).spec(loss, tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
""", """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == "infer":
        return tf.estimator.EstimatorSpec("eval", predictions={"logits": logits})  # expect: SL036, SL019
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
"""),
    # a model_fn that never tests mode and builds a constant-mode spec only under a condition
    # speclint cannot follow (a training flag on the model object) is not reported
    "constant_mode_under_unknown_condition": ("""
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    if params["train_only"]:
        return tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.TRAIN, loss=loss,
                                          train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
    return tf.estimator.EstimatorSpec(mode, loss=loss)
""", """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    return tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.TRAIN, loss=loss,  # expect: SL036
                                      train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
"""),

    # ---- SL037 mode-compared-to-string -------------------------------------------------------
    # tensorflow/tpu inception_v2.py / deeplab main.py: command-line modes
    "cli_mode_flags": ("""
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if FLAGS.mode == "predict" or params["mode"] == "inference":
        logits = tf.nn.softmax(logits)
    return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})

def main(_):
    estimator = tf.estimator.Estimator(model_fn=model_fn)
    if FLAGS.mode == "train":
        estimator.train(input_fn=lambda: None, max_steps=10)
""", """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == "predict" or params["mode"] == "inference":  # expect: SL037
        logits = tf.nn.softmax(logits)
    loss = tf.reduce_mean(logits)
    return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits}, loss=loss,
                                      train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
"""),
    # a function with a `mode` parameter that is not a model_fn (an input pipeline)
    "mode_parameter_of_an_input_function": ("""
def make_dataset(mode):
    if mode == "test":
        return tf.data.Dataset.range(10)
    return tf.data.Dataset.range(100)

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
""", """
def _is_test(mode):
    return mode == "test"  # expect: SL037

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if _is_test(mode):
        logits = tf.nn.softmax(logits)
    loss = tf.reduce_mean(logits)
    return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits}, loss=loss,
                                      train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
"""),
    # tf.contrib.learn.ModeKeys has INFER; Keras' ModeKeys has TEST
    "other_modekeys_classes": ("""
import tensorflow as tf1

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf1.contrib.learn.ModeKeys.INFER:
        logits = tf.nn.softmax(logits)
    return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
""", """
import tensorflow as tf1

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf1.estimator.ModeKeys.INFER:  # expect: SL037
        logits = tf.nn.softmax(logits)
    return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
"""),

    # ---- SL038 model-fn-missing-return -------------------------------------------------------
    # ELECTRA: `assert mode == PREDICT` after the TRAIN and EVAL returns
    "assert_narrowing_is_exhaustive": ("""
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.TRAIN:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss,
            train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
    elif mode == tf.estimator.ModeKeys.EVAL:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss)
    assert mode == tf.estimator.ModeKeys.PREDICT
    return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"logits": logits})
""", """
def model_fn(features, labels, mode, params):  # expect: SL038
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.TRAIN:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss,
            train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
    elif mode == tf.estimator.ModeKeys.EVAL:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss)
    if params["export"]:
        return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"logits": logits})
"""),
    # paths that end in raise, a raising helper, sys.exit or `while True`
    "raise_and_noreturn_paths": ("""
def _unsupported(mode):
    raise ValueError("Only TRAIN and PREDICT are supported, got %s" % mode)

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    if mode == tf.estimator.ModeKeys.TRAIN:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return tf.estimator.EstimatorSpec(mode, loss=loss,
            train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
    if params["strict"]:
        sys.exit(1)
    _unsupported(mode)

def other_model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    while True:
        if params["ready"]:
            return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
""", """
def _unsupported(mode):
    tf.logging.error("Only TRAIN and PREDICT are supported, got %s", mode)

def model_fn(features, labels, mode, params):  # expect: SL038
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    if mode == tf.estimator.ModeKeys.TRAIN:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return tf.estimator.EstimatorSpec(mode, loss=loss,
            train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
    _unsupported(mode)

def other_model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    while True:
        if params["ready"]:
            return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
        if params["give_up"]:
            return  # expect: SL038
"""),
    # a helper with model_fn-like parameters that returns None on purpose is no model_fn
    "helper_returning_none_on_purpose": ("""
def _maybe_eval_spec(features, mode, loss):
    if mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(mode, loss=loss)
    return None

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    spec = _maybe_eval_spec(features, mode, loss)
    if spec is not None:
        return spec
    return tf.estimator.EstimatorSpec(mode, loss=loss, predictions={"x": features["x"]},
                                      train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
""", """
def _maybe_eval_spec(features, labels, mode):
    if mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(features["x"]))
    return None  # expect: SL038

estimator = tf.estimator.Estimator(model_fn=_maybe_eval_spec)
"""),
    "spec_returned_with_extra_values_by_a_helper": ("""
def build(features, mode):
    loss = tf.reduce_mean(features["x"])
    return tf.estimator.EstimatorSpec(mode, loss=loss, predictions={"x": features["x"]},
                                      train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())), loss

def model_fn(features, labels, mode, params):
    spec, _ = build(features, mode)
    return spec
""", """
def build(features, mode):
    loss = tf.reduce_mean(features["x"])
    return tf.estimator.EstimatorSpec(mode, loss=loss, predictions={"x": features["x"]},
                                      train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())), loss

def model_fn(features, labels, mode, params):
    spec = build(features, mode)[0]
    return spec,  # expect: SL038
"""),

    # ---- SL039 labels-used-in-predict -------------------------------------------------------
    # BERT: labels travel inside features; heads and tf.nest accept None
    "labels_inside_features_and_heads": ("""
def model_fn(features, labels, mode, params):
    label_ids = features["label_ids"]
    logits = tf.layers.dense(features["input_ids"], 2)
    per_example_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=label_ids, logits=logits)
    loss = tf.reduce_mean(per_example_loss)
    flat = tf.nest.flatten(labels)
    head = params["head"]
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    return head.create_estimator_spec(features=features, mode=mode, labels=labels, logits=logits)
""", """
def model_fn(features, labels, mode, params):
    label_ids = features["label_ids"]
    logits = tf.layers.dense(features["input_ids"], 2)
    per_example_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)  # expect: SL039
    loss = tf.reduce_mean(per_example_loss)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
"""),
    # guards: `labels is not None`, truthiness, is_training flags
    "guarded_label_uses": ("""
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    is_training = mode == tf.estimator.ModeKeys.TRAIN
    is_predict = mode == tf.estimator.ModeKeys.PREDICT
    weights = tf.cast(labels > 0, tf.float32) if labels is not None else None
    targets = labels["ids"] if labels else None
    if not is_predict:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    if is_training:
        return tf.estimator.EstimatorSpec(mode, loss=loss,
                                          train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
    return tf.estimator.EstimatorSpec(mode, loss=loss if not is_predict else None,
                                      predictions={"logits": logits})
""", """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    is_training = mode == tf.estimator.ModeKeys.TRAIN
    is_predict = mode == tf.estimator.ModeKeys.PREDICT
    targets = labels["ids"] if not is_training else None  # expect: SL039
    if not is_predict:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    if is_training:
        return tf.estimator.EstimatorSpec(mode, loss=loss,
                                          train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
    return tf.estimator.EstimatorSpec(mode, loss=loss if not is_predict else None,
                                      predictions={"logits": logits})
"""),
    # a create_model helper that receives labels: followed into the helper
    "labels_passed_to_a_helper": ("""
def create_model(features, labels, num_classes):
    logits = tf.layers.dense(features["x"], num_classes)
    loss = None
    if labels is not None:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    return logits, loss

def model_fn(features, labels, mode, params):
    logits, loss = create_model(features, labels, 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
""", """
def create_model(features, labels, num_classes):
    logits = tf.layers.dense(features["x"], num_classes)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)  # expect: SL039
    return logits, loss

def model_fn(features, labels, mode, params):
    logits, loss = create_model(features, labels, 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
"""),
    # a training-only model_fn never looks at mode
    "train_only_model_fn": ("""
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    return tf.estimator.EstimatorSpec(mode, loss=loss, predictions={"logits": logits},
                                      train_op=tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step()))
""", """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)  # expect: SL039
    train_op = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, predictions={"logits": logits},
                                      train_op=train_op)
"""),

    # ---- SL040 model-fn-signature -----------------------------------------------------------
    # BERT model_fn_builder closure given to TPUEstimator
    "bert_model_fn_builder": ("""
def model_fn_builder(num_labels, learning_rate, use_tpu):
    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["input_ids"], num_labels)
        return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"logits": logits})
    return model_fn

def main(_):
    model_fn = model_fn_builder(2, 1e-5, FLAGS.use_tpu)
    estimator = tf.estimator.tpu.TPUEstimator(
        use_tpu=FLAGS.use_tpu, model_fn=model_fn, config=None,
        train_batch_size=32, eval_batch_size=8, predict_batch_size=8)
""", """
def model_fn_builder(num_labels, learning_rate, use_tpu):
    def model_fn(features, labels, mode):  # expect: SL040
        logits = tf.layers.dense(features["input_ids"], num_labels)
        return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"logits": logits})
    return model_fn

def main(_):
    model_fn = model_fn_builder(2, 1e-5, FLAGS.use_tpu)
    estimator = tf.estimator.tpu.TPUEstimator(
        use_tpu=FLAGS.use_tpu, model_fn=model_fn, config=None,
        train_batch_size=32, eval_batch_size=8, predict_batch_size=8)
"""),
    # functools.partial binding extra arguments; a method; config; **kwargs with Estimator
    "partial_methods_and_kwargs": ("""
def t2t_model_fn(hparams, features, labels, mode, config, params, decode_hparams=None):
    return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

def kw_model_fn(features, labels, mode, **kwargs):
    return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

class Trainer(object):
    def model_fn(self, features, labels, mode, params, config):
        return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

    def build(self, hparams):
        return [
            tf.estimator.Estimator(model_fn=self.model_fn, params={"lr": 0.1}),
            tf.estimator.tpu.TPUEstimator(
                model_fn=functools.partial(t2t_model_fn, hparams, decode_hparams=None),
                train_batch_size=8),
            tf.estimator.Estimator(model_fn=kw_model_fn),
        ]
""", """
def t2t_model_fn(hparams, features, labels, mode, config, params, decode_hparams=None):  # expect: SL040
    return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

def kw_model_fn(features, labels, mode, **kwargs):  # expect: SL040
    return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

class Trainer(object):
    def model_fn(self, features, labels, mode, hparams, config):  # expect: SL040
        return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

    def build(self, hparams):
        return [
            tf.estimator.Estimator(model_fn=self.model_fn),
            tf.estimator.tpu.TPUEstimator(
                model_fn=functools.partial(t2t_model_fn, hparams), train_batch_size=8),
            tf.estimator.tpu.TPUEstimator(model_fn=kw_model_fn, train_batch_size=8),
        ]
"""),
    # params= of an Estimator model_fn bound by partial: fine for a plain Estimator
    "partial_params_with_plain_estimator": ("""
def model_fn(features, labels, mode, params):
    return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

estimator = tf.estimator.Estimator(model_fn=functools.partial(model_fn, params={"lr": 0.1}))
tpu_estimator = tf.estimator.tpu.TPUEstimator(
    model_fn=model_fn, params={"lr": 0.1, "num_classes": 10}, train_batch_size=8)
""", """
def model_fn(features, labels, mode, params):
    return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

estimator = tf.estimator.Estimator(
    model_fn=functools.partial(model_fn, params={"lr": 0.1}), params={"lr": 0.1})  # expect: SL040
tpu_estimator = tf.estimator.tpu.TPUEstimator(
    model_fn=model_fn, params={"lr": 0.1, "context": None}, train_batch_size=8)  # expect: SL040
"""),
    # decorated or unresolvable model_fns are not checked
    "decorated_or_unknown_model_fn": ("""
def traced(fn):
    return fn

@traced
def model_fn(features, labels, mode, hparams):
    return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

estimator = tf.estimator.Estimator(model_fn=model_fn)
other = tf.estimator.tpu.TPUEstimator(model_fn=FLAGS.model_fn, train_batch_size=8)
""", """
def model_fn(features, labels, mode, hparams):  # expect: SL040
    return tf.estimator.EstimatorSpec(mode, predictions={"x": features["x"]})

estimator = tf.estimator.Estimator(model_fn=model_fn)
"""),

    # ---- SL041 tpu-params-batch-size --------------------------------------------------------
    "batch_size_given_or_read_with_get": ("""
def model_fn(features, labels, mode, params):
    batch_size = params["batch_size"]
    return tf.estimator.EstimatorSpec(mode, predictions={"x": tf.reshape(features["x"], [batch_size, -1])})

def cpu_model_fn(features, labels, mode, params):
    batch_size = params["batch_size"] if "batch_size" in params else params.get("bs", 32)
    return tf.estimator.EstimatorSpec(mode, predictions={"x": tf.reshape(features["x"], [batch_size, -1])})

estimator = tf.estimator.Estimator(model_fn=model_fn, params={"batch_size": 32})
cpu_estimator = tf.estimator.Estimator(model_fn=cpu_model_fn)

def main(hparams):
    return tf.estimator.Estimator(model_fn=model_fn, params=hparams)
""", """
def model_fn(features, labels, mode, params):
    batch_size = params["batch_size"]  # expect: SL041
    return tf.estimator.EstimatorSpec(mode, predictions={"x": tf.reshape(features["x"], [batch_size, -1])})

estimator = tf.estimator.Estimator(model_fn=model_fn)
"""),
    # TPUEstimator: eval_batch_size given, or the read happens only in TRAIN, or no evaluate()
    "tpu_batch_size_per_mode": ("""
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.TRAIN:
        loss = tf.reduce_sum(logits) / params["batch_size"]
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss,
            train_op=tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1)).minimize(loss, tf.train.get_global_step()))
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=tf.reduce_mean(logits),
                                             predictions={"logits": logits})

def eval_input_fn(params):
    return tf.data.Dataset.range(10).batch(params["batch_size"], drop_remainder=True)

def main(config):
    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, train_batch_size=64)
    est.train(input_fn=eval_input_fn, max_steps=10)
    est.evaluate(input_fn=lambda params: None, steps=1)
    est2 = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config,
                                         train_batch_size=64, eval_batch_size=8)
    est2.evaluate(input_fn=eval_input_fn, steps=1)
""", """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.TRAIN:
        loss = tf.reduce_sum(logits) / params["batch_size"]
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss,
            train_op=tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1)).minimize(loss, tf.train.get_global_step()))
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=tf.reduce_mean(logits),
                                             predictions={"logits": logits})

def eval_input_fn(params):
    return tf.data.Dataset.range(10).batch(params["batch_size"], drop_remainder=True)  # expect: SL041

def main(config):
    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, train_batch_size=64)
    est.train(input_fn=eval_input_fn, max_steps=10)
    est.evaluate(input_fn=eval_input_fn, steps=1)
"""),

    # ---- SL044 tpu-input-dynamic-shape ------------------------------------------------------
    # BERT: drop_remainder from a flag; ResNet: map_and_batch(drop_remainder=True)
    "static_batches": ("""
def input_fn_builder(is_training, drop_remainder):
    def input_fn(params):
        d = tf.data.TFRecordDataset("f")
        d = d.apply(tf.data.experimental.map_and_batch(
            lambda r: r, batch_size=params["batch_size"], drop_remainder=drop_remainder))
        return d
    return input_fn

def resnet_input_fn(params):
    dataset = tf.data.Dataset.range(10).repeat()
    dataset = dataset.apply(tf.data.experimental.map_and_batch(
        lambda x: x, batch_size=params["batch_size"], num_parallel_batches=8, drop_remainder=True))
    return dataset.prefetch(4)

def old_input_fn(params):
    images = tf.data.Dataset.range(10).batch(params["batch_size"]).make_one_shot_iterator().get_next()
    images.set_shape([params["batch_size"], 28])
    return images

def model_fn(features, labels, mode, params):
    return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"x": features["x"]})

def main(config):
    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, use_tpu=FLAGS.use_tpu,
                                        train_batch_size=64, eval_batch_size=8, predict_batch_size=8)
    est.train(input_fn=input_fn_builder(True, FLAGS.use_tpu), max_steps=10)
    est.train(input_fn=resnet_input_fn, max_steps=10)
    est.evaluate(input_fn=old_input_fn, steps=1)
    est.predict(input_fn=lambda params: tf.data.Dataset.range(3).batch(params["batch_size"]))
    cpu = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, use_tpu=False,
                                        train_batch_size=64)
    cpu.train(input_fn=lambda params: tf.data.Dataset.range(3).batch(params["batch_size"]))
""", """
def input_fn_builder(is_training, drop_remainder):
    def input_fn(params):
        d = tf.data.TFRecordDataset("f")
        d = d.apply(tf.data.experimental.map_and_batch(  # expect: SL044
            lambda r: r, batch_size=params["batch_size"], drop_remainder=drop_remainder))
        return d
    return input_fn

def resnet_input_fn(params):
    dataset = tf.data.Dataset.range(10).repeat()
    dataset = dataset.padded_batch(params["batch_size"], padded_shapes=[None])  # expect: SL044
    return dataset.prefetch(4)

def model_fn(features, labels, mode, params):
    return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"x": features["x"]})

def main(config):
    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, use_tpu=FLAGS.use_tpu,
                                        train_batch_size=64, eval_batch_size=8)
    est.train(input_fn=input_fn_builder(True, False), max_steps=10)
    est.evaluate(input_fn=resnet_input_fn, steps=1)
    est.train(input_fn=lambda params: tf.data.Dataset.range(3).batch(params["batch_size"]))  # expect: SL044
"""),
    # TPU embedding (TF Estimator's tpu_enqueue_sequence_test.py): sparse ids are popped from the
    # features and enqueued by TPUEstimator, so their dynamic batch builds
    "tpu_embedding_sparse_features": ("""
def main(config, embedding_column, sparse_ids):
    spec = tf.estimator.tpu.experimental.EmbeddingConfigSpec(
        feature_columns=[embedding_column],
        optimization_parameters=tf.tpu.experimental.StochasticGradientDescentParameters(.1))
    def input_fn(params):
        ds = tf.data.Dataset.range(1).map(lambda x: {"ids": tf.SparseTensor.from_value(sparse_ids)})
        return ds.unbatch().repeat().batch(params["batch_size"])
    def model_fn(features, mode, params):
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=tf.constant(1.0), train_op=tf.no_op())
    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, use_tpu=True,
                                        train_batch_size=8, embedding_config_spec=spec)
    est.train(input_fn, max_steps=1)
""", """
def main(config, embedding_column, sparse_ids):
    def input_fn(params):
        ds = tf.data.Dataset.range(1).map(lambda x: {"ids": tf.SparseTensor.from_value(sparse_ids)})
        return ds.unbatch().repeat().batch(params["batch_size"])  # expect: SL044
    def model_fn(features, mode, params):
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=tf.constant(1.0), train_op=tf.no_op())
    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, use_tpu=True,
                                        train_batch_size=8, embedding_config_spec=None)
    est.train(input_fn, max_steps=1)
"""),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_idiom_is_not_flagged(name):
    source = HEAD + textwrap.dedent(PAIRS[name][0]).lstrip("\n")
    _, diags = actual(source, name + ".py")
    assert not diags, [f"{d.line}: {d.code} {d.message[:120]}" for d in diags]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_bad_twin_is_flagged(name):
    source = HEAD + textwrap.dedent(PAIRS[name][1]).lstrip("\n")
    assert "# expect:" in source
    assert mismatches(source, name + ".py") == []


def test_sl044_follows_the_target_option():
    source = HEAD + textwrap.dedent(PAIRS["static_batches"][1]).lstrip("\n")
    got, _ = actual(source, "cpu.py", target="cpu")
    assert not [k for k in got if k[1] == "SL044"]
    cpu_only = HEAD + textwrap.dedent("""
        def model_fn(features, labels, mode, params):
            return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"x": features["x"]})

        est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=False, train_batch_size=64)
        est.train(input_fn=lambda params: tf.data.Dataset.range(3).batch(params["batch_size"]))
    """)
    assert not actual(cpu_only, "auto.py")[1]
    got, _ = actual(cpu_only, "tpu.py", target="tpu")
    assert [k[1] for k in got] == ["SL044"]


def test_messages_name_the_mode_and_the_fix():
    source = HEAD + textwrap.dedent(PAIRS["assert_narrowing_is_exhaustive"][1]).lstrip("\n")
    _, diags = actual(source)
    (d,) = diags
    assert "when mode is PREDICT" in d.message and "predict() or export" in d.message
    source = HEAD + textwrap.dedent(PAIRS["cli_mode_flags"][1]).lstrip("\n")
    (d,) = actual(source)[1]
    assert "'infer'" in d.message and "ModeKeys.PREDICT" in d.message and d.column == 16


def test_train_and_evaluate_specs_are_followed():
    source = HEAD + textwrap.dedent("""
        def model_fn(features, labels, mode, params):
            per_core = params["batch_size"]  # expect: SL041
            loss = tf.reduce_mean(features["x"]) * per_core
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss,
                train_op=tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(0.1)).minimize(loss, tf.train.get_global_step()))

        def input_fn(params):
            return tf.data.Dataset.range(8).batch(params["batch_size"])  # expect: SL044

        def main(config):
            est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, train_batch_size=64)
            train_spec = tf.estimator.TrainSpec(input_fn=input_fn, max_steps=100)
            eval_spec = tf.estimator.EvalSpec(
                input_fn=functools.partial(input_fn, params={"batch_size": 8}), steps=10)
            tf.estimator.train_and_evaluate(est, train_spec, eval_spec)
    """)
    assert mismatches(source, "tae.py") == []


def test_a_mode_kept_on_the_object_from_a_constructor_argument_is_not_followed():
    # `self.mode` set in __init__ from a parameter of unknown origin (here a command-line mode)
    source = HEAD + textwrap.dedent("""
        class Runner(object):
            def __init__(self, mode):
                self.mode = mode

            def model_fn(self, features, labels, mode, params):
                logits = tf.layers.dense(features["x"], 2)
                if self.mode == "train_and_eval":
                    logits = tf.identity(logits)
                return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})

            def estimator(self):
                return tf.estimator.Estimator(model_fn=self.model_fn)

        runner = Runner(FLAGS.mode)
    """)
    assert not actual(source, "runner.py")[1]
