"""Abstract interpretation of a function body.

Walks statements in order with a list of states.  A state holds the abstract value of each name,
the modes that can reach this point (path sensitivity on `mode == ModeKeys.X`, `!=`, `in`,
`is_training = ...`, early returns, `assert`), and facts about flag-like conditions (`use_tpu`,
`params["use_tpu"]`, `FLAGS.x is None`) so that correlated branches stay apart.  Any other
condition joins the two branches.  Calls to functions of the same module are followed (bounded
depth), so helpers that build specs or return tensors are seen with their arguments.

What it records for the checks: every spec construction (SpecFact) and every Estimator
construction (EstimatorFact).  Checks never walk the tree themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Optional, Tuple

import libcst as cst

from speclint import apis
from speclint.static import semantics, tfops
from speclint.static.scopes import param_names
from speclint.static.values import (
    ApiRef, BATCH, NONE, UNKNOWN, BatchSize, Config, KerasMetric, PyValue, UNKNOWN_SHAPE, Callable, Const,
    Dict as DictV, DictEntry, Item, Mode, ModeTest, Operation, Scaffold, Seq, Spec, Tensor, Unknown, Value, join,
)
from speclint.static.values import EstimatorRef, Labels
from speclint.static.values import BoundAsEstimatorSpec, HookClass

if TYPE_CHECKING:  # pragma: no cover
    from speclint.static.analyzer import ModuleAnalyzer

MAX_STATES = 24
MAX_DEPTH = 3
MAX_CALLS_PER_ROOT = 200  # helper calls followed per model_fn (or standalone) analysis
_TPU_WORDS = ("use_tpu", "on_tpu", "is_tpu")


class State:
    __slots__ = ("env", "modes", "exact", "facts", "tpu")

    def __init__(self, env, modes, exact, facts=None, tpu=None):
        self.env: Dict[str, Value] = env
        self.modes: FrozenSet[str] = modes
        self.exact: bool = exact
        self.facts: Dict[str, Tuple[bool, FrozenSet[str]]] = facts if facts is not None else {}
        self.tpu: Optional[bool] = tpu

    def copy(self) -> "State":
        return State(dict(self.env), self.modes, self.exact, dict(self.facts), self.tpu)

    def bind(self, name: str, value: Value) -> None:
        self.env[name] = value
        if self.facts:
            stale = [k for k, (_, names) in self.facts.items() if name in names]
            for k in stale:
                del self.facts[k]

    def key(self):
        # A name rebound from the model_fn's mode to a string (`mode = "score"`, mesh
        # tensorflow) keeps its states apart, so later `mode == ...` tests stay decidable.
        rebound = frozenset(n for n, v in self.env.items() if isinstance(v, Const) and isinstance(
            v.value, str) and v.value not in apis.MODE_DISPLAY and n == "mode")
        if not self.facts:
            return (self.modes, self.exact, rebound) if rebound else (self.modes, self.exact)
        return (self.modes, self.exact, frozenset((k, v[0]) for k, v in self.facts.items()), rebound)


def _join_states(a: State, b: State, keep_facts: bool = True) -> State:
    env = {}
    for name in a.env.keys() | b.env.keys():
        env[name] = join(a.env.get(name, UNKNOWN), b.env.get(name, UNKNOWN))
    facts = {k: v for k, v in a.facts.items() if b.facts.get(k) == v} if keep_facts else {}
    tpu = a.tpu if a.tpu == b.tpu else None
    return State(env, a.modes | b.modes, a.exact and b.exact, facts, tpu)


def merge(states: List[State]) -> List[State]:
    if len(states) <= 1:
        return states
    groups: Dict[Any, State] = {}
    for s in states:
        k = s.key()
        groups[k] = _join_states(groups[k], s) if k in groups else s
    out = list(groups.values())
    if len(out) > MAX_STATES:
        coarse: Dict[Any, State] = {}
        for s in out:
            k = (s.modes, s.exact)
            coarse[k] = _join_states(coarse[k], s) if k in coarse else s
        out = list(coarse.values())
    return out


@dataclass
class FieldArg:
    value: Value
    node: cst.BaseExpression  # the value expression
    arg: cst.Arg  # the whole argument (keyword included)


@dataclass
class ModelFnContext:
    """What is known about the model_fn a run belongs to."""

    name: str
    tpu_estimator: bool = False  # given to a TPUEstimator
    plain_estimator: bool = False  # given to a tf.estimator.Estimator


@dataclass
class SpecFact:
    node: cst.Call
    cls: str
    fields: Dict[str, FieldArg]
    bad_keywords: List[cst.Arg]
    extra_positional: List[cst.Arg]
    duplicates: List[cst.Arg]
    splat: bool
    modes: FrozenSet[str]
    exact: bool
    tpu: Optional[bool]
    env: Dict[str, Value]
    run: "FunctionRun"
    root: "FunctionRun"
    converted: bool = False  # `.as_estimator_spec()` called on the construction itself

    def reaching_modes(self) -> Optional[FrozenSet[str]]:
        """The modes this spec is built in, when certain."""
        fa = self.fields.get("mode")
        if fa is None:
            return None
        v = fa.value
        if isinstance(v, Mode):
            if v.constant:
                return v.modes
            # a model_fn that never looks at its mode (train-only scripts) is not held to the
            # other modes' requirements: only paths of a model_fn that handles modes are checked
            if not (self.exact and v.exact and self.root.mode_tested):
                return None
            return self.modes
        if isinstance(v, Const) and v.value in apis.MODE_DISPLAY:
            return frozenset((v.value,))
        return None


@dataclass
class EstimatorFact:
    node: cst.Call
    kind: str
    model_fn: Value
    kwargs: Dict[str, Value] = field(default_factory=dict)  # e.g. use_tpu, eval_on_tpu
    args: list = field(default_factory=list)  # [(value, node)] positional arguments
    kwarg_nodes: Dict[str, cst.BaseExpression] = field(default_factory=dict)  # keyword -> value node
    splat: bool = False  # `*args` / `**kwargs` in the call


_MULTI_STATE = frozenset(("Try", "TryStar", "Match"))
# Container methods the interpreter follows on a local list or dict, and those that remove items.
_MUTATORS = frozenset(("append", "extend", "update", "insert", "pop", "setdefault", "remove", "clear",
                       "popitem"))
_REMOVERS = frozenset(("pop", "remove", "clear", "popitem"))


class FunctionRun:
    """One abstract execution of a function (or of the module body)."""

    def __init__(self, an: "ModuleAnalyzer", node, parent: Optional["FunctionRun"], depth: int = 0,
                 root: Optional["FunctionRun"] = None, ctx: Optional[ModelFnContext] = None,
                 method_of: Optional[cst.ClassDef] = None):
        self.an = an  # the analysis this run records its facts in
        self.node = node
        self.parent = parent
        # the module that defines `node` (its imports, classes): differs from `an` for a helper
        # imported from another linted module
        self.mod = parent.mod if parent is not None else an
        self.depth = depth
        self.root = root or self
        self.ctx = ctx
        self.method_of = method_of
        self.mode_tested = False  # this model_fn (root) branches on its mode somewhere
        self.modes_named: FrozenSet[str] = frozenset()  # the modes its tests name
        self.returns: List[Tuple[Value, Optional[cst.CSTNode], State]] = []
        self.fallthrough: List[State] = []
        self.current: Optional[State] = None
        self.finished = False
        self._final_env: Optional[Dict[str, Value]] = None
        self.active = an.active  # defs being executed (recursion guard)
        self.self_name: Optional[str] = None
        self.attr_values: Dict[str, Value] = {}  # `self.x = ...` in this method
        if method_of is not None and isinstance(node, cst.FunctionDef):
            names = param_names(node.params)
            self.self_name = names[0] if names else None

    # ---- name lookup ------------------------------------------------------------------------
    def final_env(self) -> Dict[str, Value]:
        if self._final_env is None:
            states = [s for _, _, s in self.returns] + self.fallthrough
            env: Dict[str, Value] = {}
            if states:
                merged = states[0]
                for s in states[1:]:
                    merged = _join_states(merged, s, keep_facts=False)
                env = merged.env
            self._final_env = env
        return self._final_env

    def lookup(self, name: str, state: Optional[State] = None):
        """(value, run that binds it) for `name` seen from this run, or (None, None)."""
        if state is not None:
            env = state.env
        elif not self.finished and self.current is not None:
            env = self.current.env
        else:
            env = self.final_env()
        if name in env:
            return env[name], self
        if self.parent is not None:
            return self.parent.lookup(name)
        return None, None

    # ---- statements ---------------------------------------------------------------------------
    def execute(self, body, states: List[State]) -> List[State]:
        states = self.block(body, states)
        self.fallthrough.extend(states)
        self.finished = True
        return states

    def block(self, stmts, states: List[State]) -> List[State]:
        for stmt in stmts:
            if not states:
                break
            states = self.stmt(stmt, states)
        return states

    def body_of(self, node) -> list:
        if isinstance(node, cst.IndentedBlock):
            return list(node.body)
        if isinstance(node, cst.SimpleStatementSuite):
            return list(node.body)
        return []

    def stmt(self, stmt, states: List[State]) -> List[State]:
        if isinstance(stmt, cst.SimpleStatementLine):
            return self.block(stmt.body, states)
        handler = getattr(self, "s_" + type(stmt).__name__, None)
        if handler is None:
            return states
        if type(stmt).__name__ in _MULTI_STATE:  # handlers that take all states at once
            return handler(stmt, states)
        out: List[State] = []
        for s in states:
            self.current = s
            out.extend(handler(stmt, s))
        return out

    # small statements: (stmt, state) -> list of states
    def s_Expr(self, st: cst.Expr, s: State):
        self.eval(st.value, s)
        return [s]

    def s_Assign(self, st: cst.Assign, s: State):
        v = self.eval(st.value, s)
        for t in st.targets:
            self.assign(t.target, v, st.value, s)
            if isinstance(t.target, cst.Attribute) and t.target.attr.value == "iterations":
                semantics.step_advanced(self, t.target, s)  # `optimizer.iterations = global_step` (Keras)
        return [s]

    def s_AnnAssign(self, st: cst.AnnAssign, s: State):
        if st.value is not None:
            self.assign(st.target, self.eval(st.value, s), st.value, s)
        return [s]

    def s_AugAssign(self, st: cst.AugAssign, s: State):
        right = self.eval(st.value, s)
        if isinstance(st.target, cst.Name):
            left = self.eval(st.target, s)
            s.bind(st.target.value, self.binop(left, right, st.operator))
        else:
            self.eval(st.target, s)
        return [s]

    def s_Return(self, st: cst.Return, s: State):
        v = self.eval(st.value, s) if st.value is not None else NONE
        self.returns.append((v, st.value if st.value is not None else st, s))
        return []

    def s_Raise(self, st, s: State):
        if st.exc is not None:
            self.eval(st.exc, s)
        return []

    def s_Assert(self, st: cst.Assert, s: State):
        true, _ = self.branch(st.test, s)
        return true

    def s_Del(self, st: cst.Del, s: State):
        targets = [e.value for e in st.target.elements] if isinstance(st.target, cst.Tuple) else [st.target]
        for t in targets:
            if isinstance(t, cst.Name):
                s.env.pop(t.value, None)
            elif isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name):
                name = t.value.value
                container = s.env.get(name)
                key = self._index_const(t)
                if isinstance(container, DictV):
                    if isinstance(key, (str, int)):
                        s.env[name] = DictV(tuple(e for e in container.entries if e.key != key),
                                            container.complete, container.node)
                    else:
                        s.env[name] = DictV((), False, container.node)
                elif isinstance(container, Seq):
                    s.env[name] = Seq(container.kind, (), False, container.node)
        return [s]

    # compound statements
    def s_If(self, st: cst.If, s: State):
        true, false = self.branch(st.test, s)
        out = self.block(self.body_of(st.body), true)
        if st.orelse is None:
            out = out + false
        elif isinstance(st.orelse, cst.If):
            out = out + self.stmt(st.orelse, false)
        else:
            out = out + self.block(self.body_of(st.orelse.body), false)
        return merge(out)

    def s_For(self, st: cst.For, s: State):
        it = self.eval(st.iter, s)
        body_state = s.copy()
        element = UNKNOWN
        if isinstance(it, Seq) and it.complete and it.items:
            element = it.items[0].value
            for item in it.items[1:]:
                element = join(element, item.value)
        self.assign(st.target, element, None, body_state)
        out = self.block(self.body_of(st.body), [body_state])
        states = merge([s] + out)
        if st.orelse is not None:
            states = self.block(self.body_of(st.orelse.body), states)
        return states

    def s_While(self, st: cst.While, s: State):
        true, false = self.branch(st.test, s.copy())
        out = self.block(self.body_of(st.body), true)
        states = merge([s] + out)
        if st.orelse is not None:
            states = self.block(self.body_of(st.orelse.body), states)
        return states

    def s_Try(self, st, states: List[State]):
        pre = [s.copy() for s in states]
        out = self.block(self.body_of(st.body), states)
        if st.orelse is not None:
            out = self.block(self.body_of(st.orelse.body), out)
        for h in st.handlers:
            hs = [s.copy() for s in pre]
            if h.name is not None:
                for s in hs:
                    self.assign(h.name.name, UNKNOWN, None, s)
            out = out + self.block(self.body_of(h.body), hs)
        out = merge(out)
        if st.finalbody is not None:
            out = self.block(self.body_of(st.finalbody.body), out)
        return out

    s_TryStar = s_Try

    def s_With(self, st: cst.With, s: State):
        for item in st.items:
            self.eval(item.item, s)
            if item.asname is not None:
                self.assign(item.asname.name, UNKNOWN, None, s)
        return self.block(self.body_of(st.body), [s])

    def s_FunctionDef(self, st: cst.FunctionDef, s: State):
        s.bind(st.name.value, Callable(node=st, name=st.name.value, run=self,
                                       decorated=bool(st.decorators)))
        return [s]

    def s_ClassDef(self, st: cst.ClassDef, s: State):
        s.bind(st.name.value, semantics.class_value(self, st, s))
        return [s]

    def s_Match(self, st, states: List[State]):
        out: List[State] = []
        for case in st.cases:
            out.extend(self.block(self.body_of(case.body), [s.copy() for s in states]))
        return merge(out + states)

    # ---- assignment ---------------------------------------------------------------------------
    def assign(self, target, value: Value, value_node, s: State) -> None:
        if isinstance(target, cst.Name):
            s.bind(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = list(target.elements)
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            if (isinstance(value, Seq) and value.complete and not starred
                    and len(value.items) == len(elements)):
                for e, item in zip(elements, value.items):
                    self.assign(e.value, item.value, item.node, s)
            else:
                for e in elements:
                    self.assign(e.value, UNKNOWN, None, s)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, UNKNOWN, None, s)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            name = target.value.value
            container = s.env.get(name)
            key = self._index_const(target)
            if isinstance(container, DictV):
                if isinstance(key, (str, int)):
                    entries = tuple(e for e in container.entries if e.key != key)
                    entry = DictEntry(key, value, None, value_node)
                    s.env[name] = DictV(entries + (entry,), container.complete, container.node)
                else:
                    s.env[name] = DictV(container.entries, False, container.node)
            elif isinstance(container, Seq):
                s.env[name] = Seq(container.kind, container.items, False, container.node)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
                and self.self_name is not None and target.value.value == self.self_name:
            # `self.x = ...`: read back by the class's other methods when only __init__ sets it
            attr = target.attr.value
            old = self.attr_values.get(attr)
            self.attr_values[attr] = value if old is None else join(old, value)

    def _index_const(self, sub: cst.Subscript):
        if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
            return None
        node = sub.slice[0].slice.value
        if isinstance(node, cst.SimpleString):
            return node.evaluated_value
        if isinstance(node, cst.Integer):
            return int(node.value, 0)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) \
                and isinstance(node.expression, cst.Integer):
            return -int(node.expression.value, 0)
        return None

    # ---- conditions ---------------------------------------------------------------------------
    def branch(self, test, s: State) -> Tuple[List[State], List[State]]:
        """States in which `test` is true, and those in which it is false."""
        if isinstance(test, cst.BooleanOperation):
            lt, lf = self.branch(test.left, s)
            if isinstance(test.operator, cst.And):
                true, false = [], list(lf)
                for st in lt:
                    rt, rf = self.branch(test.right, st)
                    true += rt
                    false += rf
            else:
                true, false = list(lt), []
                for st in lf:
                    rt, rf = self.branch(test.right, st)
                    true += rt
                    false += rf
            return merge(true), merge(false)
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            t, f = self.branch(test.expression, s)
            return f, t
        self.current = s
        narrowed = semantics.narrow_labels(self, test, s)
        if narrowed is not None:
            return narrowed
        v = self.eval(test, s)
        if isinstance(v, ModeTest):
            return self._split_modes(s, v.modes, v.exact)
        if isinstance(v, Const):
            if self._tpu_flag_text(test):  # `use_tpu=False` passed in: the path is known
                s.tpu = bool(v.value)
            return ([s], []) if v.value else ([], [s])
        if isinstance(v, (Callable, Spec, Scaffold, Operation)):
            return [s], []
        key = self._fact_key(test, s)
        if key is not None:
            text, names = key
            if text in s.facts:
                return ([s], []) if s.facts[text][0] else ([], [s])
            t, f = s, s.copy()
            tpu_flag = any(w in text.lower() for w in _TPU_WORDS)
            if tpu_flag or text in self.mod.repeated_conditions(self.node):
                # Keep the two sides apart when the condition is tested again later, or when it
                # is a TPU flag (the choice of spec class and of host-call forms follows those):
                # this is what keeps correlated branches from mixing.
                t.facts[text] = (True, names)
                f.facts[text] = (False, names)
            if tpu_flag:
                t.tpu, f.tpu = True, False
            return [t], [f]
        t, f = s, s.copy()
        if any(isinstance(v, (Mode, ModeTest)) for v in s.env.values()) and self._mentions_mode(test, s):
            t.exact = f.exact = False
        return [t], [f]

    @staticmethod
    def _tpu_flag_text(test) -> bool:
        if not isinstance(test, (cst.Name, cst.Attribute, cst.Subscript)):
            return False
        text = cst.Module([]).code_for_node(test).lower()
        return any(w in text for w in _TPU_WORDS)

    def _split_modes(self, s: State, modes, exact: bool):
        true_modes = s.modes & modes
        false_modes = s.modes - modes
        self.root.mode_tested = True
        self.root.modes_named |= modes
        out_t, out_f = [], []
        if true_modes:
            t = s.copy()
            t.modes, t.exact = true_modes, s.exact and exact
            out_t.append(t)
        if false_modes:
            f = s.copy()
            f.modes, f.exact = false_modes, s.exact and exact
            out_f.append(f)
        return out_t, out_f

    def _fact_key(self, test, s: State):
        """(text, names) for a side-effect-free condition on flags, else None."""
        names: set = set()

        def ok(n) -> bool:
            if isinstance(n, cst.Name):
                names.add(n.value)
                return True
            if isinstance(n, cst.Attribute):
                return ok(n.value)
            if isinstance(n, cst.Subscript):
                return ok(n.value) and all(
                    isinstance(e.slice, cst.Index) and isinstance(e.slice.value, (cst.SimpleString, cst.Integer))
                    for e in n.slice)
            if isinstance(n, cst.Call):
                return (isinstance(n.func, cst.Attribute) and n.func.attr.value == "get"
                        and ok(n.func.value)
                        and all(isinstance(a.value, (cst.SimpleString, cst.Integer, cst.Name)) for a in n.args))
            if isinstance(n, cst.Comparison):
                return ok(n.left) and all(_literal(c.comparator) or ok(c.comparator) for c in n.comparisons)
            return False

        if not ok(test):
            return None
        if any(isinstance(s.env.get(n), (Mode, ModeTest)) for n in names):
            return None
        text = " ".join(cst.Module([]).code_for_node(test).split())
        return text, frozenset(names)

    def _mentions_mode(self, node, s: State) -> bool:
        found = False

        class V(cst.CSTVisitor):
            def visit_Name(self_, n: cst.Name):
                nonlocal found
                v, _ = self.lookup(n.value, s)
                if isinstance(v, (Mode, ModeTest)) and not (isinstance(v, Mode) and v.constant):
                    found = True

        node.visit(V())
        return found

    # ---- expressions --------------------------------------------------------------------------
    def eval(self, node, s: State) -> Value:
        handler = getattr(self, "e_" + type(node).__name__, None)
        if handler is None:
            return UNKNOWN
        return handler(node, s)

    def e_Name(self, node: cst.Name, s: State) -> Value:
        name = node.value
        if name == "None":
            return NONE
        if name in ("True", "False"):
            return Const(name == "True")
        v, _ = self.lookup(name, s)
        if v is not None:
            return v
        full = self.mod.imports.resolve_expr(node)
        if full is not None:
            return self.mod.api_value(full)
        if name == "FLAGS":  # absl / tf.flags: every attribute is a Python value
            return Config()
        return UNKNOWN

    def e_Attribute(self, node: cst.Attribute, s: State) -> Value:
        base = self.eval(node.value, s)
        attr = node.attr.value
        if isinstance(base, Labels):
            semantics.labels_used(self, node.value, s)
        if attr == "as_estimator_spec" and isinstance(base, Spec) and base.cls == apis.TPU_ESTIMATOR_SPEC:
            return BoundAsEstimatorSpec(base.node)  # not called: SL033
        if isinstance(base, Config):
            return PyValue()
        if isinstance(base, ApiRef):
            return self.mod.api_value(base.path + "." + attr)
        if isinstance(base, Unknown):
            # the whole chain may resolve where its prefix is ambiguous (try/except imports of
            # two modules that both hold the API), or go through a call (t2t's contrib.tpu().X)
            root = node.value
            while isinstance(root, cst.Attribute):
                root = root.value
            if not (isinstance(root, cst.Name) and self.lookup(root.value, s)[0] is not None):
                full = self.mod.imports.resolve_expr(node)
                if full is not None:
                    return self.mod.api_value(full)
        if isinstance(node.value, cst.Name):
            # `self.x` in a method, or in a function nested in one (a model_fn closure)
            _, owner = self.lookup(node.value.value, s)
            if owner is not None and owner.self_name == node.value.value:
                method = owner.mod.method(owner.method_of, attr)
                if method is not None:
                    return method
                value = owner.mod.instance_attr(owner.method_of, attr)
                if value is not None:
                    return value
        return UNKNOWN

    def e_Integer(self, node, s):
        try:
            return Const(int(node.value.replace("_", ""), 0))
        except ValueError:
            return UNKNOWN

    def e_Float(self, node, s):
        try:
            return Const(float(node.value.replace("_", "")))
        except ValueError:
            return UNKNOWN

    def e_SimpleString(self, node, s):
        try:
            return Const(node.evaluated_value)
        except Exception:  # noqa: BLE001 - odd literals (bytes prefixes) are just strings
            return PyValue()

    def e_ConcatenatedString(self, node, s):
        return PyValue()

    def e_FormattedString(self, node, s):
        return PyValue()

    def e_Tuple(self, node, s):
        return self._seq("tuple", node, s)

    def e_List(self, node, s):
        return self._seq("list", node, s)

    def _seq(self, kind, node, s) -> Seq:
        items, complete = [], True
        for el in node.elements:
            if isinstance(el, cst.StarredElement):
                v = self.eval(el.value, s)
                if isinstance(v, Seq) and v.complete:
                    items.extend(v.items)
                else:
                    complete = False
            else:
                items.append(Item(self.eval(el.value, s), el.value))
        return Seq(kind, tuple(items), complete, node)

    def e_Dict(self, node: cst.Dict, s) -> DictV:
        entries, complete = [], True
        for el in node.elements:
            if isinstance(el, cst.StarredDictElement):
                v = self.eval(el.value, s)
                if isinstance(v, DictV) and v.complete:
                    entries.extend(v.entries)
                else:
                    complete = False
                continue
            k = self.eval(el.key, s)
            key = k.value if isinstance(k, Const) and isinstance(k.value, (str, int)) else None
            if key is None:
                complete = False
            entries.append(DictEntry(key, self.eval(el.value, s), el.key, el.value))
        return DictV(tuple(entries), complete, node)

    def e_DictComp(self, node, s):
        return DictV((), False, node)

    def e_ListComp(self, node, s):
        inner = s.copy()
        comp = node.for_in
        while comp is not None:
            self.eval(comp.iter, inner)
            self.assign(comp.target, UNKNOWN, None, inner)
            comp = comp.inner_for_in
        element = self.eval(node.elt, inner)
        self.current = s
        return Seq("list", (), False, node, element)

    def e_Lambda(self, node: cst.Lambda, s):
        return Callable(node=node, name="<lambda>", run=self)

    def e_IfExp(self, node: cst.IfExp, s):
        true, false = self.branch(node.test, s.copy())
        vals = []
        if true:
            vals.append(self.eval(node.body, true[0]))
        if false:
            vals.append(self.eval(node.orelse, false[0]))
        self.current = s
        if not vals:
            return UNKNOWN
        v = vals[0]
        for other in vals[1:]:
            v = join(v, other)
        return v

    def e_NamedExpr(self, node: cst.NamedExpr, s):
        v = self.eval(node.value, s)
        self.assign(node.target, v, node.value, s)
        return v

    def e_Subscript(self, node: cst.Subscript, s):
        base = self.eval(node.value, s)
        key = self._index_const(node)
        semantics.subscript(self, node, base, key, s)
        if isinstance(base, Seq) and base.complete and isinstance(key, int):
            if -len(base.items) <= key < len(base.items):
                return base.items[key].value
            return UNKNOWN
        if isinstance(base, DictV) and isinstance(key, (str, int)):
            for e in base.entries:
                if e.key == key:
                    return e.value
            return UNKNOWN
        if isinstance(base, Config) and isinstance(key, str):
            return BatchSize() if key == "batch_size" else PyValue()
        if isinstance(base, Tensor):
            if base.shape == BATCH and isinstance(key, str):
                return Tensor(BATCH)  # features["input_ids"]
            first = node.slice[0].slice if node.slice else None
            if (base.shape == BATCH and len(node.slice) > 1 and isinstance(first, cst.Slice)
                    and first.lower is None and first.upper is None and first.step is None):
                return Tensor(BATCH)  # x[:, 0]
            return Tensor(UNKNOWN_SHAPE)
        return UNKNOWN

    def e_BinaryOperation(self, node: cst.BinaryOperation, s):
        semantics.module_tensor_uses(self, (node.left, node.right), s)
        left, right = self.eval(node.left, s), self.eval(node.right, s)
        if isinstance(left, Labels) or isinstance(right, Labels):
            semantics.labels_used(self, node.left if isinstance(left, Labels) else node.right, s)
        return self.binop(left, right, node.operator)

    def binop(self, a: Value, b: Value, op) -> Value:
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            if isinstance(op, (cst.MatrixMultiply, cst.MatrixMultiplyAssign)):
                return Tensor(BATCH if isinstance(a, Tensor) and a.shape == BATCH else UNKNOWN_SHAPE)
            dtype = tfops.binary_dtype(a, b) if isinstance(
                op, (cst.Add, cst.Subtract, cst.Multiply, cst.AddAssign, cst.SubtractAssign,
                     cst.MultiplyAssign)) else None
            return Tensor(tfops.broadcast(tfops.shape_of(a), tfops.shape_of(b)), dtype=dtype)
        if isinstance(a, Seq) and isinstance(b, Seq) and isinstance(op, (cst.Add, cst.AddAssign)) \
                and a.kind == b.kind:
            return Seq(a.kind, a.items + b.items, a.complete and b.complete)
        if isinstance(a, (Const, PyValue)) and isinstance(b, (Const, PyValue)):
            return PyValue()
        return UNKNOWN

    def e_UnaryOperation(self, node: cst.UnaryOperation, s):
        v = self.eval(node.expression, s)
        if isinstance(node.operator, cst.Not):
            if isinstance(v, ModeTest):
                return ModeTest(apis.ALL_MODES - v.modes, v.exact)
            return UNKNOWN
        if isinstance(v, Tensor):
            return Tensor(v.shape)
        if isinstance(v, Const) and isinstance(v.value, (int, float)) and isinstance(node.operator, cst.Minus):
            return Const(-v.value)
        return UNKNOWN

    def e_BooleanOperation(self, node: cst.BooleanOperation, s):
        a = self.eval(node.left, s)
        b = self.eval(node.right, s)
        if isinstance(a, ModeTest) and isinstance(b, ModeTest):
            if isinstance(node.operator, cst.And):
                return ModeTest(a.modes & b.modes, a.exact and b.exact)
            return ModeTest(a.modes | b.modes, a.exact and b.exact)
        return UNKNOWN

    def e_Comparison(self, node: cst.Comparison, s):
        if len(node.comparisons) != 1:
            return UNKNOWN
        comp = node.comparisons[0]
        left = self.eval(node.left, s)
        right = self.eval(comp.comparator, s)
        op = comp.operator
        if (isinstance(left, Tensor) or isinstance(right, Tensor)) and isinstance(
                op, (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)):
            return Tensor(tfops.broadcast(tfops.shape_of(left), tfops.shape_of(right)))
        other_node = comp.comparator
        known = _known_string_comparison(left, right, op)
        if known is not None:  # `mode = "score"` earlier, then `mode == ModeKeys.TRAIN`
            return Const(known)
        if isinstance(right, Mode) and not right.constant and isinstance(left, (Mode, Const)):
            left, right = right, left
            other_node = node.left
        if not (isinstance(left, Mode) and not left.constant):
            return UNKNOWN
        if left.exact:  # the model_fn's own mode (not a helper's `mode` parameter of unknown origin)
            semantics.mode_compared(self, node, comp, other_node, right, s)
        if isinstance(op, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)):
            modes = _mode_set(right)
            if modes is None:
                return UNKNOWN
            if isinstance(op, (cst.NotEqual, cst.IsNot)):
                modes = apis.ALL_MODES - modes
            return ModeTest(modes, left.exact)
        if isinstance(op, (cst.In, cst.NotIn)):
            if not (isinstance(right, Seq) and right.complete):
                return UNKNOWN
            modes = frozenset()
            for item in right.items:
                m = _mode_set(item.value)
                if m is None:
                    return UNKNOWN
                modes |= m
            if isinstance(op, cst.NotIn):
                modes = apis.ALL_MODES - modes
            return ModeTest(modes, left.exact)
        return UNKNOWN

    # ---- calls --------------------------------------------------------------------------------
    def e_Call(self, node: cst.Call, s: State) -> Value:
        func = node.func
        if isinstance(func, cst.Attribute):
            special = self._method_call(node, func, s)
            if special is not None:
                return special
        fv = self.eval(func, s)
        args: List[Tuple[Value, Any]] = []
        kwargs: Dict[str, Tuple[Value, Any]] = {}
        splat = False
        for a in node.args:
            v = self.eval(a.value, s)
            if a.star:
                splat = True
            elif a.keyword is not None:
                kwargs[a.keyword.value] = (v, a.value)
            else:
                args.append((v, a.value))
        if isinstance(fv, ApiRef):
            api = apis.api_name(fv.path)
            if api not in apis.ESTIMATOR_CLASSES and api != apis.PARTIAL:
                semantics.tf_call(self, fv.path, node, s)
            if api in apis.SPEC_CLASSES:
                return self._spec(node, api, s)
            if api in apis.ESTIMATOR_CLASSES:
                mf = kwargs.get("model_fn") or (args[0] if args else None)
                self.an.estimator_facts.append(EstimatorFact(node, api, mf[0] if mf else UNKNOWN,
                                                             {k: v[0] for k, v in kwargs.items()},
                                                             args, {k: v[1] for k, v in kwargs.items()},
                                                             splat))
                return EstimatorRef(len(self.an.estimator_facts) - 1, node)
            if api == apis.PARTIAL:
                if not args or splat:
                    return UNKNOWN
                inner = args[0][0]
                if isinstance(inner, Callable):
                    return Callable(inner.node, inner.name, inner.run,
                                    inner.bound_positional + len(args) - 1,
                                    inner.bound_keywords | frozenset(kwargs), inner.drops_first,
                                    inner.api, inner.decorated)
                return UNKNOWN
            semantics.api_called(self, fv.path, node, args, kwargs, s)
            if splat:
                return UNKNOWN
            result = tfops.batch_shape(fv.path, tfops.call(fv.path, args, kwargs), args, kwargs)
            replaced = semantics.api_call(self, node, fv.path, args, kwargs, result, s)
            return result if replaced is None else replaced
        if isinstance(func, cst.Attribute):
            semantics.method_call(self, node, func, args, kwargs, s)
        if isinstance(fv, tfops.PerExampleLoss):
            semantics.callable_call(self, args, kwargs, s)
            return Tensor(BATCH)
        if isinstance(fv, HookClass):
            return tfops.hook_instance(fv.name, args, kwargs)
        if isinstance(fv, KerasMetric):
            return Tensor()  # calling a Keras metric updates it and returns its result
        if isinstance(fv, Unknown) and isinstance(func, cst.Name) and func.value == "range":
            semantics.api_called(self, "range", node, args, kwargs, s)
        if isinstance(fv, Callable):
            if fv.api == apis.SCAFFOLD:
                return Scaffold()
            if fv.node is not None and not splat:
                return self.call_def(fv, args, kwargs, s)
        return UNKNOWN

    def _method_call(self, node: cst.Call, func: cst.Attribute, s: State) -> Optional[Value]:
        name = func.attr.value
        if name == "get" and isinstance(func.value, cst.Name):
            recv, _ = self.lookup(func.value.value, s)
            if isinstance(recv, Config):
                keys = [self.eval(a.value, s) for a in node.args]
                return BatchSize() if keys and keys[0] == Const("batch_size") else PyValue()
        if name in tfops.KERAS_METRIC_METHODS and isinstance(func.value, cst.Name):
            recv, _ = self.lookup(func.value.value, s)
            if isinstance(recv, KerasMetric):
                for a in node.args:
                    self.eval(a.value, s)
                return tfops.KERAS_METRIC_METHODS[name]
        if name in semantics.OPTIMIZER_METHODS:
            recv = self.eval(func.value, s)
            args, kwargs = [], {}
            for a in node.args:
                v = self.eval(a.value, s)
                if a.keyword is not None:
                    kwargs[a.keyword.value] = (v, a.value)
                elif not a.star:
                    args.append((v, a.value))
            return semantics.optimizer_value(self, node, name, recv, args, kwargs, s)
        if name in semantics.ASSIGN_METHODS:
            semantics.step_advanced(self, node, s)  # `global_step.assign(global_step + 1)`
        if name == "_replace":
            recv = self.eval(func.value, s)
            keywords = {}
            for a in node.args:
                v = self.eval(a.value, s)
                if a.keyword is not None:
                    keywords[a.keyword.value] = (v, a.value, a)
            semantics.spec_replaced(self, node, recv, keywords, s)
            return Spec(recv.cls, node) if isinstance(recv, Spec) else UNKNOWN
        if name == "as_estimator_spec":
            before = len(self.an.spec_facts)
            recv = self.eval(func.value, s)
            if isinstance(recv, Spec) and recv.cls == apis.TPU_ESTIMATOR_SPEC:
                if isinstance(func.value, cst.Call):
                    # converted where it is built: this spec never reaches the TPU
                    for fact in self.an.spec_facts[before:]:
                        if fact.node is func.value:
                            fact.converted = True
                return Spec(apis.ESTIMATOR_SPEC, node)
            return UNKNOWN
        if isinstance(func.value, cst.Name) and name in _MUTATORS:
            target = func.value.value
            recv = s.env.get(target)
            if isinstance(recv, Seq) and recv.kind == "list":
                args = [self.eval(a.value, s) for a in node.args]
                if name == "append" and len(node.args) == 1 and not node.args[0].star:
                    s.env[target] = Seq("list", recv.items + (Item(args[0], node.args[0].value),),
                                        recv.complete, recv.node)
                elif name == "extend" and len(args) == 1 and isinstance(args[0], Seq) and args[0].complete:
                    s.env[target] = Seq("list", recv.items + args[0].items, recv.complete, recv.node)
                elif name in _REMOVERS:  # some item is gone: none is known to be there any more
                    s.env[target] = Seq("list", (), False, recv.node)
                else:
                    s.env[target] = Seq("list", recv.items, False, recv.node)
                return NONE if name != "pop" else UNKNOWN
            if isinstance(recv, DictV):
                args = [self.eval(a.value, s) for a in node.args]
                key = args[0].value if args and isinstance(args[0], Const) else None
                if name == "pop" and isinstance(key, (str, int)) and not isinstance(key, bool):
                    s.env[target] = DictV(tuple(e for e in recv.entries if e.key != key), recv.complete, recv.node)
                elif name == "clear":
                    s.env[target] = DictV((), True, recv.node)
                elif name == "update" and len(args) == 1 and not node.args[0].star and isinstance(args[0], DictV) \
                        and not node.args[0].keyword:
                    new = args[0]
                    added = {e.key for e in new.entries}
                    kept = tuple(e for e in recv.entries if e.key is None or e.key not in added)
                    s.env[target] = DictV(kept + new.entries, recv.complete and new.complete, recv.node)
                elif name in _REMOVERS:  # a key we cannot name is gone
                    s.env[target] = DictV((), False, recv.node)
                else:  # update / setdefault: keys are added, none removed
                    s.env[target] = DictV(recv.entries, False, recv.node)
                return UNKNOWN
        return None

    def _spec(self, node: cst.Call, cls: str, s: State) -> Value:
        names = apis.SPEC_FIELDS[cls]
        fields: Dict[str, FieldArg] = {}
        bad, extra, dup = [], [], []
        splat = False
        pos = 0
        for a in node.args:
            if a.star:
                splat = True
                self.eval(a.value, s)
                continue
            v = self.eval(a.value, s)
            if a.keyword is None:
                if pos < len(names):
                    fields[names[pos]] = FieldArg(v, a.value, a)
                else:
                    extra.append(a)
                pos += 1
            else:
                kw = a.keyword.value
                if kw not in names:
                    bad.append(a)
                elif kw in fields:
                    dup.append(a)
                else:
                    fields[kw] = FieldArg(v, a.value, a)
        fact = SpecFact(node, cls, fields, bad, extra, dup, splat, s.modes, s.exact, s.tpu,
                        dict(s.env), self, self.root)
        self.an.spec_facts.append(fact)
        semantics.spec_built(self, fact, s)
        return Spec(cls, node)

    def call_def(self, fn: Callable, args, kwargs, s: State) -> Value:
        node = fn.node
        if self.depth >= MAX_DEPTH or node in self.active:
            return UNKNOWN
        try:
            key = (node, fn.bound_positional, fn.bound_keywords, fn.drops_first,
                   tuple(a[0] for a in args), tuple(sorted((k, v[0]) for k, v in kwargs.items())),
                   s.modes, s.exact, s.tpu, id(fn.run), id(self.root))
            hash(key)
        except TypeError:
            key = None
        cache = self.an.call_cache
        if self.an.log.observing:
            key = None  # a host function being observed: see every call its helpers make
        if key is not None and key in cache:
            return cache[key]
        budget = self.an.call_budget.get(self.root, MAX_CALLS_PER_ROOT)
        if budget <= 0:
            return UNKNOWN
        self.an.call_budget[self.root] = budget - 1
        result = self._run_call(fn, args, kwargs, s)
        if key is not None:
            cache[key] = result
        return result

    def _run_call(self, fn: Callable, args, kwargs, s: State) -> Value:
        child = self.run_child(fn, args, kwargs, s)
        if fn.decorated:
            return UNKNOWN
        return child.result()

    def result(self) -> Value:
        """The joined value of every return (None where the body falls off its end)."""
        result: Optional[Value] = None
        for v, _, _ in self.returns:
            result = v if result is None else join(result, v)
        if self.fallthrough:
            result = NONE if result is None else join(result, NONE)
        return result if result is not None else UNKNOWN

    def run_child(self, fn: Callable, args, kwargs, s: State) -> "FunctionRun":
        """Run the def or lambda `fn` with these (value, node) arguments; the finished run."""
        node = fn.node
        child = FunctionRun(self.an, node, fn.run, self.depth + 1, self.root, self.ctx,
                            self.defining_class(fn, self.mod))
        env: Dict[str, Value] = {}
        params = _positional_params(node.params)
        values = [UNKNOWN] * fn.drops_first + [UNKNOWN] * fn.bound_positional + [a[0] for a in args]
        for p, v in zip(params, values):
            env[p] = v
        defaults = _literal_defaults(node.params)
        for p in params[len(values):]:
            env.setdefault(p, defaults.get(p, UNKNOWN))
        for name in param_names(node.params):
            env.setdefault(name, defaults.get(name, UNKNOWN))
        for k, (v, _) in kwargs.items():
            if k in env:
                env[k] = v
        start = State(env, s.modes, s.exact, {}, s.tpu)
        self.active.add(node)
        try:
            child.run_body(start)
        finally:
            self.active.discard(node)
            self.current = s
        return child

    def run_body(self, start: State) -> None:
        """Execute this run's def or lambda from `start` (returns land in `self.returns`)."""
        node = self.node
        if isinstance(node, cst.Lambda):
            self.current = start
            self.returns.append((self.eval(node.body, start), node.body, start))
            self.finished = True
        else:
            self.execute(self.body_of(node.body), [start])

    @staticmethod
    def defining_class(fn: Callable, default_mod) -> Optional[cst.ClassDef]:
        """The class `fn` is a method of, looked up in the module that defines it."""
        mod = fn.run.mod if fn.run is not None else default_mod
        return mod.class_of_method(fn.node) if isinstance(fn.node, cst.FunctionDef) else None


def _literal(node) -> bool:
    return isinstance(node, (cst.SimpleString, cst.Integer, cst.Float)) or (
        isinstance(node, cst.Name) and node.value in ("None", "True", "False"))


def _literal_defaults(params: cst.Parameters) -> Dict[str, Value]:
    out: Dict[str, Value] = {}
    for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
        d = p.default
        if isinstance(d, cst.Name) and d.value in ("None", "True", "False"):
            out[p.name.value] = NONE if d.value == "None" else Const(d.value == "True")
        elif isinstance(d, (cst.Integer, cst.Float, cst.SimpleString)):
            out[p.name.value] = Const(d.evaluated_value if hasattr(d, "evaluated_value") else None)
    return out


def _string_of(v: Value) -> Optional[str]:
    """A string constant, or the value of a single ModeKeys constant."""
    if isinstance(v, Const) and isinstance(v.value, str):
        return v.value
    if isinstance(v, Mode) and v.constant and len(v.modes) == 1:
        return next(iter(v.modes))
    return None


def _known_string_comparison(left: Value, right: Value, op) -> Optional[bool]:
    """`x == ModeKeys.TRAIN` / `x in ["score", ModeKeys.PREDICT]` where `x` holds a plain string:
    mesh_tensorflow's model_fn rebinds `mode = "score"` and then compares it with ModeKeys."""
    a = _string_of(left)
    if a is None:
        return None
    if isinstance(op, (cst.Equal, cst.NotEqual)):
        b = _string_of(right)
        # one side a plain string, the other a ModeKeys constant: nothing else is decided here
        if b is None or not ((isinstance(left, Const) and isinstance(right, Mode)) or
                             (isinstance(right, Const) and isinstance(left, Mode))):
            return None
        return (a == b) == isinstance(op, cst.Equal)
    if isinstance(op, (cst.In, cst.NotIn)) and isinstance(left, Const) and \
            isinstance(right, Seq) and right.complete and \
            any(isinstance(i.value, Mode) for i in right.items):
        values = [_string_of(i.value) for i in right.items]
        if any(v is None for v in values):
            return None
        return (a in values) == isinstance(op, cst.In)
    return None


def _mode_set(v: Value) -> Optional[FrozenSet[str]]:
    if isinstance(v, Mode) and v.constant:
        return v.modes
    if isinstance(v, Const) and isinstance(v.value, str):
        return frozenset((v.value,)) if v.value in apis.MODE_DISPLAY else frozenset()
    return None


def _positional_params(params: cst.Parameters) -> list:
    return [p.name.value for p in params.posonly_params] + [p.name.value for p in params.params]
