"""Abstract interpretation of a function body.

Walks statements in order with a list of states.  A state holds the abstract value of each name,
the modes that can reach this point (path sensitivity on `mode == ModeKeys.X`, `!=`, `in`,
`is_training = ...`, early returns, `assert`), and facts about flag-like conditions (`use_tpu`,
`params["use_tpu"]`, `FLAGS.x is None`) so that correlated branches stay apart.  Any other
condition joins the two branches.  Calls to functions of the same module are followed (bounded
depth), so helpers that build specs or return tensors are seen with their arguments.

The interpreter is split along its seams: this module runs statements and conditions (paths,
modes, flags); `evaluate.py` evaluates expressions; `calls.py` handles calls (TF APIs, methods,
spec and Estimator constructions, followed helpers); `state.py` holds the path state and the
records of the spec (SpecFact) and Estimator (EstimatorFact) constructions a run appends to its
analysis.  What else happens on the way (API calls, mode comparisons, labels uses, ...) is
handed to `semantics.py`, which records facts in the analysis's fact log.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, List, Optional, Tuple

import libcst as cst

from speclint.static import semantics
from speclint.static.scopes import param_names
from speclint.static.syntax import literal_value
from speclint.static.state import Analysis, ModelFnContext, State, is_tpu_flag_text, join_states, merge
from speclint.static.values import (
    DERIVED, NONE, UNKNOWN, Callable, Derived, Instance, members, Const, Dict as DictV, DictEntry, Mode, ModeTest, Operation, Scaffold, Seq,
    Spec, Value, join,
)
from speclint.static.calls import Calls
from speclint.static.evaluate import Expressions
from speclint.static.walk import Walker, walk



_MULTI_STATE = frozenset(("Try", "TryStar", "Match"))


class FunctionRun(Expressions, Calls):
    """One abstract execution of a function (or of the module body)."""

    def __init__(self, an: Analysis, node, parent: Optional["FunctionRun"], depth: int = 0,
                 root: Optional["FunctionRun"] = None, ctx: Optional[ModelFnContext] = None,
                 method_of: Optional[cst.ClassDef] = None):
        self.an = an  # the analysis this run records its facts in
        runs = getattr(an, "_runs", None)
        if runs is not None:  # (tracked: see retire.py)
            runs.append(self)
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
                    merged = join_states(merged, s, keep_facts=False)
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
        element = DERIVED if isinstance(it, Derived) else UNKNOWN
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
            elif (isinstance(value, Instance) and value.cls.tuple_like and not starred
                  and len(value.attrs) == len(elements) == len(value.cls.fields or ())):
                for e, (_, v) in zip(elements, value.attrs):  # a namedtuple unpacked
                    self.assign(e.value, v, None, s)
            else:
                # the parts of a value computed from the model's tensors are too
                part = DERIVED if isinstance(value, Derived) else UNKNOWN
                for e in elements:
                    self.assign(e.value, part, None, s)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, DERIVED if isinstance(value, Derived) else UNKNOWN, None, s)
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
            return literal_value(node)
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
        target = _none_test(test)
        true, false = self._branch_leaf(test, s)
        if target is not None:
            expr, not_none_when = target
            side = true if not_none_when else false
            for st in side:
                self._narrow_not_none(expr, st)
        return true, false

    def _narrow_not_none(self, expr, st: State) -> None:
        """On the side where `expr` (a name, or `name.attr` of an object of the linted code) is
        not None, drop None from what it may be (`if outputs.aux_loss is not None: loss += ...`)."""
        name = expr.value if isinstance(expr, cst.Name) else expr.value.value
        value = st.env.get(name)
        if value is None:
            return
        if isinstance(expr, cst.Name):
            narrowed = _without_none(value)
            if narrowed is not None:
                st.bind(name, narrowed)
        elif isinstance(value, Instance):
            attr = value.get(expr.attr.value)
            narrowed = _without_none(attr) if attr is not None else None
            if narrowed is not None:
                st.env[name] = value.with_attr(expr.attr.value, narrowed)

    def _branch_leaf(self, test, s: State) -> Tuple[List[State], List[State]]:
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
            tpu_flag = is_tpu_flag_text(text)
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
        return is_tpu_flag_text(cst.Module([]).code_for_node(test))

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
        if not _flag_condition(test, names):
            return None
        if any(isinstance(s.env.get(n), (Mode, ModeTest)) for n in names):
            return None
        text = " ".join(cst.Module([]).code_for_node(test).split())
        return text, frozenset(names)

    def _mentions_mode(self, node, s: State) -> bool:
        v = _ModeNames(self, s)
        walk(node, v)
        return v.found

    # ---- expressions --------------------------------------------------------------------------


def _flag_condition(n, names: set) -> bool:
    """`n` is a side-effect-free condition on flags (names, attributes, constant subscripts,
    `.get(...)`, comparisons); the names it reads are added to `names`.  (A module function, not a
    closure: a recursive closure is reference-cycle garbage after each call.)"""
    if isinstance(n, cst.Name):
        names.add(n.value)
        return True
    if isinstance(n, cst.Attribute):
        return _flag_condition(n.value, names)
    if isinstance(n, cst.Subscript):
        return _flag_condition(n.value, names) and all(
            isinstance(e.slice, cst.Index) and isinstance(e.slice.value, (cst.SimpleString, cst.Integer))
            for e in n.slice)
    if isinstance(n, cst.Call):
        return (isinstance(n.func, cst.Attribute) and n.func.attr.value == "get"
                and _flag_condition(n.func.value, names)
                and all(isinstance(a.value, (cst.SimpleString, cst.Integer, cst.Name)) for a in n.args))
    if isinstance(n, cst.Comparison):
        return _flag_condition(n.left, names) and all(
            _literal(c.comparator) or _flag_condition(c.comparator, names) for c in n.comparisons)
    return False


class _ModeNames(Walker):
    """Finds a name that holds the mode (not a constant ModeKeys value) on the path `s`."""

    def __init__(self, run, s: State):
        self.run, self.s, self.found = run, s, False

    def visit_Name(self, n: cst.Name):
        v, _ = self.run.lookup(n.value, self.s)
        if isinstance(v, (Mode, ModeTest)) and not (isinstance(v, Mode) and v.constant):
            self.found = True


def _none_test(test):
    """(expr, True) for `expr is not None` / `expr` (truthiness), (expr, False) for `expr is
    None`, where expr is a name or `name.attr`; else None."""
    def target(n):
        if isinstance(n, cst.Name) and n.value not in ("None", "True", "False"):
            return n
        if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name):
            return n
        return None
    if isinstance(test, (cst.Name, cst.Attribute)):
        t = target(test)
        return (t, True) if t is not None else None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        comp = test.comparisons[0]
        left, right = test.left, comp.comparator
        if isinstance(left, cst.Name) and left.value == "None":
            left, right = right, left
        if isinstance(comp.operator, (cst.Is, cst.IsNot)) and isinstance(right, cst.Name) and right.value == "None":
            t = target(left)
            if t is not None:
                return t, isinstance(comp.operator, cst.IsNot)
    return None


def _without_none(v: Value) -> Optional[Value]:
    ms = members(v)
    rest = [m for m in ms if m != NONE]
    if len(rest) == len(ms) or not rest:
        return None
    out = rest[0]
    for m in rest[1:]:
        out = join(out, m)
    return out


def _literal(node) -> bool:
    return isinstance(node, (cst.SimpleString, cst.Integer, cst.Float)) or (
        isinstance(node, cst.Name) and node.value in ("None", "True", "False"))
