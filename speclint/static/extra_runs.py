"""The abstract runs the analysis makes after the model_fns, so that checks only read results:

- each input_fn given to an estimator call of the module, with `params` as the Estimator's
  (SL041, SL044);
- each host function of a TPUEstimatorSpec (`eval_metrics[0]`, `host_call[0]`) with its tensors,
  in the context where the spec is built, collecting every call it and its helpers make (SL008-SL011,
  SL042);
- each scaffold_fn body, with unknown arguments, for what it returns (SL014).

The host-function and scaffold_fn runs are replays: they record nothing in the fact log (a host
function's calls are collected in a window of their own) and the specs they build are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

import libcst as cst

from speclint import apis
from speclint.static.facts import ApiCalled, EstimatorCalled, PairingCall
from speclint.static.interpret import FunctionRun
from speclint.static.state import State
from speclint.static.scopes import param_names
from speclint.static.syntax import is_generator
from speclint.static.values import NONE, UNKNOWN, Callable, Dict as DictV, Params, Seq, Value, members

HOST_CALL_BUDGET = 50  # helper calls followed inside one host function run


def run_all(an) -> None:
    """After the model_fns ran: every input_fn, host function and scaffold_fn run of the module."""
    an.input_fn_runs = input_fn_runs(an)
    an.host_fn_runs = {}
    for fact in an.spec_facts:
        for name, _, pair in host_call_pairs(fact):
            an.host_fn_runs[(id(fact), name)] = run_host_fns(fact, pair)
    an.scaffold_runs = scaffold_runs(an)


# ---- input_fns ------------------------------------------------------------------------------------
def input_fn_runs(an) -> List[Tuple[EstimatorCalled, FunctionRun]]:
    """Interpret each input_fn given to an estimator call, with `params` as the Estimator's:
    (the call, the input_fn's run)."""
    out = []
    done: Dict[object, FunctionRun] = {}
    for call in list(an.log.of(EstimatorCalled)):
        if call.export:
            continue
        for m in members(call.input_fn):
            if not isinstance(m, Callable) or m.decorated or not isinstance(m.node, (cst.FunctionDef, cst.Lambda)):
                continue
            key = (m.node, id(m.run), m.bound_positional, m.bound_keywords)
            run = done.get(key)
            if run is None:
                run = FunctionRun(an, m.node, m.run)
                env = {n: UNKNOWN for n in param_names(m.node.params)}
                positional = [p.name.value for p in list(m.node.params.posonly_params) + list(m.node.params.params)]
                bound = set(positional[:m.bound_positional]) | set(m.bound_keywords)
                if "params" in env and "params" not in bound:
                    env["params"] = Params()  # the Estimator passes its params (TPUEstimator: with batch_size)
                state = State(env, apis.ALL_MODES, False)
                an.active.add(m.node)
                try:
                    if isinstance(m.node, cst.Lambda):
                        run.current = state
                        run.returns.append((run.eval(m.node.body, state), m.node.body, state))
                        run.finished = True
                    else:
                        run.execute(list(m.node.body.body), [state])
                finally:
                    an.active.discard(m.node)
                done[key] = run
            out.append((call, run))
    return out


# ---- host functions -------------------------------------------------------------------------------
def host_call_pairs(fact) -> Iterator[Tuple[str, object, Seq]]:
    """(field, FieldArg, the (fn, tensors) Seq) for each host call of a TPUEstimatorSpec whose
    value is a complete 2-element tuple/list on every path where it is not None (`host_call =
    None` then `host_call = (fn, [...])` under a flag: None is legal, the pair is checked)."""
    for name, fa, ms in host_call_fields(fact):
        if len(ms) == 1 and isinstance(ms[0], Seq) and ms[0].complete and len(ms[0].items) == 2:
            yield name, fa, ms[0]


def host_call_fields(fact) -> Iterator[Tuple[str, object, list]]:
    """(field, FieldArg, its non-None candidate values) for each host call a TPUEstimatorSpec is
    given (None is legal: no host call on that path)."""
    if fact.cls != apis.TPU_ESTIMATOR_SPEC:
        return
    for name in apis.HOST_CALL_FIELDS:
        fa = fact.fields.get(name)
        if fa is not None:
            yield name, fa, [m for m in members(fa.value) if m != NONE]


@dataclass
class HostFnRun:
    fn: Callable
    returns: List[Tuple[Value, Optional[cst.CSTNode]]]  # each `return`'s value and expression
    falls_through: bool  # some path reaches the end of the body (an implicit `return None`)
    calls: List[ApiCalled]  # every TF API (and `range`) call it and its helpers make
    generator: bool

    def name_node(self) -> cst.CSTNode:
        node = self.fn.node
        return node.name if isinstance(node, cst.FunctionDef) else node


def _arguments(tensors: Value):
    """(args, kwargs) the function is called with: `fn(*tensors)` or `fn(**tensors)`."""
    ms = members(tensors)
    if len(ms) == 1 and isinstance(ms[0], Seq) and ms[0].complete:
        return [(i.value, i.node) for i in ms[0].items], {}
    if len(ms) == 1 and isinstance(ms[0], DictV) and ms[0].literal_keys() is not None:
        return [], {e.key: (e.value, e.node) for e in ms[0].entries}
    return [], {}  # unknown arguments: every parameter is Unknown


def run_host_fns(fact, pair: Seq) -> List[HostFnRun]:
    """Run each def or lambda `pair.items[0]` may be (flags may choose between several host
    functions) with the tensors `pair.items[1]`."""
    return [r for r in (run_host_fn(fact, fn, pair.items[1].value) for fn in members(pair.items[0].value)
                        if isinstance(fn, Callable)) if r is not None]


def run_host_fn(fact, fn: Callable, tensors: Value) -> Optional[HostFnRun]:
    """Run `fn` (a def or lambda) with `tensors` where `fact` is built (cached per function,
    arguments and path state)."""
    if fn.node is None or fn.decorated or not isinstance(fn.node, (cst.FunctionDef, cst.Lambda)):
        return None
    if isinstance(fn.node, cst.FunctionDef) and fn.node.asynchronous is not None:
        return None  # calling it gives a coroutine, whatever its body returns
    run = fact.run
    an = run.an
    cache = an.host_fn_cache
    args, kwargs = _arguments(tensors)
    try:
        key = (fn.node, fn.bound_positional, fn.bound_keywords, fn.drops_first, id(fn.run),
               tuple(a[0] for a in args), tuple(sorted((k, v[0]) for k, v in kwargs.items())),
               fact.modes, fact.exact, fact.tpu, id(fact.root))
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in cache:
        return cache[key]
    state = State(dict(fact.env), fact.modes, fact.exact, {}, fact.tpu)
    budget = an.call_budget.get(run.root)
    an.call_budget[run.root] = HOST_CALL_BUDGET
    try:
        with an.replay(), an.log.window() as seen:
            child = run.run_child(fn, args, kwargs, state)
    finally:
        if budget is None:
            an.call_budget.pop(run.root, None)
        else:
            an.call_budget[run.root] = budget
    result = HostFnRun(fn, [(v, n) for v, n, _ in child.returns], bool(child.fallthrough),
                       [f for f in seen if isinstance(f, ApiCalled)], is_generator(fn.node))
    if key is not None:
        cache[key] = result
    return result


# ---- scaffold_fns ---------------------------------------------------------------------------------
def seen_in_model_fn(fact, an) -> bool:
    """A fact of a helper's own standalone run (unknown arguments) whose node was also seen while
    running a model_fn: the model_fn's view, with its values, is the one reported."""
    seen = an.seen_in_model_fn
    if seen is None:
        seen = an.seen_in_model_fn = {
            id(f.node) for f in list(an.spec_facts) + list(an.log.of(PairingCall)) if f.root.ctx is not None}
    return fact.root.ctx is None and id(fact.node) in seen


def scaffold_candidate(fact) -> Optional[Callable]:
    """The one def or lambda a TPUEstimatorSpec's scaffold_fn certainly is, if any."""
    if fact.cls != apis.TPU_ESTIMATOR_SPEC:
        return None
    fa = fact.fields.get("scaffold_fn")
    if fa is None:
        return None
    fns = [m for m in members(fa.value) if m != NONE]
    if len(fns) != 1 or not isinstance(fns[0], Callable):
        return None
    fn = fns[0]
    if fn.api is not None or fn.decorated or not isinstance(fn.node, (cst.FunctionDef, cst.Lambda)):
        return None
    return fn


def scaffold_runs(an) -> Dict[tuple, Optional[FunctionRun]]:
    """(scaffold_fn node, TPU flag) -> its replay, for each scaffold_fn of a spec the checks see."""
    out: Dict[tuple, Optional[FunctionRun]] = {}
    for fact in an.spec_facts:
        fn = scaffold_candidate(fact)
        if fn is None or seen_in_model_fn(fact, an):
            continue
        key = (fn.node, fact.tpu)
        if key not in out:
            out[key] = _replay(fn, fact)
    return out


def _replay(fn: Callable, fact) -> Optional[FunctionRun]:
    """Run the body of `fn` (a scaffold_fn) with unknown arguments, recording nothing."""
    an = fact.run.an
    node = fn.node
    if node in an.active:
        return None
    child = FunctionRun(an, node, fn.run, 1, None, None, FunctionRun.defining_class(fn, an))
    env = {n: UNKNOWN for n in param_names(node.params)}
    start = State(env, fact.modes, fact.exact, {}, fact.tpu)
    an.active.add(node)
    try:
        with an.replay():
            child.run_body(start)
    finally:
        an.active.discard(node)
    return child
