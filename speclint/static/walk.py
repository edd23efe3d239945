"""A fast walk over a libcst tree, in the order libcst's own visitors see it.

libcst's `node.visit(visitor)` rebuilds every node it passes (each one validated again) and looks
its callbacks up by name at every node: on a 2,300-line module a visit of the whole tree costs
more than parsing it.  `walk(node, walker)` calls the same `visit_<Class>` / `leave_<Class>`
methods (a `visit_` returning False skips the node's children; `leave_` is called all the same),
in the same order, without rebuilding anything, and skips what only holds whitespace and tokens
(parentheses, commas, operators, comments): those nodes are never visited.

`FIELDS` lists, per node class, the fields that can hold code, in the order libcst's
`_visit_and_replace_children` visits them (not always the dataclass order: a function's
decorators come before its name).  `tests/test_speed_walk.py` derives the table from the
installed libcst's source and compares; a class missing from it (a newer libcst) is walked
through every field of its dataclass.
"""
from __future__ import annotations

import dataclasses
import weakref
from typing import Dict, Optional, Tuple

import libcst as cst

FIELDS: Dict[str, Tuple[str, ...]] = {
    'AnnAssign': ('target', 'annotation', 'value'),
    'Annotation': ('annotation',),
    'Arg': ('keyword', 'value'),
    'AsName': ('name',),
    'Assert': ('test', 'msg'),
    'Assign': ('targets', 'value'),
    'AssignTarget': ('target',),
    'Attribute': ('value', 'attr'),
    'AugAssign': ('target', 'value'),
    'Await': ('expression',),
    'BinaryOperation': ('left', 'right'),
    'BooleanOperation': ('left', 'right'),
    'Call': ('func', 'args'),
    'ClassDef': ('decorators', 'name', 'type_parameters', 'bases', 'keywords', 'body'),
    'CompFor': ('target', 'iter', 'ifs', 'inner_for_in'),
    'CompIf': ('test',),
    'Comparison': ('left', 'comparisons'),
    'ComparisonTarget': ('comparator',),
    'ConcatenatedString': ('left', 'right'),
    'Decorator': ('decorator',),
    'Del': ('target',),
    'Dict': ('elements',),
    'DictComp': ('key', 'value', 'for_in'),
    'DictElement': ('key', 'value'),
    'Element': ('value',),
    'Else': ('body',),
    'ExceptHandler': ('type', 'name', 'body'),
    'ExceptStarHandler': ('type', 'name', 'body'),
    'Expr': ('value',),
    'Finally': ('body',),
    'For': ('target', 'iter', 'body', 'orelse'),
    'FormattedString': ('parts',),
    'FormattedStringExpression': ('expression', 'format_spec'),
    'From': ('item',),
    'FunctionDef': ('decorators', 'name', 'type_parameters', 'params', 'returns', 'body'),
    'GeneratorExp': ('elt', 'for_in'),
    'Global': ('names',),
    'If': ('test', 'body', 'orelse'),
    'IfExp': ('body', 'test', 'orelse'),
    'Import': ('names',),
    'ImportAlias': ('name', 'asname'),
    'ImportFrom': ('module', 'names'),
    'IndentedBlock': ('body',),
    'Index': ('value',),
    'Lambda': ('params', 'body'),
    'LazyImport': ('names',),
    'LazyImportFrom': ('module', 'names'),
    'List': ('elements',),
    'ListComp': ('elt', 'for_in'),
    'Match': ('subject', 'cases'),
    'MatchAs': ('pattern', 'name'),
    'MatchCase': ('pattern', 'guard', 'body'),
    'MatchClass': ('cls', 'patterns', 'kwds'),
    'MatchKeywordElement': ('key', 'pattern'),
    'MatchList': ('patterns',),
    'MatchMapping': ('elements', 'rest'),
    'MatchMappingElement': ('key', 'pattern'),
    'MatchOr': ('patterns',),
    'MatchOrElement': ('pattern',),
    'MatchSequenceElement': ('value',),
    'MatchSingleton': ('value',),
    'MatchStar': ('name',),
    'MatchTuple': ('patterns',),
    'MatchValue': ('value',),
    'Module': ('body',),
    'NameItem': ('name',),
    'NamedExpr': ('target', 'value'),
    'Nonlocal': ('names',),
    'Param': ('name', 'annotation', 'default'),
    'ParamSpec': ('name',),
    'Parameters': ('posonly_params', 'params', 'star_arg', 'kwonly_params', 'star_kwarg'),
    'Raise': ('exc', 'cause'),
    'Return': ('value',),
    'Set': ('elements',),
    'SetComp': ('elt', 'for_in'),
    'SimpleStatementLine': ('body',),
    'SimpleStatementSuite': ('body',),
    'Slice': ('lower', 'upper', 'step'),
    'StarredDictComp': ('value', 'for_in'),
    'StarredDictElement': ('value',),
    'StarredElement': ('value',),
    'Subscript': ('value', 'slice'),
    'SubscriptElement': ('slice',),
    'TemplatedString': ('parts',),
    'TemplatedStringExpression': ('expression', 'format_spec'),
    'Try': ('body', 'handlers', 'orelse', 'finalbody'),
    'TryStar': ('body', 'handlers', 'orelse', 'finalbody'),
    'Tuple': ('elements',),
    'TypeAlias': ('name', 'type_parameters', 'value'),
    'TypeParam': ('param', 'default'),
    'TypeParameters': ('params',),
    'TypeVar': ('name', 'bound'),
    'TypeVarTuple': ('name',),
    'UnaryOperation': ('expression',),
    'While': ('test', 'body', 'orelse'),
    'With': ('items', 'body'),
    'WithItem': ('item', 'asname'),
    'Yield': ('value',),
}

# Nodes that hold only whitespace or a token: never visited.
TOKENS: Tuple[type, ...] = (
    cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline, cst.Comment,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
    cst.RightCurlyBrace, cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.ImportStar,
    cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp, cst.Asynchronous,
    cst.ParamStar, cst.ParamSlash,
)

_PLANS: Dict[type, Tuple[str, ...]] = {}
# walker class -> node class -> (visit, leave, fields); weak: walkers defined inside functions come and go
_DISPATCH: "weakref.WeakKeyDictionary[type, Dict[type, Optional[tuple]]]" = weakref.WeakKeyDictionary()


class Walker:
    """Base class of the walkers given to `walk`: define `visit_<Class>(self, node)` (return False
    to skip the children) and `leave_<Class>(self, node)` as for a libcst CSTVisitor, or
    `on_visit(self, node)` / `on_leave(self, node)` for every node (they replace the former)."""


def fields_of(cls: type) -> Tuple[str, ...]:
    """The code-holding fields of a node class, in libcst's visiting order."""
    plan = _PLANS.get(cls)
    if plan is None:
        if issubclass(cls, TOKENS):
            plan = ()
        elif cls.__name__ in FIELDS or getattr(cst, cls.__name__, None) is cls:
            plan = FIELDS.get(cls.__name__, ())
            if cls.__name__ not in FIELDS and dataclasses.is_dataclass(cls):
                plan = tuple(f.name for f in dataclasses.fields(cls))
        else:
            plan = tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else ()
        _PLANS[cls] = plan
    return plan


def walk(node: cst.CSTNode, walker: Walker) -> None:
    """Visit `node` and everything under it (see the module's doc)."""
    table = _DISPATCH.get(type(walker))
    if table is None:
        table = _DISPATCH[type(walker)] = {}
    _walk(node, walker, table)


HEADER_FIELDS = tuple(f for f in FIELDS["FunctionDef"] if f != "body")  # a function's but its body


def header_children(node: cst.FunctionDef):
    """The nodes directly under a function but its body (a lazy function's: `lazydefs.py`)."""
    for name in HEADER_FIELDS:
        child = getattr(node, name)
        for item in (child if isinstance(child, (tuple, list)) else (child,)):
            if isinstance(item, cst.CSTNode):
                yield item


def walk_header(node: cst.FunctionDef, walker: Walker) -> None:
    """Visit everything under a function but its body."""
    for item in header_children(node):
        walk(item, walker)


_SKIP = (type(None), cst.MaybeSentinel, str)


def _entry(cls, walker, table):
    if not issubclass(cls, cst.CSTNode) or issubclass(cls, TOKENS):
        entry = None
    else:
        kind, name = type(walker), cls.__name__
        entry = (getattr(kind, "on_visit", None) or getattr(kind, "visit_" + name, None),
                 getattr(kind, "on_leave", None) or getattr(kind, "leave_" + name, None), fields_of(cls))
    table[cls] = entry
    return entry


def _walk(node, walker, table) -> None:
    cls = type(node)
    entry = table[cls] if cls in table else _entry(cls, walker, table)
    if entry is None:
        return
    visit, leave, fields = entry
    if visit is None or visit(walker, node) is not False:
        for name in fields:
            child = getattr(node, name)
            kind = type(child)
            if kind is tuple or kind is list:
                for item in child:
                    _walk(item, walker, table)
            elif kind not in _SKIP:
                _walk(child, walker, table)
    if leave is not None:
        leave(walker, node)
