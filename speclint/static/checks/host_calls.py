"""eval_metrics / host_call of TPUEstimatorSpec: SL001-SL007 (form, arguments, tensors, closures)."""
from __future__ import annotations


import libcst as cst

from speclint import apis
from speclint.families import host_calls as H
from speclint.finding import Finding
from speclint.static.checks import fixes
from speclint.static.checks.base import check
from speclint.static.syntax import source
from speclint.static.checks.common import (
    candidates, captured_tensors, fn_label, only, signature, when_built,
)
from speclint.static.extra_runs import host_call_fields, host_call_pairs
from speclint.static.facts import TensorMade
from speclint.static.values import (
    NONE, NOT_BATCH, SCALAR, Callable, Const, Dict, Operation, Scaffold, Seq, Spec, Tensor, Unknown,
    all_members, members,
)

_NOT_CALLABLE = (Tensor, Dict, Seq, Const, Operation, Scaffold, Spec)
_NOT_CONTAINER = (Tensor, Const, Callable, Operation, Scaffold, Spec)


def _pair_facts(v):
    """The neutral facts of one member, or None when nothing is certain (static's _pair_problem)."""
    if v == NONE:
        return None
    if isinstance(v, (Dict, Callable, Tensor, Operation, Scaffold, Spec, Const)):
        return dict(got=v.describe())
    if isinstance(v, Seq):
        if not v.complete:
            return None
        if len(v.items) != 2:
            return dict(length=len(v.items))
        first, second = v.items[0].value, v.items[1].value
        fn_bad = all_members(first, lambda m: isinstance(m, _NOT_CALLABLE))
        t_bad = all_members(second, lambda m: isinstance(m, _NOT_CONTAINER))
        return dict(length=2, fn_callable=not fn_bad,
                    fn_got=(first.describe() if not members(first)[1:] else "not a function") if fn_bad else "",
                    tensors_container=not t_bad,
                    tensors_got=(second.describe() if not members(second)[1:] else "not a container") if t_bad else "")
    return None


def _kind(v):
    if isinstance(v, (Dict, Seq)):
        return "container", "a dict" if isinstance(v, Dict) else f"a {v.kind}", "dict" if isinstance(v, Dict) else v.kind
    if isinstance(v, Const):
        return "value", v.describe(), type(v.value).__name__
    if isinstance(v, Operation):
        return "operation", "an operation", "Operation"
    if isinstance(v, Callable) and v.api is None:
        return "function", v.describe(), "function"
    return None


@check("SL001")
def pair_form(fact, ctx):
    for name, fa, ms in host_call_fields(fact):
        when = when_built(fact)
        problems = []
        for m in ms:
            facts = _pair_facts(m)
            problems.append(H.pair_form(name, when=when, **facts) if facts is not None else None)
        if not problems or any(p is None or isinstance(m, Unknown) for p, m in zip(problems, ms)):
            continue
        yield Finding("SL001", fa.node, *problems[0],
                      fix=fixes.sl001_tensors(fa, name, fact, ctx) if problems[0][0] == "tensors_not_container" else None)


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
        positional = [p for p in sig.params if p.kind == "positional"]
        if sig.drops_first and positional:
            positional = positional[1:]
        positional = positional[sig.bound_positional:]
        kwonly = [p for p in sig.params if p.kind == "keyword_only"]
        decision = H.kwargs_mismatch(
            name, fn_label(fn), keys, accepted=[p.name for p in positional + kwonly],
            required=[p.name for p in positional + kwonly if not p.has_default and p.name not in sig.bound_keywords],
            has_varkw=sig.has_varkw,
            hint_from=[p.name for p in sig.params if p.kind in ("positional", "keyword_only")])
        if decision is not None:
            yield Finding("SL003", d.node or tensors_item.node, *decision)


def _outfed_pairs(fact, ctx):
    """The host calls of `fact` whose tensors are outfed on TPU: `eval_metrics` only when the spec
    is built in EVAL on TPU (tpu_estimator.py records it in the eval step only; TRAIN and PREDICT
    outfeed `host_call` alone)."""
    evaluates = apis.EVAL in ctx.tpu_modes(fact)
    return [(name, fa, pair) for name, fa, pair in host_call_pairs(fact)
            if name != "eval_metrics" or evaluates]


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
    for name, fa, pair in _outfed_pairs(fact, ctx):
        for where, value, node in _tensor_entries(pair):
            if all_members(value, lambda m: isinstance(m, Tensor) and m.shape == SCALAR):
                yield Finding("SL005", node, "default", dict(
                    field=name, where=where, expr=source(node)),
                    fix=fixes.sl005_reshape(ctx.module_run.an, node) if fixes.every_path(
                        ctx, fact, lambda f, node=node: _scalar_wherever(f, node)) else None)


def _scalar_wherever(fact, node) -> bool:
    """The entry `node` of a host call's tensors is a scalar wherever `fact` passes it."""
    return all(all_members(v, lambda m: isinstance(m, Tensor) and m.shape == SCALAR)
               for _, _, pair in host_call_pairs(fact) for _, v, n in _tensor_entries(pair) if n is node)


@check("SL004")
def nested_outfeed(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    for name, fa, pair in _outfed_pairs(fact, ctx):
        for where, value, node in _tensor_entries(pair):
            ms = members(value)
            found = [_kind(m) for m in ms]
            if not found or any(f is None for f in found) or any(isinstance(m, Unknown) for m in ms):
                continue
            kind, got, pytype = found[0]
            yield Finding("SL004", node, *H.tensor_not_flat(name, where, source(node), got, pytype, kind))


@check("SL006")
def non_batch_major_outfeed(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    an = fact.run.an
    for name, fa, pair in _outfed_pairs(fact, ctx):
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
        for fn in candidates(pair.items[0].value, Callable):  # `metric_fn if c else other_fn`
            for captured, use in captured_tensors(fact, fn, ctx):
                yield Finding("SL007", use, "default", dict(field=name, fn=fn_label(fn), name=captured))
