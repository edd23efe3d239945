"""speclint: find misuse of tf.estimator.EstimatorSpec / TPUEstimatorSpec in model_fn code."""

__version__ = "0.1.0"
