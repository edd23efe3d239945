"""Source positions for reported nodes only.

libcst's PositionProvider (plus MetadataWrapper's deep copy) costs about three parses per file
(measured on a 981-line TPU script: parse 0.06 s, PositionProvider 0.13 s, deep copy 0.08 s).  Most files have nothing to report, so positions are computed after the checks, only
for files with findings, by one code-generation pass that records the syntactic range of each
node and stops as soon as every reported node (and the statement holding it) has been seen.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Dict, Iterable, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

from speclint.static.walk import Walker, walk, walk_header

_NEWLINE = re.compile(r"\r\n?|\n")
Range = Tuple[int, int, int, int]  # 1-based line, 0-based column, end line, end column


class _Done(Exception):
    pass


class _PositionState(CodegenState):
    def __init__(self, module: cst.Module, targets: set):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.ranges: Dict[cst.CSTNode, Range] = {}
        self.targets = set(targets)
        self.pending = set(targets)
        self.stmt_stack: list = []
        self.stmt_of: Dict[cst.CSTNode, cst.CSTNode] = {}
        self._starts: list = []

    def add_indent_tokens(self) -> None:
        for tok in self.indent_tokens:
            self.add_token(tok)

    def add_token(self, value: str) -> None:
        parts = _NEWLINE.split(value)
        if len(parts) == 1:
            self.column += len(value)
        else:
            self.line += len(parts) - 1
            self.column = len(parts[-1])

    def before_codegen(self, node: cst.CSTNode) -> None:
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self.stmt_stack.append(node)
        if node in self.targets and self.stmt_stack:
            stmt = self.stmt_stack[-1]
            self.stmt_of[node] = stmt
            if stmt not in self.ranges:
                self.pending.add(stmt)
        self._starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.ranges:
            self.ranges[node] = (start[0], start[1], self.line, self.column)
        if self.stmt_stack and self.stmt_stack[-1] is node:
            self.stmt_stack.pop()
        if node in self.pending:
            self.pending.discard(node)
            if not self.pending:
                raise _Done

    def wants_nothing_in(self, fn: cst.FunctionDef) -> bool:
        """Whether no node asked for is `fn` or under it (a lazy function's, whose code is then
        generated from its text: `lazydefs.py`; no node asked for is in an unread body).  Walking
        a read body for the nodes asked for costs a fraction of generating its code."""
        if fn in self.targets:
            return False
        found = _Targets(self.targets)
        walk_header(fn, found)
        if not found.hit and fn.parsed:
            walk(fn.body, found)
        return not found.hit

    @contextmanager
    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        start = (self.line, self.column)
        try:
            yield
        finally:
            end = (self.line, self.column)
            if start_node is not None and start_node in self.ranges:
                start = self.ranges[start_node][:2]
            if end_node is not None and end_node in self.ranges:
                end = self.ranges[end_node][2:]
            self.ranges[node] = (start[0], start[1], end[0], end[1])


class _Targets(Walker):
    def __init__(self, targets: set):
        self.targets = targets
        self.hit = False

    def on_visit(self, node) -> bool:
        if node in self.targets:
            self.hit = True
        return not self.hit


class _TargetsRead(_Targets):
    """`_Targets` that leaves the bodies not read yet alone (no node asked for is in one, and
    walking it would parse it)."""

    def on_visit(self, node) -> bool:
        if isinstance(node, cst.FunctionDef) and not getattr(node, "parsed", True):
            if node in self.targets:
                self.hit = True
            else:
                walk_header(node, self)
            return False
        return super().on_visit(node)


def compute(module: cst.Module, nodes: Iterable[cst.CSTNode], tops: tuple = ()) -> Tuple[Dict, Dict]:
    """({node: range}, {node: enclosing statement}) for `nodes` of `module`.

    `tops`: (first line, last line) of each of the module's top-level statements, from CPython's
    tree of the same text (`parse.Parsed.tops`).  Then the code is generated from the first
    top-level statement that holds a node asked for, not from the top of the file: it starts on
    the line after the previous statement's last, which is right when its blank lines and
    comments are exactly the lines in between (each is one line: checked, else from the top)."""
    targets = set(nodes)
    if not targets:
        return {}, {}
    state = _PositionState(module, targets)
    start = _first_holding(module, targets, tops)
    try:
        if start is None:
            module._codegen(state)
        else:
            state.line = tops[start - 1][1] + 1
            for stmt in module.body[start:]:
                stmt._codegen(state)
    except _Done:
        pass
    ranges = {n: state.ranges[n] for n in targets if n in state.ranges}
    stmts = {n: state.ranges.get(s) for n, s in state.stmt_of.items()}
    return ranges, stmts


def _first_holding(module: cst.Module, targets: set, tops: tuple):
    """The index of the first top-level statement holding a node of `targets`, when the code can
    start there (see `compute`); None: from the top of the file."""
    body = module.body
    if len(tops) != len(body) or not body or module in targets:
        return None  # (`a = 1; b = 2` is two statements to CPython, one to libcst)
    for line in (*module.header, *module.footer):  # (lines outside every statement)
        if line in targets or line.comment in targets or line.newline in targets or line.whitespace in targets:
            return None
    found = _TargetsRead(targets)
    for k, stmt in enumerate(body):
        walk(stmt, found)
        if found.hit:
            break
    else:
        return None
    if k == 0 or tops[k - 1][1] + 1 + len(getattr(body[k], "leading_lines", ())) != tops[k][0]:
        return None  # (the first statement, or lines between that libcst gave the one before)
    return k

