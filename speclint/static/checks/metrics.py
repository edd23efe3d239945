"""Metric dicts: SL008 (what metric_fn returns), SL009 (reserved names), SL027 (eval_metric_ops).

One helper, `_problems`, reads a dict of metrics (name -> `(value, update_op)`) for SL008 and SL027
(EstimatorSpec's `eval_metric_ops` as given, and the dict the `metric_fn` of a TPUEstimatorSpec's
`eval_metrics` returns when run with its tensors); what is wrong with a value is decided in
`speclint/families/metrics.py`, which the runtime shim's checks call too.
"""
from __future__ import annotations

from typing import Iterator

from speclint import apis
from speclint.families import metrics as M
from speclint.finding import Finding
from speclint.static.checks.base import check
from speclint.static.syntax import source
from speclint.static.checks.common import fn_label, host_runs, when_built
from speclint.static.extra_runs import host_call_pairs
from speclint.static.values import (
    NONE, SCALAR, Callable, Const, Dict, KerasMetric, Operation, Seq, Tensor, Unknown, Value,
    members,
)


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


def _facts(v):
    if isinstance(v, Seq):
        return dict(kind="sequence", length=len(v.items) if v.complete else None, seq_kind=v.kind)
    if isinstance(v, KerasMetric):
        return dict(kind="keras")
    if isinstance(v, Tensor):
        return dict(kind="tensor", scalar=v.shape == SCALAR)
    if isinstance(v, Operation):
        return dict(kind="operation")
    if isinstance(v, (Const, Dict, Callable)):
        return dict(kind="other", got=v.describe())
    return None


def _problems(d, on_tpu, decide):
    if not d.complete:
        return
    for e in d.entries:
        if e.node is None or not isinstance(e.key, str):
            continue
        facts = [_facts(m) for m in members(e.value)]
        if not facts or any(f is None for f in facts):
            continue
        results = [M.metric_value(on_tpu=on_tpu, **f) if f["kind"] != "keras" else "keras" for f in facts]
        if any(r is None for r in results if r != "keras"):
            continue
        if all(f["kind"] == "keras" for f in facts):
            if on_tpu:
                yield e.node, decide(e.key, source(e.node), on_tpu=on_tpu, **facts[0])
            continue
        if any(f["kind"] == "keras" for f in facts):
            continue
        yield e.node, decide(e.key, source(e.node), on_tpu=on_tpu, **facts[0])


@check("SL008")
def metric_fn_returns(fact, ctx):
    for _, _, hr in metric_fn_runs(fact):
        fn = fn_label(hr.fn)
        values = [v for v, _ in hr.returns] + ([NONE] if hr.falls_through else [])
        if values and all(v == NONE for v in values):
            node = next((n for v, n in hr.returns if n is not None), None)
            how = f"`return {source(node)}`" if node is not None else "it has no `return` with a value"
            yield Finding("SL008", node or hr.name_node(), *M.metric_fn_return(fn, "none", how=how))
            continue
        for value, node in hr.returns:
            if node is None:
                continue
            ms = members(value)
            if any(isinstance(m, Unknown) for m in ms):
                continue
            if all(_not_dict(m) for m in ms):
                yield Finding("SL008", node, *M.metric_fn_return(fn, "other", got=ms[0].describe(), expr=source(node)))
                continue
            for m in ms:
                if isinstance(m, Dict):
                    def decide(key, expr, on_tpu, **f):
                        return M.metric_fn_value(fn, key, expr, on_tpu=on_tpu, **f)
                    for n, decision in _problems(m, ctx.on_tpu(fact), decide):
                        yield Finding("SL008", n, *decision)


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
            def decide(key, expr, on_tpu, **f):
                return M.eval_metric_ops_value(key, expr, when=when, **f)
            for n, decision in _problems(m, False, decide):
                yield Finding("SL027", n, *decision)


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
