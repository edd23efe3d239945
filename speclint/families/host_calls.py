"""eval_metrics / host_call of TPUEstimatorSpec (SL001-SL007): decisions shared by both engines."""
from __future__ import annotations

import difflib
from typing import Dict, Iterable, Optional, Tuple

from speclint.families import rule_text

Decision = Optional[Tuple[str, Dict[str, object]]]


# --- SL001 -------------------------------------------------------------------------------------
def pair_form(field: str, *, length: Optional[int] = None, got: str = "", fn_callable: bool = True,
              fn_got: str = "", tensors_container: bool = True, tensors_got: str = "",
              when: str = "") -> Decision:
    """SL001: what is wrong with a host call given as `field=value`, checked in TF's order.

    length: len(value) when the value is a tuple or list, None when it is not one (`got` then
    describes the value); fn_callable / tensors_container: whether value[0] is a function and
    value[1] a list, tuple or dict (`fn_got` / `tensors_got` describe them); when: the engine's
    "when is this spec built" suffix ("" for the runtime)."""
    if length is None:
        return "not_pair", dict(field=field, got=got, when=when)
    if length != 2:
        return "wrong_length", dict(field=field, n=length, when=when)
    if not fn_callable:
        return "fn_not_callable", dict(field=field, got=fn_got, when=when)
    if not tensors_container:
        return "tensors_not_container", dict(field=field, got=tensors_got, when=when)
    return None


# --- SL003 -------------------------------------------------------------------------------------
def kwargs_mismatch(field: str, fn: str, keys: Iterable, *, accepted: Iterable[str],
                    required: Iterable[str], has_varkw: bool,
                    hint_from: Optional[Iterable[str]] = None) -> Decision:
    """SL003: TF calls `fn(**tensors)` with a dict of tensors: keys that are not parameters
    (unless fn has **kwargs), else required parameters without a key.

    accepted: the names `fn(**tensors)` can bind (after a bound self and what functools.partial
    binds positionally); required: those without a default that nothing binds; hint_from: the
    names a "did you mean" hint may suggest (default: accepted)."""
    keys = list(keys)
    accepted = list(accepted)
    unexpected = [] if has_varkw else [k for k in keys if k not in accepted]
    missing = [r for r in required if r not in keys]
    if unexpected:  # a misspelt key also leaves its parameter missing: one finding
        candidates = accepted if hint_from is None else list(hint_from)
        close = difflib.get_close_matches(str(unexpected[0]), candidates, n=1, cutoff=0.5)
        return "unexpected", dict(field=field, fn=fn, keys=", ".join(repr(k) for k in unexpected),
                                  key=unexpected[0], hint=f" (did you mean {close[0]!r}?)" if close else "")
    if missing:
        return "missing", dict(field=field, fn=fn, params=", ".join(f"`{p}`" for p in missing),
                               param=missing[0])
    return None


# --- SL004 -------------------------------------------------------------------------------------
# What an element of `tensors` that is not a tensor is -> the named text of SL004's [messages]
# with the fix for it.
NOT_A_TENSOR_KINDS = {
    "container": "fix_nested",  # a dict, list or tuple nested in the tensors
    "value": "fix_value",  # a Python (or numpy) value: number, string, bool, None
    "operation": "fix_only_tensors",  # a tf.Operation
    "function": "fix_only_tensors",  # a function
    "other": "fix_only_tensors",  # any other object
}


def tensor_not_flat(field: str, where: str, expr: str, got: str, pytype: str, kind: str) -> Decision:
    """SL004: an element of a host call's tensors (`field` tensor`where` `expr`) is `got`, of
    Python type `pytype`, not a tensor; kind: one of NOT_A_TENSOR_KINDS (picks the fix)."""
    return "default", dict(field=field, where=where, expr=expr, got=got, pytype=pytype,
                           fix=rule_text("SL004", NOT_A_TENSOR_KINDS[kind]))
