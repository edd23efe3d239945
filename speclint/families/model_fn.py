"""The model_fn's mode handling and signature (SL036-SL041, SL044): decisions shared by both
engines."""
from __future__ import annotations

from typing import Dict, Iterable, Optional, Tuple

from speclint import apis

Decision = Optional[Tuple[str, Dict[str, object]]]


def modes_text(modes: Iterable[str]) -> str:
    """"TRAIN", "TRAIN and EVAL", "TRAIN, EVAL and PREDICT"."""
    modes = set(modes)
    names = [apis.MODE_DISPLAY[m] for m in (apis.TRAIN, apis.EVAL, apis.PREDICT) if m in modes]
    return " and ".join(names) if len(names) <= 2 else "TRAIN, EVAL and PREDICT"


# --- SL036 -------------------------------------------------------------------------------------
def spec_mode(cls: str, expr: str, kind: str, *, got: Iterable[str] = (), called: Iterable[str] = (),
              got_text: Optional[str] = None) -> Decision:
    """SL036: a `cls` spec built with `mode=expr`.  kind: "none" (the mode is None), "string" (a
    string that is not a mode), "constant" (the modes `got`, while the construction also runs
    when the model_fn is called in the modes `called`).  got_text: how the message names `got`
    (default: modes_text(got))."""
    params = dict(cls=cls, expr=expr)
    if kind == "none":
        return "none", params
    if kind == "string":
        return "string", params
    got = frozenset(got)
    other = frozenset(called) - got
    if not other:
        return None
    return "constant", dict(params, got=modes_text(got) if got_text is None else got_text,
                            mode=modes_text(other))


# --- SL040 -------------------------------------------------------------------------------------
def model_fn_signature(fn: str, estimator: str, args: Iterable[str], *, params_given: Optional[bool] = None,
                       params_bound: bool = False) -> Decision:
    """SL040: model_fn `fn` given to `estimator` (apis.ESTIMATOR / apis.TPU_ESTIMATOR), whose
    arguments as TF sees them (tfsig.fn_args) are `args`.

    params_given: whether the estimator is certainly given `params=` (None: do not check for a
    missing `params`); params_bound: a functools.partial binds `params` by keyword."""
    args = list(args)
    if "features" not in args:
        return "no_features", dict(fn=fn, estimator=estimator, seen=", ".join(args) if args else "none")
    bad = [a for a in args if a not in apis.VALID_MODEL_FN_ARGS]
    tpu = estimator == apis.TPU_ESTIMATOR
    if params_given is not None and "params" not in args and (params_given or (tpu and not bad)):
        why = " (functools.partial(..., params=...) binds it, and TF does not count bound arguments)" \
            if params_bound else ""
        if bad:
            why += f" (it has `{bad[0]}`: rename it to `params`?)"
        if params_given:
            return "no_params", dict(
                fn=fn, why=why, estimator=estimator, passes="is given `params=`",
                when=f"{estimator}(...) fails at construction",
                tf_reason="but params ({...}) is passed to Estimator.",
                fix="Drop the partial's `params=` and pass the dict as the estimator's `params=`."
                if params_bound else "Add a `params` parameter to the model_fn.")
        return "no_params", dict(
            fn=fn, why=why, estimator=estimator, passes="always passes params",
            when="TPUEstimator fails at the first train(), evaluate() or predict() call",
            tf_reason="required by TPUEstimator to pass batch size as params['batch_size']",
            fix="Pass the dict as TPUEstimator's `params=` instead of binding it with "
                "functools.partial." if params_bound else
                "Add a `params` parameter (TPUEstimator puts the per-core batch size in "
                "params['batch_size']).")
    if bad:
        return "unexpected", dict(fn=fn, estimator=estimator, arg=bad[0], args=", ".join(repr(b) for b in bad))
    return None


def reserved_params_key(key) -> Decision:
    """SL040: a key of TPUEstimator's `params=` that TPUEstimator reserves."""
    if key in apis.RESERVED_PARAMS_KEYS:
        return "reserved_key", dict(key=key)
    return None
