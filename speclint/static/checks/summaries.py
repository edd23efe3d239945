"""TF 1 summaries where TPU cannot have them: SL010 (in host functions), SL012 (in a TPU model_fn)."""
from __future__ import annotations

from speclint import apis
from speclint.finding import Finding
from speclint.static.checks.base import check
from speclint.static.syntax import source
from speclint.static.checks.common import fn_label, host_runs
from speclint.static.extra_runs import host_call_pairs
from speclint.static.facts import ApiCalled, SummariesCleared
from speclint.static.tfversion import v1_summary_op
from speclint.static.values import NONE, Seq


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
