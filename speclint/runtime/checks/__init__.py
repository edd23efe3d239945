"""Checks on real objects.  Two phases:

- `on_construction(construction, call)`: the raw arguments of a spec constructor, before TF
  validates them (so the shim reports what TF would reject, and what TF silently accepts, with the
  user's line);
- `on_return(result, call, tf)`: the spec a model_fn returned, with the call's mode and params,
  the graph it built, and scratch-graph probes of its host functions.

A check is `fn(...) -> Iterable[Finding]`; it never prints and never raises into the user's job
(an exception inside a check becomes a SpecLintWarning and the other checks still run).
"""
from __future__ import annotations

from typing import List

from speclint.runtime import context as ctx

_CONSTRUCTION: List[tuple] = []
_RETURN: List[tuple] = []


def construction_check(*codes):
    def deco(fn):
        _CONSTRUCTION.append((codes, fn))
        return fn
    return deco


def return_check(*codes):
    def deco(fn):
        _RETURN.append((codes, fn))
        return fn
    return deco


def _load():
    from speclint.runtime.checks import fields, graph, host_calls, pairing, scaffold  # noqa: F401


# Rules checked outside the two registries: SL014 when TF calls scaffold_fn (scaffold.py), SL040
# when an estimator is constructed (patching.py), SL041 when the model_fn raises (params.py),
# SL029 when Estimator's export builds the signatures (export.py).
OTHER_CODES = frozenset(("SL014", "SL029", "SL040", "SL041"))


def registered_codes() -> set:
    _load()
    return {c for codes, _ in _CONSTRUCTION + _RETURN for c in codes} | set(OTHER_CODES)


def _active(registry):
    """Checks with at least one selected rule that the rulebook has (a rule whose doc is not in
    this build is not reported)."""
    from speclint import rulebook
    book = rulebook.load()
    return [(codes, fn) for codes, fn in registry
            if any(ctx.selected(c) and book.lookup(c) is not None for c in codes)]


def on_construction(construction, call) -> list:
    _load()
    from speclint.runtime import tfapi
    tf = tfapi.load()
    out = []
    for codes, fn in _active(_CONSTRUCTION):
        try:
            out.extend(fn(construction, call, tf))
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"{'/'.join(codes)} on a {construction.cls}: {type(exc).__name__}: {exc}")
    return out


def before_call(call, tf) -> None:
    graph = tf.v1.get_default_graph()
    call.graph = graph
    call.first_op = getattr(graph, "_last_id", None)
    if call.first_op is None:
        call.first_op = len(graph.get_operations())
    call.summaries_before = len(graph.get_collection(tf.v1.GraphKeys.SUMMARIES))
    from speclint.runtime.values import flatten
    call.input_ids = frozenset(
        id(t) for t in list(flatten(call.named.get("features"))) + list(flatten(call.named.get("labels")))
        if isinstance(t, tf.Tensor))


def on_return(result, call, tf) -> list:
    _load()
    from speclint.runtime import patching as shim
    construction = call.construction_of(result) or shim.construction_of(result)
    out = []
    for codes, fn in _active(_RETURN):
        try:
            out.extend(fn(result, construction, call, tf))
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"{'/'.join(codes)} after the model_fn: {type(exc).__name__}: {exc}")
    return out


def on_error(exc, call, tf) -> list:
    """Findings that explain an exception the model_fn raised (SL041, SL032, SL028, SL043)."""
    from speclint.runtime.checks.params import (
        explain_error, explain_export_output_error, explain_graph_error, explain_keras_cross_shard,
    )
    out = []
    if ctx.selected("SL043"):
        out.extend(explain_keras_cross_shard(exc, call, tf))
    if ctx.selected("SL028"):
        out.extend(explain_export_output_error(exc, call, tf))
    if ctx.selected("SL041"):
        out.extend(explain_error(exc, call, tf))
    if ctx.selected("SL032"):
        out.extend(explain_graph_error(exc, call, tf))
    return out


def checking_scaffold_fn(spec, construction):
    from speclint.runtime.checks.scaffold import checking_scaffold_fn as impl
    return impl(spec, construction)
