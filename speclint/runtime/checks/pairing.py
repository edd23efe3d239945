"""What the model_fn returned versus the estimator that called it (SL017, SL033, SL034, SL035,
SL038) and the mode it was called with (SL036)."""
from __future__ import annotations

from speclint import apis
from speclint.families import model_fn as family
from speclint.finding import Finding
from speclint.runtime import calls, locate
from speclint.runtime.checks.registry import constructor_check, return_check
from speclint.runtime.objects import fn_name, mode_value


def _name(x):
    return type(x).__name__


def _spec_expr(con, call, form="full"):
    """(location, source) of the returned spec's construction, else the model_fn. `form`: the
    whole call ("full"), its callee with "(...)" ("ctor"), or the callee ("func"), as the static
    engine quotes it for the rule."""
    if con is not None and con.location is not None:
        call_node = con.call()
        if call_node is None:
            src = con.cls if form == "func" else con.cls + "(...)"
        elif form == "full":
            src = locate.source_of(call_node)
        else:
            src = locate.source_of(call_node.func) + ("(...)" if form == "ctor" else "")
        return con.location, src
    return call.model_fn_location(), "the returned value"


def _when(call):
    mode = mode_value(call.mode)
    return apis.MODE_WHEN.get(mode, "the first train(), evaluate() or predict() call")


@return_check("SL033")
def tpu_spec_plain_estimator(result, con, call, tf):
    if call.estimator != apis.ESTIMATOR:
        return
    if isinstance(result, tf.TPUEstimatorSpec):
        loc, expr = locate.return_value(call.model_fn)  # the `return` that hands it to Estimator
        if loc is None or (expr.isidentifier() and con is not None and con.location is not None):
            # `return output_spec`, shared by every branch: the misuse is the construction (as static)
            loc, expr = _spec_expr(con, call, "ctor")
        yield Finding("SL033", loc, "returned", dict(expr=expr, fn=fn_name(call.model_fn), when=_when(call)))
    elif callable(result) and isinstance(getattr(result, "__self__", None), tf.TPUEstimatorSpec) \
            and getattr(result, "__name__", "") == "as_estimator_spec":
        c2 = calls.construction_of(result.__self__)
        loc, expr = _spec_expr(c2, call)
        yield Finding("SL033", loc, "uncalled", dict(expr=f"{expr}.as_estimator_spec"))


@return_check("SL034")
def estimator_spec_on_tpu(result, con, call, tf):
    if not call.on_tpu or not isinstance(result, tf.EstimatorSpec):
        return
    mode = mode_value(call.mode)
    loc, expr = _spec_expr(con, call, "func")  # the template adds "(...)"
    if mode == apis.EVAL:
        yield Finding("SL034", loc, "eval", dict(expr=expr))
    elif mode == apis.PREDICT:
        yield Finding("SL034", loc, "predict", dict(expr=expr))
    elif mode == apis.TRAIN and result.training_chief_hooks:
        expr = con.expr("training_chief_hooks", "...") if con else "..."
        yield Finding("SL034", con.field_location("training_chief_hooks") if con else loc, "chief_hooks",
                      dict(expr=expr))


@return_check("SL017")
def ignored_scaffold(result, con, call, tf):
    """(a): an EstimatorSpec's Scaffold with user content, returned to TPUEstimator on TPU."""
    if not call.on_tpu or not isinstance(result, tf.EstimatorSpec) or mode_value(call.mode) != apis.TRAIN:
        return
    s = result.scaffold
    if s is None or con is None or "scaffold" not in con.args:
        return
    if any(getattr(s, attr, None) is not None for attr in ("init_fn", "saver", "init_op", "ready_op", "local_init_op")):
        yield Finding("SL017", con.keyword_location("scaffold"), "ignored_scaffold",
                      dict(expr=con.expr("scaffold", "scaffold")))


@return_check("SL035")
def shared_host_calls(result, con, call, tf):
    if not isinstance(result, tf.TPUEstimatorSpec):
        return
    stored = getattr(type(result), "_host_calls", None)
    if not isinstance(stored, dict):
        return
    for name in apis.HOST_CALL_FIELDS:
        mine, theirs = getattr(result, name), stored.get(name)
        if mine is theirs or mine is None:
            continue
        if con is None:  # not built by a constructor call: namedtuple _replace()
            loc = locate.find_call_in_function(call.model_fn_location(), "_replace")
            node = locate.call_node(loc, locate.abs_path_of_location(loc)) if loc else None
            expr = locate.source_of(node.func) if node is not None else "spec._replace"  # as static
            yield Finding("SL035", loc or call.model_fn_location(), "replace", dict(expr=expr, field=name))
            return
        later = [c for c in call.constructions if c.cls == apis.TPU_ESTIMATOR_SPEC and c is not con
                 and call.constructions.index(c) > call.constructions.index(con)]
        loc, expr = _spec_expr(con, call)
        other = (f"at line {later[-1].location.line}" if later and later[-1].location else "later")
        yield Finding("SL035", loc, "missing" if theirs is None else "different",
                      dict(expr=expr, field=name, other=other))
        return


@return_check("SL036")
def mode_mismatch(result, con, call, tf):
    if not isinstance(result, (tf.EstimatorSpec, tf.TPUEstimatorSpec)):
        return
    called = mode_value(call.mode)
    if called is None or result.mode == called:
        return
    got = result.mode
    expr = con.expr("mode", repr(got)) if con else repr(got)
    cls = _name(result)
    loc = con.field_location("mode") if con else call.model_fn_location()
    kind = "none" if got is None else "constant" if got in apis.ALL_MODES else "string"
    # a ModeKeys value by its name (EVAL), as the static engine; another value by its repr
    got_text = apis.MODE_DISPLAY[got] if got in apis.ALL_MODES else repr(got)
    yield Finding("SL036", loc, *family.spec_mode(cls, expr, kind, got=(got,), called=(called,),
                                                  got_text=got_text))


@return_check("SL038")
def no_spec(result, con, call, tf):
    mode = mode_value(call.mode)
    modes = f" in {apis.MODE_DISPLAY[mode]}" if mode else ""
    fn = fn_name(call.model_fn)
    if result is None:
        yield Finding("SL038", call.model_fn_location(), "returns_none",
                      dict(fn=fn, modes=modes, when=_when(call)))
    elif isinstance(result, tuple) and not hasattr(result, "_fields") and len(result) >= 1 and \
            isinstance(result[0], (tf.EstimatorSpec, tf.TPUEstimatorSpec)):
        yield Finding("SL038", call.model_fn_location(), "tuple",
                      dict(fn=fn, expr="spec,", n=len(result), when=_when(call)))


def model_fn_signature(fn, kind, tf) -> list:
    """SL040, as TF's _verify_model_fn_args decides it (called when an estimator of `kind` gets
    `fn`, before TF raises at construction)."""
    try:
        args = list(tf.function_utils.fn_args(fn))
    except Exception:  # noqa: BLE001 - TF itself will complain
        return []
    decision = family.model_fn_signature(fn_name(fn), kind, args)  # TF raises itself for `params`
    if decision is None:
        return []
    loc = locate.function_location(fn) or locate.frame_location(locate.caller_frame(1))
    return [Finding("SL040", loc, *decision)]


@constructor_check("SL040")
def reserved_params_keys(kind, given, tf):
    """SL040: TPUEstimator(params={...'batch_size'...}) raises at construction; point at the key
    in the constructor call (else the call)."""
    params = given.get("params")
    if kind != apis.TPU_ESTIMATOR or not isinstance(params, dict):
        return
    frame = locate.caller_frame(1)
    at = locate.frame_location(frame) if frame is not None else None
    for key in params:
        decision = family.reserved_params_key(key)
        if decision is None:
            continue
        loc = at
        node = locate.call_node(at, locate.abs_path_of(frame)) if at is not None else None
        for kw in getattr(node, "keywords", ()) or ():
            if kw.arg == "params" and hasattr(kw.value, "keys"):
                for k in kw.value.keys:
                    if getattr(k, "value", None) == key:
                        loc = locate.node_location(at.path, k)
        yield Finding("SL040", loc, *decision)
