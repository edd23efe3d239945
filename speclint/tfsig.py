"""TF signatures: which arguments TensorFlow sees a function take, decided once for both engines.

Estimator passes model_fn arguments by name, and TPUEstimatorSpec counts a host function's
arguments, with `tensorflow.python.util.function_utils.fn_args`:

    def fn_args(fn):
      if isinstance(fn, functools.partial):
        args = fn_args(fn.func)
        args = [a for a in args[len(fn.args):] if a not in (fn.keywords or {})]
      else:
        if _is_callable_object(fn):
          fn = fn.__call__
        args = tf_inspect.getfullargspec(fn).args
        if _is_bound_method(fn) and args:
          args.pop(0)
      return tuple(args)

Both engines describe a function neutrally -- its parameters (`Param`: name, kind, has a default),
whether it is a bound method, and what each `functools.partial` around it binds -- and ask
`fn_args` here: the static engine from the source (`apis.HostFnSignature`, built by the static
checks), the runtime engine from the live object (`runtime/signature.py`).  Nothing here imports
TensorFlow or either engine.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Tuple

POSITIONAL = "positional"  # positional-or-keyword and positional-only (getfullargspec().args)
KEYWORD_ONLY = "keyword_only"
VAR_POSITIONAL = "var_positional"
VAR_KEYWORD = "var_keyword"
KINDS = (POSITIONAL, KEYWORD_ONLY, VAR_POSITIONAL, VAR_KEYWORD)


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # one of KINDS
    has_default: bool = False


Partial = Tuple[int, Iterable[str]]  # (positional arguments bound, keyword names bound)


def fn_args(params: Iterable[Param], *, is_method: bool = False, partials: Iterable[Partial] = ()) -> tuple:
    """Exactly `function_utils.fn_args`: the named positional parameters, without the first one
    of a bound method, then for each `functools.partial` around the function (innermost first)
    without the positional arguments it binds and the names it binds by keyword."""
    args = [p.name for p in params if p.kind == POSITIONAL]
    if is_method and args:
        args.pop(0)
    for n_positional, keywords in partials:
        bound = frozenset(keywords or ())
        args = [a for a in args[n_positional:] if a not in bound]
    return tuple(args)
