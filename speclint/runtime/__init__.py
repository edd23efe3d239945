"""speclint's runtime engine: checks on the real TensorFlow objects (TensorFlow imported lazily).

`simulate_tpu(model_fn, input_fn)` builds the real TPUEstimator graph with use_tpu=True on CPU and
reports the TPU-only failures TF raises, mapped to speclint's rules (see `simulate.py`).
"""
from __future__ import annotations


def simulate_tpu(model_fn, input_fn, **kwargs):
    from speclint.runtime.simulate import simulate_tpu as _simulate_tpu

    return _simulate_tpu(model_fn, input_fn, **kwargs)


simulate_tpu.__doc__ = "See `speclint.runtime.simulate.simulate_tpu`."
