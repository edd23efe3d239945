"""Field contracts of both spec classes (SL018-SL032): decisions shared by both engines."""
from __future__ import annotations

from typing import Dict, Iterable, Optional, Tuple

from speclint import apis
from speclint.families import rule_text

Decision = Optional[Tuple[str, Dict[str, object]]]


# --- SL019 -------------------------------------------------------------------------------------
def required_field(cls: str, mode: str, given: Iterable[str], none: Iterable[str] = (),
                   intended: Iterable[str] = ()) -> Decision:
    """SL019: the first field `mode` requires (apis.REQUIRED_FIELDS, in order) that a `cls` spec
    built in that mode lacks.  given: the fields passed; none: those passed as None; intended:
    fields a misspelt keyword was meant for (SL018 reports those: when the first missing field is
    one of them, nothing is reported for this mode)."""
    given, none, intended = set(given), set(none), set(intended)
    for name in apis.REQUIRED_FIELDS[mode]:
        if name not in given:
            if name in intended:
                return None
            variant = "missing"
        elif name in none:
            variant = "none"
        else:
            continue
        return variant, dict(cls=cls, field=name, mode=apis.MODE_DISPLAY[mode], when=apis.MODE_WHEN[mode])
    return None


# --- SL028 -------------------------------------------------------------------------------------
def export_outputs_not_dict(expr: str, what: str) -> Decision:
    """SL028: `export_outputs=expr` is `what`, not a dict."""
    return "not_dict", dict(expr=expr, what=what)


def export_output_not_output(key: str, expr: str, what: str) -> Decision:
    """SL028: export_outputs[key] (`key`: as the message shows it, e.g. repr) is `what`, not an
    ExportOutput."""
    return "not_output", dict(key=key, expr=expr, what=what)


def export_outputs_default(keys: Iterable[str]) -> Decision:
    """SL028: several export outputs and none keyed 'serving_default'."""
    keys = list(keys)
    if len(keys) > 1 and apis.DEFAULT_SERVING_KEY not in keys:
        return "no_default", dict(n=len(keys))
    return None


def export_output_dtype(arg: str, expr: str, dtype: str) -> Decision:
    """SL028: argument `arg` of an ExportOutput (ClassificationOutput classes/scores,
    RegressionOutput value) has a dtype TF rejects."""
    return f"{arg}_dtype", dict(expr=expr, dtype=dtype)


# --- SL030 -------------------------------------------------------------------------------------
# What an element of a hooks list that is not a SessionRunHook is -> the named text of SL030's
# [messages] with the fix for it.
NOT_A_HOOK_KINDS = {
    "keras_callback": "fix_keras",  # a Keras callback (or another Keras object)
    "function": "fix_function",  # a function
    "constant": "fix_constant",  # a Python value: number, string, bool, None
    "other": "fix_other",  # any other object (e.g. a hook class instead of an instance)
}


def not_a_hook(field: str, expr: str, what: str, kind: str, when: str = "") -> Decision:
    """SL030: element `expr` of `field` is `what`, not a SessionRunHook; kind: one of
    NOT_A_HOOK_KINDS (picks the fix)."""
    return "not_hook", dict(field=field, expr=expr, what=what, fix=rule_text("SL030", NOT_A_HOOK_KINDS[kind]),
                            when=when)
