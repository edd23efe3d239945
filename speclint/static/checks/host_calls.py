"""eval_metrics / host_call of TPUEstimatorSpec: SL001-SL007 (form, arguments, tensors, closures)."""
from __future__ import annotations

import difflib

import libcst as cst

from speclint import apis
from speclint.finding import Finding
from speclint.static.checks.base import check
from speclint.static.syntax import source
from speclint.static.checks.common import (
    captured_tensors, fn_label, only, signature, when_built,
)
from speclint.static.extra_runs import host_call_pairs
from speclint.static.facts import TensorMade
from speclint.static.values import (
    NONE, NOT_BATCH, SCALAR, Callable, Const, Dict, Operation, Scaffold, Seq, Spec, Tensor, Unknown,
    all_members, members,
)

_NOT_CALLABLE = (Tensor, Dict, Seq, Const, Operation, Scaffold, Spec)
_NOT_CONTAINER = (Tensor, Const, Callable, Operation, Scaffold, Spec)


def _pair_problem(v):
    """(variant, params) when a host-call value is certainly not a (fn, tensors) pair."""
    if v == NONE:
        return None
    if isinstance(v, (Dict, Callable, Tensor, Operation, Scaffold, Spec, Const)):
        return "not_pair", {"got": v.describe()}
    if isinstance(v, Seq):
        if not v.complete:
            return None
        if len(v.items) != 2:
            return "wrong_length", {"n": len(v.items)}
        first, second = v.items[0].value, v.items[1].value
        if all_members(first, lambda m: isinstance(m, _NOT_CALLABLE)):
            return "fn_not_callable", {"got": first.describe() if not members(first)[1:] else "not a function"}
        if all_members(second, lambda m: isinstance(m, _NOT_CONTAINER)):
            return "tensors_not_container", {"got": second.describe() if not members(second)[1:] else "not a container"}
    return None


@check("SL001")
def pair_form(fact, ctx):
    if fact.cls != apis.TPU_ESTIMATOR_SPEC:
        return
    for name in apis.HOST_CALL_FIELDS:
        fa = fact.fields.get(name)
        if fa is None:
            continue
        ms = [m for m in members(fa.value) if m != NONE]
        problems = [_pair_problem(m) for m in ms]
        if not problems or any(p is None or isinstance(m, Unknown) for p, m in zip(problems, ms)):
            continue
        variant, params = problems[0]
        yield Finding("SL001", fa.node, variant, dict(params, field=name, when=when_built(fact)))


@check("SL002", "SL003")
def arguments(fact, ctx):
    for name, fa, pair in host_call_pairs(fact):
        fn = only(pair.items[0].value, Callable)
        sig = signature(fn) if fn else None
        if sig is None:
            continue
        tensors_item = pair.items[1]
        seq = only(tensors_item.value, Seq)
        if seq is not None and seq.complete:
            expected = sig.arity_mismatch(len(seq.items))
            if expected is not None:
                args = sig.fn_args()
                yield Finding("SL002", seq.node or tensors_item.node, "default", dict(
                    field=name, n=len(seq.items), fn=fn_label(fn), m=expected,
                    args=", ".join(args) if args else "none",
                    note=" (TF counts parameters that have defaults)"
                    if any(p.has_default for p in sig.params if p.kind == "positional") else ""))
            continue
        d = only(tensors_item.value, Dict)
        keys = d.literal_keys() if d is not None else None
        if keys is None:
            continue
        unexpected, missing = sig.keyword_problems(keys)
        node = d.node or tensors_item.node
        if unexpected:  # a misspelt key also leaves its parameter missing: one diagnostic
            accepted = [p.name for p in sig.params if p.kind in ("positional", "keyword_only")]
            close = difflib.get_close_matches(unexpected[0], accepted, n=1, cutoff=0.5)
            yield Finding("SL003", node, "unexpected", dict(
                field=name, fn=fn_label(fn), keys=", ".join(repr(k) for k in unexpected),
                key=unexpected[0], hint=f" (did you mean {close[0]!r}?)" if close else ""))
        elif missing:
            yield Finding("SL003", node, "missing", dict(
                field=name, fn=fn_label(fn), params=", ".join(f"`{p}`" for p in missing),
                param=missing[0]))


def _tensor_entries(pair):
    """(where, value, node) of each element of a host call's tensors list or dict."""
    tensors = members(pair.items[1].value)
    if len(tensors) != 1:
        return []
    t = tensors[0]
    if isinstance(t, Seq):
        entries = [(f"[{i}]" if t.complete else "", item.value, item.node) for i, item in enumerate(t.items)]
    elif isinstance(t, Dict):
        entries = [(f"[{e.key!r}]" if e.key is not None else "", e.value, e.node) for e in t.entries]
    else:
        return []
    return [e for e in entries if e[2] is not None]


@check("SL005")
def scalar_outfeed(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    for name, fa, pair in host_call_pairs(fact):
        for where, value, node in _tensor_entries(pair):
            if all_members(value, lambda m: isinstance(m, Tensor) and m.shape == SCALAR):
                yield Finding("SL005", node, "default", dict(
                    field=name, where=where, expr=source(node)))


_NESTED_FIX = ("Flatten it into the top level of the tensors (e.g. `{**{'labels_' + k: v for k, v in "
               "labels.items()}, 'logits': logits}`) and rebuild the structure inside the function.")
_VALUE_FIX = ("Pass Python values through the closure or `functools.partial`, and only tensors through "
              "`tensors`.")


def _not_a_tensor(v):
    """(got, Python type name, fix) when a host-call element is certainly not a tensor."""
    if isinstance(v, Dict):
        return "a dict", "dict", _NESTED_FIX
    if isinstance(v, Seq):
        return f"a {v.kind}", v.kind, _NESTED_FIX
    if isinstance(v, Const):
        return v.describe(), type(v.value).__name__, _VALUE_FIX
    if isinstance(v, Operation):
        return "an operation", "Operation", "Pass only tensors."
    if isinstance(v, Callable) and v.api is None:
        return v.describe(), "function", "Pass only tensors."
    return None


@check("SL004")
def nested_outfeed(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    for name, fa, pair in host_call_pairs(fact):
        for where, value, node in _tensor_entries(pair):
            ms = members(value)
            found = [_not_a_tensor(m) for m in ms]
            if not found or any(f is None for f in found) or any(isinstance(m, Unknown) for m in ms):
                continue
            got, pytype, fix = found[0]
            yield Finding("SL004", node, "default", dict(
                field=name, where=where, expr=source(node), got=got, pytype=pytype, fix=fix))


@check("SL006")
def non_batch_major_outfeed(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    an = fact.run.an
    for name, fa, pair in host_call_pairs(fact):
        for where, value, node in _tensor_entries(pair):
            if all_members(value, lambda m: isinstance(m, Tensor) and m.shape == NOT_BATCH):
                yield Finding("SL006", node, "default", dict(
                    field=name, where=where, expr=source(node), why=_why_not_batch(node, value, an)))


_WHY = {
    "tf.shape": "it is a shape vector (`tf.shape`)",
    "tf.math.confusion_matrix": "it is a `[num_classes, num_classes]` confusion matrix",
    "tf.confusion_matrix": "it is a `[num_classes, num_classes]` confusion matrix",
    "tf.constant": "it is a constant list",
    "tf.convert_to_tensor": "it is a constant list",
}


def _origin(an, value) -> str:
    """The `tf.` path of the call that made `value`, when the log noted it."""
    for made in reversed(an.log.of(TensorMade)):
        if made.value is value:
            return made.canonical
    return ""


def _why_not_batch(node, value, an) -> str:
    """Why dimension 0 is not the batch, from the call that made the value (written inline, or
    noted by the interpreter when the value went through a variable)."""
    canon = _origin(an, value) or ""
    if not canon and isinstance(node, cst.Call):
        full = an.imports.resolve_expr(node.func)
        canon = apis.canonical_path(full) if full else ""
    if canon in _WHY:
        return _WHY[canon]
    if canon.startswith(("tf.reduce_", "tf.math.reduce_", "tf.count_nonzero", "tf.math.count_nonzero")):
        return "it reduces a batch-major tensor over dimension 0, the batch"
    return ("its dimension 0 is not the per-core batch (a reduction over the batch, a shape, a confusion "
            "matrix or a constant list)")


@check("SL007")
def host_fn_closure(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    for name, fa, pair in host_call_pairs(fact):
        fn = only(pair.items[0].value, Callable)
        if fn is None:
            continue
        for captured, use in captured_tensors(fact, fn, ctx):
            yield Finding("SL007", use, "default", dict(field=name, fn=fn_label(fn), name=captured))
