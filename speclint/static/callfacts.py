"""Facts about calls that the spec/estimator pairing rules need (SL016, SL017, SL035, SL043).

The interpreter hands each call of a watched TF API, each `opt.minimize(...)` /
`opt.apply_gradients(...)`, each `spec._replace(...)` and each TPUEstimatorSpec construction to
this module, which records a CallFact with the path state it ran in (modes, TPU flag, the model_fn
run it belongs to).  It also keeps one per-path marker in the state of the model_fn's own run: the
last TPUEstimatorSpec constructed, under a name no identifier can take.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Optional

import libcst as cst

from speclint import apis
from speclint.static.values import UNKNOWN, ApiRef, HookClass, Spec, Value

LAST_TPU_SPEC = "<last TPUEstimatorSpec>"

INIT_FROM_CHECKPOINT = "init_from_checkpoint"
CROSS_SHARD = "CrossShardOptimizer"
CROSS_REPLICA_SUM = "cross_replica_sum"
MINIMIZE = "minimize"
REPLACE = "_replace"

_API_KINDS = {}
for _p in apis.INIT_FROM_CHECKPOINT_PATHS:
    _API_KINDS[_p] = INIT_FROM_CHECKPOINT
for _p in apis.CROSS_SHARD_OPTIMIZER_PATHS:
    _API_KINDS[_p] = CROSS_SHARD
for _p in apis.CROSS_REPLICA_SUM_PATHS:
    _API_KINDS[_p] = CROSS_REPLICA_SUM


@dataclass
class CallFact:
    node: cst.Call
    kind: str
    receiver: Value  # minimize/_replace: the receiver; CrossShardOptimizer: the wrapped optimizer
    modes: FrozenSet[str]
    exact: bool
    tpu: Optional[bool]
    run: object  # the FunctionRun the call runs in
    root: object  # the model_fn (or standalone) run
    keywords: Dict[str, tuple] = field(default_factory=dict)  # name -> (value, node, arg)
    converted: bool = False  # (for CheckContext.on_tpu, which also takes SpecFacts)


def _record(run, node, kind, receiver, s, keywords=None) -> None:
    if run.an.replaying:
        return  # a check re-running a function body (SL014) records nothing
    run.an.call_facts.append(CallFact(node, kind, receiver, s.modes, s.exact, s.tpu, run, run.root,
                                      keywords or {}))


def api_call(run, node: cst.Call, path: str, args, kwargs, s) -> None:
    """A call of the TF API `path` (as imported)."""
    kind = _API_KINDS.get(apis.canonical_path(path))
    if kind is None:
        return
    receiver = UNKNOWN
    if kind == CROSS_SHARD:
        a = kwargs.get("opt") or (args[0] if args else None)
        receiver = a[0] if a else UNKNOWN
    _record(run, node, kind, receiver, s)


def method_call(run, node: cst.Call, name: str, receiver: Value, s, keywords=None) -> None:
    """`receiver.name(...)` for the methods the pairing rules watch (keywords: name -> (value,
    value node, arg))."""
    if name in ("minimize", "apply_gradients"):
        _record(run, node, MINIMIZE, receiver, s)
    elif name == REPLACE and isinstance(receiver, Spec) and receiver.cls == apis.TPU_ESTIMATOR_SPEC:
        _record(run, node, REPLACE, receiver, s, keywords)


def spec_built(run, fact, s) -> None:
    """After a spec construction: remember, on the model_fn's path, the last TPUEstimatorSpec."""
    if fact.cls != apis.TPU_ESTIMATOR_SPEC or run.an.replaying:
        return
    root_state = s if run is run.root else run.root.current
    if root_state is None:
        return
    # a spec built in a helper: its order relative to the model_fn's own specs is not tracked
    root_state.env[LAST_TPU_SPEC] = Spec(fact.cls, fact.node) if run is run.root else UNKNOWN


def class_value(run, node: cst.ClassDef, s) -> Value:
    """The value a `class` statement binds: a HookClass when a base is SessionRunHook (from TF, or
    a hook class of the linted code), so that `MyHook(loss)` is seen as a hook (SL031)."""
    for base in node.bases:
        if base.keyword is not None:
            continue
        v = run.eval(base.value, s)
        if isinstance(v, HookClass) or (
                isinstance(v, ApiRef) and apis.canonical_path(v.path).endswith(".SessionRunHook")):
            return HookClass(node=None, name=node.name.value, run=run)
    return UNKNOWN
