"""eval_metrics / host_call of TPUEstimatorSpec (SL001-SL011) and EstimatorSpec metric names."""
from __future__ import annotations

import inspect
import numbers

from speclint import apis
from speclint.families import host_calls as family
from speclint.families import metrics
from speclint.finding import Finding
from speclint.runtime import locate, probe
from speclint.runtime.checks.registry import construction_check, return_check
from speclint.runtime.objects import (
    batch_size, captured_model_tensors, describe, fn_name, is_model_tensor, is_tensor, metric_value_facts,
    tensor_entries,
    tensor_name,
)


def _pairs(spec_args, cls):
    """(field, fn, tensors) for each host call in the valid (fn, tensors) form."""
    if cls != apis.TPU_ESTIMATOR_SPEC:
        return
    for name in apis.HOST_CALL_FIELDS:
        v = spec_args.get(name)
        if isinstance(v, (tuple, list)) and len(v) == 2 and callable(v[0]) \
                and isinstance(v[1], (tuple, list, dict)):
            yield name, v[0], v[1]


def _tensors_node(con, field):
    node = locate.value_of(con.field_node(field)) if con is not None else None
    if node is not None and hasattr(node, "elts") and len(node.elts) == 2:
        return node.elts[1]
    if node is not None and hasattr(node, "id") and con.abs_path:  # a name bound earlier
        value = locate.resolve_name(con.abs_path, con.location.line, node.id)
        if value is not None and hasattr(value, "elts") and len(value.elts) == 2:
            return value.elts[1]
    return None


def _element(con, field, key, index):
    """(location, source text) of one element of the tensors list/dict, when visible."""
    tnode = _tensors_node(con, field)
    if tnode is None:
        return None, None
    if hasattr(tnode, "id") and con.abs_path:  # tensors = name bound to a literal
        tnode = locate.resolve_name(con.abs_path, con.location.line, tnode.id) or tnode
    elt = None
    if hasattr(tnode, "elts") and isinstance(index, int) and index < len(tnode.elts):
        elt = tnode.elts[index]
    elif hasattr(tnode, "keys"):
        for k, v in zip(tnode.keys, tnode.values):
            if k is not None and getattr(k, "value", None) == key:
                elt = v
    if elt is None:
        return None, None
    return locate.node_location(con.location.path, elt), locate.source_of(elt)


def _field_loc(con, field):
    return con.field_location(field) if con is not None else None


@construction_check("SL001")
def pair_form(con, call, tf):
    if con.cls != apis.TPU_ESTIMATOR_SPEC:
        return
    for name in apis.HOST_CALL_FIELDS:
        v = con.args.get(name)
        if v is None:
            continue
        if not isinstance(v, (tuple, list)):
            decision = family.pair_form(name, got=describe(v, tf))
        elif len(v) != 2:
            decision = family.pair_form(name, length=len(v))
        else:
            fn_ok, tensors_ok = callable(v[0]), isinstance(v[1], (tuple, list, dict))
            decision = family.pair_form(
                name, length=2, fn_callable=fn_ok, fn_got="" if fn_ok else describe(v[0], tf),
                tensors_container=tensors_ok, tensors_got="" if tensors_ok else describe(v[1], tf))
        if decision is not None:
            yield Finding("SL001", con.field_location(name), *decision)


def _tf_fn_args(fn, tf):
    return tuple(tf.function_utils.fn_args(fn))


@construction_check("SL002")
def arity(con, call, tf):
    from tensorflow.python.util import tf_inspect
    for name, fn, tensors in _pairs(con.args, con.cls):
        if not isinstance(tensors, (tuple, list)):
            continue
        if tf_inspect.getfullargspec(fn).varargs is not None:
            continue
        args = _tf_fn_args(fn, tf)
        if len(args) == len(tensors):
            continue
        has_defaults = False
        try:
            sig = inspect.signature(fn)
            has_defaults = any(p.default is not inspect.Parameter.empty and p.name in args
                               for p in sig.parameters.values())
        except (TypeError, ValueError):
            pass
        node = _tensors_node(con, name)
        loc = locate.node_location(con.location.path, node) if node is not None else con.field_location(name)
        yield Finding("SL002", loc, "default", dict(
            field=name, n=len(tensors), fn=fn_name(fn), m=len(args),
            args=", ".join(args) if args else "none",
            note=" (TF counts parameters that have defaults)" if has_defaults else ""))


@return_check("SL003")
def keywords(spec, con, call, tf):
    if type(spec).__name__ != apis.TPU_ESTIMATOR_SPEC:
        return
    for name, fn, tensors in _pairs(spec._asdict(), apis.TPU_ESTIMATOR_SPEC):
        if not isinstance(tensors, dict):
            continue
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            continue
        kinds = inspect.Parameter
        named = [(n, p) for n, p in params.items() if p.kind in (kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY)]
        decision = family.kwargs_mismatch(
            name, fn_name(fn), tensors, accepted=[n for n, _ in named],
            required=[n for n, p in named if p.default is kinds.empty],
            has_varkw=any(p.kind is kinds.VAR_KEYWORD for p in params.values()))
        if decision is None:
            continue
        node = _tensors_node(con, name) if con is not None else None
        loc = locate.node_location(con.location.path, node) if node is not None else _field_loc(con, name)
        yield Finding("SL003", loc, *decision)


def _tpu_pairs(spec, call):
    if type(spec).__name__ != apis.TPU_ESTIMATOR_SPEC or not call.tpu_rules_apply(spec):
        return
    yield from _pairs(spec._asdict(), apis.TPU_ESTIMATOR_SPEC)


@return_check("SL004")
def flat(spec, con, call, tf):
    for name, fn, tensors in _tpu_pairs(spec, call):
        for where, key, value in tensor_entries(tensors):
            if is_tensor(value, tf) or isinstance(value, tf.Variable):
                continue
            loc, src = _element(con, name, key, key)
            yield Finding("SL004", loc or _field_loc(con, name), *family.tensor_not_flat(
                name, where, src or repr(key), describe(value, tf), type(value).__name__,
                _not_a_tensor_kind(value, tf)))


def _not_a_tensor_kind(value, tf) -> str:
    """What a host-call element that is not a tensor is (family.NOT_A_TENSOR_KINDS)."""
    if isinstance(value, (dict, list, tuple)):
        return "container"
    if value is None or isinstance(value, (bool, numbers.Number, str, bytes)) \
            or type(value).__module__.startswith("numpy"):
        return "value"
    if isinstance(value, tf.Operation):
        return "operation"
    if callable(value) and not isinstance(value, type):
        return "function"
    return "other"


@return_check("SL005")
def scalars(spec, con, call, tf):
    for name, fn, tensors in _tpu_pairs(spec, call):
        for where, key, value in tensor_entries(tensors):
            if (is_tensor(value, tf) or isinstance(value, tf.Variable)) and value.shape.rank == 0:
                loc, src = _element(con, name, key, key)
                yield Finding("SL005", loc or _field_loc(con, name), "default", dict(
                    field=name, where=where, expr=src or tensor_name(value)))


@return_check("SL006")
def batch_major(spec, con, call, tf):
    batch = batch_size(call)
    if batch is None or batch == 1:
        return
    for name, fn, tensors in _tpu_pairs(spec, call):
        for where, key, value in tensor_entries(tensors):
            if not is_tensor(value, tf) or not value.shape.rank:
                continue
            d0 = value.shape[0]
            d0 = d0 if isinstance(d0, int) or d0 is None else getattr(d0, "value", None)
            if d0 is None or d0 == 1 or d0 % batch == 0:
                continue
            loc, src = _element(con, name, key, key)
            why = f"its dimension 0 is {d0}, not the per-core batch size {batch} (nor a multiple of it)"
            yield Finding("SL006", loc or _field_loc(con, name), "default", dict(
                field=name, where=where, expr=src or tensor_name(value), why=why))


def _captures(fn, tensors, call, tf) -> list:
    """The model tensors `fn` reads without being passed them. A captured container (automl's
    list of (name, tensor) summaries, of which the host function reads only the names) counts
    only when the function cannot be built without the model graph: it is called once in a
    scratch graph (probe.call_host_fn), which fails if it touches one of the container's tensors."""
    found = list(captured_model_tensors(fn, call, tf))
    if not found or any(is_model_tensor(v, call, tf) for _, v in found):
        return found
    return found if probe.call_host_fn(fn, tensors, tf) is None else []


@return_check("SL007")
def closures(spec, con, call, tf):
    for name, fn, tensors in _tpu_pairs(spec, call):
        for captured, value in _captures(fn, tensors, call, tf):
            yield Finding("SL007", locate.name_use(fn, captured) or _field_loc(con, name), "default",
                          dict(field=name, fn=fn_name(fn), name=captured))


@return_check("SL008", "SL009", "SL010", "SL011")
def probes(spec, con, call, tf):
    is_tpu_spec = type(spec).__name__ == apis.TPU_ESTIMATOR_SPEC
    if is_tpu_spec:
        tpu = call.tpu_rules_apply(spec)
        for name, fn, tensors in _pairs(spec._asdict(), apis.TPU_ESTIMATOR_SPEC):
            if _captures(fn, tensors, call, tf):
                continue  # SL007: calling it outside the model_fn graph cannot work
            result = probe.call_host_fn(fn, tensors, tf)
            if result is None:
                continue
            ret_loc, ret_src = locate.return_value(fn)
            loc = ret_loc or locate.function_location(fn) or _field_loc(con, name)
            if result.v1_summaries and tpu:
                op = result.v1_summaries[0]
                op_loc = locate.call_location(result.location_of(op))
                yield Finding("SL010", op_loc or loc, "default", dict(
                    field=name, fn=fn_name(fn), call=locate.source_at(op_loc, op.type),
                    op=apis.V1_SUMMARY_V2_NAMES.get(op.type, "scalar")))
            if name == "eval_metrics":
                yield from _metric_contract(result.value, fn, tpu, loc, ret_src, tf)
            elif name == "host_call" and tpu and result.value is None:
                yield Finding("SL011", locate.function_location(fn) or loc, "default", dict(fn=fn_name(fn)))
    elif type(spec).__name__ == apis.ESTIMATOR_SPEC and isinstance(spec.eval_metric_ops, dict):
        for key in spec.eval_metric_ops:
            if key in apis.RESERVED_METRIC_NAMES:
                yield Finding("SL009", _field_loc(con, "eval_metric_ops"), key, dict())


def _metric_contract(value, fn, tpu, loc, src, tf):
    fname = fn_name(fn)
    expr = src or f"{fname}(...)"
    kind = "none" if value is None else "dict" if isinstance(value, dict) else "other"
    decision = metrics.metric_fn_return(fname, kind, got="" if kind != "other" else describe(value, tf),
                                        expr=expr, how="returned None when called")
    if decision is not None:
        yield Finding("SL008", loc, *decision)
        return
    for key, v in value.items():
        if key in apis.RESERVED_METRIC_NAMES:
            yield Finding("SL009", loc, key, dict())
        decision = metrics.metric_fn_value(fname, key, expr, on_tpu=tpu, **metric_value_facts(v, tf))
        if decision is not None:
            yield Finding("SL008", loc, *decision)

