"""Functions whose bodies libcst parses only when something looks inside.

The analysis runs a file's model_fns, what constructs its specs and estimators, and what those
call; a module imported from a linted file (`modules.py`: a helper, `modeling.py`, t2t's
`common_layers.py`) is analysed for its names, and its functions run only when an importer calls
them.  On the 19 repositories of the precision sweep, three quarters of the function and method
bodies of the files analysed and followed are never run, and libcst's parse was most of a cold run.

So a file parsed without a document key (`parse.parse`) has each eligible top-level function's
body, and each eligible method's of a top-level class, replaced by `pass` for the parse
(`reparse._lazy_module`: one parse for the module, in the usual batches), and each such function
becomes a `LazyFunctionDef`: the header nodes of that parse, and a `body` that parses the
function's own text the first time it is read (a method's inside a `class _:` of its own).  The
node is a `FunctionDef` (a subclass, dispatched under that name by `walk.py`, the interpreter and
the checks), and the body read is node for node the one a whole-file parse gives
(`tests/test_lazydefs.py` compares them on real repositories), so every reader that looks inside
gets what it would have got.

What would otherwise read every body answers from CPython's tree of it (`safeparse.LazyBody`:
attributes assigned, names called, attributes read, names bound, attribute chains on names) while
it is unread: the analysis's pre-pass (which walks a body whose calls it needs:
`ModuleAnalyzer._walk_lazy`), `tfversion`, `checks/fixes`, `positions` and `project_view`.  A
body that holds what the pre-pass records node by node (an import, a class) is never lazy, nor is
one that defines a function with a model_fn's parameters (the analysis picks those by their
header: `safeparse._lazy_body`); the functions nested in a lazy body are taken in when it is
read (`ModuleAnalyzer.parent_of`), and one that holds a name the pre-pass reports on
(`semantics.prepass_needs_body`) is walked whole.  Unparsed, the function's code is generated
from its text (`_codegen_impl`), so `module.code` is the file's; code generation that records
positions reads the body unless it says it wants nothing inside
(`positions._PositionState.wants_nothing_in`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState


@dataclass(frozen=True)
class _RawBody(cst.CSTNode):
    """The text of an unparsed body (after the header's colon), for code generation only."""
    text: str

    def _visit_and_replace_children(self, visitor) -> "_RawBody":
        return self

    def _codegen_impl(self, state) -> None:
        state.add_token(self.text)


class BodyRejected(ValueError):
    """libcst rejects a lazy body that CPython accepted (libcst 1.x lags CPython in rare cases):
    the file it is in cannot be parsed whole either (`engine._analyse` says so, as SL000)."""


class _Later:
    """How to parse a lazy body: the function's text and the parser (`reparse`'s)."""
    __slots__ = ("text", "body_text", "info", "parse")

    def __init__(self, text: str, body_text: str, info, parse: Callable[[str], Optional[cst.FunctionDef]]):
        self.text = text  # the function's lines, decorators to its last line
        self.body_text = body_text  # after the colon: what the body generates
        self.info = info  # safeparse.LazyBody
        self.parse = parse


class LazyFunctionDef(cst.FunctionDef):
    """A top-level function whose body is parsed when first read (see the module's doc)."""

    @property
    def body(self) -> cst.BaseSuite:  # type: ignore[override]
        found = self.__dict__.get("_body")
        if found is None:
            later = self.__dict__["_later"]
            parsed = later.parse(later.text)
            if parsed is None:
                raise BodyRejected("libcst rejects a function body CPython accepted")
            found = self.__dict__["_body"] = parsed.body
        return found

    @body.setter
    def body(self, value) -> None:  # (libcst's constructor and `with_changes`)
        self.__dict__["_body"] = value

    @property
    def lazy(self):
        """The pre-pass's summary of the body (`safeparse.LazyBody`), or None."""
        later = self.__dict__.get("_later")
        return later.info if later is not None else None

    @property
    def parsed(self) -> bool:
        return self.__dict__.get("_body") is not None

    def _codegen_impl(self, state) -> None:
        plain = type(state) is CodegenState
        if "_later" not in self.__dict__ or (self.parsed if plain else not _text_will_do(state, self)):
            # a read body's code is its nodes' (the text is at the file's indentation: a method
            # generated on its own would differ); a state that records positions (libcst's
            # metadata; `positions.py` when it wants this function's range or a node in it) needs
            # the body's nodes: the function's range ends where its last statement does, not at
            # its text's end.  (A node made by `with_changes` has no text.)
            super()._codegen_impl(state)
            return
        # libcst's FunctionDef._codegen_impl (1.x), with the body's text
        for ll in self.leading_lines:
            ll._codegen(state)
        for decorator in self.decorators:
            decorator._codegen(state)
        for lad in self.lines_after_decorators:
            lad._codegen(state)
        state.add_indent_tokens()
        raw = _RawBody(self.__dict__["_later"].body_text)
        with state.record_syntactic_position(self, end_node=raw):
            if self.asynchronous is not None:
                self.asynchronous._codegen(state)
            state.add_token("def")
            self.whitespace_after_def._codegen(state)
            self.name._codegen(state)
            self.whitespace_after_name._codegen(state)
            if self.type_parameters is not None:
                self.type_parameters._codegen(state)
            self.whitespace_after_type_parameters._codegen(state)
            state.add_token("(")
            self.whitespace_before_params._codegen(state)
            self.params._codegen(state)
            state.add_token(")")
            if self.returns is not None:
                self.returns._codegen(state, default_indicator="->")
            self.whitespace_before_colon._codegen(state)
            state.add_token(":")
            raw._codegen(state)


def unread(node: cst.CSTNode):
    """The summary (`safeparse.LazyBody`) of a lazy function whose body is not parsed yet, else
    None: what a reader that would walk every body takes instead of walking this one."""
    if type(node) is not LazyFunctionDef or node.parsed:
        return None
    return node.lazy


def _text_will_do(state, node: LazyFunctionDef) -> bool:
    """Whether a code-generation state that records positions can be given the body's text (read
    or not): one that says it wants nothing of this function but the positions after it."""
    ask = getattr(state, "wants_nothing_in", None)
    return ask is not None and ask(node)


# dispatched as a FunctionDef by the name-keyed tables (`walk.py`'s visit_/leave_, the
# interpreter's s_FunctionDef, `evaluate`'s e_...)
LazyFunctionDef.__name__ = "FunctionDef"

_FIELDS = tuple(name for name in cst.FunctionDef.__dataclass_fields__ if name != "body")


def from_shell(shell: cst.FunctionDef, later: _Later) -> LazyFunctionDef:
    """The lazy function with `shell`'s header (a parse of it with a `pass` body)."""
    node = object.__new__(LazyFunctionDef)
    for name in _FIELDS:
        object.__setattr__(node, name, getattr(shell, name))
    node.__dict__["_later"] = later
    return node

