"""Helpers shared by the checks: host function runs and signatures, closures, labels."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import libcst as cst

from speclint import apis
from speclint.static.extra_runs import seen_in_model_fn
from speclint.static import syntax
from speclint.static.scopes import free_names
from speclint.static.values import (
    Callable, NONE, Spec, Unknown, Value, all_members, is_model_tensor, members,
)


def host_runs(fact, field: str) -> list:
    """The runs of the host function(s) of `fact`'s `field` with its tensors (extra_runs.py)."""
    return fact.run.an.host_fn_runs.get((id(fact), field), [])


def only(v: Value, cls) -> Optional[Value]:
    """The value if it is certainly an instance of `cls` (the same one on every path)."""
    ms = members(v)
    if len(ms) == 1 and isinstance(ms[0], cls):
        return ms[0]
    return None


def candidates(v: Value, cls) -> list:
    """Every value `v` may be but None, when each is certainly an instance of `cls` (`f if c else
    g`, `f if c else None`, `x = None` then `x = f` under a flag): None is legal in the optional
    fields (eval_metrics, host_call, scaffold_fn, hooks), every other candidate is checked."""
    ms = [m for m in members(v) if m != NONE]
    if ms and all(isinstance(m, cls) for m in ms):
        return list(dict.fromkeys(ms))
    return []


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
        if all_members(value, is_model_tensor) and not _structure_only(node, name):
            yield name, use


# `tf.nest.pack_sequence_as(structure, flat)`: the structure argument is read for its shape only
# (nest flattens it in Python; no op reads its tensors).
_STRUCTURE_ONLY = frozenset(("pack_sequence_as",))


def _structure_only(fn_node, name: str) -> bool:
    """Every read of `name` in `fn_node` is the structure argument of `pack_sequence_as`
    (tensorflow/tpu detection's host_call_fn: `tf.nest.pack_sequence_as(host_call_inputs, flat_args)`)."""
    class V(cst.CSTVisitor):
        def __init__(self):
            self.uses, self.structural = 0, 0

        def visit_Name(self, n: cst.Name):
            if n.value == name:
                self.uses += 1

        def visit_Call(self, c: cst.Call):
            f = c.func
            last = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else None
            if last in _STRUCTURE_ONLY and c.args and isinstance(c.args[0].value, cst.Name) \
                    and c.args[0].value.value == name and c.args[0].keyword in (None,):
                self.structural += 1

    v = V()
    fn_node.body.visit(v)
    return v.structural > 0 and v.structural == v.uses


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


def _built_in_plain_function(fact) -> bool:
    """The spec is built in the body of a function analysed on its own (not a model_fn, not a
    helper a run called)."""
    root = fact.root
    return root is not None and root.ctx is None and fact.run is root and root.node is not None


def only_inspected(fact) -> bool:
    """A spec built in a function that is not a model_fn and only inspected there — a bare
    statement, or a name whose attributes are read (TF Estimator's model_fn_test.py): it never
    reaches an Estimator, so rules about what evaluate(), predict() or export do with it do not
    apply (its construction-time errors still do)."""
    return _built_in_plain_function(fact) and syntax.estimator_uses(fact.root.node, fact.node) == frozenset()


def handed_to_unknown(fact) -> bool:
    """A spec built in a function that is not a model_fn directly as an argument of another call
    (TF's canned-head tests: `Mock(return_value=EstimatorSpec(None))`): where it goes is unknown."""
    return _built_in_plain_function(fact) and syntax.is_argument(fact.root.node, fact.node)


def is_none(v: Value) -> bool:
    return all(m == NONE for m in members(v))


def known_not_none(v: Value) -> bool:
    return all(m != NONE and not isinstance(m, Unknown) for m in members(v))


def model_fn_runs(an) -> Iterator:
    for fn in an.model_fns:
        run = an.primary_run.get(fn)
        if run is not None and run.ctx is not None:
            yield run


# ---- canned heads ---------------------------------------------------------------------------
def _head_spec(v: Value):
    """The canned head's `create_estimator_spec(...)` call a returned value certainly is."""
    m = only(v, Spec)
    if m is not None and m.cls == apis.ESTIMATOR_SPEC and isinstance(m.node, cst.Call) \
            and isinstance(m.node.func, cst.Attribute) and m.node.func.attr.value == "create_estimator_spec":
        return m.node
    return None


class _ReturnSite:
    """A returned value as targeting sees a construction: its path's modes and TPU flag."""

    converted = False

    def __init__(self, st, run):
        self.modes, self.tpu, self.root = st.modes, st.tpu, run


def head_specs_on_tpu(an, ctx) -> Iterator[tuple]:
    """(call, modes, run) for each canned head `create_estimator_spec(...)` call a model_fn returns
    (tfops.CANNED_HEADS), with the modes in which it is returned on TPU (the head builds a plain
    EstimatorSpec in every mode, and writes TF1 summaries in TRAIN)."""
    found: dict = {}
    for run in model_fn_runs(an):
        for v, _, st in run.returns:
            call = _head_spec(v)
            if call is None or not st.exact:
                continue
            modes = ctx.targeting.tpu_modes(_ReturnSite(st, run))  # (none on a path off TPU)
            if modes:
                found.setdefault(id(call), [call, frozenset(), run])[1] |= modes
    for call, modes, run in found.values():
        yield call, modes, run
