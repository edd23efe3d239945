"""A ClassificationOutput exported with a raw (float) serving input: the SavedModel has no signature (SL029)."""
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
    probabilities = tf.nn.softmax(logits)
    if mode == tf.estimator.ModeKeys.PREDICT:
        export_outputs = {"serving_default": tf.estimator.export.ClassificationOutput(scores=probabilities)}
        return tf.estimator.EstimatorSpec(mode, predictions={"probabilities": probabilities},
                                          export_outputs=export_outputs)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def serving_input_receiver_fn():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    return tf.estimator.export.ServingInputReceiver({"x": x}, {"x": x})


def main(_):
    tf.logging.set_verbosity(tf.logging.INFO)
    estimator = tf.estimator.Estimator(model_fn=model_fn, model_dir=tempfile.mkdtemp())
    estimator.train(input_fn=input_fn, max_steps=1)
    print(estimator.export_saved_model(tempfile.mkdtemp(), serving_input_receiver_fn))


if __name__ == "__main__":
    app.run(main)
