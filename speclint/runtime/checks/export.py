"""Export: Classification/Regression signatures that TF silently drops (SL029).

Estimator's export builds the SignatureDefs with `export_lib.build_all_signature_defs`; a signature
whose output cannot be served from the receiver is only logged as "EXCLUDED".  While the shim is
installed that function is wrapped: the result is compared with the export outputs of the spec the
model_fn just returned, and each dropped Classification/Regression output is reported at the
user's `export_outputs=` entry.
"""
from __future__ import annotations

import functools
import threading

from speclint import apis
from speclint.finding import Finding
from speclint.runtime import context as ctx

_LAST = threading.local()  # .spec / .construction of the last model_fn return on this thread


def remember_return(spec, construction) -> None:
    _LAST.spec, _LAST.construction = spec, construction


def _receiver_text(receiver_tensors, tf) -> str:
    tensors = receiver_tensors if isinstance(receiver_tensors, dict) else {"input": receiver_tensors}
    if len(tensors) != 1:
        names = ", ".join(repr(k) for k in tensors)
        return f"has {len(tensors)} tensors ({names}), not a single tf.string tensor"
    (key, t), = tensors.items()
    dtype = getattr(getattr(t, "dtype", None), "name", "?")
    return f"is a single {dtype} tensor ({key!r}), not a tf.string tensor of serialized tf.Example"


def wrap_build_all_signature_defs(original, tf):
    @functools.wraps(original)
    def build_all_signature_defs(receiver_tensors, export_outputs, *args, **kwargs):
        result = original(receiver_tensors, export_outputs, *args, **kwargs)
        if ctx.disabled() or not ctx.selected("SL029"):
            return result
        try:
            findings = list(_dropped(receiver_tensors, export_outputs, result, tf))
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"SL029: {type(exc).__name__}: {exc}")
            return result
        finally:
            remember_return(None, None)  # do not keep the export graph alive
        ctx.emit(findings)
        return result

    build_all_signature_defs.__speclint_patch__ = True
    return build_all_signature_defs


def _dropped(receiver_tensors, export_outputs, result, tf):
    if not isinstance(export_outputs, dict) or not isinstance(result, dict):
        return
    eo = tf.export_output
    spec = getattr(_LAST, "spec", None)
    con = getattr(_LAST, "construction", None)
    user_outputs = getattr(spec, "export_outputs", None) or {}
    for key, out in export_outputs.items():
        if key in result or not isinstance(out, (eo.ClassificationOutput, eo.RegressionOutput)):
            continue
        if not any(v is out for v in user_outputs.values()):
            continue  # not one of the user's outputs
        from speclint.runtime.checks.fields import _key_location
        user_key = next(k for k, v in user_outputs.items() if v is out)
        loc = _key_location(con, "export_outputs", user_key)[0] if con is not None else None
        yield Finding("SL029", loc, "default", dict(
            key=repr(key), cls=type(out).__name__, receiver=_receiver_text(receiver_tensors, tf)))


def patch_target(tf):
    """(module, attribute) Estimator looks build_all_signature_defs up on."""
    import importlib
    return importlib.import_module(apis.RUNTIME_EXPORT_LIB), "build_all_signature_defs"
