"""Values real code produces (issue 10, item 2): idioms reduced from the repositories cited beside
each, clean as written, each with a bad twin that differs in the one thing that makes it a real
TPU bug and is flagged exactly where annotated (`# expect: SLnnn`).

What the values are: a model tensor computed through calls speclint cannot see into (a network of
a module not linted, a method of an object built from `features`) is a model tensor for the
capture rules (SL007, SL015, SL031); optional fields (`x = None` then a pair under a flag, `f if c
else g`, `f if c else None`) have every non-None candidate checked; unknown still never flags.
"""
import textwrap

import pytest

from expect import actual, mismatches

HEAD = """\
import tensorflow.compat.v1 as tf
from absl import flags
from tensorflow.compat.v1 import estimator as tf_estimator

from official.resnet import resnet_model  # not linted here: its network is unknown

FLAGS = flags.FLAGS


"""

_RESNET = """
def resnet_model_fn(features, labels, mode, params):
    def build_network():
        network = resnet_model.resnet(resnet_depth=params["resnet_depth"])
        return network(inputs=features, is_training=(mode == tf_estimator.ModeKeys.TRAIN))

    if params["precision"] == "bfloat16":
        with tf.tpu.bfloat16_scope():
            logits = build_network()
        logits = tf.cast(logits, tf.float32)
    elif params["precision"] == "float32":
        logits = build_network()
    num_classes = logits.shape[-1]
    loss = tf.losses.softmax_cross_entropy(tf.one_hot(labels, 1000), logits)
    global_step = tf.train.get_global_step()
    train_op = tf.tpu.CrossShardOptimizer(tf.train.MomentumOptimizer(0.1, 0.9)).minimize(loss, global_step)
    host_call = None
    if not params["skip_host_call"]:
        def host_call_fn(gs, loss):
            with tf.compat.v2.summary.create_file_writer(FLAGS.model_dir).as_default():
                tf.compat.v2.summary.scalar("loss", loss[0], step=gs[0])
                return tf.summary.all_v2_summary_ops()
        host_call = (host_call_fn, [%(gs)s, tf.reshape(loss, [1])])
    eval_metrics = None
    if mode == tf_estimator.ModeKeys.EVAL:
        def metric_fn(labels, %(param)s):
            predictions = tf.argmax(logits, axis=1)%(expect)s
            return {"top_1_accuracy": tf.metrics.accuracy(labels, predictions),
                    "classes": tf.metrics.mean(tf.cast(num_classes, tf.float32))}
        eval_metrics = (metric_fn, [labels, logits])
    return tf_estimator.tpu.TPUEstimatorSpec(
        mode=mode, loss=loss, train_op=train_op, host_call=host_call, eval_metrics=eval_metrics)


estimator = tf_estimator.tpu.TPUEstimator(model_fn=resnet_model_fn, use_tpu=True, train_batch_size=64)
"""

# name -> (clean idiom, bad twin)
PAIRS = {
    # tensorflow/tpu models/official/resnet/resnet_main.py: `logits` comes from a network built
    # in another module (cast on one branch only); the static shape it captures is no tensor.
    "resnet_logits_from_another_module": (
        _RESNET % dict(gs="tf.reshape(global_step, [1])", param="logits", expect=""),
        _RESNET % dict(gs="tf.reshape(global_step, [1])", param="unused_logits", expect="  # expect: SL007"),
    ),
    # the same file: host_call is None unless a flag is set (`x = None` then `x = (fn, [...])`)
    "resnet_optional_host_call": (
        _RESNET % dict(gs="tf.reshape(global_step, [1])", param="logits", expect=""),
        (_RESNET % dict(gs="global_step", param="logits", expect="")).replace(
            "        host_call = (host_call_fn, [global_step, tf.reshape(loss, [1])])",
            "        host_call = (host_call_fn, [global_step, tf.reshape(loss, [1])])  # expect: SL005"),
    ),
    # tensorflow/tpu models/official/detection/modeling/base_model.py: the host function reads
    # the structure of its inputs only (`tf.nest.pack_sequence_as(host_call_inputs, flat_args)`).
    "detection_host_call_structure_only": ("""
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["image"], 10)
    loss = tf.reduce_mean(logits)
    summaries = {"loss": tf.reshape(loss, [1])}
    def host_call_fn(*flat_args):
        global_step, summaries = tf.nest.pack_sequence_as(host_call_inputs, flat_args)
        with tf.compat.v2.summary.create_file_writer("/tmp/m").as_default():
            for key, value in summaries.items():
                tf.compat.v2.summary.scalar(key, tf.reduce_mean(value), step=global_step[0])
            return tf.summary.all_v2_summary_ops()
    global_step = tf.reshape(tf.train.get_global_step(), [1])
    host_call_inputs = [global_step, summaries]
    host_call = None
    if params["summaries"]:
        host_call = (host_call_fn, tf.nest.flatten(host_call_inputs))
    return tf_estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=tf.no_op(), host_call=host_call)


estimator = tf_estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64)
""", """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["image"], 10)
    loss = tf.reduce_mean(logits)
    summaries = {"loss": tf.reshape(loss, [1])}
    def host_call_fn(*flat_args):
        global_step, summaries = tf.nest.pack_sequence_as(host_call_inputs, flat_args)  # expect: SL007
        with tf.compat.v2.summary.create_file_writer("/tmp/m").as_default():
            for key, value in summaries.items():
                tf.compat.v2.summary.scalar(key, tf.reduce_mean(value), step=host_call_inputs[0][0])
            return tf.summary.all_v2_summary_ops()
    global_step = tf.reshape(tf.train.get_global_step(), [1])
    host_call_inputs = [global_step, summaries]
    host_call = None
    if params["summaries"]:
        host_call = (host_call_fn, tf.nest.flatten(host_call_inputs))
    return tf_estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=tf.no_op(), host_call=host_call)


estimator = tf_estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64)
"""),
    # google-research/electra run_finetuning.py: the training hook fetches the loss only off
    # TPU (`{} if config.use_tpu else dict(loss=model.loss)`); `model` is built from features by
    # a class of another module.
    "electra_hook_fetches_loss_off_tpu_only": ("""
from model import modeling  # not linted here
from util import training_utils  # not linted here


class ETAHook(tf.estimator.SessionRunHook):
    def __init__(self, to_log, n_steps):
        self._to_log = to_log

    def before_run(self, run_context):
        return tf.estimator.SessionRunArgs(self._to_log)


def model_fn_builder(config, num_train_steps):
    def model_fn(features, labels, mode, params):
        model = modeling.FinetuningModel(config, features, num_train_steps)
        train_op = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3)).minimize(
            model.loss, global_step=tf.train.get_global_step())
        return tf.estimator.tpu.TPUEstimatorSpec(
            mode=mode, loss=model.loss, train_op=train_op,
            training_hooks=[ETAHook({} if config.use_tpu else dict(loss=model.loss), num_train_steps)])
    return model_fn


def main(config):
    estimator = tf.estimator.tpu.TPUEstimator(
        use_tpu=config.use_tpu, model_fn=model_fn_builder(config, 10), train_batch_size=32)
""", """
from model import modeling  # not linted here
from util import training_utils  # not linted here


class ETAHook(tf.estimator.SessionRunHook):
    def __init__(self, to_log, n_steps):
        self._to_log = to_log

    def before_run(self, run_context):
        return tf.estimator.SessionRunArgs(self._to_log)


def model_fn_builder(config, num_train_steps):
    def model_fn(features, labels, mode, params):
        model = modeling.FinetuningModel(config, features, num_train_steps)
        train_op = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3)).minimize(
            model.loss, global_step=tf.train.get_global_step())
        return tf.estimator.tpu.TPUEstimatorSpec(
            mode=mode, loss=model.loss, train_op=train_op,
            training_hooks=[ETAHook(dict(loss=model.loss), num_train_steps)])  # expect: SL031
    return model_fn


def main(config):
    estimator = tf.estimator.tpu.TPUEstimator(
        use_tpu=True, model_fn=model_fn_builder(config, 10), train_batch_size=32)
"""),
    # google-research/bert run_classifier.py: scaffold_fn is set only when a checkpoint is given,
    # here chosen by a conditional expression (`f if c else None`); the clean one reads only
    # Python values and the checkpoint's assignment map.
    "bert_optional_scaffold_fn": ("""
def model_fn(features, labels, mode, params):
    input_ids = features["input_ids"]
    logits = tf.layers.dense(tf.cast(input_ids, tf.float32), 2)
    loss = tf.reduce_mean(logits)
    assignment_map = {"bert/": "bert/"}
    def tpu_scaffold():
        tf.train.init_from_checkpoint(FLAGS.init_checkpoint, assignment_map)
        return tf.train.Scaffold()
    scaffold_fn = tpu_scaffold if FLAGS.init_checkpoint else None
    return tf_estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=tf.no_op(), scaffold_fn=scaffold_fn)


estimator = tf_estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64)
""", """
def model_fn(features, labels, mode, params):
    input_ids = features["input_ids"]
    logits = tf.layers.dense(tf.cast(input_ids, tf.float32), 2)
    loss = tf.reduce_mean(logits)
    assignment_map = {"bert/": "bert/"}
    def tpu_scaffold():
        tf.train.init_from_checkpoint(FLAGS.init_checkpoint, assignment_map)
        return tf.train.Scaffold(local_init_op=tf.group(input_ids))  # expect: SL015
    scaffold_fn = tpu_scaffold if FLAGS.init_checkpoint else None
    return tf_estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=tf.no_op(), scaffold_fn=scaffold_fn)


estimator = tf_estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64)
"""),
    # two metric functions chosen by a flag (`f if c else g`): every candidate is checked
    "metric_fn_chosen_by_flag": ("""
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.reduce_mean(logits)
    def top1(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
    def top5(labels, logits):
        return {"top5": tf.metrics.mean(tf.nn.in_top_k(logits, labels, 5))}
    metric_fn = top5 if FLAGS.top5 else top1
    return tf_estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))


estimator = tf_estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64)
""", """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.reduce_mean(logits)
    def top1(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
    def top5(labels, unused):
        return {"top5": tf.metrics.mean(tf.nn.in_top_k(logits, labels, 5))}  # expect: SL007
    metric_fn = top5 if FLAGS.top5 else top1
    return tf_estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))


estimator = tf_estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64)
"""),
}

_DATACLASS = """
import dataclasses
from typing import Optional


@dataclasses.dataclass
class Outputs:
    total_loss: tf.Tensor
    per_example_loss: tf.Tensor
    aux_loss: Optional[tf.Tensor] = None


def build(features, labels):
    logits = tf.layers.dense(features["x"], 2)
    per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    aux = tf.reduce_mean(logits) if FLAGS.aux else None
    return Outputs(total_loss=tf.reduce_mean(per_example), per_example_loss=per_example, aux_loss=aux)


def model_fn(features, labels, mode, params):
    outputs = build(features, labels)
    loss = outputs.total_loss
    if outputs.aux_loss is not None:
        loss += outputs.aux_loss
    def metric_fn(per_example_loss):
        return {"mean_loss": tf.metrics.mean(per_example_loss)}
    return tf_estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=tf.no_op(),
                                             eval_metrics=(metric_fn, [%s]))


estimator = tf_estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64)
"""

_NAMEDTUPLE = """
import collections

ModelOutputs = collections.namedtuple("ModelOutputs", ["loss", "logits"])


class Network:
    def __init__(self, features, num_classes):
        self.num_classes = num_classes
        self.logits = tf.layers.dense(features["x"], num_classes)

    def get_logits(self):
        return self.logits


def build(features, labels, params):
    net = Network(features, params["num_classes"])
    logits = net.get_logits()
    return ModelOutputs(tf.losses.sparse_softmax_cross_entropy(labels, logits), logits), net


def model_fn(features, labels, mode, params):
    outputs, net = build(features, labels, params)
    loss, logits = outputs
    num_classes = net.num_classes
    def metric_fn(labels, %s):
        predictions = tf.argmax(logits, axis=1)%s
        return {"acc": tf.metrics.accuracy(labels, predictions),
                "classes": tf.metrics.mean(tf.cast(num_classes, tf.float32))}
    return tf_estimator.tpu.TPUEstimatorSpec(mode=mode, loss=outputs.loss, train_op=tf.no_op(),
                                             eval_metrics=(metric_fn, [labels, outputs[1]]))


estimator = tf_estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64)
"""

# A user's report: a rank-0 loss reaches eval_metrics through a field of a helper's returned
# dataclass after an `if x is not None:` addition (the clean one passes the per-example loss).
PAIRS["dataclass_field_after_not_none_addition"] = (
    _DATACLASS % "outputs.per_example_loss",
    (_DATACLASS % "loss").replace("eval_metrics=(metric_fn, [loss]))", "eval_metrics=(metric_fn, [loss]))  # expect: SL005"),
)
# namedtuple fields, unpacking and indexing; a plain class's attribute set in __init__ read
# through its method (a tensor) and a Python attribute (not one)
PAIRS["namedtuple_and_plain_class_fields"] = (
    _NAMEDTUPLE % ("logits", ""),
    _NAMEDTUPLE % ("unused_logits", "  # expect: SL007"),
)


def _source(snippet: str) -> str:
    return HEAD + textwrap.dedent(snippet).lstrip("\n")


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_real_code_value_idiom_is_clean(name):
    _, diags = actual(_source(PAIRS[name][0]), name + ".py")
    assert not diags, [f"{d.line}: {d.code} {d.message[:120]}" for d in diags]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_bad_twin_is_flagged_where_annotated(name):
    source = _source(PAIRS[name][1])
    assert "# expect:" in source
    assert mismatches(source, name + "-bad.py") == []


def test_unknown_values_still_never_flag():
    # a metric_fn reading a value of a call given no model tensor (a config object, a learning
    # rate of a library not linted) is never a capture finding
    source = _source("""
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.reduce_mean(logits)
    cfg = resnet_model.config_for(params["depth"])
    size = len(features)
    def metric_fn(labels, logits):
        return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, cfg.axis)),
                "n": tf.metrics.mean(tf.cast(size, tf.float32))}
    return tf_estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))


estimator = tf_estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64)
""")
    _, diags = actual(source, "unknown.py")
    assert not diags, [f"{d.line}: {d.code} {d.message[:120]}" for d in diags]
