"""Issue 10 item 3: SL013 / SL017 / SL041 messages name the condition under which the failure
happens — the flag as the user wrote it (`FLAGS.export_moving_average`, `params['use_tpu']`) —
and fall back to the general wording when no single flag decides it.  Shapes from
tensorflow/tpu ResNet (`resnet_main.py`), Mask R-CNN (`mask_rcnn_model.py`) and xlnet."""
import textwrap

from expect import actual

HEAD = """\
import tensorflow.compat.v1 as tf
from absl import flags

FLAGS = flags.FLAGS


"""


def messages(src, code):
    _, diags = actual(HEAD + textwrap.dedent(src))
    return [d.message for d in diags if d.code == code]


RESNET_EXPORT = """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 10)
    if mode == tf.estimator.ModeKeys.PREDICT:
        scaffold_fn = None
        if FLAGS.export_moving_average:
            def restore_scaffold():
                return tf.train.Scaffold(saver=tf.train.Saver())
            scaffold_fn = restore_scaffold
        return tf.estimator.EstimatorSpec(mode=mode, predictions={"logits": logits},
                                          scaffold=scaffold_fn)
    loss = tf.reduce_mean(logits)
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=tf.no_op())
"""


def test_sl013_names_the_flag_that_makes_scaffold_a_function():
    (msg,) = messages(RESNET_EXPORT, "SL013")
    assert ("when the spec is built (on the path where `FLAGS.export_moving_average` is true; "
            "elsewhere `scaffold_fn` is None, which EstimatorSpec accepts).") in msg


def test_sl013_without_a_flag_keeps_the_plain_wording():
    src = RESNET_EXPORT.replace("        if FLAGS.export_moving_average:\n", "        if True:\n")
    src = src.replace("        scaffold_fn = None\n", "")
    (msg,) = messages(src, "SL013")
    assert "when the spec is built. Call it" in msg


MASK_RCNN = """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    def scaffold_fn():
        tf.train.init_from_checkpoint(params["ckpt"], {"resnet/": "resnet/"})
        return tf.train.Scaffold()
    if params['use_tpu']:
        return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op,
                                                 scaffold_fn=scaffold_fn)
    return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)
"""


def test_sl017_names_the_tpu_flag_as_written():
    (msg,) = messages(MASK_RCNN, "SL017")
    assert msg.startswith("this EstimatorSpec is returned instead of the TPUEstimatorSpec when "
                          "`params['use_tpu']` is false, but it does not carry `scaffold_fn=scaffold_fn`")


TWO_FLAGS = """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    def scaffold_fn():
        tf.train.init_from_checkpoint(params["ckpt"], {"resnet/": "resnet/"})
        return tf.train.Scaffold()
    if mode == tf.estimator.ModeKeys.TRAIN:
        if FLAGS.use_tpu:
            return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op,
                                                     scaffold_fn=scaffold_fn)
    else:
        if params['use_tpu']:
            return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, scaffold_fn=scaffold_fn)
    return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)
"""


def test_sl017_reached_under_two_flags_is_one_finding_with_the_general_wording():
    (msg,) = messages(TWO_FLAGS, "SL017")
    assert msg.startswith("this EstimatorSpec is returned instead of the TPUEstimatorSpec when "
                          "not on TPU, but it does not carry")


XLNET_PLAIN = """
def input_fn(params):
    batch_size = params["batch_size"]
    return tf.data.Dataset.from_tensors({"x": [1.0]}).repeat().batch(batch_size)

def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op())

def main(_):
    if FLAGS.use_tpu:
        est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=8)
    else:
        est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn, max_steps=10)
"""


def test_sl041_names_the_flag_that_picks_the_plain_estimator():
    (msg,) = messages(XLNET_PLAIN, "SL041")
    assert ("which is given to a plain tf.estimator.Estimator without `params=` (the Estimator "
            "built when `FLAGS.use_tpu` is false)") in msg
