"""What host functions do on the host: SL011 (returns None), SL042 (per-core batch size)."""
from __future__ import annotations

from speclint import apis
from speclint.finding import Finding
from speclint.static.checks.base import check
from speclint.static.syntax import source
from speclint.static.checks.common import fn_label, host_runs
from speclint.static.extra_runs import host_call_pairs
from speclint.static.values import NONE, BatchSize, Seq, all_members, members


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
