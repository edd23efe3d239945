"""The estimators family, static side: which spec class goes with which estimator, and TPU
training: SL033, SL034, SL035, SL043.

Where code runs (TPU or CPU, per mode) is decided by CheckContext.on_tpu / tpu_modes / off_tpu
(speclint/static/targeting.py).
"""
from __future__ import annotations

import libcst as cst

from speclint import apis
from speclint.static import syntax
from speclint.finding import Finding
from speclint.static.checks import fixes
from speclint.static.checks.base import check, module_check
from speclint.static.checks.model_fn import estimator_arg
from speclint.static.checks.common import (
    duplicate_of_model_fn_view, head_specs_on_tpu, is_none, known_not_none, model_fn_runs, only,
)
from speclint.static.facts import PairingCall
from speclint.static.semantics import CROSS_REPLICA_SUM, CROSS_SHARD, LAST_TPU_SPEC, MINIMIZE, REPLACE
from speclint.static.syntax import source
from speclint.static.values import (
    BoundAsEstimatorSpec, Const, NONE, Object, Seq, Spec, Value, all_members, members,
)


# ---- SL033 ------------------------------------------------------------------------------------
def _when(run, state) -> str:
    if run.mode_tested and state.exact and state.modes != apis.ALL_MODES:
        return " or ".join(apis.MODE_WHEN[m] for m in sorted(state.modes))
    return "the first train(), evaluate() or predict()"


def _construction(run, v: Value, vnode):
    """Where the returned TPUEstimatorSpec was built, when it is one construction in the model_fn
    itself (`output_spec = TPUEstimatorSpec(...)` ... `return output_spec`): the misuse is there,
    not at a `return` shared by every branch."""
    nodes = {id(m.node): m.node for m in members(v) if isinstance(m, Spec) and m.node is not None}
    if len(nodes) != 1 or isinstance(vnode, cst.Call):
        return vnode
    node = next(iter(nodes.values()))
    return node if isinstance(node, cst.Call) and syntax.contains_node(run.node, node) else vnode


@module_check("SL033")
def plain_estimator_pairing(an, ctx):
    for run in model_fn_runs(an):
        plain = ctx.targeting.plain_only(run)
        found = {}  # the reported node -> (node, expr, whens), in order
        for v, vnode, st in run.returns:
            if vnode is None:
                continue
            if all_members(v, lambda m: isinstance(m, BoundAsEstimatorSpec)):
                yield Finding("SL033", vnode, "uncalled", dict(expr=source(vnode)), fix=fixes.sl033_call(vnode))
            elif plain and st.tpu is not True and all_members(
                    v, lambda m: isinstance(m, Spec) and m.cls == apis.TPU_ESTIMATOR_SPEC):
                at = _construction(run, v, vnode)
                expr = source(at.func) + "(...)" if at is not vnode else source(vnode)
                found.setdefault(id(at), (at, expr, []))[2].append(_when(run, st))
        for at, expr, whens in found.values():
            when = whens[0] if len(set(whens)) == 1 else _when(run, _AnyMode)
            yield Finding("SL033", at, "returned", dict(expr=expr, fn=run.ctx.name, when=when),
                          fix=fixes.sl033_convert(at))


class _AnyMode:
    exact = False
    modes = apis.ALL_MODES


# ---- SL034 ------------------------------------------------------------------------------------
def _has_hooks(v: Value) -> bool:
    def one(m):
        if isinstance(m, Seq):
            return m.complete and len(m.items) > 0 or bool(m.items)
        return isinstance(m, Object) and m.kind == "hook"
    return all_members(v, one)


@check("SL034")
def estimator_spec_on_tpu(fact, ctx):
    if fact.cls != apis.ESTIMATOR_SPEC or duplicate_of_model_fn_view(fact, fact.run.an):
        return
    tpu_modes = ctx.tpu_modes(fact, True)
    if not tpu_modes:
        return
    chief = fact.fields.get("training_chief_hooks")
    if chief is not None and _has_hooks(chief.value):
        yield Finding("SL034", chief.node, "chief_hooks", dict(expr=source(chief.node)))
    modes = fact.reaching_modes()
    if not modes:
        return
    bad = modes & tpu_modes
    if ctx.target != "tpu" and ctx.targeting.export_only_predict(fact.root):
        bad -= {apis.PREDICT}
    if ctx.target != "tpu" and fact.tpu is not True and not ctx.targeting.estimators_of(fact.root):
        # No estimator in sight and no `if use_tpu:` around the spec: nothing says predict()
        # ever runs on TPU, and exporting (also for TPU) accepts a plain EstimatorSpec.  The
        # tensorflow/tpu RetinaNet/ResNet model_fns return one in PREDICT for CPU serving.
        bad -= {apis.PREDICT}
    if apis.EVAL in bad:
        yield Finding("SL034", fact.node.func, "eval", dict(expr=source(fact.node.func)))
    elif apis.PREDICT in bad:
        yield Finding("SL034", fact.node.func, "predict", dict(expr=source(fact.node.func)))


@module_check("SL034")
def canned_head_on_tpu(an, ctx):
    """A canned head's spec returned by a model_fn that runs on TPU in EVAL or PREDICT: the head
    builds a plain EstimatorSpec in every mode it is given (tensorflow#37991)."""
    for call, modes, run in head_specs_on_tpu(an, ctx):
        if ctx.target != "tpu" and ctx.targeting.export_only_predict(run):
            modes -= {apis.PREDICT}
        if apis.EVAL in modes:
            yield Finding("SL034", call.func, "head_eval", dict(expr=source(call.func)))
        elif apis.PREDICT in modes:
            yield Finding("SL034", call.func, "head_predict", dict(expr=source(call.func)))


# ---- SL035 ------------------------------------------------------------------------------------
def _facts_of(an, node, root) -> list:
    return [f for f in an.spec_facts if f.node is node and f.root is root]


@module_check("SL035")
def shared_class_state(an, ctx):
    for cf in an.log.of(PairingCall):
        if cf.kind != REPLACE:
            continue
        for name in apis.HOST_CALL_FIELDS:
            kw = cf.keywords.get(name)
            if kw is not None and known_not_none(kw[0]):
                yield Finding("SL035", kw[2].keyword, "replace", dict(
                    expr=source(cf.node.func), field=name))
    for run in model_fn_runs(an):
        for v, vnode, st in run.returns:
            returned = only(v, Spec)
            last = only(st.env.get(LAST_TPU_SPEC, NONE), Spec)
            if (vnode is None or returned is None or last is None
                    or returned.cls != apis.TPU_ESTIMATOR_SPEC or last.node is returned.node):
                continue
            mine, later = _facts_of(an, returned.node, run), _facts_of(an, last.node, run)
            if not mine or not later:
                continue
            for name in apis.HOST_CALL_FIELDS:
                values = [f.fields[name].value if name in f.fields else NONE for f in mine]
                if not all(known_not_none(x) for x in values):
                    continue
                others = [f.fields[name].value if name in f.fields else NONE for f in later]
                if all(is_none(x) for x in others):
                    variant = "missing"
                elif all(known_not_none(x) for x in others) and not set(others) & set(values):
                    variant = "different"
                else:
                    continue
                yield Finding("SL035", vnode, variant, dict(
                    expr=source(vnode), other=source(last.node), field=name))
                break


# ---- SL043 ------------------------------------------------------------------------------------
def _off_tpu_reason(cf, ctx) -> str:
    if cf.tpu is False:
        return "on a path that only runs off TPU (under a guard such as `if not use_tpu:`)"
    if ctx.target == "cpu":
        return "outside any TPU guard, and the target is CPU (--target cpu)"
    if ctx.targeting.plain_only(cf.root):
        return "in a model_fn given only to a plain tf.estimator.Estimator, which never runs on TPU"
    return "in a model_fn given only to TPUEstimator(use_tpu=False)"


@module_check("SL043")
def cross_shard(an, ctx):
    aggregated = {id(cf.root) for cf in an.log.of(PairingCall) if cf.kind == CROSS_REPLICA_SUM}
    for cf in an.log.of(PairingCall):
        if duplicate_of_model_fn_view(cf, an):
            continue
        if cf.kind == MINIMIZE:
            opt = only(cf.receiver, Object)
            if (opt is None or opt.kind != "optimizer" or opt.cross_shard
                    or id(cf.root) in aggregated or apis.TRAIN not in ctx.tpu_modes(cf, True)):
                continue
            yield Finding("SL043", cf.node, "missing", dict(
                expr=source(cf.node.func), opt=f"`{opt.cls}`"))
        elif cf.kind == CROSS_SHARD:
            inner = only(cf.receiver, Object)
            if inner is not None and inner.kind == "keras_optimizer":
                yield Finding("SL043", cf.node, "keras", dict(expr=source(cf.node)))
            elif ctx.off_tpu(cf):
                yield Finding("SL043", cf.node, "off_tpu", dict(
                    expr=source(cf.node), why=_off_tpu_reason(cf, ctx)))


# ---- SL045 ------------------------------------------------------------------------------------
@module_check("SL045")
def train_batch_size_missing(an, ctx):
    """TPUEstimator(use_tpu=True) raises at construction without train_batch_size, even when it
    only evaluates or predicts (tpu_estimator.py:2761-2765)."""
    seen = set()
    for fact in an.estimator_facts:
        if fact.kind != apis.TPU_ESTIMATOR or fact.splat or id(fact.node) in seen:
            continue
        seen.add(id(fact.node))
        given = estimator_arg(fact, "train_batch_size")
        if given is not None and not is_none(given[0]):
            continue
        use_tpu = estimator_arg(fact, "use_tpu")
        if use_tpu is not None and all(isinstance(m, Const) and not m.value for m in members(use_tpu[0])):
            continue  # use_tpu=False: TF skips the check
        certain = use_tpu is None or all(isinstance(m, Const) and m.value for m in members(use_tpu[0]))
        when = "" if certain or use_tpu[1] is None else f" when `{source(use_tpu[1])}` is true"
        at = given[1] if given is not None and given[1] is not None else fact.node.func
        yield Finding("SL045", at, "default", dict(
            expr=source(fact.node.func), when=when,
            how="is None" if given is not None else "is not given"))


# ---- SL046 ------------------------------------------------------------------------------------
# The table of TPU names and the modules that have them: apis.wrong_tpu_module (both engines).


@module_check("SL046")
def tpu_name_missing(an, ctx):
    seen = set()
    for call, _ in an.calls:
        if not isinstance(call.func, cst.Attribute) or id(call.func) in seen:
            continue
        seen.add(id(call.func))
        full = an.imports.resolve_expr(call.func)
        wrong = apis.wrong_tpu_module(full) if full else None
        if wrong is None:
            continue
        module, name, right = wrong
        yield Finding("SL046", call.func, "default", dict(
            expr=source(call.func), module=module, name=name, right=right))
