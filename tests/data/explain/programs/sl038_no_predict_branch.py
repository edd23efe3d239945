"""The model_fn returns nothing in PREDICT (SL038)."""
import tempfile

import tensorflow.compat.v1 as tf
from absl import app

import _tpu_on_cpu


def input_fn(params):
    x = tf.random.normal([64, 4], seed=1)
    y = tf.zeros([64], tf.int32)
    dataset = tf.data.Dataset.from_tensor_slices(({"x": x}, y))
    return dataset.repeat().batch(params["batch_size"], drop_remainder=True)


def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 3)
    if mode == tf.estimator.ModeKeys.TRAIN:
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        optimizer = tf.tpu.CrossShardOptimizer(tf.train.GradientDescentOptimizer(0.1))
        train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)


def main(_):
    tf.logging.set_verbosity(tf.logging.INFO)
    _tpu_on_cpu.install()
    run_config = tf.estimator.tpu.RunConfig(
        model_dir=tempfile.mkdtemp(),
        tpu_config=tf.estimator.tpu.TPUConfig(iterations_per_loop=1, num_shards=8))
    estimator = tf.estimator.tpu.TPUEstimator(
        model_fn=model_fn, config=run_config, use_tpu=True,
        train_batch_size=16, eval_batch_size=16, predict_batch_size=16)
    for prediction in estimator.predict(input_fn=input_fn):
        print(prediction)


if __name__ == "__main__":
    app.run(main)
