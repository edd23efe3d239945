"""Small model_fn sources shared by the speed and robustness tests (the CLI tests keep their own)."""

HEADER = "import tensorflow.compat.v1 as tf\n"
BAD = HEADER + """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    def host_fn(loss):
        return []
    return tf.estimator.tpu.TPUEstimatorSpec(
        mode, loss=loss, train_op=tf.no_op(), host_call=(host_fn, [loss]))
"""
BAD_LINE = 8  # the line of `[loss]`: SL005
BAD_COL = BAD.splitlines()[BAD_LINE - 1].index("[loss]") + 2
GOOD = BAD.replace("[loss]", "[tf.reshape(loss, [1])]")
NOT_TF = "import os\n\nprint(os.getcwd())\n"


def runner():
    """A click CliRunner that keeps stderr apart (click < 8.2 needs mix_stderr=False)."""
    from click.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()
