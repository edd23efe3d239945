"""The metrics family, static side: SL008-SL012, SL027, SL042.

What metric_fn returns (SL008), reserved names (SL009), summaries in host functions and in a TPU
model_fn (SL010, SL012), host_call returning None (SL011), eval_metric_ops (SL027) and per-core batch
sizes in host functions (SL042).  Host functions are run by the analysis (extra_runs.py) with their
tensors; the checks read those runs.  `_problems` reads a dict of metrics (name -> `(value,
update_op)`) for SL008 and SL027; what is wrong with a value is decided in
`speclint/families/metrics.py`, which the runtime shim's checks call too.
"""
from __future__ import annotations

from typing import Iterator

from speclint import apis
from speclint.families import metrics as M
from speclint.finding import Finding
from speclint.static.checks.base import check, module_check
from speclint.static.checks.common import fn_label, head_specs_on_tpu, host_runs, only_inspected, when_built
from speclint.static.extra_runs import host_call_pairs
from speclint.static.facts import ApiCalled, SummariesCleared
from speclint.static.syntax import source
from speclint.static.tfversion import v1_summary_op
from speclint.static.values import (
    BatchSize, Callable, Const, Dict, KerasMetric, NONE, Operation, SCALAR, Seq, Tensor, Unknown,
    Value, all_members, members,
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
    if only_inspected(fact):
        return  # TF checks the names at evaluate() only
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


@check("SL010")
def host_fn_summaries(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    an = fact.run.an
    for name, _, pair in host_call_pairs(fact):
        for hr in host_runs(fact, name):
            for ev in hr.calls:
                op = v1_summary_op(ev.path, ev.mod or an, ev.kwargs)
                if op is not None:
                    yield Finding("SL010", ev.node, "default", dict(
                        fn=fn_label(hr.fn), call=source(ev.node.func), field=name, op=op))


@check("SL012")
def model_fn_summaries(fact, ctx):
    if fact.cls != apis.TPU_ESTIMATOR_SPEC or not ctx.on_tpu(fact):
        return
    an = fact.run.an
    if an.log.of(SummariesCleared):
        # tensor2tensor's remove_summaries() before each TPU spec: graph collections are not
        # modelled, so a module that clears the summaries collection is not checked
        return
    events = [ev for ev in an.log.of(ApiCalled) if ev.root is fact.root and writes_summaries(ev)]
    if not events:
        return
    for ev in events:
        # the call itself runs on TPU (not under a CPU-only guard such as `if not use_tpu:`), in
        # a mode this TPU spec is built in, on a path with the same TPU flag
        if not ctx.tpu_modes(ev) & fact.modes:
            continue
        if fact.tpu is not None and ev.tpu is not None and fact.tpu != ev.tpu:
            continue
        helper = apis.SUMMARY_WRITING_HELPERS.get(ev.canonical)
        if helper is not None:
            if _writes_by_default(ev, *helper):
                yield Finding("SL012", ev.node, "helper", dict(call=source(ev.node.func), arg=helper[0]))
            continue
        op = v1_summary_op(ev.path, ev.mod or an, ev.kwargs)
        if op is None:
            continue
        yield Finding("SL012", ev.node, "default", dict(call=source(ev.node.func), op=op))


@module_check("SL012")
def canned_head_summaries(an, ctx):
    """A canned head's spec returned in TRAIN on TPU: the head writes the loss summaries itself
    (base_head.create_estimator_spec_summary: tf.compat.v1.summary.scalar)."""
    if an.log.of(SummariesCleared):
        return
    for call, modes, _ in head_specs_on_tpu(an, ctx):
        if apis.TRAIN in modes:
            yield Finding("SL012", call.func, "head", dict(call=source(call.func)))


def _writes_by_default(ev, keyword: str, position: int) -> bool:
    """The helper's summary list is certainly left to its default (None) or certainly non-empty."""
    arg = ev.kwargs.get(keyword) or (ev.args[position] if len(ev.args) > position else None)
    if arg is None:
        return True
    v = arg[0]
    return v == NONE or (isinstance(v, Seq) and v.complete and bool(v.items))


def writes_summaries(ev) -> bool:
    canonical = ev.canonical
    return canonical.startswith("tf.summary.") or canonical in apis.SUMMARY_WRITING_HELPERS


@check("SL011")
def host_fn_returns_none(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    for name, _, pair in host_call_pairs(fact):
        if name != "host_call":
            continue
        for hr in host_runs(fact, name):
            if hr.generator:
                continue
            values = [v for v, _ in hr.returns] + ([NONE] if hr.falls_through else [])
            if values and all(v == NONE for v in values):
                yield Finding("SL011", hr.name_node(), "default", dict(fn=fn_label(hr.fn), field=name))


def _batch_size_node(value, node):
    """The expression holding the per-core batch size in a size argument (`n` or `[n, -1]`)."""
    if all_members(value, lambda m: isinstance(m, BatchSize)):
        return node
    ms = members(value)
    if len(ms) == 1 and isinstance(ms[0], Seq) and ms[0].complete:
        for item in ms[0].items:
            if all_members(item.value, lambda m: isinstance(m, BatchSize)):
                return item.node if item.node is not None else node
    return None


@check("SL042")
def host_fn_batch_size(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    for name, _, pair in host_call_pairs(fact):
        for hr in host_runs(fact, name):
            for ev in hr.calls:
                which = apis.BATCH_SIZED_CALLS.get(ev.canonical)
                if which is None:
                    continue
                if which == "range":
                    sizes = list(ev.args)
                else:
                    arg = ev.kwargs.get(which) or (ev.args[1] if len(ev.args) > 1 else None)
                    sizes = [arg] if arg is not None else []
                for value, node in sizes:
                    where = _batch_size_node(value, node)
                    if where is not None:
                        yield Finding("SL042", where, "default", dict(
                            fn=fn_label(hr.fn), expr=source(where), call=source(ev.node.func), field=name))
                        break
