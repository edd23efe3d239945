"""What the shim calls: the checks of each phase of a model_fn call, each run guarded (an exception
inside a check becomes a SpecLintWarning and the other checks still run).

`on_construction` (a spec constructor was called), `before_call` / `on_return` / `on_error` (a
model_fn call), `model_fn_signature` (an estimator got a model_fn), `checking_scaffold_fn` (TF's
CPU conversion of a TPUEstimatorSpec), `wrap_build_all_signature_defs` (Estimator's export).
"""
from __future__ import annotations

from speclint import rulebook
from speclint.runtime import calls, context as ctx, tfapi
from speclint.runtime.checks import explain, export, fields, graph, host_calls, pairing, registry, scaffold, tpu_api
from speclint.runtime.objects import flatten

_MODULES = (fields, graph, host_calls, pairing, scaffold, tpu_api)  # the modules that fill the registries


def registered_codes() -> set:
    return {c for codes, _ in registry.CONSTRUCTION + registry.RETURN + registry.CONSTRUCTOR
            for c in codes} | set(registry.OTHER_CODES)


def _active(checks):
    """Checks with at least one selected rule that the rulebook has (a rule whose doc is not in
    this build is not reported)."""
    book = rulebook.load()
    return [(codes, fn) for codes, fn in checks
            if any(ctx.selected(c) and book.lookup(c) is not None for c in codes)]


def on_construction(construction, call) -> list:
    tf = tfapi.load()
    out = []
    for codes, fn in _active(registry.CONSTRUCTION):
        try:
            out.extend(fn(construction, call, tf))
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"{'/'.join(codes)} on a {construction.cls}: {type(exc).__name__}: {exc}")
    return out


def before_call(call, tf) -> None:
    graph_ = tf.v1.get_default_graph()
    call.graph = graph_
    call.first_op = getattr(graph_, "_last_id", None)
    if call.first_op is None:
        call.first_op = len(graph_.get_operations())
    call.summaries_before = len(graph_.get_collection(tf.v1.GraphKeys.SUMMARIES))
    call.input_ids = frozenset(
        id(t) for t in list(flatten(call.named.get("features"))) + list(flatten(call.named.get("labels")))
        if isinstance(t, tf.Tensor))


def on_return(result, call, tf) -> list:
    construction = call.construction_of(result) or calls.construction_of(result)
    out = []
    for codes, fn in _active(registry.RETURN):
        try:
            out.extend(fn(result, construction, call, tf))
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"{'/'.join(codes)} after the model_fn: {type(exc).__name__}: {exc}")
    return out


def on_error(exc, call, tf) -> list:
    """Findings that explain an exception the model_fn raised (SL041, SL032, SL028, SL043, SL046)."""
    out = []
    if ctx.selected("SL046"):
        out.extend(tpu_api.explain_tpu_name(exc, call, tf))
    if ctx.selected("SL043"):
        out.extend(explain.explain_keras_cross_shard(exc, call, tf))
    if ctx.selected("SL028"):
        out.extend(explain.explain_export_output_error(exc, call, tf))
    if ctx.selected("SL041"):
        out.extend(explain.explain_error(exc, call, tf))
    if ctx.selected("SL032"):
        out.extend(explain.explain_graph_error(exc, call, tf))
    return out


def model_fn_signature(fn, kind, tf) -> list:
    """SL040 for a model_fn given to an estimator of `kind` (before TF raises at construction)."""
    if not ctx.selected("SL040"):
        return []
    return pairing.model_fn_signature(fn, kind, tf)


def estimator_constructor(kind, given, tf) -> list:
    """Findings on an estimator's constructor arguments (`given`: name -> value), before TF
    validates them. Hook for constructor rules: SL040's reserved params keys today; issue 7's
    TPUEstimator rules (train_batch_size missing, ...) register here when their codes exist."""
    out = []
    for codes, fn in _active(registry.CONSTRUCTOR):
        try:
            out.extend(fn(kind, given, tf))
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"{'/'.join(codes)} on a {kind} constructor: {type(exc).__name__}: {exc}")
    return out


def checking_scaffold_fn(spec, construction):
    return scaffold.checking_scaffold_fn(spec, construction)


def remember_return(result, call) -> None:
    """The spec a model_fn just returned, for the export check (SL029)."""
    export.remember_return(result, call.construction_of(result) or calls.construction_of(result))


def explain_tpu_path_error(exc, call, tf) -> list:
    """What the shadow TPU call's exception explains (tpupath.py): a TPU name the TPU module lacks
    (SL046). The other explanations are about the CPU call's inputs, which the shadow mirrors."""
    return list(tpu_api.explain_tpu_name(exc, call, tf)) if ctx.selected("SL046") else []


def wrap_keras_applications():
    """(module, attribute, wrapper): Keras applications report SL047 when built on the TPU path."""
    module, attr = tpu_api.keras_patch_target()
    return module, attr, tpu_api.wrap_obtain_input_shape(getattr(module, attr))


def wrap_build_all_signature_defs(tf):
    """(module, attribute, wrapper) of Estimator's export signature builder (SL029)."""
    module, attr = export.patch_target(tf)
    return module, attr, export.wrap_build_all_signature_defs(getattr(module, attr), tf)
