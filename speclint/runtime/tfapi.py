"""The TensorFlow objects the runtime shim needs, imported lazily (speclint itself never requires TF).

`load()` imports TensorFlow and the Estimator API once and returns a `TF` namespace; when no Estimator
API is importable it raises `TensorFlowUnavailable`, whose message says what to install (the CLI and
the pytest plugin print it as one line, never a traceback).
"""
from __future__ import annotations

import importlib
import threading
from types import SimpleNamespace

from speclint import apis

_LOCK = threading.Lock()
_CACHE = {}


class TensorFlowUnavailable(ImportError):
    """No TensorFlow Estimator API could be imported."""


def _import_attr(module: str, attr: str):
    return getattr(importlib.import_module(module), attr)


def _first(paths):
    errors = []
    for module, attr in paths:
        try:
            return _import_attr(module, attr)
        except (ImportError, AttributeError) as exc:
            errors.append(f"{module}.{attr}: {exc}")
    raise TensorFlowUnavailable("; ".join(errors))


def load() -> SimpleNamespace:
    """The TF namespace: tf, EstimatorSpec, TPUEstimatorSpec, Estimator, TPUEstimator, ..."""
    with _LOCK:
        if "tf" in _CACHE:
            return _CACHE["tf"]
        try:
            tf = importlib.import_module("tensorflow")
        except Exception as exc:  # noqa: BLE001 - any failure means "no usable TensorFlow"
            raise TensorFlowUnavailable(
                "speclint's runtime shim needs TensorFlow with the Estimator API (TF 1.15 to 2.15 "
                "with tensorflow-estimator), but `import tensorflow` failed: "
                f"{type(exc).__name__}: {exc}. Install it, e.g. "
                "`pip install tensorflow-cpu==2.15.1 tensorflow-estimator==2.15.0`.") from None
        try:
            ns = SimpleNamespace(
                tf=tf,
                EstimatorSpec=_first(apis.RUNTIME_CLASS_PATHS[apis.ESTIMATOR_SPEC]),
                TPUEstimatorSpec=_first(apis.RUNTIME_CLASS_PATHS[apis.TPU_ESTIMATOR_SPEC]),
                Estimator=_first(apis.RUNTIME_CLASS_PATHS[apis.ESTIMATOR]),
                TPUEstimator=_first(apis.RUNTIME_CLASS_PATHS[apis.TPU_ESTIMATOR]),
            )
        except TensorFlowUnavailable as exc:
            raise TensorFlowUnavailable(
                f"TensorFlow {getattr(tf, '__version__', '?')} is installed but its Estimator API "
                f"is not importable ({exc}). The Estimator API ships with TF 1.15 to 2.15 "
                "(`pip install tensorflow-estimator` matching your TF version); TF >= 2.16 "
                "no longer has it.") from None
        v1 = tf.compat.v1
        ns.v1 = v1
        ns.version = tf.__version__
        ns.Scaffold = v1.train.Scaffold
        ns.Saver = v1.train.Saver
        ns.SessionRunHook = v1.train.SessionRunHook
        ns.Tensor = tf.Tensor
        try:  # what EstimatorSpec's validators accept as a tensor (resource variables included)
            ns.CoreTensor = tf.compat.v2.__internal__.types.Tensor
        except AttributeError:
            ns.CoreTensor = tf.Tensor
        ns.Operation = tf.Operation
        ns.Variable = tf.Variable
        ns.SparseTensor = tf.SparseTensor
        ns.ModeKeys = tf.estimator.ModeKeys
        ns.function_utils = importlib.import_module("tensorflow.python.util.function_utils")
        ns.export_output = importlib.import_module(
            "tensorflow.python.saved_model.model_utils.export_output")
        ns.export_utils = importlib.import_module(
            "tensorflow.python.saved_model.model_utils.export_utils")
        try:
            ns.KerasMetric = tf.keras.metrics.Metric
        except Exception:  # noqa: BLE001 - Keras is optional for the checks
            ns.KerasMetric = ()
        try:
            from tensorflow.python.framework import func_graph
            ns.FuncGraph = func_graph.FuncGraph
        except Exception:  # noqa: BLE001
            ns.FuncGraph = ()
        _CACHE["tf"] = ns
        return ns


def available() -> bool:
    try:
        load()
        return True
    except TensorFlowUnavailable:
        return False
