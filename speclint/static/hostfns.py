"""Running the function of a host call (`eval_metrics[0]`, `host_call[0]`) with its tensors.

The interpreter runs the resolved def or lambda (FunctionRun.run_child) with the values of the
`tensors` list or dict as its arguments, in the context where the spec is built, while the
Recorder collects every call it makes (its helpers included).  The result says what each `return`
gives, whether the body can fall off its end, and which calls were made: what SL008, SL009,
SL010, SL011 and SL042 need.  Runs are cached per function and arguments.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import libcst as cst

from speclint.static.events import CallEvent
from speclint.static.interpret import State
from speclint.static.values import Callable, Dict, Seq, Value, members

HOST_CALL_BUDGET = 50  # helper calls followed inside one host function run


@dataclass
class HostFnRun:
    fn: Callable
    returns: List[Tuple[Value, Optional[cst.CSTNode]]]  # each `return`'s value and expression
    falls_through: bool  # some path reaches the end of the body (an implicit `return None`)
    calls: List[CallEvent]
    generator: bool

    def name_node(self) -> cst.CSTNode:
        node = self.fn.node
        return node.name if isinstance(node, cst.FunctionDef) else node


def _arguments(tensors: Value):
    """(args, kwargs) the function is called with: `fn(*tensors)` or `fn(**tensors)`."""
    ms = members(tensors)
    if len(ms) == 1 and isinstance(ms[0], Seq) and ms[0].complete:
        return [(i.value, i.node) for i in ms[0].items], {}
    if len(ms) == 1 and isinstance(ms[0], Dict) and ms[0].literal_keys() is not None:
        return [], {e.key: (e.value, e.node) for e in ms[0].entries}
    return [], {}  # unknown arguments: every parameter is Unknown


def run_host_fns(fact, pair: Seq) -> List[HostFnRun]:
    """Run each def or lambda `pair.items[0]` may be (flags may choose between several host
    functions) with the tensors `pair.items[1]`."""
    return [r for r in (run_host_fn(fact, fn, pair.items[1].value) for fn in members(pair.items[0].value)
                        if isinstance(fn, Callable)) if r is not None]


def run_host_fn(fact, fn: Callable, tensors: Value) -> Optional[HostFnRun]:
    """Run `fn` (a def or lambda) with `tensors` where `fact` is built."""
    if fn.node is None or fn.decorated or not isinstance(fn.node, (cst.FunctionDef, cst.Lambda)):
        return None
    if isinstance(fn.node, cst.FunctionDef) and fn.node.asynchronous is not None:
        return None  # calling it gives a coroutine, whatever its body returns
    run = fact.run
    an = run.an
    recorder = an.recorder
    args, kwargs = _arguments(tensors)
    try:
        key = (fn.node, fn.bound_positional, fn.bound_keywords, fn.drops_first, id(fn.run),
               tuple(a[0] for a in args), tuple(sorted((k, v[0]) for k, v in kwargs.items())),
               fact.modes, fact.exact, fact.tpu, id(fact.root))
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in recorder.host_runs:
        return recorder.host_runs[key]
    state = State(dict(fact.env), fact.modes, fact.exact, {}, fact.tpu)
    budget = an.call_budget.get(run.root)
    an.call_budget[run.root] = HOST_CALL_BUDGET
    try:
        with an.replay(), recorder.observe() as calls:
            child = run.run_child(fn, args, kwargs, state)
    finally:
        if budget is None:
            an.call_budget.pop(run.root, None)
        else:
            an.call_budget[run.root] = budget
    result = HostFnRun(fn, [(v, n) for v, n, _ in child.returns], bool(child.fallthrough), list(calls),
                       _is_generator(fn.node))
    if key is not None:
        recorder.host_runs[key] = result
    return result


def _is_generator(node) -> bool:
    if not isinstance(node, cst.FunctionDef):
        return False
    found = False

    class V(cst.CSTVisitor):
        def visit_Yield(self, n):
            nonlocal found
            found = True

        def visit_FunctionDef(self, n):
            return n is node  # nested defs have their own yields

        def visit_Lambda(self, n):
            return False

    node.visit(V())
    return found
