"""A wrapper with exactly the model_fn's signature as Estimator sees it.

Estimator and TPUEstimator decide what to pass by `function_utils.fn_args(model_fn)`, which reads
`getfullargspec(...).args` (not `__wrapped__`, not `__signature__` on every TF version), drops the
first argument of a bound method and the arguments a `functools.partial` binds.  So the wrapper is
a generated `def` whose positional parameters are exactly `fn_args(original)`, in order, followed by
the original's keyword-only parameters and `*args` / `**kwargs` when it has them.  Parameters with
a default get a sentinel default, so the wrapper forwards only what its caller passed: the original
sees exactly the call it would have seen.
"""
from __future__ import annotations

import functools
import inspect
import keyword
from typing import Callable, Dict, List, Tuple

from speclint import tfsig


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<not passed>"


MISSING = _Missing()


def _underlying(fn):
    """The object whose signature Python reports for `fn` (for defaults and kinds)."""
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def tf_signature(fn) -> Tuple[List[tfsig.Param], bool, List[tfsig.Partial]]:
    """The neutral description `speclint.tfsig` decides on, read from a live callable as TF reads
    it: (parameters of the function, a callable object's `__call__`, or the function inside the
    partials; whether that is a bound method; what each partial binds, innermost first)."""
    partials = []
    while isinstance(fn, functools.partial):
        partials.append((len(fn.args), frozenset(fn.keywords or {})))
        fn = fn.func
    partials.reverse()
    target = fn
    if not (inspect.isfunction(fn) or inspect.ismethod(fn)) and callable(fn) \
            and not inspect.isbuiltin(fn) and hasattr(fn, "__call__") and not inspect.isclass(fn):
        target = fn.__call__
    spec = inspect.getfullargspec(target)
    n_defaults = len(spec.defaults or ())
    first_default = len(spec.args) - n_defaults
    params = [tfsig.Param(a, tfsig.POSITIONAL, i >= first_default) for i, a in enumerate(spec.args)]
    if spec.varargs:
        params.append(tfsig.Param(spec.varargs, tfsig.VAR_POSITIONAL))
    params += [tfsig.Param(a, tfsig.KEYWORD_ONLY, a in (spec.kwonlydefaults or {})) for a in spec.kwonlyargs]
    if spec.varkw:
        params.append(tfsig.Param(spec.varkw, tfsig.VAR_KEYWORD))
    return params, inspect.ismethod(target), partials


def estimator_args(fn) -> Tuple[str, ...]:
    """`tensorflow.python.util.function_utils.fn_args`, computed without TensorFlow."""
    params, is_method, partials = tf_signature(fn)
    return tfsig.fn_args(params, is_method=is_method, partials=partials)


def make_wrapper(original, call: Callable[[Dict[str, object], tuple], object], name: str = None):
    """A function with `original`'s Estimator-visible signature that calls `call(kwargs, varargs)`.

    `kwargs` holds every named argument the caller passed (by position or keyword); `varargs`
    the extra positional ones when the original has `*args`.
    """
    positional = list(estimator_args(original))
    sig = _underlying(original)
    params = dict(sig.parameters) if sig is not None else {}
    has_default = {n: p.default is not inspect.Parameter.empty for n, p in params.items()}
    kwonly = [n for n, p in params.items()
              if p.kind is inspect.Parameter.KEYWORD_ONLY and n not in positional]
    var_pos = next((n for n, p in params.items() if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
    var_kw = next((n for n, p in params.items() if p.kind is inspect.Parameter.VAR_KEYWORD), None)

    used = set(positional) | set(kwonly) | {var_pos, var_kw}
    call_name, missing_name = "__speclint_call", "__speclint_missing"
    assert call_name not in used and missing_name not in used

    parts: List[str] = []
    seen_default = False
    for n in positional:
        if not n.isidentifier() or keyword.iskeyword(n):
            raise ValueError(f"cannot wrap a model_fn with parameter {n!r}")
        if has_default.get(n) or seen_default:
            parts.append(f"{n}={missing_name}")
            seen_default = True
        else:
            parts.append(n)
    if var_pos:
        parts.append(f"*{var_pos}")
    elif kwonly:
        parts.append("*")
    for n in kwonly:
        parts.append(f"{n}={missing_name}" if has_default.get(n) else n)
    if var_kw:
        parts.append(f"**{var_kw}")

    names = positional + kwonly
    collect = "{" + ", ".join(f"{n!r}: {n}" for n in names) + "}"
    body = [f"    __named = {collect}",
            f"    __named = {{k: v for k, v in __named.items() if v is not {missing_name}}}"]
    if var_kw:
        body.append(f"    __named.update({var_kw})")
    body.append(f"    return {call_name}(__named, {var_pos if var_pos else '()'})")
    fname = name or getattr(original, "__name__", None) or "model_fn"
    if not fname.isidentifier() or keyword.iskeyword(fname):
        fname = "model_fn"
    src = f"def {fname}({', '.join(parts)}):\n" + "\n".join(body) + "\n"
    namespace = {call_name: call, missing_name: MISSING}
    exec(compile(src, f"<speclint wrapper of {fname}>", "exec"), namespace)  # noqa: S102
    wrapper = namespace[fname]
    for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
        value = getattr(original, attr, None)
        if value is None and isinstance(original, functools.partial):
            value = getattr(original.func, attr, None)
        if isinstance(value, str) or (attr == "__doc__" and value is None):
            try:
                setattr(wrapper, attr, value)
            except (AttributeError, TypeError):
                pass
    return wrapper


def forward(original, named: Dict[str, object], varargs: tuple):
    """Call `original` the way its caller called the wrapper."""
    if not varargs:
        return original(**named)
    rest = dict(named)
    head = []
    for n in estimator_args(original):
        if n not in rest:
            break
        head.append(rest.pop(n))
    return original(*head, *varargs, **rest)
