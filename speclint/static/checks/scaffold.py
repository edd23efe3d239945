"""The scaffold family, static side: SL013-SL017.

scaffold= vs scaffold_fn= (SL013), what scaffold_fn returns (SL014: its body replayed by the
analysis), tensors it captures (SL015), init_from_checkpoint outside it on TPU (SL016), and a
scaffold or eval_metrics that silently never takes effect (SL017).
"""
from __future__ import annotations

import re

import libcst as cst

from speclint import apis
from speclint.finding import Finding
from speclint.static.checks import fixes
from speclint.static.checks.base import check, module_check
from speclint.static.checks.common import (
    candidates, captured_tensors, duplicate_of_model_fn_view, fn_label, is_none, only, when_built,
)
from speclint.static.extra_runs import scaffold_candidate
from speclint.static.facts import PairingCall
from speclint.static.semantics import INIT_FROM_CHECKPOINT
from speclint.static import syntax
from speclint.static.syntax import source
from speclint.static.values import (
    Callable, Dict, NONE, Object, Scaffold, Seq, Value, all_members, members, none_or_all,
)


def _keyword_or_value(fa):
    return fa.arg.keyword if fa.arg.keyword is not None else fa.node


@check("SL013")
def scaffold_kind(fact, ctx):
    if fact.cls == apis.ESTIMATOR_SPEC:
        fa = fact.fields.get("scaffold")
        if fa is not None and none_or_all(fa.value, lambda m: isinstance(m, Callable)):
            yield Finding("SL013", _keyword_or_value(fa), "callable_scaffold", dict(
                expr=source(fa.node), when=when_built(fact) + _only_if(fact, fa)), fix=fixes.sl013_call(fa, fact, ctx))
    else:
        fa = fact.fields.get("scaffold_fn")
        if fa is not None and none_or_all(fa.value, lambda m: isinstance(m, Scaffold)):
            yield Finding("SL013", _keyword_or_value(fa), "scaffold_instance", dict(expr=source(fa.node)),
                          fix=fixes.sl013_lambda(fa, fact, ctx))


_MODE_WORD = re.compile(r"\bmode\b|ModeKeys")


def _only_if(fact, fa) -> str:
    """The flag a function value of `scaffold=` depends on, when it is None on the other paths
    (tensorflow/tpu ResNet: `def restore_scaffold()` only `if FLAGS.export_moving_average:`)."""
    ms = members(fa.value)
    fns = [m for m in ms if isinstance(m, Callable) and m.node is not None]
    if len(fns) != 1 or NONE not in ms or fact.root is None or fact.root.node is None:
        return ""
    outer = syntax.guards(fact.root.node, fact.node) or []
    inner = syntax.guards(fact.root.node, fns[0].node)
    if not inner:
        return ""
    shared = {(id(t), side) for t, side in outer}
    tests = [(source(t), side) for t, side in inner
             if (id(t), side) not in shared and not _MODE_WORD.search(source(t))]
    if not tests:
        return ""
    cond = " and ".join(f"`{t}` is true" if side else f"`{t}` is false" for t, side in tests)
    return (f" (on the path where {cond}; elsewhere `{source(fa.node)}` is None, which "
            "EstimatorSpec accepts)")


@check("SL015")
def scaffold_closure(fact, ctx):
    if fact.cls != apis.TPU_ESTIMATOR_SPEC or not ctx.on_tpu(fact):
        return
    fa = fact.fields.get("scaffold_fn")
    for fn in candidates(fa.value, Callable) if fa is not None else ():  # `f if c else None`
        for captured, use in captured_tensors(fact, fn, ctx):
            yield Finding("SL015", use, "default", dict(fn=fn_label(fn), name=captured))


# ---- SL014 ------------------------------------------------------------------------------------
def _is_saver(v: Value) -> bool:
    return all_members(v, lambda m: isinstance(m, Object) and m.kind == "saver")


@check("SL014")
def scaffold_fn_returns(fact, ctx):
    if fact.cls != apis.TPU_ESTIMATOR_SPEC or duplicate_of_model_fn_view(fact, fact.run.an):
        return
    fn = scaffold_candidate(fact)
    if fn is None:
        return
    run = fact.run.an.scaffold_runs.get((fn.node, fact.tpu))
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
        if cf.kind != INIT_FROM_CHECKPOINT or duplicate_of_model_fn_view(cf, an) or not ctx.tpu_modes(cf, True):
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
    an = fact.run.an
    if duplicate_of_model_fn_view(fact, an):
        return
    if fact.bad_keywords or fact.extra_positional or fact.duplicates:
        return  # the spec raises TypeError when it is built (SL018): nothing is silently dropped
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
                and (fa is None or is_none(fa.value))
                and not _checkpoint_loaded_off_tpu(an, fact.root)):
            reported.add("scaffold")
            yield Finding("SL017", fact.node.func, "dropped_scaffold", dict(
                expr=source(sf.node), off_tpu=_off_tpu(fact)))
        em = t.fields.get("eval_metrics")
        modes = fact.reaching_modes()
        eo = fact.fields.get("eval_metric_ops")
        if ("metrics" not in reported and em is not None and modes and apis.EVAL in modes
                and apis.EVAL in t.modes and only(em.value, Seq) is not None
                and (eo is None or is_none(eo.value)) and not fact.splat):
            reported.add("metrics")
            yield Finding("SL017", fact.node.func, "dropped_metrics", dict(
                expr=source(em.node), call=_metric_call(only(em.value, Seq)), off_tpu=_off_tpu(fact)))


def _off_tpu(fact) -> str:
    """When the CPU alternative is returned: the flag test as written, when one decided it."""
    if fact.tpu_condition:
        return f"when `{fact.tpu_condition}` is false"
    return "when not on TPU"


def _metric_call(pair) -> str:
    """How the EstimatorSpec gets the metrics: TPUEstimator calls the metric_fn with the tensors
    as keyword arguments when they are a dict (tpu_estimator.py:2148, `host_fn(**tensors)`)."""
    tensors = pair.items[1].value if len(pair.items) == 2 else None
    if tensors is not None and members(tensors) and all(isinstance(m, Dict) for m in members(tensors)):
        return "metric_fn(**tensors)"
    return "metric_fn(*tensors)"
