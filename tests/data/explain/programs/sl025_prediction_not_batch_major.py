"""A prediction whose dimension 0 is not the batch (SL025)."""
import tempfile

import tensorflow.compat.v1 as tf


def input_fn(params):
    x = tf.random.normal([64, 4], seed=1)
    y = tf.zeros([64], tf.int32)
    dataset = tf.data.Dataset.from_tensor_slices(({"x": x}, y))
    return dataset.repeat().batch(16, drop_remainder=True)


def model_fn(features, labels, mode):
    logits = tf.layers.dense(features["x"], 3)
    class_counts = tf.reduce_sum(tf.one_hot(tf.argmax(logits, 1), 3), axis=0)
    predictions = {"probabilities": tf.nn.softmax(logits), "class_counts": class_counts}
    return tf.estimator.EstimatorSpec(mode, predictions=predictions)


def main():
    tf.logging.set_verbosity(tf.logging.INFO)
    estimator = tf.estimator.Estimator(model_fn=model_fn, model_dir=tempfile.mkdtemp())
    for prediction in estimator.predict(input_fn=input_fn):
        print(prediction)


if __name__ == "__main__":
    main()
