"""eval_metric_ops given a Keras metric's call result (SL027)."""
import tempfile

import tensorflow.compat.v1 as tf
from absl import app


def input_fn(params):
    x = tf.random.normal([64, 4], seed=1)
    y = tf.zeros([64], tf.int32)
    dataset = tf.data.Dataset.from_tensor_slices(({"x": x}, y))
    return dataset.repeat().batch(16, drop_remainder=True)


def model_fn(features, labels, mode):
    logits = tf.layers.dense(features["x"], 3)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    accuracy = tf.keras.metrics.Accuracy()(labels, tf.argmax(logits, 1, output_type=tf.int32))
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={"accuracy": accuracy})


def main(_):
    tf.logging.set_verbosity(tf.logging.INFO)
    estimator = tf.estimator.Estimator(model_fn=model_fn, model_dir=tempfile.mkdtemp())
    print(estimator.evaluate(input_fn=input_fn, steps=1))


if __name__ == "__main__":
    app.run(main)
