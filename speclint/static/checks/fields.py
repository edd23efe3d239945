"""The fields family, static side: what each spec field must be (SL018-SL032).

Keywords and required fields (SL018, SL019), the loss (SL020, SL021), train_op and the global
step (SL022, SL023), predictions (SL024-SL026), export_outputs (SL028), hooks (SL030, SL031) and
tensors from another graph (SL032).  Each check reads one spec construction's field values
(SpecFact.fields) and reports only values that are certainly wrong; the decisions both engines
share are in `speclint/families/fields.py`.  (SL027 is with the metrics, SL029 is runtime-only.)
"""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from speclint import apis
from speclint.families import fields as F
from speclint.finding import Finding
from speclint.static.checks import fixes
from speclint.static.checks.base import check
from speclint.static.checks.common import candidates, duplicate_of_model_fn_view, only_inspected, when_built
from speclint.static.facts import ApiCalled, GlobalTensorUsed, StepAdvanced
from speclint.static.semantics import OPTIMIZER_KINDS
from speclint.static import syntax
from speclint.static.syntax import source
from speclint.static.values import (
    BATCH, Callable, Const, Dict, DYNAMIC, ExportOutput, NONE, NOT_BATCH, Object, Operation, Scaffold,
    SCALAR, Seq, Tensor, Value, all_members, members,
)


@check("SL018")
def keywords(fact, ctx):
    when = when_built(fact)
    intended = [apis.keyword_fix(fact.cls, a.keyword.value)[0] for a in fact.bad_keywords]
    for arg, replacement in zip(fact.bad_keywords, intended):
        kw = arg.keyword.value
        fix = apis.keyword_fix(fact.cls, kw)[1]
        # Renaming a misspelt keyword is a safe fix when the value stays right (not a cross-class
        # mix-up such as scaffold_fn= -> scaffold=) and the new keyword cannot collide.
        safe = (replacement is not None and (fact.cls, kw) not in apis.CROSS_CLASS_FIXES
                and replacement not in fact.fields and not fact.splat
                and intended.count(replacement) == 1)
        yield Finding("SL018", arg.keyword, "unexpected", dict(cls=fact.cls, kw=kw, fix=fix, when=when),
                      replacement=replacement if safe else None,
                      fix=None if safe else fixes.sl018_cross_class(fact, arg, ctx))
    if fact.extra_positional:
        yield Finding("SL018", fact.extra_positional[0].value, "too_many_positional", dict(
            cls=fact.cls, max=len(apis.SPEC_FIELDS[fact.cls]), max1=len(apis.SPEC_FIELDS[fact.cls]) + 1,
            n=len(apis.SPEC_FIELDS[fact.cls]) + len(fact.extra_positional), when=when))
    for arg in fact.duplicates:
        yield Finding("SL018", arg.keyword, "duplicate", dict(cls=fact.cls, kw=arg.keyword.value, when=when))


@check("SL019")
def required_fields(fact, ctx):
    modes = fact.reaching_modes()
    if not modes or fact.splat:
        return
    intended = {apis.keyword_fix(fact.cls, a.keyword.value)[0] for a in fact.bad_keywords}
    none = [n for n, fa in fact.fields.items() if all_members(fa.value, lambda m: m == NONE)]
    for mode in sorted(modes):
        if mode == apis.PREDICT and not _predict_intended(fact):
            continue
        decision = F.required_field(fact.cls, mode, given=fact.fields, none=none, intended=intended)
        if decision is not None:
            yield Finding("SL019", fact.node, *decision)


def _predict_intended(fact) -> bool:
    """Whether the model_fn is meant to serve PREDICT at all: a train/eval-only model_fn (one that
    never names PREDICT and exports nothing) fails only if someone calls predict(), with TF's own
    clear "Missing predictions." -- not a certain bug, so not reported."""
    v = fact.fields["mode"].value if "mode" in fact.fields else None
    return (getattr(v, "constant", False) or apis.PREDICT in fact.root.modes_named
            or "export_outputs" in fact.fields)


@check("SL020")
def scalar_loss(fact, ctx):
    fa = fact.fields.get("loss")
    if fa is not None and all_members(fa.value, lambda m: isinstance(m, Tensor) and m.shape == BATCH):
        if syntax.raw_input_expr(fa.node, getattr(fact.root, "node", None)):
            # `loss=features + labels`: the input_fn's own shape.  An unbatched dataset
            # (`Dataset.from_tensors([1.])`) or `.batch(1)` gives shape [1] or (None, 1) with one
            # element, which TF accepts (model_fn.py:331-335): not certainly per-example.
            return
        yield Finding("SL020", fa.node, "default", dict(expr=source(fa.node)), fix=fixes.wrap_call(
            ctx.module_run.an, fa.node, "reduce_mean", "Reduce the loss: `{new}`", fixes.UNSAFE))


def _modes(fact):
    """The modes the construction can run in: the certain ones, else those of its path."""
    modes = fact.reaching_modes()
    return modes if modes is not None else fact.modes


def _tpu_modes(fact, ctx):
    """The modes in which the construction runs on TPU (CheckContext.tpu_modes decides TPU)."""
    return ctx.tpu_modes(fact) & _modes(fact)


def _number(m: Value) -> bool:
    return isinstance(m, Const) and isinstance(m.value, (int, float))


def _what(v: Value) -> str:
    ms = members(v)
    texts = {m.describe() for m in ms}
    if len(texts) == 1:
        return texts.pop()
    if all(_number(m) for m in ms):
        return "a Python number"
    return ms[0].describe()


def _key_text(entry) -> str:
    if entry.key is not None:
        return repr(entry.key)
    return source(entry.key_node) if entry.key_node is not None else "?"


def _dicts(v: Value) -> Iterator[Dict]:
    for m in members(v):
        if isinstance(m, Dict):
            yield m


# --- SL021 -----------------------------------------------------------------------------------
@check("SL021")
def loss_tensor(fact, ctx):
    fa = fact.fields.get("loss")
    if fa is None:
        return
    if all_members(fa.value, _number):
        yield Finding("SL021", fa.node, "not_tensor", dict(
            expr=source(fa.node), what=_what(fa.value), when=when_built(fact)))
        return
    if fact.cls == apis.TPU_ESTIMATOR_SPEC and _tpu_modes(fact, ctx) & {apis.TRAIN, apis.EVAL}:
        dtypes = {m.dtype for m in members(fa.value) if isinstance(m, Tensor)}
        if len(dtypes) == 1 and all_members(
                fa.value, lambda m: isinstance(m, Tensor) and m.dtype in apis.NON_TPU_LOSS_DTYPES):
            yield Finding("SL021", fa.node, "dtype", dict(expr=source(fa.node), dtype=dtypes.pop()))


# --- SL022 -----------------------------------------------------------------------------------
@check("SL022")
def train_op_type(fact, ctx):
    fa = fact.fields.get("train_op")
    if fa is None:
        return
    v = fa.value
    params = dict(expr=source(fa.node), what=_what(v), when=when_built(fact))
    if all_members(v, lambda m: isinstance(m, Seq)):
        group = fixes.api(ctx.module_run.an, "group")
        if not isinstance(fa.node, (cst.List, cst.Tuple)) and not fixes.every_path(
                ctx, fact, lambda f: _same_kind(f, "train_op", fa.node, lambda m: isinstance(m, Seq))):
            group = None  # `tf.group(*ops)` needs a sequence on every path
        yield Finding("SL022", fa.node, "sequence", params, fix=group and fixes.replace(
            fa.node, fixes.as_call_args(group, fa.node), f"Combine the ops with `{group}(...)`"))
    elif all_members(v, _optimizer):
        yield Finding("SL022", fa.node, "optimizer", params)
    elif all_members(v, lambda m: isinstance(m, Tensor) and m.variable):
        yield Finding("SL022", fa.node, "variable", params)


def _same_kind(fact, name: str, node, kind) -> bool:
    """The field `name` written as `node` holds only `kind` values in `fact` (or is not `node`
    there): a fix of `node` is right on that path too."""
    fa = fact.fields.get(name)
    return fa is None or fa.node is not node or all_members(fa.value, kind)


def _optimizer(m: Value) -> bool:
    return isinstance(m, Object) and m.kind in OPTIMIZER_KINDS


def _hook(m: Value) -> bool:
    return isinstance(m, Object) and m.kind in ("hook", "keras_callback")


# --- SL023 -----------------------------------------------------------------------------------
@check("SL023")
def global_step(fact, ctx):
    fa = fact.fields.get("train_op")
    if fa is None or apis.TRAIN not in _modes(fact):
        return
    an = ctx.module_run.an
    step_roots = ctx.cache.get("step_roots")
    if step_roots is None:
        step_roots = ctx.cache["step_roots"] = {f.root for f in an.log.of(StepAdvanced)}
    if fact.root in step_roots:
        return  # the model_fn advances the step elsewhere (assign, another minimize, iterations=)
    if fact.root.ctx is None and step_roots:
        return  # a helper seen on its own: the model_fn calling it may advance the step
    if not all_members(fa.value, lambda m: isinstance(m, Operation) and m.step is False):
        return
    for m in members(fa.value):
        method = m.node.func.attr.value
        yield Finding("SL023", m.node, "keras" if m.kind == "keras" else "v1", dict(
            expr=source(m.node), method=method), fix=None if m.kind == "keras" else _step_fix(m.node, ctx))


def _step_fix(node, ctx):
    """`minimize(loss)` -> `minimize(loss, global_step=tf.compat.v1.train.get_or_create_global_step())`
    (a second positional argument would be the global step already: no fix)."""
    step = fixes.v1_api(ctx.module_run.an, "train.get_or_create_global_step()")
    if step is None or sum(1 for a in node.args if a.keyword is None) != 1:
        return None
    return fixes.add_keyword(node, "global_step", step, f"Pass `global_step={step}`")


# --- SL024 -----------------------------------------------------------------------------------
def _not_a_tensor(m: Value) -> bool:
    # None values are left alone: real code often drops them afterwards in place
    # (tensor2tensor's `_del_dict_non_tensors(predictions)`), which is not followed.
    if isinstance(m, Const):
        return m.value is not None
    return isinstance(m, (Seq, Dict, Operation, Object, ExportOutput, Scaffold))


@check("SL024")
def predictions_structure(fact, ctx):
    fa = fact.fields.get("predictions")
    if fa is None:
        return
    v = fa.value
    when = when_built(fact)
    if all_members(v, lambda m: isinstance(m, Seq) or (isinstance(m, Const) and m.value is not None)):
        yield Finding("SL024", fa.node, "not_tensor", dict(expr=source(fa.node), what=_what(v), when=when))
        return
    predict = apis.PREDICT in _modes(fact)
    for d in _dicts(v):
        for e in d.entries:
            if e.node is not None and all_members(e.value, _not_a_tensor):
                yield Finding("SL024", e.node, "nested", dict(
                    key=e.key if e.key is not None else _key_text(e), expr=source(e.node),
                    what=_what(e.value), when=when))
            if predict and isinstance(e.key, int) and e.key_node is not None:
                yield Finding("SL024", e.key_node, "key", dict(key=e.key))


# --- SL025 / SL026 ---------------------------------------------------------------------------
def _tpu_predict(fact, ctx) -> bool:
    return fact.cls == apis.TPU_ESTIMATOR_SPEC and apis.PREDICT in _tpu_modes(fact, ctx)


def _shaped(v: Value, shape: str) -> bool:
    return all_members(v, lambda m: isinstance(m, Tensor) and m.shape == shape)


def _exported_only(fact) -> bool:
    """PREDICT runs only for an export (`export_saved_model`, every use of the estimators in
    sight): export does not split the predictions per example, only predict() does."""
    ctx = getattr(fact.root, "ctx", None)
    uses = getattr(ctx, "uses", None)
    return uses is not None and "export" in uses and "predict" not in uses


@check("SL025")
def predictions_batch_major(fact, ctx):
    fa = fact.fields.get("predictions")
    if fa is None or apis.PREDICT not in _modes(fact) or only_inspected(fact) or _exported_only(fact):
        return
    scalars_reported_by_sl026 = _tpu_predict(fact, ctx)
    # A constant's dimension 0 is fixed: `tf.constant([[10.], [12.]])` yields 2 rows, batch-major for
    # a batch of 2, so it is certainly wrong only beside a constant with another number of rows
    # ("Batch length of predictions should be same", estimator.py:1052-1060).
    entries = [e for d in _dicts(fa.value) for e in d.entries if e.node is not None]
    rows = {id(e.node): _constant_rows(e.node, fact, ctx) for e in entries}
    counts = {r for r in rows.values() if r is not None}
    if _shaped(fa.value, SCALAR) and not scalars_reported_by_sl026:
        yield Finding("SL025", fa.node, "scalar", dict(
            where="", expr=source(fa.node), error="TypeError: 'numpy.float32' object is not iterable"))
    elif _shaped(fa.value, NOT_BATCH) and _constant_rows(fa.node, fact, ctx) is None:
        yield Finding("SL025", fa.node, "not_batch", dict(where="", expr=source(fa.node)))
    for e in entries:
        where = f"[{_key_text(e)}]"
        if _shaped(e.value, SCALAR) and not scalars_reported_by_sl026:
            yield Finding("SL025", e.node, "scalar", dict(
                where=where, expr=source(e.node), error="IndexError: tuple index out of range"))
        elif _shaped(e.value, NOT_BATCH) and (rows[id(e.node)] is None or len(counts) > 1):
            yield Finding("SL025", e.node, "not_batch", dict(where=where, expr=source(e.node)))


def _constant_rows(node, fact, ctx):
    """The number of rows (dimension 0) of `tf.constant(<list literal>)` at `node`, else None."""
    calls = ctx.cache.get("api_calls_by_node")
    if calls is None:
        calls = ctx.cache["api_calls_by_node"] = {id(a.node): a for a in fact.run.an.log.of(ApiCalled)}
    call = calls.get(id(node))
    if call is None or call.canonical != "tf.constant" or not call.args:
        return None
    literal = call.args[0][1]
    if isinstance(literal, (cst.List, cst.Tuple)) and literal.elements:
        return len(literal.elements)
    return None


@check("SL026")
def tpu_predictions(fact, ctx):
    fa = fact.fields.get("predictions")
    if fa is None or not _tpu_predict(fact, ctx):
        return
    if all_members(fa.value, lambda m: isinstance(m, Tensor)):
        yield Finding("SL026", fa.node, "not_dict", dict(expr=source(fa.node), what=_what(fa.value)))
        return
    for d in _dicts(fa.value):
        for e in d.entries:
            if e.node is None:
                continue
            key = e.key if e.key is not None else _key_text(e)
            if _shaped(e.value, SCALAR):
                yield Finding("SL026", e.node, "scalar", dict(key=key, expr=source(e.node)))
            elif _shaped(e.value, DYNAMIC):
                yield Finding("SL026", e.node, "dynamic", dict(key=key, expr=source(e.node)))


# --- SL028 -----------------------------------------------------------------------------------
def _export_outputs_in(v: Value) -> Iterator[ExportOutput]:
    for m in members(v):
        if isinstance(m, ExportOutput):
            yield m
        elif isinstance(m, Dict):
            for e in m.entries:
                yield from (x for x in members(e.value) if isinstance(x, ExportOutput))


def _hook_kind(v):
    if all_members(v, lambda m: isinstance(m, Object) and m.kind == "keras_callback"):
        return "keras_callback"
    if all_members(v, _def):
        return "function"
    if all_members(v, lambda m: isinstance(m, Const) and m.value is not None):
        return "constant"
    return None


@check("SL028")
def export_outputs(fact, ctx):
    fa = fact.fields.get("export_outputs")
    if fa is None:
        return
    for out in _export_outputs_in(fa.value):
        for variant, dtype, node in out.problems:
            yield Finding("SL028", node, *F.export_output_dtype(variant[: -len("_dtype")], source(node), dtype))
    if apis.PREDICT not in _modes(fact):
        return
    v = fa.value
    from speclint.static.values import ExportOutput
    if all_members(v, lambda m: isinstance(m, (ExportOutput, Tensor, Seq))):
        yield Finding("SL028", fa.node, *F.export_outputs_not_dict(source(fa.node), _what(v)))
        return
    for d in _dicts(v):
        for e in d.entries:
            if e.node is not None and all_members(
                    e.value, lambda m: isinstance(m, (Tensor, Dict, Seq, Const, Operation))):
                yield Finding("SL028", e.node, *F.export_output_not_output(_key_text(e), source(e.node), _what(e.value)))
        keys = d.literal_keys()
        decision = F.export_outputs_default(keys) if keys is not None else None
        if decision is not None:
            yield Finding("SL028", d.node if d.node is not None else fa.node, *decision)


# --- SL030 -----------------------------------------------------------------------------------


def _def(m: Value) -> bool:
    return isinstance(m, Callable) and m.node is not None


@check("SL030")
def hooks(fact, ctx):
    when = when_built(fact)
    for name in apis.HOOK_FIELDS:
        fa = fact.fields.get(name)
        if fa is None:
            continue
        v = fa.value
        expr = source(fa.node)
        if all_members(v, _hook) and len({m.cls for m in members(v)}) == 1:
            hook = members(v)[0]
            what = "Keras callback" if hook.kind == "keras_callback" else "hook"
            yield Finding("SL030", fa.node, "not_iterable", dict(field=name, expr=expr, what=what, cls=hook.cls, when=when),
                          fix=None if hook.kind == "keras_callback" or not fixes.every_path(
                              ctx, fact, lambda f, name=name: _same_kind(f, name, fa.node, _hook)) else fixes.replace(
                              fa.node, cst.List([cst.Element(fixes.bare(fa.node))]), f"Wrap `{expr}` in a list"))
        elif all_members(v, _def):
            yield Finding("SL030", fa.node, "not_iterable", dict(field=name, expr=expr, what="function", cls="function", when=when))
        elif all_members(v, lambda m: isinstance(m, Dict)):
            values = fixes.attribute_of(fa.node, "values") if fixes.every_path(
                ctx, fact, lambda f, name=name: _same_kind(f, name, fa.node, lambda m: isinstance(m, Dict))) else None
            yield Finding("SL030", fa.node, "dict", dict(field=name, expr=expr, when=when), fix=values and fixes.replace(
                fa.node, fixes.call("list", cst.Call(values)), f"Pass the dict's values: `list({expr}.values())`",
                fixes.UNSAFE))
        else:
            for seq in members(v):
                if not isinstance(seq, Seq):
                    continue
                for item in seq.items:
                    kind = _hook_kind(item.value)
                    if kind is not None and item.node is not None:
                        yield Finding("SL030", item.node, *F.not_a_hook(name, source(item.node), _what(item.value), kind, when))


# --- SL032 -----------------------------------------------------------------------------------
@check("SL032")
def module_tensors(fact, ctx):
    seen = set()
    for use in ctx.module_run.an.log.of(GlobalTensorUsed):
        if use.root is fact.root and id(use.node) not in seen:
            seen.add(id(use.node))
            yield Finding("SL032", use.node, "default", dict(
                expr=use.node.value, origin="assigned at module level"))


# ---- SL031 ------------------------------------------------------------------------------------
@check("SL031")
def hooks_capture(fact, ctx):
    if duplicate_of_model_fn_view(fact, fact.run.an) or not ctx.tpu_modes(fact, True):
        return
    for field in ("training_hooks", "evaluation_hooks", "prediction_hooks"):
        fa = fact.fields.get(field)
        seen = set()
        for hooks in candidates(fa.value, Seq) if fa is not None else ():  # `[h] if c else []`
            for item in hooks.items:
                for hook in candidates(item.value, Object):
                    if hook.kind != "hook":
                        continue
                    for captured in hook.captured:
                        if captured.node is not None and id(captured.node) not in seen:
                            seen.add(id(captured.node))
                            yield Finding("SL031", captured.node, "default", dict(
                                expr=source(captured.node), hook=f"`{hook.cls}`", field=field))
