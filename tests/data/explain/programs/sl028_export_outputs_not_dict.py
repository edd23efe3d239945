"""export_outputs given one ExportOutput, not a dict (SL028)."""
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
    export_output = tf.estimator.export.PredictOutput({"probabilities": probabilities})
    return tf.estimator.EstimatorSpec(mode, predictions={"probabilities": probabilities},
                                      export_outputs=export_output)


def main(_):
    tf.logging.set_verbosity(tf.logging.INFO)
    estimator = tf.estimator.Estimator(model_fn=model_fn, model_dir=tempfile.mkdtemp())
    for prediction in estimator.predict(input_fn=input_fn):
        print(prediction)


if __name__ == "__main__":
    app.run(main)
