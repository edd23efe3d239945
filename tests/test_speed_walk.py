"""`static/walk.py` visits exactly what libcst's own visitors visit (code nodes, not tokens), in the
same order, with the same visit/leave/skip-children protocol; its field table is libcst's."""
from __future__ import annotations

import ast
import importlib
import inspect
import typing
from pathlib import Path

import libcst as cst
import pytest

from speclint.static import walk as W

ROOT = Path(__file__).resolve().parents[1]


def _node_classes(tp) -> set:
    if isinstance(tp, type):
        return {tp} if issubclass(tp, cst.CSTNode) else set()
    out = set()
    for arg in typing.get_args(tp):
        out |= _node_classes(arg)
    return out


def _libcst_visit_orders() -> dict:
    """Per node class name: the fields its `_visit_and_replace_children` visits, in order, read
    from libcst's own source."""
    orders = {}
    for name in ("expression", "statement", "module", "op", "whitespace"):
        tree = ast.parse(inspect.getsource(importlib.import_module("libcst._nodes." + name)))
        for cls in tree.body:
            if not isinstance(cls, ast.ClassDef):
                continue
            for fn in cls.body:
                if isinstance(fn, ast.FunctionDef) and fn.name == "_visit_and_replace_children":
                    calls = sorted((n.lineno, n.col_offset, n.args[1].value) for n in ast.walk(fn)
                                   if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                                   and n.func.id.startswith("visit_") and len(n.args) >= 2
                                   and isinstance(n.args[1], ast.Constant))
                    orders[cls.name] = [c[2] for c in calls]
    return orders


def test_field_table_is_libcsts_visiting_order():
    orders = _libcst_visit_orders()
    derived = {}
    for cls in vars(cst).values():
        if not (isinstance(cls, type) and issubclass(cls, cst.CSTNode)) or inspect.isabstract(cls) \
                or issubclass(cls, W.TOKENS) or cls.__name__ not in orders:
            continue
        hints = typing.get_type_hints(cls)
        keep = [f for f in orders[cls.__name__]
                if (lambda ncs: ncs and not all(issubclass(n, W.TOKENS) for n in ncs))(_node_classes(hints[f]))]
        keep = tuple(dict.fromkeys(keep))
        if keep:
            derived[cls.__name__] = keep
    assert derived == W.FIELDS


class _LibcstRecorder(cst.CSTVisitor):
    def __init__(self, skip=()):
        self.events = []
        self.skip = skip

    def on_visit(self, node):
        if isinstance(node, W.TOKENS):
            return False
        self.events.append(("visit", id(node)))
        return not isinstance(node, self.skip)

    def on_leave(self, node):
        if not isinstance(node, W.TOKENS):
            self.events.append(("leave", id(node)))


class _WalkRecorder(W.Walker):
    def __init__(self, skip=()):
        self.events = []
        self.skip = skip


def _record_all(kind):
    """Give the walker class a visit_/leave_ for every libcst node class."""
    for cls in vars(cst).values():
        if isinstance(cls, type) and issubclass(cls, cst.CSTNode):
            def visit(self, node):
                self.events.append(("visit", id(node)))
                return not isinstance(node, self.skip)

            def leave(self, node):
                self.events.append(("leave", id(node)))
            setattr(kind, "visit_" + cls.__name__, visit)
            setattr(kind, "leave_" + cls.__name__, leave)


_record_all(_WalkRecorder)

SOURCES = sorted((ROOT / "speclint" / "static").glob("*.py")) + sorted((ROOT / "fixtures").rglob("*.py"))[:40]


@pytest.mark.parametrize("path", SOURCES[:60], ids=lambda p: p.name)
def test_walk_visits_what_libcst_visits_in_its_order(path):
    module = cst.parse_module(path.read_bytes())
    for skip in ((), (cst.FunctionDef, cst.Lambda)):
        theirs, ours = _LibcstRecorder(skip), _WalkRecorder(skip)
        module.visit(theirs)
        W.walk(module, ours)
        assert ours.events == theirs.events
        assert ours.events


def test_every_construct_in_order():
    code = '''
@dec(a)
async def f(a, /, b: int = 1, *args, c, d=2, **kw) -> x[y]:
    global g
    nonlocal_ = [i for i in range(3) if i]
    x = {k: v for k, v in d.items()}
    y = {*s} | {**m}
    z = a if b else c
    w = lambda q, *r: q
    del x[0], y.a
    assert t, "msg"
    try:
        pass
    except (E, F) as e:
        raise G from e
    else:
        yield from h
    finally:
        await k
    with open(p) as fh, ctx():
        async for i in aiter():
            print(f"{i!r:>{width}}", "a" "b")
    while (n := n - 1) > 0 and not done:
        continue
    match cmd:
        case [Point(x=0, y=yy), *rest] | {"k": v, **kw} if guard:
            return -v ** 2
class C(Base, metaclass=M):
    attr: int = 3
'''
    module = cst.parse_module(code)
    theirs, ours = _LibcstRecorder(), _WalkRecorder()
    module.visit(theirs)
    W.walk(module, ours)
    assert ours.events == theirs.events
    assert len(ours.events) > 200


class _GenericRecorder(W.Walker):
    """on_visit / on_leave for every node, as the estimator-use walker defines them."""

    def __init__(self):
        self.events = []

    def on_visit(self, node):
        self.events.append(("visit", id(node)))
        return not isinstance(node, cst.Lambda)

    def on_leave(self, node):
        self.events.append(("leave", id(node)))

    def visit_Name(self, node):  # never called: on_visit replaces it, as in libcst
        raise AssertionError


def test_on_visit_and_on_leave_replace_the_per_class_methods():
    module = cst.parse_module("x = lambda a: a + b\nf(y, z=[w for w in v])\n")
    theirs, ours = _LibcstRecorder((cst.Lambda,)), _GenericRecorder()
    module.visit(theirs)
    W.walk(module, ours)
    assert ours.events == theirs.events and len(ours.events) > 20
