"""Syntactic questions about code, answered by walking the libcst tree (no abstract values).

The checks and the analysis ask these by name instead of walking the tree themselves: quoting an
expression (`source`), whether a block can complete normally (`Flow`, SL038), whether a
function is a generator, assigns string literals to names, tests for a `batch_size` key, or
restores static shapes after batching (SL044).
"""
from __future__ import annotations

import ast
import functools
from typing import Dict, Optional

import libcst as cst

from speclint import apis
from speclint.static.walk import Walker, walk


class _DropComments(cst.CSTTransformer):
    def leave_Comment(self, original, updated):
        return cst.RemoveFromParent()


def source(node: cst.CSTNode) -> str:
    text = cst.Module([]).code_for_node(node)
    if "#" in text:  # a multi-line expression with comments: quote the code only
        text = cst.Module([]).code_for_node(node.visit(_DropComments()))
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


# The walkers below are module-level classes holding their state: a class defined in a function is
# built again at each call (with its dispatch table, `walk.py`), and is reference-cycle garbage after.
def _found(tree, walker) -> bool:
    walk(tree, walker)
    return walker.found


class _Yields(Walker):
    def __init__(self, fn):
        self.fn, self.found = fn, False

    def visit_Yield(self, n):
        self.found = True

    def visit_FunctionDef(self, n):
        return n is self.fn  # nested defs have their own yields

    def visit_Lambda(self, n):
        return False


def is_generator(node) -> bool:
    if not isinstance(node, cst.FunctionDef):
        return False
    return _found(node, _Yields(node))


def rebound_names(fn) -> set:
    """Names the function assigns a string literal to (`mode = "score"`), nested functions
    excluded: such a name does not hold only mode values."""
    v = _StringAssigns(fn)
    walk(fn, v)
    return v.out


class _StringAssigns(Walker):
    def __init__(self, fn):
        self.fn, self.out = fn, set()

    def visit_FunctionDef(self, n):
        return n is self.fn

    def visit_Lambda(self, n):
        return False

    def visit_Assign(self, n):
        if isinstance(n.value, (cst.SimpleString, cst.ConcatenatedString)):
            self.out.update(t.target.value for t in n.targets if isinstance(t.target, cst.Name))

    def visit_AnnAssign(self, n):
        if isinstance(n.value, (cst.SimpleString, cst.ConcatenatedString)) and \
                isinstance(n.target, cst.Name):
            self.out.add(n.target.value)

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


class _Breaks(Walker):
    def __init__(self):
        self.found = False

    def visit_Break(self, n):
        self.found = True

    def visit_For(self, n):
        return False

    def visit_While(self, n):
        return False

    def visit_FunctionDef(self, n):
        return False


def has_break(node) -> bool:
    return _found(node, _Breaks())


class _Returns(Walker):
    def __init__(self, fn):
        self.fn, self.found = fn, False

    def visit_Return(self, n):
        self.found = True

    def visit_FunctionDef(self, n):
        return n is self.fn

    def visit_Lambda(self, n):
        return False


def has_return(fn: cst.FunctionDef) -> bool:
    return _found(fn, _Returns(fn))

def tests_for_batch_size(fn) -> bool:
    """`"batch_size" in params` or `params.get("batch_size")` somewhere in `fn`: the code
    expects the key to be missing sometimes."""
    return _found(fn, _BatchSizeTests())


class _BatchSizeTests(Walker):
    def __init__(self):
        self.found = False

    def visit_Comparison(self, n):
        if isinstance(n.left, cst.SimpleString) and _string_is(n.left, "batch_size") and \
                any(isinstance(c.operator, (cst.In, cst.NotIn)) for c in n.comparisons):
            self.found = True

    def visit_Call(self, n):
        if isinstance(n.func, cst.Attribute) and n.func.attr.value == "get" and n.args and \
                isinstance(n.args[0].value, cst.SimpleString) and _string_is(n.args[0].value, "batch_size"):
            self.found = True


def _string_is(node, text: str) -> bool:
    try:
        return literal_value(node) == text
    except Exception:  # noqa: BLE001 - odd prefixes: libcst's evaluated_value raised the same
        return False

RESHAPING = {"map", "map_with_legacy_function", "unbatch", "rebatch", "set_shape", "ensure_shape",
              "reshape", "map_fn"}


def reshaped_after(fn_node, batch_node, helpers=None) -> bool:
    """A call that may restore static shapes runs after `batch_node` in `fn_node` (or anywhere
    when `batch_node` is not inside it): a reshaping method, or a call of one of `helpers` (name ->
    a function of the module) whose body makes one (SimCLR's `pad_to_batch(dataset, n)`, which
    maps a `set_shape`)."""
    return _found(fn_node, _ReshapedAfter(batch_node, helpers or {}, contains_node(fn_node, batch_node)))


class _ReshapedAfter(Walker):
    def __init__(self, batch_node, helpers, contains):
        self.batch_node, self.helpers, self.contains = batch_node, helpers, contains
        self.after = self.found = False

    def leave_Call(self, n):
        if n is self.batch_node:
            self.after = True
            return
        f = n.func
        name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else ""
        reshaping = name in RESHAPING or (
            isinstance(f, cst.Name) and name in self.helpers and _makes_reshaping_call(self.helpers[name]))
        if reshaping and (self.after or not self.contains):
            self.found = True


class _ReshapingCalls(Walker):
    def __init__(self):
        self.found = False

    def visit_Call(self, n):
        f = n.func
        name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else ""
        if name in RESHAPING:
            self.found = True


def _makes_reshaping_call(fn) -> bool:
    return _found(fn, _ReshapingCalls())


class _Argument(Walker):
    def __init__(self, target):
        self.target, self.found = target, False

    def visit_Arg(self, node):
        if node.value is self.target:
            self.found = True
        return not self.found


def is_argument(scope, target) -> bool:
    """`target` is written directly as an argument of a call in `scope` (`Mock(return_value=X)`)."""
    return _found(scope, _Argument(target))


class _Contains(Walker):
    def __init__(self, target):
        self.target, self.found = target, False

    def on_visit(self, node):
        if node is self.target:
            self.found = True
        return not self.found


def contains_node(tree, target) -> bool:
    """`target` is `tree` or inside it."""
    return _found(tree, _Contains(target))


@functools.lru_cache(maxsize=4096)
def _literal(text: str):
    return ast.literal_eval(text)


def literal_value(node):
    """`node.evaluated_value` of a SimpleString, Integer or Float (raises as it does), memoised by
    its text: libcst runs `ast.literal_eval` anew at each call, which leaves reference-cycle garbage
    behind (its nested functions)."""
    return _literal(node.value)


# ---- how an Estimator object is used (the modes its model_fn is really called in) --------------------
# Estimator methods -> what they run the model_fn for ("export": PREDICT, for a SavedModel).
ESTIMATOR_METHOD_USES = {
    **{m: (m,) for m in apis.METHOD_MODE}, **{m: ("export",) for m in apis.EXPORT_METHODS},
    "experimental_export_all_saved_models": ("train", "evaluate", "export"),
}
# Methods that never call the model_fn (any attribute read that is not called, but `model_fn`, is
# harmless too).
ESTIMATOR_HARMLESS = frozenset((
    "model_dir", "config", "params", "get_variable_value", "get_variable_names",
    "latest_checkpoint", "eval_dir",
))
TRAIN_AND_EVALUATE_USES = ("train", "evaluate", "export")  # EvalSpec exporters may export


def estimator_uses(scope, call: cst.Call, follow=None):
    """What the Estimator built by `call` is used for, when every use is visible in `scope` (the
    function, or module, whose code contains `call`): `est = Estimator(...)` followed only by
    `est.train(...)`, `est.evaluate(...)`, `est.predict(...)`, `est.export_saved_model(...)`,
    `train_and_evaluate(est, ...)` and harmless attribute reads.  A frozenset of "train",
    "evaluate", "predict", "export"; None when the object escapes (returned, passed on, stored,
    used in a nested function, or not bound to a plain name) or is used in any other way, when it
    is bound at module level (another module may import it), and when it is bound but not used at
    all (code being written: its uses are still to come).  An Estimator built as a bare statement,
    or bound and only inspected (`est.config`, `est.model_dir`), never runs its model_fn: the
    empty set.  `follow(call, arg)`: the uses of the object inside a function it is passed to
    (`evaluation.evaluate(est, ...)`, see `param_uses`), or None when that function is not known."""
    if isinstance(scope, cst.Module):
        return None
    finder = _Binding(call)
    walk(scope, finder)
    if finder.discarded:
        return frozenset()  # `Estimator(model_fn=...)` as a statement: built, never used
    if finder.name is None:
        return None
    uses = _Uses(finder.name, finder.target, follow, scope)
    walk(scope, uses)
    if uses.escaped or not uses.any:
        return None
    return frozenset(uses.found)


def param_uses(fn: cst.FunctionDef, name: str, follow=None):
    """What the object passed as parameter `name` of `fn` is used for in `fn`'s body (as
    `estimator_uses` judges a bound name), or None: not every use is visible, or it is not used."""
    target = next((p.name for p in _all_params(fn.params) if p.name.value == name), None)
    if target is None:
        return None
    uses = _Uses(name, target, follow, fn)
    walk(fn.body, uses)
    if uses.escaped or not uses.any:
        return None
    return frozenset(uses.found)


def _all_params(params: cst.Parameters):
    out = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            out.append(star)
    return out


def _never_evaluates(eval_spec, scope) -> bool:
    """An EvalSpec whose input_fn is the `tf.data.Dataset` class itself (a placeholder): evaluate()
    calls input_fn() first, and the abstract Dataset class cannot be instantiated (TypeError), so
    the model_fn never runs in EVAL through it.  `eval_spec` is the argument, inline or a name
    bound once in `scope` to the EvalSpec call."""
    if isinstance(eval_spec, cst.Name) and scope is not None:
        bound = _SingleBinding(eval_spec.value)
        walk(scope, bound)
        eval_spec = bound.value if bound.count == 1 else None
    if not (isinstance(eval_spec, cst.Call) and _last_name(eval_spec.func) == "EvalSpec"):
        return False
    arg = next((a.value for a in eval_spec.args if a.keyword is not None and a.keyword.value == "input_fn"), None)
    if arg is None and eval_spec.args and eval_spec.args[0].keyword is None and not eval_spec.args[0].star:
        arg = eval_spec.args[0].value
    return isinstance(arg, cst.Attribute) and arg.attr.value == "Dataset" and \
        isinstance(arg.value, (cst.Attribute, cst.Name)) and _last_name(arg.value) == "data"


def _last_name(func) -> str:
    return func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""


class _SingleBinding(Walker):
    def __init__(self, name):
        self.name = name
        self.count = 0
        self.value = None

    def visit_Assign(self, node):
        for t in node.targets:
            if isinstance(t.target, cst.Name) and t.target.value == self.name:
                self.count += 1
                self.value = node.value if len(node.targets) == 1 else None

    def visit_AugAssign(self, node):
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self.count += 2

    def visit_AnnAssign(self, node):
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self.count += 2


class _Binding(Walker):
    def __init__(self, call):
        self.call = call
        self.name = None
        self.target = None
        self.discarded = False

    def visit_Expr(self, node):
        if node.value is self.call:
            self.discarded = True

    def visit_Assign(self, node):
        if node.value is self.call and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.name = node.targets[0].target.value
            self.target = node.targets[0].target


class _Uses(Walker):
    def __init__(self, name, target, follow=None, scope=None):
        self.name = name
        self.target = target
        self.follow = follow
        self.scope = scope
        self.stack = []
        self.found = set()
        self.any = False  # used at all
        self.escaped = False
        self.depth = 0  # nested functions

    def on_visit(self, node):
        if isinstance(node, (cst.FunctionDef, cst.Lambda)) and self.stack:
            self.depth += 1
        if isinstance(node, cst.Name) and node.value == self.name:
            self._judge(node)
        self.stack.append(node)
        return not self.escaped

    def on_leave(self, node):
        self.stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.Lambda)) and self.stack:
            self.depth -= 1

    def _judge(self, node) -> None:
        parent = self.stack[-1] if self.stack else None
        grand = self.stack[-2] if len(self.stack) > 1 else None
        if node is self.target or (isinstance(parent, cst.AssignTarget) and parent.target is node):
            return  # a binding, not a use
        if (isinstance(parent, cst.Attribute) and parent.attr is node) or (
                isinstance(parent, cst.Arg) and parent.keyword is node):
            return  # `tf.estimator.X`, `f(estimator=...)`: the same spelling, another name
        self.any = True
        if isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Param, cst.ImportAlias)):
            self.escaped = True  # the name is reused for something else: do not guess
            return
        if self.depth:
            self.escaped = True
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            attr = parent.attr.value
            if attr in ESTIMATOR_METHOD_USES and isinstance(grand, cst.Call) and grand.func is parent:
                self.found.update(ESTIMATOR_METHOD_USES[attr])
                return
            called = isinstance(grand, cst.Call) and grand.func is parent
            if attr in ESTIMATOR_HARMLESS or (not called and attr != "model_fn"):
                return  # a data attribute (`est.config`, `est._session_config`) runs nothing
            if attr == "model_fn" and self._signature_read(grand):
                return  # `fn_args(est.model_fn)`: its parameters are read, it is not called
            self.escaped = True  # another method, or `est.model_fn` (which can be called)
            return
        if isinstance(parent, cst.Arg) and isinstance(grand, cst.Call):
            last = _last_name(grand.func)
            if last == "train_and_evaluate":
                spec = _argument(grand, 2, "eval_spec")
                if spec is not None and _never_evaluates(spec, self.scope):
                    self.found.add("train")  # (no evaluation: no exporter of the EvalSpec runs either)
                else:
                    self.found.update(TRAIN_AND_EVALUATE_USES if _may_export(spec) else ("train", "evaluate"))
                return
            if last == "InMemoryEvaluatorHook" and grand.args and grand.args[0] is parent:
                self.found.add("evaluate")  # the hook runs evaluate() on it while training
                return
            if self.follow is not None and not parent.star:
                inner = self.follow(grand, parent)
                if inner is not None:
                    self.found.update(inner)
                    return
        self.escaped = True


    def _signature_read(self, arg) -> bool:
        outer = self.stack[-3] if len(self.stack) > 2 else None
        if not (isinstance(arg, cst.Arg) and isinstance(outer, cst.Call)):
            return False
        return _last_name(outer.func) in _SIGNATURE_READERS


def _may_export(spec) -> bool:
    """Whether `train_and_evaluate(est, train_spec, eval_spec)` may export, given its eval_spec
    argument (`_argument`): unless it is written there as `EvalSpec(...)` without exporters (its
    5th parameter)."""
    if not isinstance(spec, cst.Call):
        return True
    return (_last_name(spec.func) != "EvalSpec" or any(a.star for a in spec.args)
            or any(a.keyword is not None and a.keyword.value == "exporters" for a in spec.args)
            or len([a for a in spec.args if a.keyword is None]) >= 5)


# Functions that read a callable's parameters without calling it.
_SIGNATURE_READERS = frozenset(("fn_args", "getfullargspec", "getargspec", "signature"))


def _argument(call: cst.Call, position: int, keyword: str):
    for a in call.args:
        if a.keyword is not None and a.keyword.value == keyword:
            return a.value
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in positional[:position + 1]):
        return None
    return positional[position].value if len(positional) > position else None


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

    class E(Walker):
        def on_visit(self, n):
            if not isinstance(n, _RAW_INPUT_NODES):
                ok[0] = False
                return False
            if isinstance(n, cst.Name) and n.value not in ("None", "True", "False"):
                names.add(n.value)
            return True

    walk(expr, E())
    wanted = set(inputs) & params
    if not ok[0] or not names or not names <= wanted:
        return False
    stored: set = set()

    class S(Walker):
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

    walk(fn, S())
    return not (names & stored)


def _store_names(target, out: set) -> None:
    if isinstance(target, cst.Name):
        out.add(target.value)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            _store_names(el.value, out)
    elif isinstance(target, cst.StarredElement):
        _store_names(target.value, out)


# ---- the `if` tests on the way to a statement -------------------------------------------------
def _blocks(stmt):
    """(test, side, block) for each block of a compound statement (test None: not a condition)."""
    if isinstance(stmt, cst.If):
        node, negated = stmt, []
        while isinstance(node, cst.If):
            yield node.test, negated + [(node.test, True)], node.body
            negated = negated + [(node.test, False)]
            node = node.orelse
            if isinstance(node, cst.Else):
                yield None, negated, node.body
                return
            if node is None:
                return
    elif isinstance(stmt, (cst.With, cst.For, cst.While)):
        yield None, [], stmt.body
        if getattr(stmt, "orelse", None) is not None:
            yield None, [], stmt.orelse.body
    elif isinstance(stmt, cst.Try):
        yield None, [], stmt.body
        for h in stmt.handlers:
            yield None, [], h.body
        for extra in (stmt.orelse, stmt.finalbody):
            if extra is not None:
                yield None, [], extra.body


def guards(scope, target) -> Optional[list]:
    """The `if` tests (with the side taken: True for the body, False for an `else`/`elif`) that
    hold where the statement containing `target` runs, from `scope`'s body down; None when
    `target` is not in `scope`'s statements (e.g. inside a nested function's body)."""
    out = []
    body = scope.body
    while True:
        stmts = body if isinstance(body, (list, tuple)) else body.body
        stmt = next((st for st in stmts if contains_node(st, target)), None)
        if stmt is None:
            return None
        if stmt is target:
            return out
        for _, tests, block in _blocks(stmt):
            if contains_node(block, target):
                out.extend(tests)
                body = block
                break
        else:
            return out  # inside the statement itself (an expression, a test, a nested def's header)
