"""Mode handling, the model_fn signature and TPU input: SL036-SL041, SL044.

SL036 reads spec constructions; the others read the fact log (facts.py: mode tests,
uses of `labels` and `params["batch_size"]`, estimator constructions and calls, input_fns) and
run once per module (`module_check`).
"""
from __future__ import annotations

from typing import Dict, Iterator, List, Optional

import libcst as cst

from speclint import apis
from speclint.static import syntax
from speclint.static.facts import (
    ApiCalled, Batched, EstimatorCalled, LabelsUsed, ModeCompared, ModeKeysAttribute, ParamRead,
)
from speclint.families import model_fn as MF
from speclint.finding import Finding
from speclint.static.checks import fixes
from speclint.static.checks.base import check, module_check
from speclint.static.syntax import source
from speclint.static.checks.common import handed_to_unknown, only_inspected, signature
from speclint.static.values import (
    NONE, Callable, Config, Const, Dict as DictV, Mode, PyValue, Seq, Spec, Unknown, members,
)


def _is_model_fn_run(run) -> bool:
    return run is not None and run.ctx is not None


_MODEL_FN_ARGS = {"features", "labels", "mode", "params", "config"}


def _estimator_could_call(run) -> bool:
    """A model_fn given to an Estimator of the module, or one found by its parameters whose
    signature an Estimator accepts (only features, labels, mode, params, config: a head's
    `create_estimator_spec(self, features, mode, logits, ...)` is not a model_fn; when a model_fn
    calls it, that model_fn's run reports what it builds)."""
    ctx = run.ctx
    if ctx.tpu_estimator or ctx.plain_estimator:
        return True
    node = run.node
    if not isinstance(node, cst.FunctionDef):
        return True
    names = [p.name.value for p in list(node.params.posonly_params) + list(node.params.params)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return set(names) <= _MODEL_FN_ARGS


# ---- SL036 ------------------------------------------------------------------------------------
def _top_level(fn: cst.CSTNode, target: cst.CSTNode) -> bool:
    """`target` sits in a simple statement directly in `fn`'s body (runs on every call)."""
    body = getattr(getattr(fn, "body", None), "body", ())
    return any(isinstance(stmt, cst.SimpleStatementLine) and syntax.contains_node(stmt, target) for stmt in body)


@check("SL036")
def spec_mode(fact, ctx):
    fa = fact.fields.get("mode")
    if fa is None or fact.splat:
        return
    ms = members(fa.value)
    if any(isinstance(m, Unknown) for m in ms):
        return
    in_model_fn = _is_model_fn_run(fact.root) and _estimator_could_call(fact.root)
    literal = isinstance(fa.node, cst.SimpleString) or (isinstance(fa.node, cst.Name) and fa.node.value == "None")
    cls, expr = fact.cls, source(fa.node)
    if all(m == NONE for m in ms):
        if in_model_fn or (literal and not only_inspected(fact) and not handed_to_unknown(fact)):
            yield Finding("SL036", fa.node, *MF.spec_mode(cls, expr, "none"))
        return
    if all(isinstance(m, Const) and isinstance(m.value, str) and m.value not in apis.MODE_DISPLAY for m in ms):
        if literal or in_model_fn:
            yield Finding("SL036", fa.node, *MF.spec_mode(cls, expr, "string"))
        return
    constant = set()
    for m in ms:
        if isinstance(m, Mode) and m.constant:
            constant |= m.modes
        elif isinstance(m, Const) and m.value in apis.MODE_DISPLAY:
            constant.add(m.value)
        else:
            return
    if not (in_model_fn and fact.exact):
        return
    root = fact.root
    if not root.mode_tested and not (fact.run is root and _top_level(root.node, fact.node)):
        return
    decision = MF.spec_mode(cls, expr, "constant", got=constant, called=fact.modes)
    if decision is not None:
        yield Finding("SL036", fa.node, *decision)


# ---- SL037 ------------------------------------------------------------------------------------
_ALWAYS = {
    "==": "is always False, so the branch it guards never runs",
    "!=": "is always True, so the branch it guards also runs in every mode",
    "in": "never matches that element",
    "not in": "never excludes that element",
}


def _resolves_to_mode_keys(an, node) -> bool:
    full = an.imports.resolve_expr(node)
    if full is not None:
        return apis.api_name(full) == apis.MODE_KEYS
    if isinstance(node, cst.Name) and an.module_run is not None:
        v = an.module_run.final_env().get(node.value)
        return v is not None and getattr(v, "path", None) is not None and \
            apis.api_name(v.path) == apis.MODE_KEYS
    return False


def _compared_names(test) -> set:
    if not isinstance(test, cst.Comparison):
        return set()
    nodes = [test.left] + [c.comparator for c in test.comparisons]
    return {n.value for n in nodes if isinstance(n, cst.Name)}


@module_check("SL037")
def mode_strings(an, ctx):
    seen = set()
    rebound: Dict[int, set] = {}
    for c in an.log.of(ModeCompared):
        if not _is_model_fn_run(c.root) or id(c.literal) in seen:
            continue
        fn = c.root.node
        if isinstance(fn, cst.FunctionDef):
            if id(fn) not in rebound:
                rebound[id(fn)] = syntax.rebound_names(fn)
            if _compared_names(c.test) & rebound[id(fn)]:
                # `if mode == PREDICT and score_in_predict_mode: mode = "score"` (mesh
                # tensorflow transformer/utils.py): the name no longer holds only a mode value.
                continue
        seen.add(id(c.literal))
        yield Finding("SL037", c.literal, "literal", dict(
            literal=source(c.literal), expr=source(c.test), always=_ALWAYS[c.op],
            fix=apis.mode_constant_for(c.value)), fix=fixes.sl037_constant(an, c.literal, apis.mode_constant_for(c.value)))
    for found in an.log.of(ModeKeysAttribute):
        node = found.node
        if _resolves_to_mode_keys(an, node.value):
            attr = node.attr.value
            yield Finding("SL037", node, "attribute", dict(
                expr=source(node), attr=attr, fix=apis.mode_constant_for(attr)),
                fix=fixes.sl037_attribute(node, apis.mode_constant_for(attr)))


# ---- SL038 ------------------------------------------------------------------------------------
def _when(states, root) -> tuple:
    """(" when mode is X", "<when X first runs>") when the modes of these paths are known."""
    modes = frozenset()
    for s in states:
        modes |= s.modes
    if root.mode_tested and all(s.exact for s in states) and modes and modes != apis.ALL_MODES:
        text = MF.modes_text(modes)
        return f" when mode is {text}", " and ".join(apis.MODE_WHEN[m] for m in sorted(modes))
    return "", "the first call that takes this path"


def _checked_model_fn(fn, ctx) -> bool:
    return ctx.tpu_estimator or ctx.plain_estimator or "model_fn" in fn.name.value.lower()


@module_check("SL038")
def missing_return(an, ctx):
    flow = None
    for fn, mctx in an.model_fns.items():
        run = an.primary_run.get(fn)
        if run is None or not _checked_model_fn(fn, mctx):
            continue
        name = fn.name.value
        for value, node, state in run.returns:
            ms = members(value)
            if node is None:
                continue
            if len(ms) == 1 and isinstance(ms[0], Seq) and ms[0].kind == "tuple" and ms[0].complete \
                    and any(isinstance(i.value, Spec) for i in ms[0].items):
                yield Finding("SL038", node, "tuple", dict(
                    fn=name, expr=source(node), n=len(ms[0].items),
                    when=_when([state], run)[1]))
            elif all(m == NONE for m in ms):
                modes, when = _when([state], run)
                yield Finding("SL038", node, "returns_none", dict(fn=name, modes=modes, when=when))
        if run.fallthrough:
            flow = flow or syntax.Flow(an)
            if flow.block(list(fn.body.body) if hasattr(fn.body, "body") else []):
                modes, when = _when(run.fallthrough, run)
                yield Finding("SL038", fn.name, "falls_through", dict(fn=name, modes=modes, when=when))


# ---- SL039 ------------------------------------------------------------------------------------
def _serves_predict(an, root) -> bool:
    """The model_fn builds a spec with predictions on a path that runs in PREDICT."""
    for fact in an.spec_facts:
        if fact.root is not root or not fact.exact or apis.PREDICT not in fact.modes:
            continue
        fa = fact.fields.get("predictions")
        if fa is not None and not any(m == NONE or isinstance(m, Unknown) for m in members(fa.value)):
            return True
    return False


def _predicts_labels(an, root, uses) -> bool:
    """The model_fn puts `labels` into its PREDICT predictions (`{"label_ids": labels, ...}`): its
    author expects labels in PREDICT, as TPUEstimator passes the dataset's labels to a TPU
    predict() and wrappers restore them from features (tensorflow/tensorflow#17824; magenta
    onsets_frames_transcription train_util.create_estimator)."""
    nodes = [u.node for u in uses if u.root is root]
    for fact in an.spec_facts:
        if fact.root is not root or apis.PREDICT not in fact.modes:
            continue
        fa = fact.fields.get("predictions")
        if fa is None:
            continue
        for m in members(fa.value):
            if isinstance(m, DictV) and any(
                    e.node is not None and any(syntax.contains_node(e.node, n) for n in nodes) for e in m.entries):
                return True
    return False


@module_check("SL039")
def labels_in_predict(an, ctx):
    reported = set()
    serves: Dict[int, bool] = {}
    uses = an.log.of(LabelsUsed)
    for use in uses:
        root = use.root
        if id(root) in reported or not _is_model_fn_run(root) or not root.mode_tested:
            continue
        if id(root) not in serves:
            serves[id(root)] = _serves_predict(an, root) and not _predicts_labels(an, root, uses)
        if not serves[id(root)]:
            continue  # a train/eval-only model_fn: SL019 reports the PREDICT gap itself
        if not use.exact or apis.PREDICT not in use.modes:
            continue
        reported.add(id(root))
        yield Finding("SL039", use.node, "default", dict(
            expr=source(use.node), fn=getattr(getattr(root.node, "name", None), "value", "<lambda>")))


# ---- SL040 ------------------------------------------------------------------------------------
def estimator_arg(fact, name: str):
    """(value, node) of an Estimator constructor argument, or None when not given."""
    if name in fact.kwargs:
        return fact.kwargs[name], fact.kwarg_nodes.get(name)
    order = apis.ESTIMATOR_PARAMS[fact.kind]
    i = order.index(name) if name in order else -1
    if 0 <= i < len(fact.args):
        return fact.args[i]
    return None


def _certainly_given(arg) -> bool:
    """A `params=` argument that is certainly not None."""
    if arg is None:
        return False
    ms = members(arg[0])
    return all(isinstance(m, (DictV, Config, PyValue, Seq)) or (isinstance(m, Const) and m.value is not None)
               for m in ms)


def _model_fns(fact) -> List[Callable]:
    out = []
    for m in members(fact.model_fn):
        if isinstance(m, Callable) and m.api is None and not m.decorated and \
                isinstance(m.node, (cst.FunctionDef, cst.Lambda)):
            out.append(m)
    return out


def _unique_estimators(an) -> Iterator:
    seen = set()
    for fact in an.estimator_facts:
        if id(fact.node) in seen or fact.splat:
            continue
        seen.add(id(fact.node))
        yield fact


def _fn_name(m: Callable) -> str:
    return m.name if m.name != "<lambda>" else "<lambda>"


def _param_node(node, name: str):
    p = node.params
    for x in list(p.posonly_params) + list(p.params):
        if x.name.value == name:
            return x.name
    return None


def _partial_keyword(expr, keyword: str):
    if isinstance(expr, cst.Call):
        for a in expr.args:
            if a.keyword is not None and a.keyword.value == keyword:
                return a.keyword
    return None


@module_check("SL040")
def model_fn_signature(an, ctx):
    for fact in _unique_estimators(an):
        tpu = fact.kind == apis.TPU_ESTIMATOR
        est = "TPUEstimator" if tpu else "Estimator"
        params_arg = estimator_arg(fact, "params")
        mf_arg = estimator_arg(fact, "model_fn")
        if tpu and params_arg is not None:
            d = members(params_arg[0])
            from speclint.static.values import Dict as DictV
            if len(d) == 1 and isinstance(d[0], DictV):
                for e in d[0].entries:
                    decision = MF.reserved_params_key(e.key)
                    if decision is not None and e.key_node is not None:
                        yield Finding("SL040", e.key_node, *decision)
        for m in _model_fns(fact):
            sig = signature(m)
            if sig is None:
                continue
            name = _fn_name(m)
            where = m.node.name if isinstance(m.node, cst.FunctionDef) else m.node
            hidden = "params" in m.bound_keywords
            decision = MF.model_fn_signature(name, est, sig.fn_args(), params_given=_certainly_given(params_arg),
                                             params_bound=hidden)
            if decision is None:
                continue
            variant, params = decision
            if variant == "no_params":
                node = (_partial_keyword(mf_arg[1], "params") if hidden and mf_arg else None) or where
            elif variant == "unexpected":
                node = _param_node(m.node, params["arg"]) or where
            else:
                node = where
            yield Finding("SL040", node, variant, params)


# ---- SL041 ------------------------------------------------------------------------------------
def _no_batch_size_in(params_arg) -> Optional[str]:
    """Why a plain Estimator's params certainly lack 'batch_size', else None."""
    if params_arg is None:
        return " without `params=`"
    ms = members(params_arg[0])
    if all(m == NONE for m in ms):
        return " with `params=None`"
    if len(ms) == 1 and isinstance(ms[0], DictV):
        keys = ms[0].literal_keys()
        if keys is not None and "batch_size" not in keys:
            return " whose `params=` has no 'batch_size' key"
    return None


def _reads_in(an, runs: set, mode=None) -> Iterator:
    guarded: Dict[int, bool] = {}
    for use in an.log.of(ParamRead):
        if id(use.root) not in runs:
            continue
        key = id(use.run.node)
        if key not in guarded:
            guarded[key] = syntax.tests_for_batch_size(use.run.node) or (
                use.run is not use.root and syntax.tests_for_batch_size(use.root.node))
        if guarded[key]:
            continue
        if mode is not None and use.root.ctx is not None:
            if not use.exact or mode not in use.modes:
                continue
        yield use


def _model_fn_runs(an, fact) -> Dict[int, object]:
    out = {}
    for m in _model_fns(fact):
        run = an.primary_run.get(m.node)
        if run is not None and run.ctx is not None:
            out[id(run)] = run
    return out


def _input_fn_runs(an, index: int) -> Dict[int, object]:
    return {id(run): run for call, run in an.input_fn_runs if call.index == index}


@module_check("SL041")
def batch_size_param(an, ctx):
    seen = set()  # plain Estimator constructions already checked (one fact per path state)
    for index, fact in enumerate(an.estimator_facts):
        if fact.splat:
            continue
        if fact.kind == apis.ESTIMATOR:
            if id(fact.node) in seen:
                continue
            seen.add(id(fact.node))
            why = _no_batch_size_in(estimator_arg(fact, "params"))
            if why is None:
                continue
            runs = _model_fn_runs(an, fact)
            inputs = {}
            for i, other in enumerate(an.estimator_facts):
                if other.node is fact.node:
                    inputs.update(_input_fn_runs(an, i))
            for use in _reads_in(an, set(runs) | set(inputs)):
                if use.tpu is True and fact.tpu is False:
                    # one flag picks the estimator and guards the read (xlnet's run_classifier:
                    # `if FLAGS.use_tpu:` builds a TPUEstimator, else this Estimator; its input_fn
                    # reads params["batch_size"] only `if FLAGS.use_tpu:`): never with this one
                    continue
                kind = "model_fn" if use.root.ctx is not None else "input_fn"
                fn = getattr(getattr(use.root.node, "name", None), "value", "<lambda>")
                if fact.tpu is False and fact.tpu_condition:
                    why += f" (the Estimator built when `{fact.tpu_condition}` is false)"
                yield Finding("SL041", use.node, "plain", dict(
                    expr=source(use.node), fn=f"{kind} `{fn}`", params_note=why,
                    when="the first call of the " + kind))
            continue
        # TPUEstimator: a method called without that mode's batch size
        for call in an.log.of(EstimatorCalled):
            if call.export:
                continue
            if call.index != index:
                continue
            kw = apis.BATCH_SIZE_KEYWORD[call.method]
            given = estimator_arg(fact, kw)
            if given is not None and not all(m == NONE for m in members(given[0])):
                continue
            mode = apis.METHOD_MODE[call.method]
            runs = _model_fn_runs(an, fact)
            inputs = {id(r): r for c, r in an.input_fn_runs if c is call}
            for use in _reads_in(an, set(runs) | set(inputs), mode):
                kind = "model_fn" if use.root.ctx is not None else "input_fn"
                fn = getattr(getattr(use.root.node, "name", None), "value", "<lambda>")
                yield Finding("SL041", use.node, "tpu_mode", dict(
                    expr=source(use.node), fn=f"{kind} `{fn}`", mode=apis.MODE_DISPLAY[mode],
                    method=call.method, kw=kw))


# ---- SL044 ------------------------------------------------------------------------------------
def _module_functions(an) -> dict:
    """name -> top-level function of the module `an` analysed."""
    return {fn.name.value: fn for fn, parent in an.parent_def.items()
            if parent is None and fn not in an.class_def}


@module_check("SL044")
def dynamic_batch(an, ctx):
    if ctx.target == "cpu":
        return
    seen = set()
    for call, run in an.input_fn_runs:
        if call.method not in ("train", "evaluate"):
            continue
        fact = an.estimator_facts[call.index]
        if fact.kind != apis.TPU_ESTIMATOR or fact.splat:
            continue
        use_tpu = estimator_arg(fact, "use_tpu")
        if use_tpu is not None and ctx.target != "tpu" and \
                all(isinstance(m, Const) and not m.value for m in members(use_tpu[0])):
            continue
        if call.tpu is False and use_tpu is not None and \
                not any(isinstance(m, Const) and m.value for m in members(use_tpu[0])):
            # `drop_remainder = True if FLAGS.use_tpu else False` (BERT, ALBERT): on the path
            # where the TPU flag is off, TPUEstimator(use_tpu=FLAGS.use_tpu) runs on CPU/GPU.
            continue
        embedding = estimator_arg(fact, "embedding_config_spec")
        if embedding is not None and not all(m == NONE for m in members(embedding[0])):
            # TPU embedding: sparse features are popped from `features` and enqueued by
            # TPUEstimator (tpu_estimator.py split_inputs), so a dynamic batch of them builds;
            # which features those are is not known here (tpu_enqueue_sequence_test.py)
            continue
        for b in an.log.of(Batched):
            if b.run.root is not run or id(b.node) in seen:
                continue
            drop = b.drop
            if drop is not None and not all(isinstance(m, Const) and m.value is False for m in members(drop)):
                continue
            helpers = _module_functions(b.run.mod)
            if syntax.reshaped_after(run.node, b.node, helpers) or (
                    b.run.node is not run.node and syntax.reshaped_after(b.run.node, b.node, helpers)):
                continue
            seen.add(id(b.node))
            yield Finding("SL044", b.node, "default", dict(expr=source(b.node), method=call.method))


# ---- SL047 ------------------------------------------------------------------------------------
_KERAS_APPLICATIONS = ("tf.keras.applications.", "keras.applications.")


def _pretrained(call) -> Optional[str]:
    """What `weights=` of a Keras application call loads (None: nothing certain): its default is
    'imagenet' (keras/src/applications/*.py)."""
    name = call.canonical
    if not name.startswith(_KERAS_APPLICATIONS) or not name.rpartition(".")[2][:1].isupper():
        return None
    weights = call.kwargs.get("weights") or (call.args[1] if len(call.args) > 1 else None)
    if weights is None:
        return "weights='imagenet' (the default)"
    ms = members(weights[0])
    if ms and all(isinstance(m, Const) and isinstance(m.value, str) for m in ms):
        return f"weights={source(weights[1])}"
    return None


@module_check("SL047")
def keras_pretrained_in_tpu_model_fn(an, ctx):
    if ctx.target == "cpu":
        return
    seen = set()
    for call in an.log.of(ApiCalled):
        if id(call.node) in seen or not _is_model_fn_run(call.root):
            continue
        weights = _pretrained(call)
        if weights is None or not ctx.tpu_modes(call, True):
            continue
        seen.add(id(call.node))
        fn = getattr(getattr(call.root.node, "name", None), "value", "<lambda>")
        yield Finding("SL047", call.node, "default", dict(
            expr=source(call.node.func), weights=weights, fn=fn))
