"""Field contracts of both spec classes, on the raw constructor arguments (SL019-SL030)."""
from __future__ import annotations

from speclint import apis
from speclint.runtime.checks import construction_check, return_check
from speclint.runtime.context import Finding
from speclint.runtime.values import describe, is_tensor, mode_value


@construction_check("SL018")
def unknown_keyword(con, call, tf):
    for kw in con.unknown:
        replacement, fix = apis.keyword_fix(con.cls, kw)
        node = con.field_node(kw)
        loc = con.keyword_location(kw) if node is not None else con.location
        yield Finding("SL018", "unexpected", dict(cls=con.cls, kw=kw, fix=fix, when=""), loc)


@construction_check("SL019")
def required(con, call, tf):
    mode = mode_value(con.args.get("mode"))
    if mode is None:
        return
    intended = {apis.keyword_fix(con.cls, kw)[0] for kw in con.unknown}  # SL018 reports those
    for name in apis.REQUIRED_FIELDS[mode]:
        if name in intended:
            return
        if name not in con.args:
            variant = "missing"
        elif con.args[name] is None:
            variant = "none"
        else:
            continue
        yield Finding("SL019", variant, dict(cls=con.cls, field=name, mode=apis.MODE_DISPLAY[mode],
                                            when=apis.MODE_WHEN[mode]), con.location)
        return


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
    yield Finding("SL020", "default", dict(expr=con.expr("loss", "loss")), con.field_location("loss"))


@construction_check("SL021")
def loss_tensor(con, call, tf):
    loss = con.args.get("loss")
    if loss is None or isinstance(loss, tf.Tensor):
        return
    yield Finding("SL021", "not_tensor", dict(expr=con.expr("loss", repr(loss)), what=describe(loss, tf),
                                              when=""), con.field_location("loss"))


@return_check("SL021")
def loss_float32(spec, con, call, tf):
    loss = getattr(spec, "loss", None)
    if not is_tensor(loss, tf) or not call.on_tpu or spec.mode == apis.PREDICT:
        return
    if loss.dtype.base_dtype != tf.tf.float32:
        yield Finding("SL021", "dtype", dict(expr=con.expr("loss", "loss") if con else "loss",
                                             dtype=loss.dtype.base_dtype.name),
                      con.field_location("loss") if con else call.model_fn_location())


@construction_check("SL022")
def train_op(con, call, tf):
    op = con.args.get("train_op")
    if op is None or isinstance(op, tf.Operation) or (isinstance(op, tf.Tensor) and not isinstance(op, tf.Variable)):
        if op is not None and getattr(op, "op", None) is not None and isinstance(op, tf.Tensor) \
                and op.op.type in apis.VARIABLE_OP_TYPES:
            pass  # a variable's handle tensor: reported below as a variable
        else:
            return
    expr = con.expr("train_op", "train_op")
    loc = con.field_location("train_op")
    if isinstance(op, (list, tuple)):
        yield Finding("SL022", "sequence", dict(expr=expr, what=describe(op, tf), when=""), loc)
    elif isinstance(op, tf.Variable) or isinstance(op, tf.Tensor):
        yield Finding("SL022", "variable", dict(expr=expr), loc)
    elif hasattr(op, "minimize") and hasattr(op, "apply_gradients"):
        yield Finding("SL022", "optimizer", dict(expr=expr, when=""), loc)
