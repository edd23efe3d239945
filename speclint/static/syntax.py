"""Syntactic questions about code, answered by walking the libcst tree (no abstract values).

The checks and the analysis ask these by name instead of walking the tree themselves: quoting an
expression (`source`), whether a block can complete normally (`Flow`, SL038), whether a
function is a generator, assigns string literals to names, tests for a `batch_size` key, or
restores static shapes after batching (SL044).
"""
from __future__ import annotations

from typing import Dict

import libcst as cst


class _DropComments(cst.CSTTransformer):
    def leave_Comment(self, original, updated):
        return cst.RemoveFromParent()


def source(node: cst.CSTNode) -> str:
    text = cst.Module([]).code_for_node(node)
    if "#" in text:  # a multi-line expression with comments: quote the code only
        text = cst.Module([]).code_for_node(node.visit(_DropComments()))
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def is_generator(node) -> bool:
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


def rebound_names(fn) -> set:
    """Names the function assigns a string literal to (`mode = "score"`), nested functions
    excluded: such a name does not hold only mode values."""
    out: set = set()

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, n):
            return n is fn

        def visit_Lambda(self, n):
            return False

        def visit_Assign(self, n):
            if isinstance(n.value, (cst.SimpleString, cst.ConcatenatedString)):
                out.update(t.target.value for t in n.targets if isinstance(t.target, cst.Name))

        def visit_AnnAssign(self, n):
            if isinstance(n.value, (cst.SimpleString, cst.ConcatenatedString)) and \
                    isinstance(n.target, cst.Name):
                out.add(n.target.value)

    fn.visit(V())
    return out

NORETURN = {"sys.exit", "exit", "quit", "os._exit", "os.abort", "absl.app.exit"}


class Flow:
    """Can a block of statements complete normally (fall off its end)?  Syntactic, with
    `raise`, `return`, `assert False`, `while True` without `break`, `sys.exit()` and calls of
    module functions that always raise as the ways not to."""

    def __init__(self, an):
        self.an = an
        self._raising: Dict[str, bool] = {}

    def block(self, stmts) -> bool:
        for st in stmts:
            if not self.stmt(st):
                return False
        return True

    def body(self, node) -> list:
        return list(getattr(node, "body", ()) or ())

    def stmt(self, st) -> bool:
        if isinstance(st, cst.SimpleStatementLine):
            return self.block(st.body)
        if isinstance(st, (cst.Return, cst.Raise)):
            return False
        if isinstance(st, cst.Assert):
            t = st.test
            return not (isinstance(t, cst.Name) and t.value == "False")
        if isinstance(st, cst.Expr):
            return not self.noreturn_call(st.value)
        if isinstance(st, cst.If):
            if self.block(self.body(st.body)):
                return True
            if st.orelse is None:
                return True
            if isinstance(st.orelse, cst.If):
                return self.stmt(st.orelse)
            return self.block(self.body(st.orelse.body))
        if isinstance(st, cst.While):
            t = st.test
            forever = (isinstance(t, cst.Name) and t.value == "True") or (
                isinstance(t, cst.Integer) and t.value not in ("0",))
            return not forever or has_break(st.body)
        if isinstance(st, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            ok = self.block(self.body(st.body)) and (
                st.orelse is None or self.block(self.body(st.orelse.body)))
            ok = ok or any(self.block(self.body(h.body)) for h in st.handlers)
            if st.finalbody is not None and not self.block(self.body(st.finalbody.body)):
                return False
            return ok
        if isinstance(st, cst.With):
            return self.block(self.body(st.body))
        if isinstance(st, cst.Match):
            return False  # not followed: assume the cases are exhaustive
        return True  # for loops, defs, classes, other small statements

    def noreturn_call(self, node) -> bool:
        if not isinstance(node, cst.Call):
            return False
        full = self.an.imports.resolve_expr(node.func)
        if full in NORETURN:
            return True
        if isinstance(node.func, cst.Name):
            name = node.func.value
            if name in ("exit", "quit"):
                return True
            return self.always_raises(name)
        return False

    def always_raises(self, name: str) -> bool:
        if name in self._raising:
            return self._raising[name]
        self._raising[name] = False  # recursion guard
        fn = next((f for f, parent in self.an.parent_def.items()
                   if parent is None and f.name.value == name and f not in self.an.class_def), None)
        result = bool(fn is not None and not has_return(fn) and not self.block(self.body(fn.body)))
        self._raising[name] = result
        return result


def has_break(node) -> bool:
    found = []

    class V(cst.CSTVisitor):
        def visit_Break(self, n):
            found.append(n)

        def visit_For(self, n):
            return False

        def visit_While(self, n):
            return False

        def visit_FunctionDef(self, n):
            return False

    node.visit(V())
    return bool(found)


def has_return(fn: cst.FunctionDef) -> bool:
    found = []

    class V(cst.CSTVisitor):
        def visit_Return(self, n):
            found.append(n)

        def visit_FunctionDef(self, n):
            return n is fn

        def visit_Lambda(self, n):
            return False

    fn.visit(V())
    return bool(found)

def tests_for_batch_size(fn) -> bool:
    """`"batch_size" in params` or `params.get("batch_size")` somewhere in `fn`: the code
    expects the key to be missing sometimes."""
    found = []

    class V(cst.CSTVisitor):
        def visit_Comparison(self, n):
            if isinstance(n.left, cst.SimpleString) and n.left.evaluated_value == "batch_size" and \
                    any(isinstance(c.operator, (cst.In, cst.NotIn)) for c in n.comparisons):
                found.append(n)

        def visit_Call(self, n):
            if isinstance(n.func, cst.Attribute) and n.func.attr.value == "get" and n.args and \
                    isinstance(n.args[0].value, cst.SimpleString) and \
                    n.args[0].value.evaluated_value == "batch_size":
                found.append(n)

    fn.visit(V())
    return bool(found)

RESHAPING = {"map", "map_with_legacy_function", "unbatch", "rebatch", "set_shape", "ensure_shape",
              "reshape", "map_fn"}


def reshaped_after(fn_node, batch_node) -> bool:
    """A call that may restore static shapes runs after `batch_node` in `fn_node` (or anywhere
    when `batch_node` is not inside it)."""
    state = {"after": False, "found": False}

    class V(cst.CSTVisitor):
        def leave_Call(self, n):
            if n is batch_node:
                state["after"] = True
                return
            f = n.func
            name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else ""
            if name in RESHAPING and (state["after"] or not contains):
                state["found"] = True

    contains = contains_node(fn_node, batch_node)
    fn_node.visit(V())
    return state["found"]


def contains_node(tree, target) -> bool:
    """`target` is `tree` or inside it."""
    found = []

    class V(cst.CSTVisitor):
        def on_visit(self, node):
            if node is target:
                found.append(node)
            return not found

    tree.visit(V())
    return bool(found)


_RAW_INPUT_NODES = (cst.Name, cst.Subscript, cst.SubscriptElement, cst.Index, cst.BinaryOperation,
                    cst.UnaryOperation, cst.IfExp, cst.Comparison, cst.ComparisonTarget,
                    cst.Integer, cst.Float, cst.SimpleString, cst.BaseBinaryOp, cst.BaseUnaryOp,
                    cst.BaseCompOp, cst.LeftParen, cst.RightParen, cst.LeftSquareBracket,
                    cst.RightSquareBracket, cst.BaseParenthesizableWhitespace, cst.Comment,
                    cst.EmptyLine, cst.Newline, cst.TrailingWhitespace)


def raw_input_expr(expr, fn, inputs=("features", "labels")) -> bool:
    """Whether `expr` computes only on the parameters `inputs` of `fn` as they were passed (never
    rebound in `fn`): names, literal subscripts, arithmetic, comparisons and conditional
    expressions, no call (`features + labels`, `features["x"]`).  Its shape is then the input_fn's
    own, which only the input pipeline decides."""
    if not isinstance(fn, cst.FunctionDef):
        return False
    params = {p.name.value for p in list(fn.params.posonly_params) + list(fn.params.params)}
    names: set = set()
    ok = [True]

    class E(cst.CSTVisitor):
        def on_visit(self, n):
            if not isinstance(n, _RAW_INPUT_NODES):
                ok[0] = False
                return False
            if isinstance(n, cst.Name) and n.value not in ("None", "True", "False"):
                names.add(n.value)
            return True

    expr.visit(E())
    wanted = set(inputs) & params
    if not ok[0] or not names or not names <= wanted:
        return False
    stored: set = set()

    class S(cst.CSTVisitor):
        def visit_FunctionDef(self, n):
            return n is fn

        def visit_Lambda(self, n):
            return False

        def visit_AssignTarget(self, n):
            _store_names(n.target, stored)

        def visit_AugAssign(self, n):
            _store_names(n.target, stored)

        def visit_AnnAssign(self, n):
            _store_names(n.target, stored)

        def visit_For(self, n):
            _store_names(n.target, stored)

        def visit_AsName(self, n):
            _store_names(n.name, stored)

        def visit_NamedExpr(self, n):
            _store_names(n.target, stored)

    fn.visit(S())
    return not (names & stored)


def _store_names(target, out: set) -> None:
    if isinstance(target, cst.Name):
        out.add(target.value)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            _store_names(el.value, out)
    elif isinstance(target, cst.StarredElement):
        _store_names(target.value, out)
