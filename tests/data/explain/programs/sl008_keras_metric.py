"""metric_fn returns an updated Keras metric object (SL008)."""
import tempfile

import tensorflow.compat.v1 as tf
from absl import app

import _tpu_on_cpu


def input_fn(params):
    x = tf.random.normal([64, 4], seed=1)
    y = tf.zeros([64], tf.int32)
    dataset = tf.data.Dataset.from_tensor_slices(({"x": x}, y))
    return dataset.repeat().batch(params["batch_size"], drop_remainder=True)


def metric_fn(labels, logits):
    accuracy = tf.keras.metrics.Accuracy()
    accuracy.update_state(labels, tf.argmax(logits, 1, output_type=tf.int32))
    return {"accuracy": accuracy}


def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 3)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    return tf.estimator.tpu.TPUEstimatorSpec(
        mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))


def main(_):
    tf.logging.set_verbosity(tf.logging.INFO)
    _tpu_on_cpu.install()
    run_config = tf.estimator.tpu.RunConfig(
        model_dir=tempfile.mkdtemp(),
        tpu_config=tf.estimator.tpu.TPUConfig(iterations_per_loop=1, num_shards=8))
    estimator = tf.estimator.tpu.TPUEstimator(
        model_fn=model_fn, config=run_config, use_tpu=True,
        train_batch_size=16, eval_batch_size=16, predict_batch_size=16)
    print(estimator.evaluate(input_fn=input_fn, steps=1))


if __name__ == "__main__":
    app.run(main)
