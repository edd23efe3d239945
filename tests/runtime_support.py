"""Helpers for the runtime-shim tests: real TensorFlow, tiny graphs, no sessions unless needed.

`build(model_fn, mode, ...)` constructs a real Estimator / TPUEstimator (so the shim's patched
constructor wraps the model_fn) and calls the estimator's own `_call_model_fn` in a fresh graph,
exactly as train()/evaluate()/predict() do before any session exists (including TPUEstimator's
CPU conversion with as_estimator_spec()).  `build_on_tpu` calls the wrapped model_fn the way
TPUEstimator does inside the TPU program (params with use_tpu=True, batch_size and a context), in
a plain graph; building the real TPU program is the TPU simulation's job.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
v1 = tf.compat.v1
ModeKeys = tf.estimator.ModeKeys
TPUEstimatorSpec = v1.estimator.tpu.TPUEstimatorSpec
EstimatorSpec = tf.estimator.EstimatorSpec
BATCH = 4
MODES = {"train": ModeKeys.TRAIN, "eval": ModeKeys.EVAL, "predict": ModeKeys.PREDICT}


def inputs(mode=None, batch=BATCH):
    x = v1.placeholder_with_default(np.ones((batch, 3), np.float32), [batch, 3])
    y = v1.placeholder_with_default(np.zeros((batch,), np.int32), [batch])
    return {"x": x}, (None if mode == ModeKeys.PREDICT else y)


def estimator(model_fn, kind="tpu", params=None, **kw):
    model_dir = tempfile.mkdtemp(prefix="speclint-rt-")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "tpu":
            return v1.estimator.tpu.TPUEstimator(
                model_fn=model_fn, params=params, use_tpu=False, train_batch_size=BATCH,
                eval_batch_size=BATCH, predict_batch_size=BATCH,
                config=v1.estimator.tpu.RunConfig(model_dir=model_dir), **kw)
        return tf.estimator.Estimator(model_fn=model_fn, params=params, model_dir=model_dir, **kw)


def build(model_fn, mode, kind="tpu", params=None, features=None, labels=None, **estimator_kw):
    """Estimator._call_model_fn in a fresh graph; returns the spec TF gets (or raises)."""
    mode = MODES.get(mode, mode)
    est = estimator(model_fn, kind, params, **estimator_kw)
    with tf.Graph().as_default():
        v1.train.create_global_step()
        f, l = inputs(mode)
        f = features() if features else f
        l = labels() if labels else l
        if kind == "tpu":
            est._is_input_fn_invoked = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return est._call_model_fn(f, l, mode, est.config)


def build_on_tpu(model_fn, mode, params=None, replicas=8, features=None, labels=None):
    """The wrapped model_fn called as TPUEstimator calls it on TPU (params['use_tpu'] True)."""
    from speclint.runtime import patching
    mode = MODES.get(mode, mode)
    wrapped = patching.wrap_model_fn(model_fn, "TPUEstimator")
    p = dict(params or {})
    p.update(batch_size=BATCH, use_tpu=True, context=SimpleNamespace(num_replicas=replicas))
    with tf.Graph().as_default():
        v1.train.create_global_step()
        f, l = inputs(mode)
        f = features() if features else f
        l = labels() if labels else l
        return wrapped(features=f, labels=l, mode=mode, params=p)


def dense(features, units=2):
    return v1.layers.dense(features["x"], units)


def train_op_for(loss, cross_shard=False):
    opt = v1.train.GradientDescentOptimizer(0.1)
    if cross_shard:
        opt = v1.tpu.CrossShardOptimizer(opt)
    return opt.minimize(loss, global_step=v1.train.get_global_step())


@pytest.fixture
def shim():
    """The shim installed in collect mode for one test (import it into the test module:
    `from runtime_support import shim`): the collector, cleared, with every model_fn shadowed
    afresh; uninstalled after."""
    from speclint.runtime import context, patching, tpupath
    patching.install("collect")
    context.COLLECTOR.clear()
    tpupath.forget()
    try:
        yield context.COLLECTOR
    finally:
        patching.uninstall()
        context.COLLECTOR.clear()
