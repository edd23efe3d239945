"""eval_metrics set with _replace() (SL035): TPUEstimator on CPU (use_tpu=False) loses it."""
import tempfile

import tensorflow.compat.v1 as tf
from absl import app



def input_fn(params):
    x = tf.random.normal([64, 4], seed=1)
    y = tf.zeros([64], tf.int32)
    dataset = tf.data.Dataset.from_tensor_slices(({"x": x}, y))
    return dataset.repeat().batch(params["batch_size"], drop_remainder=True)


def metric_fn(labels, logits):
    return {"accuracy": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}


def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 3)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    spec = tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss)
    return spec._replace(eval_metrics=(metric_fn, [labels, logits]))


def main(_):
    tf.logging.set_verbosity(tf.logging.INFO)
    run_config = tf.estimator.tpu.RunConfig(
        model_dir=tempfile.mkdtemp(),
        tpu_config=tf.estimator.tpu.TPUConfig(iterations_per_loop=1, num_shards=8))
    estimator = tf.estimator.tpu.TPUEstimator(
        model_fn=model_fn, config=run_config, use_tpu=False,
        train_batch_size=16, eval_batch_size=16, predict_batch_size=16)
    print(estimator.evaluate(input_fn=input_fn, steps=1))


if __name__ == "__main__":
    app.run(main)
