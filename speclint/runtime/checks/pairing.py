"""What the model_fn returned versus the estimator that called it (SL033, SL034, SL035) and the
mode it was called with (SL036)."""
from __future__ import annotations

from speclint import apis
from speclint.runtime.checks import return_check
from speclint.runtime.context import Finding
from speclint.runtime.values import mode_value


def _name(x):
    return type(x).__name__


@return_check("SL033")
def tpu_spec_plain_estimator(result, con, call, tf):
    if call.estimator != apis.ESTIMATOR:
        return
    loc = con.location if con else call.model_fn_location()
    if isinstance(result, tf.TPUEstimatorSpec):
        yield Finding("SL033", "tpu_spec", dict(), loc)
    elif callable(result) and isinstance(getattr(result, "__self__", None), tf.TPUEstimatorSpec) \
            and getattr(result, "__name__", "") == "as_estimator_spec":
        c2 = None
        from speclint.runtime import patching as shim
        c2 = shim.construction_of(result.__self__)
        yield Finding("SL033", "uncalled_conversion", dict(), c2.location if c2 else loc)


@return_check("SL034")
def estimator_spec_on_tpu(result, con, call, tf):
    if not call.on_tpu or not isinstance(result, tf.EstimatorSpec):
        return
    mode = mode_value(call.mode)
    loc = con.location if con else call.model_fn_location()
    if mode in (apis.EVAL, apis.PREDICT):
        yield Finding("SL034", "eval_predict" if mode == apis.EVAL else "predict",
                      dict(mode=apis.MODE_DISPLAY[mode]), loc)
    elif mode == apis.TRAIN and result.training_chief_hooks:
        yield Finding("SL034", "chief_hooks", dict(), con.field_location("training_chief_hooks") if con else loc)


@return_check("SL035")
def shared_host_calls(result, con, call, tf):
    if not isinstance(result, tf.TPUEstimatorSpec):
        return
    stored = getattr(type(result), "_host_calls", None)
    if not isinstance(stored, dict):
        return
    for name in apis.HOST_CALL_FIELDS:
        mine = getattr(result, name)
        theirs = stored.get(name)
        if mine is not theirs and not (mine is None and theirs is None):
            loc = con.location if con else call.model_fn_location()
            yield Finding("SL035", "default", dict(field=name), loc)
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
    if got is None:
        yield Finding("SL036", "none", dict(cls=cls, expr=expr), loc)
    elif got in apis.ALL_MODES:
        yield Finding("SL036", "constant", dict(cls=cls, expr=expr, got=repr(got),
                                               mode=apis.MODE_DISPLAY[called]), loc)
    else:
        yield Finding("SL036", "string", dict(cls=cls, expr=expr), loc)
