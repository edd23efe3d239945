"""Helpers shared by the checks: host function runs and signatures, closures, labels."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import libcst as cst

from speclint import apis
from speclint.static.extra_runs import seen_in_model_fn
from speclint.static.scopes import free_names
from speclint.static.values import Callable, NONE, Unknown, Value, all_members, is_model_tensor, members


def host_runs(fact, field: str) -> list:
    """The runs of the host function(s) of `fact`'s `field` with its tensors (extra_runs.py)."""
    return fact.run.an.host_fn_runs.get((id(fact), field), [])


def only(v: Value, cls) -> Optional[Value]:
    """The value if it is certainly an instance of `cls` (the same one on every path)."""
    ms = members(v)
    if len(ms) == 1 and isinstance(ms[0], cls):
        return ms[0]
    return None


def signature(fn: Callable) -> Optional[apis.HostFnSignature]:
    node = fn.node
    if not isinstance(node, (cst.FunctionDef, cst.Lambda)) or fn.decorated:
        return None
    p = node.params
    params = [apis.Param(x.name.value, "positional", x.default is not None)
              for x in list(p.posonly_params) + list(p.params)]
    if isinstance(p.star_arg, cst.Param):
        params.append(apis.Param(p.star_arg.name.value, "var_positional"))
    params += [apis.Param(x.name.value, "keyword_only", x.default is not None) for x in p.kwonly_params]
    if p.star_kwarg is not None:
        params.append(apis.Param(p.star_kwarg.name.value, "var_keyword"))
    return apis.HostFnSignature(tuple(params), fn.bound_positional, fn.bound_keywords, fn.drops_first)


def captured_tensors(fact, fn: Callable, ctx) -> Iterator[Tuple[str, cst.Name]]:
    """(name, first use) for each name `fn` reads from the model_fn that is certainly a tensor."""
    node = fn.node
    run = fn.run
    if not isinstance(node, (cst.FunctionDef, cst.Lambda)) or run is None:
        return
    for name, use in free_names(node).items():
        if run is fact.run and name in fact.env:
            value, owner = fact.env[name], run
        else:
            value, owner = run.lookup(name)
        if owner is None or owner is ctx.module_run or owner.root is not fact.root:
            continue
        if all_members(value, is_model_tensor):
            yield name, use


def fn_label(fn: Callable) -> str:
    return fn.name if fn.name != "<lambda>" else "the lambda"


def when_built(fact) -> str:
    modes = fact.reaching_modes()
    if modes == frozenset((apis.EVAL,)):
        return " (this spec is built only in EVAL: at the first evaluate())"
    return ""


def duplicate_of_model_fn_view(fact, an) -> bool:
    """A fact of a helper's own standalone run that a model_fn run also saw (reported there)."""
    return seen_in_model_fn(fact, an)


def is_none(v: Value) -> bool:
    return all(m == NONE for m in members(v))


def known_not_none(v: Value) -> bool:
    return all(m != NONE and not isinstance(m, Unknown) for m in members(v))


def model_fn_runs(an) -> Iterator:
    for fn in an.model_fns:
        run = an.primary_run.get(fn)
        if run is not None and run.ctx is not None:
            yield run
