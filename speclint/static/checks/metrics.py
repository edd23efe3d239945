"""Metric dicts: SL008 (what metric_fn returns), SL009 (reserved names), SL027 (eval_metric_ops).

One helper, `metric_problems`, reads a dict of metrics (name -> `(value, update_op)`) for all
three rules: EstimatorSpec's `eval_metric_ops` as given, and the dict the `metric_fn` of a
TPUEstimatorSpec's `eval_metrics` returns when run with its tensors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from speclint import apis
from speclint.finding import Finding
from speclint.static.checks.base import check
from speclint.static.syntax import source
from speclint.static.checks.common import fn_label, host_runs, when_built
from speclint.static.extra_runs import host_call_pairs
from speclint.static.values import (
    NONE, SCALAR, Callable, Const, Dict, KerasMetric, Operation, Seq, Tensor, Unknown, Value,
    members,
)


@dataclass
class MetricProblem:
    key: str
    node: object  # the offending value expression
    variant: str  # "bad_value" | "keras_metric"
    got: str
    tpu: str  # what happens on TPU to this value (SL008's message)


def _classify(v: Value) -> Optional[tuple]:
    """(got, tpu text) when `v` is certainly not a `(value, update_op)` tuple; "ok"; or None."""
    if isinstance(v, Seq):
        if v.kind == "tuple" and (not v.complete or len(v.items) == 2):
            return "ok"
        if not v.complete:
            return "ok" if v.kind == "tuple" else ("a list", "")
        n = len(v.items)
        got = f"a {n}-element {v.kind}"
        if n >= 2:
            return got, "; on TPU it happens to work (TPUEstimator reads only elements 0 and 1)"
        return got, ""
    if isinstance(v, KerasMetric):
        return "keras"
    if isinstance(v, Tensor):
        if v.shape == SCALAR:
            return "a scalar tensor", (
                "; on TPU TPUEstimator takes `value[0]` and fails with \"ValueError: Attempting to slice "
                "scalar input.\"")
        return "a tensor", ("; on TPU TPUEstimator takes `value[0]` and `value[1]` of it, which fails for a "
                            "scalar and silently gives a wrong metric otherwise")
    if isinstance(v, Operation):
        return "an operation", "; on TPU `value[0]` fails with \"TypeError: 'Operation' object is not subscriptable\""
    if isinstance(v, Const):
        return v.describe(), ""
    if isinstance(v, (Dict, Callable)):
        return v.describe(), ""
    return None


def metric_problems(d: Dict, on_tpu: bool) -> Iterator[MetricProblem]:
    """Values of a (complete) metrics dict that are certainly not `(value, update_op)` tuples."""
    if not d.complete:
        return
    for e in d.entries:
        if e.node is None or not isinstance(e.key, str):
            continue
        results = [_classify(m) for m in members(e.value)]
        if not results or any(r is None or r == "ok" for r in results):
            continue
        if all(r == "keras" for r in results):
            if on_tpu:
                yield MetricProblem(e.key, e.node, "keras_metric", "a Keras metric object", "")
            continue
        if any(r == "keras" for r in results):
            continue
        got, tpu = results[0]
        yield MetricProblem(e.key, e.node, "bad_value", got, tpu)


def reserved_keys(d: Dict) -> Iterator[tuple]:
    """(key, node) of each reserved metric name among the dict's literal keys.  A dict that also
    got keys we cannot name still has these (the interpreter drops entries that may be removed)."""
    for e in d.entries:
        if e.key in apis.RESERVED_METRIC_NAMES:
            node = e.key_node if e.key_node is not None else e.node
            if node is not None:
                yield e.key, node


def _not_dict(v: Value) -> bool:
    return isinstance(v, (Tensor, Seq, Operation, KerasMetric)) or (isinstance(v, Const) and v != NONE)


def metric_fn_runs(fact):
    """(field, FieldArg, HostFnRun) of the `eval_metrics` function of a TPUEstimatorSpec."""
    for name, fa, pair in host_call_pairs(fact):
        if name != "eval_metrics":
            continue
        for hr in host_runs(fact, name):
            if not hr.generator:
                yield name, fa, hr


@check("SL008")
def metric_fn_returns(fact, ctx):
    for _, _, hr in metric_fn_runs(fact):
        fn = fn_label(hr.fn)
        values = [v for v, _ in hr.returns] + ([NONE] if hr.falls_through else [])
        if values and all(v == NONE for v in values):
            node = next((n for v, n in hr.returns if n is not None), None)
            how = f"`return {source(node)}`" if node is not None else "it has no `return` with a value"
            yield Finding("SL008", node or hr.name_node(), "none", dict(fn=fn, how=how))
            continue
        for value, node in hr.returns:
            if node is None:
                continue
            ms = members(value)
            if any(isinstance(m, Unknown) for m in ms):
                continue
            if all(_not_dict(m) for m in ms):
                yield Finding("SL008", node, "not_dict", dict(fn=fn, got=ms[0].describe(), expr=source(node)))
                continue
            for m in ms:
                if isinstance(m, Dict):
                    for p in metric_problems(m, ctx.on_tpu(fact)):
                        yield Finding("SL008", p.node, p.variant, dict(
                            fn=fn, key=p.key, got=p.got, expr=source(p.node), tpu=p.tpu))


@check("SL027")
def eval_metric_ops(fact, ctx):
    if fact.cls != apis.ESTIMATOR_SPEC:
        return
    fa = fact.fields.get("eval_metric_ops")
    if fa is None:
        return
    ms = [m for m in members(fa.value) if m != NONE]
    when = when_built(fact)
    if ms and all(not isinstance(m, Unknown) and _not_dict(m) for m in ms):
        yield Finding("SL027", fa.node, "not_dict", dict(got=ms[0].describe(), expr=source(fa.node), when=when))
        return
    for m in ms:
        if isinstance(m, Dict):
            for p in metric_problems(m, on_tpu=False):
                yield Finding("SL027", p.node, p.variant, dict(key=p.key, got=p.got, expr=source(p.node),
                                                               when=when))


@check("SL009")
def reserved_metric_names(fact, ctx):
    dicts = []
    if fact.cls == apis.ESTIMATOR_SPEC:
        fa = fact.fields.get("eval_metric_ops")
        if fa is not None:
            dicts = [m for m in members(fa.value) if isinstance(m, Dict)]
    else:
        for _, _, hr in metric_fn_runs(fact):
            for value, _ in hr.returns:
                dicts += [m for m in members(value) if isinstance(m, Dict)]
    for d in dicts:
        for key, node in reserved_keys(d):
            yield Finding("SL009", node, key, {})
