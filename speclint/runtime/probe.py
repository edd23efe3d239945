"""Scratch-graph probes: call a host function (metric_fn, host_call fn) on placeholders of the
same dtypes and shapes (dimension 0 unknown, as after TPU concatenation) inside a fresh
`tf.Graph`, so the user's graph gets no ops and no variables.  Used for what only the function's
result or the ops it builds can show (SL008-SL011).  scaffold_fn is never called this way: it has
side effects (init_from_checkpoint) outside any graph.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import List, Optional

from speclint import apis
from speclint.runtime import locate
from speclint.runtime.objects import is_tensor


@dataclass
class ProbeResult:
    value: object
    v1_summaries: List[object] = field(default_factory=list)

    def location_of(self, op) -> Optional[locate.Location]:
        return locate.tensor_origin(op)


def _placeholder(t, tf):
    shape = t.shape
    if shape.rank is not None and shape.rank >= 1:
        shape = tf.tf.TensorShape([None]).concatenate(shape[1:])
    return tf.v1.placeholder(t.dtype, shape=shape)


def call_host_fn(fn, tensors, tf) -> Optional[ProbeResult]:
    """Call `fn` like TF does (`fn(*tensors)` / `fn(**tensors)`) in a scratch graph; None when the
    call cannot be made there (non-tensor values, the function raised, ...)."""
    values = list(tensors.values()) if isinstance(tensors, dict) else list(tensors)
    if not all(is_tensor(v, tf) for v in values):
        return None
    graph = tf.tf.Graph()
    try:
        with graph.as_default(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(tensors, dict):
                value = fn(**{k: _placeholder(v, tf) for k, v in tensors.items()})
            else:
                value = fn(*[_placeholder(v, tf) for v in tensors])
    except Exception:  # noqa: BLE001 - a probe that cannot run tells nothing
        return None
    summaries = [op for op in graph.get_operations() if op.type in apis.V1_SUMMARY_OP_TYPES]
    return ProbeResult(value, summaries)
