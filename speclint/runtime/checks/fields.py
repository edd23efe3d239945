"""Field contracts of both spec classes, on the raw constructor arguments (SL019-SL030)."""
from __future__ import annotations

import functools
import inspect
import numbers

from speclint import apis
from speclint.families import fields as family
from speclint.families import metrics
from speclint.finding import Finding
from speclint.runtime.checks.registry import construction_check, return_check
from speclint.runtime.objects import describe, dim, is_spec_tensor, is_tensor, metric_value_facts, mode_value


@construction_check("SL018")
def unknown_keyword(con, call, tf):
    for kw in con.unknown:
        replacement, fix = apis.keyword_fix(con.cls, kw)
        node = con.field_node(kw)
        loc = con.keyword_location(kw) if node is not None else con.location
        yield Finding("SL018", loc, "unexpected", dict(cls=con.cls, kw=kw, fix=fix, when=""))


@construction_check("SL019")
def required(con, call, tf):
    mode = mode_value(con.args.get("mode"))
    if mode is None:
        return
    intended = {apis.keyword_fix(con.cls, kw)[0] for kw in con.unknown}  # SL018 reports those
    # a required field a misspelt keyword was meant for ends the check even when it was also given
    decision = family.required_field(con.cls, mode, given=set(con.args) - intended, intended=intended,
                                     none=[name for name, v in con.args.items() if v is None])
    if decision is not None:
        yield Finding("SL019", con.location, *decision)


@construction_check("SL020")
def loss_scalar(con, call, tf):
    loss = con.args.get("loss")
    if not is_tensor(loss, tf):
        return
    shape = loss.shape
    if shape.rank is None or shape.rank == 0:
        return
    n = shape.num_elements()
    if n == 1:
        return
    yield Finding("SL020", con.field_location("loss"), "default", dict(expr=con.expr("loss", "loss")))


@construction_check("SL021")
def loss_tensor(con, call, tf):
    loss = con.args.get("loss")
    if loss is None or is_spec_tensor(loss, tf):
        return
    yield Finding("SL021", con.field_location("loss"), "not_tensor", dict(
        expr=con.expr("loss", repr(loss)), what=describe(loss, tf), when=""))


@construction_check("SL021")
def loss_float32(con, call, tf):
    """On the TPU path the loss must be float32 (checked when the spec is built, so that a later
    TF error in the same constructor does not hide it)."""
    loss = con.args.get("loss")
    if call is None or not is_tensor(loss, tf) or mode_value(call.mode) == apis.PREDICT:
        return
    if not call.tpu_rules_apply_to_class(con.cls):
        return
    if loss.dtype.base_dtype != tf.tf.float32:
        yield Finding("SL021", con.field_location("loss"), "dtype", dict(
            expr=con.expr("loss", "loss"), dtype=loss.dtype.base_dtype.name))


@construction_check("SL022")
def train_op(con, call, tf):
    op = con.args.get("train_op")
    if op is None or isinstance(op, tf.Operation) or (isinstance(op, tf.Tensor) and not isinstance(op, tf.Variable)):
        if op is not None and getattr(op, "op", None) is not None and isinstance(op, tf.Tensor) \
                and op.op.type in apis.VARIABLE_OP_TYPES:
            pass  # a variable's handle tensor: reported below as a variable
        else:
            return
    if isinstance(op, tf.Variable) and getattr(getattr(op, "op", None), "type", None) not in apis.VARIABLE_OP_TYPES:
        return  # the result of an update (`global_step.assign_add`, what `minimize` returns under a
        # distribution strategy): TF runs its op, the assignment, which depends on the update
    expr = con.expr("train_op", "train_op")
    loc = con.field_location("train_op")
    if isinstance(op, (list, tuple)):
        yield Finding("SL022", loc, "sequence", dict(expr=expr, what=describe(op, tf), when=""))
    elif isinstance(op, tf.Variable) or isinstance(op, tf.Tensor):
        yield Finding("SL022", loc, "variable", dict(expr=expr))
    elif hasattr(op, "minimize") and hasattr(op, "apply_gradients"):
        yield Finding("SL022", loc, "optimizer", dict(expr=expr, when=""))


def _elements_node(con, field_name):
    """The dict/list literal given for a field (directly, or a name bound to one earlier)."""
    from speclint.runtime import locate
    node = locate.value_of(con.field_node(field_name))
    if node is not None and hasattr(node, "id") and con.abs_path and con.location:
        node = locate.resolve_name(con.abs_path, con.location.line, node.id) or node
    return node


def _key_location(con, field_name, key):
    """(location, source) of `field={..., key: value}`'s value when the dict literal is visible."""
    from speclint.runtime import locate
    node = _elements_node(con, field_name)
    if node is not None and hasattr(node, "keys"):
        for k, v in zip(node.keys, node.values):
            if k is not None and getattr(k, "value", object()) == key:
                return locate.node_location(con.location.path, v), locate.source_of(v)
    return con.field_location(field_name), None


@construction_check("SL024")
def predictions_structure(con, call, tf):
    p = con.args.get("predictions")
    if p is None or is_spec_tensor(p, tf):
        return
    expr = con.expr("predictions", "predictions")
    if not isinstance(p, dict):
        yield Finding("SL024", con.field_location("predictions"), "not_tensor",
                      dict(expr=expr, what=describe(p, tf), when=""))
        return
    for key, v in p.items():
        if not is_spec_tensor(v, tf):
            loc, src = _key_location(con, "predictions", key)
            # the key as TF's message prints it (and the static engine): predictions[debug]
            yield Finding("SL024", loc, "nested", dict(expr=src or f"{expr}[{key!r}]", key=str(key),
                                                       what=describe(v, tf), when=""))
            return
    if mode_value(con.args.get("mode")) == apis.PREDICT:
        for key in p:
            if not isinstance(key, str):
                yield Finding("SL024", con.field_location("predictions"), "key", dict(key=repr(key)))
                return


@return_check("SL025")
def predictions_batch_major(spec, con, call, tf):
    if mode_value(call.mode) != apis.PREDICT or not isinstance(spec, (tf.EstimatorSpec, tf.TPUEstimatorSpec)):
        return
    p = spec.predictions
    if call.tpu_rules_apply(spec) and isinstance(spec, tf.TPUEstimatorSpec):
        return  # SL026 owns the TPU contract of predictions
    items = [("", None, p)] if is_tensor(p, tf) else [(f"[{k!r}]", k, v) for k, v in p.items()] \
        if isinstance(p, dict) else []
    batch = _features_batch(call)
    for where, key, v in items:
        if is_tensor(v, tf) and v.shape.rank and batch is not None and key is not None:
            d0 = dim(v.shape)
            if d0 is not None and d0 != batch:
                loc, src = _key_location(con, "predictions", key) if con else (call.model_fn_location(), None)
                yield Finding("SL025", loc, "not_batch", dict(where=where, expr=src or f"predictions[{key!r}]"))
                continue
        if not is_tensor(v, tf) or v.shape.rank != 0:
            continue
        loc, src = _key_location(con, "predictions", key) if (con and key is not None) else (
            con.field_location("predictions") if con else call.model_fn_location(), None)
        error = ("TypeError: 'numpy.float32' object is not iterable" if key is None
                 else "IndexError: tuple index out of range")
        yield Finding("SL025", loc, "scalar", dict(
            where=where, expr=src or (con.expr("predictions") if con else "predictions"), error=error))


@return_check("SL026")
def tpu_predictions(spec, con, call, tf):
    if mode_value(call.mode) != apis.PREDICT or not isinstance(spec, tf.TPUEstimatorSpec) \
            or not call.tpu_rules_apply(spec):
        return
    p = spec.predictions
    expr = con.expr("predictions", "predictions") if con else "predictions"
    if p is None:
        return
    if not isinstance(p, dict):
        yield Finding("SL026", con.field_location("predictions") if con else call.model_fn_location(),
                      "not_dict", dict(expr=expr, what=describe(p, tf)))
        return
    for key, v in p.items():
        if not is_tensor(v, tf):
            continue
        loc, src = _key_location(con, "predictions", key) if con else (call.model_fn_location(), None)
        if v.shape.rank == 0:
            yield Finding("SL026", loc, "scalar", dict(expr=src or f"{expr}[{key!r}]", key=repr(key)))
        elif v.shape.rank is not None and dim(v.shape) is None and _static_batch(call):
            yield Finding("SL026", loc, "dynamic", dict(expr=src or f"{expr}[{key!r}]", key=key))


def _features_batch(call):
    """The static dimension 0 shared by all of the call's feature tensors, else None."""
    from speclint.runtime import tfapi
    from speclint.runtime.objects import flatten
    tf = tfapi.load()
    dims = {dim(t.shape) for t in flatten(call.named.get("features")) if is_tensor(t, tf) and t.shape.rank}
    return dims.pop() if len(dims) == 1 and None not in dims else None


def _static_batch(call) -> bool:
    """The model_fn's own features have a static dimension 0 (as on TPU), so a dynamic one in
    predictions comes from the model (boolean_mask, where, unique), not from the input."""
    feats = call.named.get("features")
    from speclint.runtime.objects import flatten
    from speclint.runtime import tfapi
    tf = tfapi.load()
    tensors = [t for t in flatten(feats) if is_tensor(t, tf)]
    return bool(tensors) and all(t.shape.rank and dim(t.shape) is not None for t in tensors)


@construction_check("SL027")
def eval_metric_ops(con, call, tf):
    if con.cls != apis.ESTIMATOR_SPEC:
        return
    m = con.args.get("eval_metric_ops")
    if m is None:
        return
    expr = con.expr("eval_metric_ops", "eval_metric_ops")
    if not isinstance(m, dict):
        yield Finding("SL027", con.field_location("eval_metric_ops"), "not_dict",
                      dict(expr=expr, got=describe(m, tf), when=""))
        return
    for key, v in m.items():
        facts = metric_value_facts(v, tf)
        if metrics.metric_value(on_tpu=False, **facts) is None:
            continue
        loc, src = _key_location(con, "eval_metric_ops", key)
        yield Finding("SL027", loc, *metrics.eval_metric_ops_value(key, src or f"{expr}[{key!r}]", **facts))
        return


@construction_check("SL028")
def export_outputs(con, call, tf):
    eo = con.args.get("export_outputs")
    if eo is None:
        return
    expr = con.expr("export_outputs", "export_outputs")
    loc = con.field_location("export_outputs")
    if not isinstance(eo, dict):
        yield Finding("SL028", loc, *family.export_outputs_not_dict(expr, describe(eo, tf)))
        return
    ExportOutput = tf.export_output.ExportOutput
    for key, v in eo.items():
        if not isinstance(v, ExportOutput):
            kloc, src = _key_location(con, "export_outputs", key)
            yield Finding("SL028", kloc, *family.export_output_not_output(
                repr(key), src or f"{expr}[{key!r}]", describe(v, tf)))
            return
    decision = family.export_outputs_default(eo)
    if decision is not None:
        yield Finding("SL028", loc, *decision)


@construction_check("SL030")
def hooks(con, call, tf):
    for name in apis.HOOK_FIELDS:
        if name not in con.args or con.args[name] is None:
            continue
        h = con.args[name]
        expr = con.expr(name, name)
        loc = con.field_location(name)
        if isinstance(h, dict):
            yield Finding("SL030", loc, "dict", dict(field=name, expr=expr, when=""))
            continue
        if isinstance(h, tf.SessionRunHook) or not hasattr(h, "__iter__"):
            yield Finding("SL030", loc, "not_iterable", dict(field=name, expr=expr, what=_single(h, tf),
                                                             cls=type(h).__name__, when=""))
            continue
        for item in list(h):
            if not isinstance(item, tf.SessionRunHook):
                yield Finding("SL030", loc, *family.not_a_hook(
                    name, type(item).__name__, describe(item, tf), _not_a_hook_kind(item)))
                break


def _single(h, tf) -> str:
    """What "is a single ___" names (the template's {what}), in the static engine's words."""
    kind = _not_a_hook_kind(h)
    if isinstance(h, tf.SessionRunHook):
        return "hook"
    if kind == "keras_callback":
        return "Keras callback"
    if kind == "function":
        return "function"
    text = describe(h, tf)
    for article in ("a ", "an "):
        if text.startswith(article):
            return text[len(article):]
    return text


def _not_a_hook_kind(item) -> str:
    """What a hooks-list element that is not a SessionRunHook is (family.NOT_A_HOOK_KINDS)."""
    if "keras" in (type(item).__module__ or ""):
        return "keras_callback"
    if item is None or isinstance(item, (bool, numbers.Number, str, bytes)):
        return "constant"
    if inspect.isfunction(item) or inspect.ismethod(item) or isinstance(item, functools.partial):
        return "function"
    return "other"


@construction_check("SL032")
def other_graph(con, call, tf):
    graph = tf.v1.get_default_graph()
    for name in ("loss", "train_op"):
        v = con.args.get(name)
        g = getattr(v, "graph", None)
        if g is not None and g is not graph and isinstance(v, (tf.Tensor, tf.Operation)):
            from speclint.runtime import locate
            origin = locate.tensor_origin(v)
            where = f"it was created at {origin.path}:{origin.line}" if origin else "it belongs to another graph"
            yield Finding("SL032", con.field_location(name), "default",
                          dict(expr=con.expr(name, name), origin=where))


@return_check("SL031")
def tpu_hooks(spec, con, call, tf):
    """Hooks of a spec on the TPU path that hold tensors of the model_fn (LoggingTensorHook...)."""
    if not call.on_tpu or not isinstance(spec, (tf.EstimatorSpec, tf.TPUEstimatorSpec)):
        return
    from speclint.runtime.objects import flatten, is_model_tensor
    if con is None:  # e.g. spec._replace(...): the hooks come from the spec it copied
        con = next((c for c in reversed(call.constructions) if c.cls == type(spec).__name__), None)
    for name in apis.HOOK_FIELDS:
        for index, hook in enumerate(getattr(spec, name, None) or ()):
            state = getattr(hook, "__dict__", {})
            for value in state.values():
                hit = next((t for t in flatten(value) if is_model_tensor(t, call, tf)), None)
                if hit is not None:
                    loc, src = _hook_site(con, name, index)
                    yield Finding("SL031", loc or call.model_fn_location(), "default", dict(
                        expr=src or getattr(hit, "name", "?"), hook=type(hook).__name__, field=name))
                    break


def _hook_site(con, field_name, index):
    """(location, source) of element `index` of the hooks list given for `field_name`."""
    from speclint.runtime import locate
    if con is None:
        return None, None
    node = _elements_node(con, field_name)
    if node is not None and hasattr(node, "elts") and index < len(node.elts):
        elt = node.elts[index]
        return locate.node_location(con.location.path, elt), locate.source_of(elt)
    return con.field_location(field_name), None
