"""scaffold / scaffold_fn: SL013, SL015."""
from __future__ import annotations

from speclint import apis
from speclint.finding import Finding
from speclint.static.checks.base import check
from speclint.static.syntax import source
from speclint.static.checks.common import captured_tensors, fn_label, only, when_built
from speclint.static.values import Callable, Scaffold, none_or_all


def _keyword_or_value(fa):
    return fa.arg.keyword if fa.arg.keyword is not None else fa.node


@check("SL013")
def scaffold_kind(fact, ctx):
    if fact.cls == apis.ESTIMATOR_SPEC:
        fa = fact.fields.get("scaffold")
        if fa is not None and none_or_all(fa.value, lambda m: isinstance(m, Callable)):
            yield Finding("SL013", _keyword_or_value(fa), "callable_scaffold", dict(
                expr=source(fa.node), when=when_built(fact)))
    else:
        fa = fact.fields.get("scaffold_fn")
        if fa is not None and none_or_all(fa.value, lambda m: isinstance(m, Scaffold)):
            yield Finding("SL013", _keyword_or_value(fa), "scaffold_instance", dict(expr=source(fa.node)))


@check("SL015")
def scaffold_closure(fact, ctx):
    if fact.cls != apis.TPU_ESTIMATOR_SPEC or not ctx.on_tpu(fact):
        return
    fa = fact.fields.get("scaffold_fn")
    fn = only(fa.value, Callable) if fa is not None else None
    if fn is None:
        return
    for captured, use in captured_tensors(fact, fn, ctx):
        yield Finding("SL015", use, "default", dict(fn=fn_label(fn), name=captured))
