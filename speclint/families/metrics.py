"""Metric dicts (SL008 what metric_fn returns, SL027 eval_metric_ops): decisions shared by both
engines.  A metric value is described by its kind:

    "pair"       a 2-tuple (value, update_op): fine
    "sequence"   another tuple or list (`length`: its length, None when unknown; `seq_kind`:
                 "tuple" or "list"); a tuple of unknown length is given the benefit of the doubt
    "keras"      a Keras metric object (fine on CPU, not on TPU)
    "tensor"     a tensor (`scalar`: of rank 0)
    "operation"  a tf.Operation
    "other"      anything else (`got` describes it)
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

Decision = Optional[Tuple[str, Dict[str, object]]]

# What TPUEstimator does with a metric value that is not a (value, update_op) tuple.
TPU_SEQUENCE = "; on TPU it happens to work (TPUEstimator reads only elements 0 and 1)"
TPU_SCALAR = ("; on TPU TPUEstimator takes `value[0]` and fails with \"ValueError: Attempting to slice "
              "scalar input.\"")
TPU_TENSOR = ("; on TPU TPUEstimator takes `value[0]` and `value[1]` of it, which fails for a "
              "scalar and silently gives a wrong metric otherwise")
TPU_OPERATION = "; on TPU `value[0]` fails with \"TypeError: 'Operation' object is not subscriptable\""


def metric_value(kind: str, *, on_tpu: bool, length: Optional[int] = None, seq_kind: str = "tuple",
                 scalar: bool = False, got: str = "") -> Optional[Tuple[str, str, str]]:
    """(variant, got, tpu) for a metric value that is not a `(value, update_op)` tuple -- variant
    "bad_value", or "keras_metric" for a Keras metric when the metrics run on TPU -- else None."""
    if kind == "pair":
        return None
    if kind == "sequence":
        if seq_kind == "tuple" and (length is None or length == 2):
            return None
        if length is None:
            return "bad_value", f"a {seq_kind}", ""
        return "bad_value", f"a {length}-element {seq_kind}", TPU_SEQUENCE if length >= 2 else ""
    if kind == "keras":
        return ("keras_metric", "a Keras metric object", "") if on_tpu else None
    if kind == "tensor":
        return ("bad_value", "a scalar tensor", TPU_SCALAR) if scalar else ("bad_value", "a tensor", TPU_TENSOR)
    if kind == "operation":
        return "bad_value", "an operation", TPU_OPERATION
    return "bad_value", got, ""


# --- SL008 -------------------------------------------------------------------------------------
def metric_fn_return(fn: str, kind: str, *, got: str = "", expr: str = "", how: str = "") -> Decision:
    """SL008: what the function of `eval_metrics` returns, as a whole.  kind: "none" (it returns
    None; `how` says how the engine knows), "dict" (fine: check its values with
    `metric_fn_value`), anything else (not a dict: `got` describes it, `expr` is the return)."""
    if kind == "dict":
        return None
    if kind == "none":
        return "none", dict(fn=fn, how=how)
    return "not_dict", dict(fn=fn, got=got, expr=expr)


def metric_fn_value(fn: str, key, expr: str, kind: str, *, on_tpu: bool, **value) -> Decision:
    """SL008: metric `key` of the dict the function of `eval_metrics` returns (`expr`: the
    source the engine quotes for it); kind and **value: as for `metric_value`."""
    problem = metric_value(kind, on_tpu=on_tpu, **value)
    if problem is None:
        return None
    variant, got, tpu = problem
    return variant, dict(fn=fn, key=key, got=got, expr=expr, tpu=tpu)


# --- SL027 -------------------------------------------------------------------------------------
def eval_metric_ops_value(key, expr: str, kind: str, *, when: str = "", **value) -> Decision:
    """SL027: entry `key` of EstimatorSpec's `eval_metric_ops` (`expr`: the source the engine
    quotes for it); kind and **value: as for `metric_value` (EstimatorSpec runs on CPU)."""
    problem = metric_value(kind, on_tpu=False, **value)
    if problem is None:
        return None
    variant, got, _ = problem
    return variant, dict(key=key, got=got, expr=expr, when=when)
