"""Parsing a file by its top-level statements, and a document again after an edit: only the
statements whose text changed.

libcst's parser peaks at about 900 MiB of memory per MiB of source it is given at once (its own
structures before the Python tree, which holds about 65 MiB per MiB), and a language server's
checker process parses the same document after every keystroke (libcst takes 0.15 s for 2,300
lines; CPython's own parser, which `safeparse` runs first anyway, a tenth of that).  So the source
is cut, with CPython's tree (its outline: `safeparse.check`), into segments of whole top-level statements (the blank lines and
comments before a statement belong to its segment; a top-level class is cut again, into its
header and its body's statements), each segment is parsed alone, and the statements are put
together into one module.  For a document (`key`), the parsed statements of its last version are
kept by segment text: an edit inside one function parses that function again, not the file.

The module put together is the one a whole-file parse gives, node for node (`deep_equals`; the
tests compare them on real repositories): libcst gives the blank lines and comments between two
top-level statements to the second one, as here, and the indentation that libcst would detect
(the first indented block's) and the newline (the first one) must be what libcst detects in each
segment that has an indented block or a line break.
Where that could differ, the file is parsed whole: a comment indented after a block (libcst may
give it to the block), a file not in UTF-8 or with a byte-order mark, a form feed, a file CPython
cannot parse or without a statement, and a segment libcst rejects (the whole-file parse reports the error).
"""
from __future__ import annotations

import contextlib
import io
import threading
import re
import tokenize
from collections import OrderedDict
from typing import Dict, List, Optional

import libcst as cst

from speclint.static import lazydefs, safeparse

_NEWLINE = re.compile(rb"\r\n?|\n")
_NEWLINE_STR = re.compile(r"\r\n?|\n")
BATCH_BYTES = 4096
_MEMO_DOCUMENTS = 8  # documents whose statements are kept (a server's open files)
# document key -> {(segment text, indent, newline): (header, statements, footer, trailing newline)}
_MEMO: "OrderedDict[str, Dict[tuple, tuple]]" = OrderedDict()


# libcst validates every node as it is constructed (`CSTNode.__post_init__` calls `_validate`:
# whitespace patterns, parentheses...).  A node its own parser builds is valid by construction
# (libcst's source says as much, in a PERF note on `__post_init__`), and the checks cost about a
# tenth of a parse.  While speclint parses, `__post_init__` does nothing; it is put back after (a
# node built meanwhile by another thread, a fix's, goes unchecked: libcst would only have raised on
# a malformed node).  Only when the method is libcst 1.x's, which does nothing but validate.
_VALIDATION_LOCK = threading.Lock()
_parsing = 0  # parses under way (threads): the last one out puts validation back


def _validation_only(method) -> bool:
    code = getattr(method, "__code__", None)
    return code is not None and code.co_names == ("_validate",) and code.co_argcount == 1


_VALIDATE = cst.CSTNode.__dict__.get("__post_init__")
_SKIPPABLE = _validation_only(_VALIDATE)


def _no_validation(self) -> None:
    pass


@contextlib.contextmanager
def parser_nodes():
    """Within: libcst constructs nodes without validating them (see above)."""
    global _parsing
    if not _SKIPPABLE:  # an unknown libcst: leave it alone
        yield
        return
    with _VALIDATION_LOCK:
        _parsing += 1
        cst.CSTNode.__post_init__ = _no_validation
    try:
        yield
    finally:
        with _VALIDATION_LOCK:
            _parsing -= 1
            if _parsing == 0:
                cst.CSTNode.__post_init__ = _VALIDATE


def parse_module(data: bytes, outline, key: Optional[str] = None, lazy: bool = False) -> Optional[cst.Module]:
    """The libcst module of `data` (whose top-level statements are `outline`, `safeparse.Top`s),
    reusing the statements of the last parse under `key` (None: a file parsed once); None when it
    must be parsed whole (see the module's doc).  `lazy` (no `key`): the functions whose `Top`
    has a `lazy` summary get their bodies parsed when first read (`lazydefs.py`)."""
    if b"\f" in data or not outline or _encoding(data) != "utf-8":
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = data.splitlines(keepends=True)  # (as CPython counts lines)
    m = _NEWLINE.search(data)
    newline = m.group(0).decode() if m else "\n"
    indent = next((t.indent for t in outline if t.indent is not None), "    ")
    if lazy and key is None:
        return _lazy_module(data, lines, outline, indent, newline)
    return _assemble(lines, outline, indent, newline, key)


def _assemble(lines: List[bytes], outline, indent: str, newline: str, key: Optional[str]) -> Optional[cst.Module]:
    old = _MEMO.get(key, {}) if key is not None else {}
    memo: Dict[tuple, tuple] = {}
    body: List[cst.CSTNode] = []
    header: tuple = ()
    footer: tuple = ()
    trailing = False
    for k, (start, end, tops) in enumerate(_batches(_segments(outline, lines), lines)):
        parsed = None
        if len(tops) == 1 and tops[0].body is not None and end == tops[0].end:
            parsed = _class_segment(lines, start, tops[0], indent, newline, k == 0, old, memo)
        if parsed is None:
            seg = b"".join(lines[start:end]).decode("utf-8")
            mkey = _nth(memo, (seg, indent, newline, k == 0))
            parsed = old.get(mkey) or _parse_segment(seg, tops, indent, newline, k == 0)
            if parsed is None:
                return None
            memo[mkey] = parsed
        if k == 0:
            header = parsed[0]
        body.extend(parsed[1])
        footer, trailing = parsed[2], parsed[3]
    if key is not None:
        _MEMO.pop(key, None)
        _MEMO[key] = memo
        while len(_MEMO) > _MEMO_DOCUMENTS:
            _MEMO.popitem(last=False)
    return cst.Module(body=body, header=header, footer=footer, encoding="utf-8", default_indent=indent,
                      default_newline=newline, has_trailing_newline=trailing)


def _lazy_module(data: bytes, lines: List[bytes], outline, indent: str, newline: str) -> Optional[cst.Module]:
    """The module with the bodies of its eligible functions and methods replaced by `pass` for
    the parse (one parse, in the usual batches), and those functions made `LazyFunctionDef`s."""
    cut = _Skeleton(lines, indent, newline, data.endswith((b"\n", b"\r")))
    tops = []
    later: List[Optional[object]] = []  # per top-level function, in order: its Top, or None
    methods: List[List[Optional[object]]] = []  # per top-level class, in order: per method likewise
    for top in outline:
        if top.body is not None:  # a class: its methods
            tops.append(cut.cls(top, methods))
            continue
        info = top.lazy
        ok = info is not None and top.indent == indent and cut.fits(top.first, info, top.end, indent)
        if cut.is_def(top.first, top.end, info):
            later.append(top if ok else None)
        tops.append(cut.function(top) if ok else cut.keep(top))
    if not cut.cuts or cut.unsure:  # (unsure: which functions the bodies go to would be a guess)
        return _assemble(lines, outline, indent, newline, None)
    module = _assemble(cut.skeleton + lines[cut.pos:], [cut.shifted(t) for t in tops], indent, newline, None)
    if module is None:
        return None
    lazy_at, methods_at = iter(later), iter(methods)
    body = []
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            top = next(lazy_at, None)
            if top is not None:
                stmt = _lazy_def(stmt, lines, top.first, top.end, top.lazy, newline, _def_body_parser(indent, newline))
        elif isinstance(stmt, cst.ClassDef):
            stmt = _lazy_methods(stmt, next(methods_at, ()), lines, indent, newline)
        if stmt is None:  # (not the shape expected: parse it all)
            return _assemble(lines, outline, indent, newline, None)
        body.append(stmt)
    return module.with_changes(body=body)


class _Skeleton:
    """The lines of a file with eligible bodies cut to `pass`, and where its statements moved."""

    def __init__(self, lines: List[bytes], indent: str, newline: str, last_ok: bool):
        self.lines, self.indent, self.newline, self.last_ok = lines, indent, newline, last_ok
        self.skeleton: List[bytes] = []
        self.pos = 0  # lines of `lines` copied into `skeleton` so far
        self.cuts = 0
        self.unsure = False  # a statement the text cannot tell from a function (`_is_def`)

    def shift(self, line: int) -> int:
        """Where line `line` (1-based, past every cut so far) is in the skeleton."""
        return line + len(self.skeleton) - self.pos

    def is_def(self, first: int, end: int, info=None) -> bool:
        """Whether the statement on lines first..end is a function (`info`: its LazyBody, known to
        be one); a statement the text cannot tell makes the skeleton `unsure`."""
        if info is not None:
            return True
        found = _is_def(self.lines, safeparse.Top(first, end, None))
        self.unsure = self.unsure or found is None
        return bool(found)

    def fits(self, first: int, info, end: int, body_indent: str) -> bool:
        """Whether a body can be cut: indented by `body_indent` (what the `pass` gets), with the
        file's newline in its header, and a final newline when it ends the file (libcst drops one
        otherwise)."""
        line = self.lines[info.body_line - 1]
        want = body_indent.encode("utf-8")
        return (end < len(self.lines) or self.last_ok) and line.startswith(want) \
            and line[len(want):len(want) + 1] not in (b" ", b"\t") \
            and _first_newline(self.lines[first - 1:info.header_end]) in (None, self.newline)

    def _cut(self, info, end: int, body_indent: str) -> None:
        self.skeleton.extend(self.lines[self.pos:info.header_end])
        self.skeleton.append((body_indent + "pass" + self.newline).encode("utf-8"))
        self.pos = end
        self.cuts += 1

    def keep(self, top) -> tuple:
        return top, self.shift(top.first) - top.first

    def function(self, top) -> tuple:
        first = self.shift(top.first)
        self._cut(top.lazy, top.end, self.indent)
        return safeparse.Top(first, len(self.skeleton), top.indent), 0

    def cls(self, top, methods: list) -> tuple:
        """A class with its eligible methods cut (`methods` gets, per method in order, its
        (first line, end line, LazyBody) or None)."""
        own: List[Optional[tuple]] = []
        methods.append(own)
        if top.lazy is None or top.indent != self.indent:
            for b_first, b_end, _ in top.body:
                if self.is_def(b_first, b_end):
                    own.append(None)
            return self.keep(top)
        first = self.shift(top.first)
        body = []
        for (b_first, b_end, col), info in zip(top.body, top.lazy):
            start = self.shift(b_first)
            if info is not None and self.lines[b_first - 1][:col] == self.indent.encode("utf-8") \
                    and self.fits(b_first, info, b_end, self.indent * 2):
                own.append((b_first, b_end, info))
                self._cut(info, b_end, self.indent * 2)
                body.append((start, len(self.skeleton), col))
                continue
            if self.is_def(b_first, b_end, info):
                own.append(None)
            body.append((start, self.shift(b_end), col))
        end = len(self.skeleton) if self.pos == top.end else self.shift(top.end)
        return safeparse.Top(first, end, top.indent, tuple(body)), 0

    def shifted(self, item: tuple):
        top, shift = item
        return _shifted(top, shift)


def _lazy_methods(node: cst.ClassDef, own: list, lines: List[bytes], indent: str, newline: str):
    """The class with its cut methods made `LazyFunctionDef`s (None: not the shape expected)."""
    if not any(own):
        return node
    if not isinstance(node.body, cst.IndentedBlock):
        return None
    at = iter(own)
    body = []
    parser = _method_body_parser(indent, newline)
    for stmt in node.body.body:
        if isinstance(stmt, cst.FunctionDef):
            entry = next(at, None)
            if entry is not None:
                stmt = _lazy_def(stmt, lines, entry[0], entry[1], entry[2], newline, parser)
                if stmt is None:
                    return None
        body.append(stmt)
    return node.with_changes(body=node.body.with_changes(body=body))


def _is_def(lines: List[bytes], top) -> Optional[bool]:
    """Whether a top-level statement is a function definition (decorators included); None when
    the text does not say (a decorator over several lines: `@dec(\n    1)`)."""
    decorated = False
    for raw in lines[top.first - 1:top.end]:
        text = raw.lstrip()
        if not text or text.startswith(b"#"):
            continue
        if text.startswith(b"@"):
            decorated = True
            continue
        if re.match(rb"(async[ \t]+)?def\b", text) is not None:
            return True
        return None if decorated and re.match(rb"class\b", text) is None else False
    return False


def _shifted(top, shift: int):
    if not shift:
        return top
    body = None if top.body is None else tuple((a + shift, b + shift, c) for a, b, c in top.body)
    return safeparse.Top(top.first + shift, top.end + shift, top.indent, body)


def _first_newline(lines: List[bytes]) -> Optional[str]:
    for raw in lines:
        m = _NEWLINE.search(raw)
        if m:
            return m.group(0).decode()
    return None


def _lazy_def(shell: cst.FunctionDef, lines: List[bytes], first: int, end: int, info, newline: str, parse):
    """A `LazyFunctionDef` with the header of `shell` (its parse with a `pass` body), or None."""
    colon_line = lines[info.header_end - 1].decode("utf-8")
    tail = cst.Module(body=[], default_newline=newline).code_for_node(shell.body.header) \
        if isinstance(shell.body, cst.IndentedBlock) else None
    if tail is None or not colon_line.endswith(tail) \
            or len(shell.body.body) != 1 or shell.body.footer or shell.body.indent is not None:
        return None
    text = b"".join(lines[first - 1:end]).decode("utf-8")
    body_text = tail + b"".join(lines[info.header_end:end]).decode("utf-8")
    return lazydefs.from_shell(shell, lazydefs._Later(text, body_text, info, parse))


def _def_body_parser(indent: str, newline: str):
    def parse(source: str) -> Optional[cst.FunctionDef]:
        try:
            with parser_nodes():
                m = cst.parse_module(source)
        except Exception:  # noqa: BLE001 - reported by the caller
            return None
        if len(m.body) != 1 or not isinstance(m.body[0], cst.FunctionDef) or m.default_indent != indent \
                or m.default_newline != newline:
            return None
        return m.body[0]
    return parse


def _method_body_parser(indent: str, newline: str):
    """A method's text parsed inside a `class _:` of its own (as `_class_segment` parses a class's
    body), its indentation the file's."""
    def parse(source: str) -> Optional[cst.FunctionDef]:
        try:
            with parser_nodes():
                m = cst.parse_module("class _:" + newline + source)
        except Exception:  # noqa: BLE001 - reported by the caller
            return None
        if len(m.body) != 1 or m.default_indent != indent or m.default_newline != newline \
                or not isinstance(m.body[0].body, cst.IndentedBlock) or m.body[0].body.indent is not None \
                or len(m.body[0].body.body) != 1 or not isinstance(m.body[0].body.body[0], cst.FunctionDef):
            return None
        return m.body[0].body.body[0]
    return parse


def _parse_segment(seg: str, tops, indent: str, newline: str, first: bool) -> Optional[tuple]:
    """(module header, statements, footer, trailing newline) of one segment, or None."""
    try:
        m = cst.parse_module(seg)
    except Exception:  # noqa: BLE001 - the whole-file parse gives the error
        return None
    # libcst detects each segment's own indentation and newline: they must be the file's
    # wherever the segment has an indented block or a line break
    own = _NEWLINE_STR.search(seg)
    if not m.body or (own is not None and own.group(0) != newline) or \
            (m.default_indent != indent and any(t.indent is not None for t in tops)):
        return None
    nodes = list(m.body)
    if not first and m.header:  # the lines before a statement that is not the first are its own
        nodes[0] = nodes[0].with_changes(leading_lines=[*m.header, *nodes[0].leading_lines])
    return (tuple(m.header) if first else (), tuple(nodes), tuple(m.footer), m.has_trailing_newline)


def _nth(memo: dict, key: tuple) -> tuple:
    """`key` with the number of its earlier occurrences in this parse: a statement whose text
    recurs (the same `@property def name(self)` in two classes) gets nodes of its own, since the
    analysis keys its tables by node; an edit's parse reuses the n-th occurrence's nodes."""
    n = 0
    while key + (n,) in memo:
        n += 1
    return key + (n,)


def _class_segment(lines: List[bytes], start: int, cls, indent: str, newline: str, first: bool,
                   old: dict, memo: dict) -> Optional[tuple]:
    """A top-level class (most of a model file, often) in parts: its header with the lines
    before it, and its body cut like the module's, each part parsed alone (a body part inside a
    `class _:` of its own).  None: parse the segment whole."""
    body = cls.body  # (first line, end line, column) of each statement
    if len(body) < 2:
        return None
    raw = lines[body[0][0] - 1][:body[0][2]]
    if raw != indent.encode("utf-8"):  # (also: a body on the header's line)
        return None
    comment = raw + b"#"
    parts: List[tuple] = []  # 0-based (first line, end line)
    begin, prev_end = body[0][0] - 1, body[0][1]
    for b_first, b_end, _ in body[1:]:
        gap = lines[prev_end:b_first - 1]
        if begin < prev_end <= b_first - 1 and all(not line.strip() or line.startswith(comment) for line in gap):
            parts.append((begin, prev_end))
            begin = prev_end
        prev_end = max(prev_end, b_end)
    parts.append((begin, cls.end))
    if len(parts) < 2:
        return None
    shell_text = b"".join(lines[start:body[0][0] - 1]).decode("utf-8") + indent + "pass" + newline
    skey = _nth(memo, ("class", shell_text, indent, newline, first))
    shell = old.get(skey)
    if shell is None:
        shell = _parse_segment(shell_text, [cls], indent, newline, first)
        if shell is None or len(shell[1]) != 1 or not isinstance(shell[1][0], cst.ClassDef) \
                or shell[2] or not isinstance(shell[1][0].body, cst.IndentedBlock) \
                or shell[1][0].body.footer or len(shell[1][0].body.body) != 1:
            return None
    memo[skey] = shell
    statements: List[cst.CSTNode] = []
    for a, b in parts:
        part = b"".join(lines[a:b]).decode("utf-8")
        text = "class _:" + newline + part
        pkey = _nth(memo, ("class body", text, indent, newline))
        nodes = old.get(pkey)
        if nodes is None:
            try:
                m = cst.parse_module(text)
            except Exception:  # noqa: BLE001
                return None
            if len(m.body) != 1 or m.header or m.footer or m.default_indent != indent \
                    or not isinstance(m.body[0].body, cst.IndentedBlock) or m.body[0].body.footer \
                    or m.body[0].body.indent is not None:
                return None
            own = _NEWLINE_STR.search(part)
            if own is not None and own.group(0) != newline:
                return None
            nodes = tuple(m.body[0].body.body)
        memo[pkey] = nodes
        statements.extend(nodes)
    node = shell[1][0]
    placeholder = node.body.body[0]  # `pass`, with the lines between the header and the body
    if placeholder.leading_lines:
        statements[0] = statements[0].with_changes(
            leading_lines=[*placeholder.leading_lines, *statements[0].leading_lines])
    node = node.with_changes(body=node.body.with_changes(body=statements))
    return shell[0], (node,), shell[2], shell[3]


def _batches(segments: List[tuple], lines: List[bytes]) -> List[tuple]:
    """Segments of under BATCH_BYTES joined with their neighbours up to that size (libcst's
    parse costs about a millisecond a call whatever the size: a file of thousands of three-line
    functions parses faster in batches); larger segments stay alone."""
    out: List[tuple] = []
    size = 0
    for a, b, tops in segments:
        n = sum(len(line) for line in lines[a:b])
        if out and n < BATCH_BYTES and size + n <= BATCH_BYTES:
            out[-1] = (out[-1][0], b, out[-1][2] + tops)
            size += n
        else:
            out.append((a, b, tops))
            size = n if n < BATCH_BYTES else BATCH_BYTES + 1
    return out


def _segments(outline, lines: List[bytes]) -> List[tuple]:
    """(first line, end line, `Top`s), 0-based lines: whole statements, each with the blank lines
    and comments before it (an indented comment after a block stays with it)."""
    segments: List[tuple] = []
    start, prev_end, tops = 0, 0, []
    for top in outline:
        first = top.first - 1
        if tops and start < prev_end <= first and not any(
                line[:1] in (b" ", b"\t") and line.lstrip().startswith(b"#") for line in lines[prev_end:first]):
            segments.append((start, prev_end, tops))
            start, tops = prev_end, []
        tops.append(top)
        prev_end = max(prev_end, top.end)
    if tops:
        segments.append((start, len(lines), tops))
    return segments


def _encoding(data: bytes) -> Optional[str]:
    """The encoding Python (and libcst) read the file in: "utf-8-sig" with a byte-order mark."""
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        return None


def clear() -> None:
    _MEMO.clear()
