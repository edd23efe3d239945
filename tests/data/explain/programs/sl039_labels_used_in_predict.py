"""The loss is computed from labels in PREDICT too, where labels is None (SL039)."""
import tempfile

import tensorflow.compat.v1 as tf


def input_fn(params):
    x = tf.random.normal([64, 4], seed=1)
    y = tf.zeros([64], tf.int32)
    dataset = tf.data.Dataset.from_tensor_slices(({"x": x}, y))
    return dataset.repeat().batch(16, drop_remainder=True)


def model_fn(features, labels, mode):
    logits = tf.layers.dense(features["x"], 3)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"probabilities": tf.nn.softmax(logits)})
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def main():
    tf.logging.set_verbosity(tf.logging.INFO)
    estimator = tf.estimator.Estimator(model_fn=model_fn, model_dir=tempfile.mkdtemp())
    for prediction in estimator.predict(input_fn=input_fn):
        print(prediction)


if __name__ == "__main__":
    main()
