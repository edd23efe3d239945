"""scaffold / scaffold_fn: SL013 (kinds), SL014 (what scaffold_fn returns), SL015 (closures)."""
from __future__ import annotations

import functools

from speclint import apis
from speclint.finding import Finding
from speclint.runtime import context as ctx
from speclint.runtime import locate, tfapi
from speclint.runtime.checks.registry import construction_check, return_check
from speclint.runtime.objects import captured_model_tensors, describe, fn_name


@construction_check("SL013")
def scaffold_kind(con, call, tf):
    if con.cls == apis.ESTIMATOR_SPEC:
        s = con.args.get("scaffold")
        if s is not None and callable(s) and not isinstance(s, tf.Scaffold):
            yield Finding("SL013", con.keyword_location("scaffold"), "callable_scaffold",
                          dict(expr=con.expr("scaffold", fn_name(s)), when=""))
    else:
        s = con.args.get("scaffold_fn")
        if isinstance(s, tf.Scaffold):
            yield Finding("SL013", con.keyword_location("scaffold_fn"), "scaffold_instance",
                          dict(expr=con.expr("scaffold_fn", "scaffold")))


@return_check("SL015")
def scaffold_closure(spec, con, call, tf):
    if type(spec).__name__ != apis.TPU_ESTIMATOR_SPEC or not call.tpu_rules_apply(spec):
        return
    fn = spec.scaffold_fn
    if fn is None or isinstance(fn, tf.Scaffold) or not callable(fn) or isinstance(fn, type):
        return
    for name, value in captured_model_tensors(fn, call, tf):
        loc = locate.name_use(fn, name) or (con.field_location("scaffold_fn") if con else None)
        yield Finding("SL015", loc, "default", dict(fn=fn_name(fn), name=name))


def checking_scaffold_fn(spec, construction):
    """A stand-in for spec.scaffold_fn that TF's CPU conversion (as_estimator_spec) calls
    exactly once, as it would call the original: checks what it returns (SL014)."""
    original = spec.scaffold_fn
    tf = tfapi.load()

    @functools.wraps(original)
    def scaffold_fn(*args, **kwargs):
        result = original(*args, **kwargs)
        if isinstance(result, tf.Scaffold) or not ctx.selected("SL014"):
            return result
        try:
            loc = locate.function_location(original) or (
                construction.field_location("scaffold_fn") if construction else None)
            if result is None:
                how = "returns None"
                finding = Finding("SL014", loc, "returns_none", dict(fn=fn_name(original), how=how))
            else:
                finding = Finding("SL014", loc, "not_scaffold", dict(
                    fn=fn_name(original), expr=type(result).__name__, got=describe(result, tf)))
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"SL014: {type(exc).__name__}: {exc}")
            return result
        ctx.emit([finding])
        return result

    return scaffold_fn
