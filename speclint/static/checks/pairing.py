"""Spec class / estimator pairing, scaffold_fn returns, hooks and optimizers on TPU:
SL014, SL016, SL017, SL031, SL033, SL034, SL035, SL043.

Where code runs (TPU or CPU, per mode) is decided by CheckContext.on_tpu / tpu_modes / off_tpu
(speclint/static/targeting.py).
"""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from speclint import apis
from speclint.finding import Finding
from speclint.static.checks.base import check, module_check
from speclint.static.syntax import source
from speclint.static.checks.common import fn_label, only
from speclint.static.extra_runs import scaffold_candidate, seen_in_model_fn
from speclint.static.facts import PairingCall
from speclint.static.semantics import (
    CROSS_REPLICA_SUM, CROSS_SHARD, INIT_FROM_CHECKPOINT, LAST_TPU_SPEC, MINIMIZE, REPLACE,
)
from speclint.static.values import (
    NONE, BoundAsEstimatorSpec, Callable, Object, Scaffold, Seq, Spec, Unknown, Value, all_members,
    members, none_or_all,
)


def _skip(fact, an, ctx) -> bool:
    """A fact of a helper's own standalone run that a model_fn run also saw (reported there)."""
    return seen_in_model_fn(fact, an)


def _an(fact):
    return fact.run.an


def _is_none(v: Value) -> bool:
    return all(m == NONE for m in members(v))


def _known_not_none(v: Value) -> bool:
    return all(m != NONE and not isinstance(m, Unknown) for m in members(v))


def _model_fn_runs(an) -> Iterator:
    for fn in an.model_fns:
        run = an.primary_run.get(fn)
        if run is not None and run.ctx is not None:
            yield run


# ---- SL014 ------------------------------------------------------------------------------------
def _is_saver(v: Value) -> bool:
    return all_members(v, lambda m: isinstance(m, Object) and m.kind == "saver")


@check("SL014")
def scaffold_fn_returns(fact, ctx):
    if fact.cls != apis.TPU_ESTIMATOR_SPEC or _skip(fact, _an(fact), ctx):
        return
    fn = scaffold_candidate(fact)
    if fn is None:
        return
    run = _an(fact).scaffold_runs.get((fn.node, fact.tpu))
    if run is None:
        return
    name_node = fn.node.name if isinstance(fn.node, cst.FunctionDef) else fn.node
    label = fn_label(fn)
    kinds = []  # (kind, value node)
    for v, vnode, _ in run.returns:
        if v == NONE:
            kinds.append(("none", vnode))
        elif all_members(v, lambda m: isinstance(m, Scaffold)):
            kinds.append(("scaffold", vnode))
        elif _is_saver(v) and vnode is not None:
            kinds.append(("saver", vnode))
            yield Finding("SL014", vnode, "not_scaffold", dict(
                fn=label, expr=source(vnode), got=members(v)[0].describe()))
        else:
            kinds.append(("unknown", vnode))
    if run.fallthrough:
        kinds.append(("end", None))
    if not ctx.on_tpu(fact) or any(k == "unknown" for k, _ in kinds):
        return
    nones = [(k, n) for k, n in kinds if k in ("none", "end")]
    if not nones:
        return
    if all(k in ("none", "end") for k, _ in kinds):
        how = ("returns None" if any(k == "none" for k, _ in kinds)
               else "has no return statement, so it returns None")
        yield Finding("SL014", name_node, "returns_none", dict(fn=label, how=how))
        return
    if not any(k == "scaffold" for k, _ in kinds):
        return
    for k, n in nones:
        if k == "none" and n is not None:
            yield Finding("SL014", n, "returns_none", dict(fn=label, how="returns None here"))
        else:
            yield Finding("SL014", name_node, "returns_none", dict(
                fn=label, how="can reach its end without a return (returning None) on some path"))


# ---- SL016 ------------------------------------------------------------------------------------
@module_check("SL016")
def init_from_checkpoint_on_tpu(an, ctx):
    for cf in an.log.of(PairingCall):
        if cf.kind != INIT_FROM_CHECKPOINT or _skip(cf, an, ctx) or not ctx.tpu_modes(cf, True):
            continue
        owner = cf.run.node
        fn = owner.name.value if isinstance(owner, cst.FunctionDef) else "<lambda>"
        yield Finding("SL016", cf.node, "default", dict(expr=source(cf.node.func), fn=fn))


# ---- SL017 ------------------------------------------------------------------------------------
def _checkpoint_loaded_off_tpu(an, root) -> bool:
    return any(cf.kind == INIT_FROM_CHECKPOINT and cf.root is root and cf.tpu is not True
               for cf in an.log.of(PairingCall))


@check("SL017")
def dropped(fact, ctx):
    if fact.cls != apis.ESTIMATOR_SPEC:
        return
    an = _an(fact)
    if _skip(fact, an, ctx):
        return
    fa = fact.fields.get("scaffold")
    # Only TPU TRAIN: in TPU EVAL/PREDICT an EstimatorSpec fails outright (SL034), so its scaffold
    # is never "silently" dropped (tensorflow/models object_detection model_lib.py EVAL spec).
    if fa is not None and none_or_all(fa.value, lambda m: isinstance(m, Scaffold)) \
            and apis.TRAIN in ctx.tpu_modes(fact, True):
        yield Finding("SL017", fa.arg.keyword or fa.node, "ignored_scaffold", dict(expr=source(fa.node)))
    if fact.tpu is not False:
        return
    # (b) the CPU alternative of a TPUEstimatorSpec of the same model_fn
    tpu_specs = [f for f in an.spec_facts
                 if f.root is fact.root and f.cls == apis.TPU_ESTIMATOR_SPEC and f.tpu is True
                 and not f.converted and f.modes & fact.modes]
    reported = set()
    for t in tpu_specs:
        sf = t.fields.get("scaffold_fn")
        if ("scaffold" not in reported and sf is not None
                and none_or_all(sf.value, lambda m: isinstance(m, Callable) and m.api is None)
                and (fa is None or _is_none(fa.value))
                and not _checkpoint_loaded_off_tpu(an, fact.root)):
            reported.add("scaffold")
            yield Finding("SL017", fact.node.func, "dropped_scaffold", dict(expr=source(sf.node)))
        em = t.fields.get("eval_metrics")
        modes = fact.reaching_modes()
        eo = fact.fields.get("eval_metric_ops")
        if ("metrics" not in reported and em is not None and modes and apis.EVAL in modes
                and apis.EVAL in t.modes and only(em.value, Seq) is not None
                and (eo is None or _is_none(eo.value)) and not fact.splat):
            reported.add("metrics")
            yield Finding("SL017", fact.node.func, "dropped_metrics", dict(expr=source(em.node)))


# ---- SL031 ------------------------------------------------------------------------------------
@check("SL031")
def hooks_capture(fact, ctx):
    if _skip(fact, _an(fact), ctx) or not ctx.tpu_modes(fact, True):
        return
    for field in ("training_hooks", "evaluation_hooks", "prediction_hooks"):
        fa = fact.fields.get(field)
        hooks = only(fa.value, Seq) if fa is not None else None
        if hooks is None:
            continue
        for item in hooks.items:
            hook = only(item.value, Object)
            if hook is None or hook.kind != "hook":
                continue
            for captured in hook.captured:
                if captured.node is not None:
                    yield Finding("SL031", captured.node, "default", dict(
                        expr=source(captured.node), hook=f"`{hook.cls}`", field=field))


# ---- SL033 ------------------------------------------------------------------------------------
def _when(run, state) -> str:
    if run.mode_tested and state.exact and state.modes != apis.ALL_MODES:
        return " or ".join(apis.MODE_WHEN[m] for m in sorted(state.modes))
    return "the first train(), evaluate() or predict()"


@module_check("SL033")
def plain_estimator_pairing(an, ctx):
    for run in _model_fn_runs(an):
        plain = ctx.targeting.plain_only(run)
        for v, vnode, st in run.returns:
            if vnode is None:
                continue
            if all_members(v, lambda m: isinstance(m, BoundAsEstimatorSpec)):
                yield Finding("SL033", vnode, "uncalled", dict(expr=source(vnode)))
            elif plain and st.tpu is not True and all_members(
                    v, lambda m: isinstance(m, Spec) and m.cls == apis.TPU_ESTIMATOR_SPEC):
                yield Finding("SL033", vnode, "returned", dict(
                    expr=source(vnode), fn=run.ctx.name, when=_when(run, st)))


# ---- SL034 ------------------------------------------------------------------------------------
def _has_hooks(v: Value) -> bool:
    def one(m):
        if isinstance(m, Seq):
            return m.complete and len(m.items) > 0 or bool(m.items)
        return isinstance(m, Object) and m.kind == "hook"
    return all_members(v, one)


@check("SL034")
def estimator_spec_on_tpu(fact, ctx):
    if fact.cls != apis.ESTIMATOR_SPEC or _skip(fact, _an(fact), ctx):
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
            if kw is not None and _known_not_none(kw[0]):
                yield Finding("SL035", kw[2].keyword, "replace", dict(
                    expr=source(cf.node.func), field=name))
    for run in _model_fn_runs(an):
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
                if not all(_known_not_none(x) for x in values):
                    continue
                others = [f.fields[name].value if name in f.fields else NONE for f in later]
                if all(_is_none(x) for x in others):
                    variant = "missing"
                elif all(_known_not_none(x) for x in others) and not set(others) & set(values):
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
        if _skip(cf, an, ctx):
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
