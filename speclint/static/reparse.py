"""Parsing a file by its top-level statements, and a document again after an edit: only the
statements whose text changed.

libcst's parser peaks at about 900 MiB of memory per MiB of source it is given at once (its own
structures before the Python tree, which holds about 65 MiB per MiB), and a language server's
checker process parses the same document after every keystroke (libcst takes 0.15 s for 2,300
lines; CPython's own parser, which `safeparse` runs first anyway, a tenth of that).  So the source
is cut, with CPython's tree, into segments of whole top-level statements (the blank lines and
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

import ast
import io
import re
import tokenize
from collections import OrderedDict
from typing import Dict, List, Optional

import libcst as cst

_NEWLINE = re.compile(r"\r\n?|\n")
_MEMO_DOCUMENTS = 8  # documents whose statements are kept (a server's open files)
# document key -> {(segment text, indent, newline): (header, statements, footer, trailing newline)}
_MEMO: "OrderedDict[str, Dict[tuple, tuple]]" = OrderedDict()


def parse_module(data: bytes, tree, key: Optional[str] = None) -> Optional[cst.Module]:
    """The libcst module of `data` (whose CPython tree is `tree`), reusing the statements of the
    last parse under `key` (None: a file parsed once); None when it must be parsed whole (see
    the module's doc)."""
    if b"\f" in data or _encoding(data) != "utf-8":
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.splitlines(keepends=True)
    segments = _segments(tree, lines)
    m = _NEWLINE.search(text)
    newline = m.group(0) if m else "\n"
    indent = _first_indent(tree.body, lines) or "    "
    old = _MEMO.get(key, {}) if key is not None else {}
    memo: Dict[tuple, tuple] = {}
    body: List[cst.CSTNode] = []
    header: tuple = ()
    footer: tuple = ()
    trailing = False
    for k, (start, end, stmts) in enumerate(segments):
        parsed = None
        if len(stmts) == 1 and isinstance(stmts[0], ast.ClassDef) and end == stmts[0].end_lineno:
            parsed = _class_segment(lines, start, stmts[0], indent, newline, k == 0, old, memo)
        if parsed is None:
            seg = "".join(lines[start:end])
            mkey = (seg, indent, newline, k == 0)
            parsed = old.get(mkey) or memo.get(mkey) or _parse_segment(seg, stmts, lines, indent, newline, k == 0)
            if parsed is None:
                return None
            memo[mkey] = parsed
        if k == 0:
            header = parsed[0]
        body.extend(parsed[1])
        footer, trailing = parsed[2], parsed[3]
    if not segments:
        return None
    if key is not None:
        _MEMO.pop(key, None)
        _MEMO[key] = memo
        while len(_MEMO) > _MEMO_DOCUMENTS:
            _MEMO.popitem(last=False)
    return cst.Module(body=body, header=header, footer=footer, encoding="utf-8", default_indent=indent,
                      default_newline=newline, has_trailing_newline=trailing)


def _parse_segment(seg: str, stmts, lines: List[str], indent: str, newline: str, first: bool) -> Optional[tuple]:
    """(module header, statements, footer, trailing newline) of one segment, or None."""
    try:
        m = cst.parse_module(seg)
    except Exception:  # noqa: BLE001 - the whole-file parse gives the error
        return None
    # libcst detects each segment's own indentation and newline: they must be the file's
    # wherever the segment has an indented block or a line break
    own = _NEWLINE.search(seg)
    if not m.body or (own is not None and own.group(0) != newline) or \
            (m.default_indent != indent and _first_indent(stmts, lines) is not None):
        return None
    nodes = list(m.body)
    if not first and m.header:  # the lines before a statement that is not the first are its own
        nodes[0] = nodes[0].with_changes(leading_lines=[*m.header, *nodes[0].leading_lines])
    return (tuple(m.header) if first else (), tuple(nodes), tuple(m.footer), m.has_trailing_newline)


def _class_segment(lines: List[str], start: int, cls, indent: str, newline: str, first: bool,
                   old: dict, memo: dict) -> Optional[tuple]:
    """A top-level class (most of a model file, often) in parts: its header with the lines
    before it, and its body cut like the module's, each part parsed alone (a body part inside a
    `class _:` of its own).  None: parse the segment whole."""
    body = cls.body
    if len(body) < 2:
        return None
    starts = [min([b.lineno] + [d.lineno for d in getattr(b, "decorator_list", ())]) - 1 for b in body]
    raw = lines[starts[0]].encode("utf-8")[:body[0].col_offset]
    if raw.decode("utf-8", "replace") != indent:  # (also: a body on the header's line)
        return None
    comment = indent + "#"
    parts: List[tuple] = []  # (first line, end line)
    begin, prev_end = starts[0], body[0].end_lineno
    for b, first_line in zip(body[1:], starts[1:]):
        gap = lines[prev_end:first_line]
        if begin < prev_end <= first_line and all(not line.strip() or line.startswith(comment) for line in gap):
            parts.append((begin, prev_end))
            begin = prev_end
        prev_end = max(prev_end, b.end_lineno)
    parts.append((begin, cls.end_lineno))
    if len(parts) < 2:
        return None
    shell_text = "".join(lines[start:starts[0]]) + indent + "pass" + newline
    skey = ("class", shell_text, indent, newline, first)
    shell = old.get(skey) or memo.get(skey)
    if shell is None:
        shell = _parse_segment(shell_text, [cls], lines, indent, newline, first)
        if shell is None or len(shell[1]) != 1 or not isinstance(shell[1][0], cst.ClassDef) \
                or shell[2] or not isinstance(shell[1][0].body, cst.IndentedBlock) \
                or shell[1][0].body.footer or len(shell[1][0].body.body) != 1:
            return None
    memo[skey] = shell
    statements: List[cst.CSTNode] = []
    for a, b in parts:
        text = "class _:" + newline + "".join(lines[a:b])
        pkey = ("class body", text, indent, newline)
        nodes = old.get(pkey) or memo.get(pkey)
        if nodes is None:
            try:
                m = cst.parse_module(text)
            except Exception:  # noqa: BLE001
                return None
            if len(m.body) != 1 or m.header or m.footer or m.default_indent != indent \
                    or not isinstance(m.body[0].body, cst.IndentedBlock) or m.body[0].body.footer \
                    or m.body[0].body.indent is not None:
                return None
            own = _NEWLINE.search("".join(lines[a:b]))
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


def _segments(tree, lines: List[str]) -> List[tuple]:
    """(first line, end line, top-level statements), 0-based lines: whole statements, each with
    the blank lines and comments before it (an indented comment after a block stays with it)."""
    segments: List[tuple] = []
    start, prev_end, stmts = 0, 0, []
    for st in tree.body:
        first = min([st.lineno] + [d.lineno for d in getattr(st, "decorator_list", ())]) - 1
        if stmts and start < prev_end <= first and not any(
                line[:1] in (" ", "\t") and line.lstrip().startswith("#") for line in lines[prev_end:first]):
            segments.append((start, prev_end, stmts))
            start, stmts = prev_end, []
        stmts.append(st)
        prev_end = max(prev_end, st.end_lineno or st.lineno)
    if stmts:
        segments.append((start, len(lines), stmts))
    return segments


def _first_indent(stmts, lines: List[str]) -> Optional[str]:
    """The indentation of the first indented block among these top-level statements (libcst's
    first INDENT token: the first statement that starts a line of its own past column 0)."""
    for st in stmts:
        if not any(isinstance(getattr(st, f, None), list) for f in ("body", "orelse", "handlers", "cases")):
            continue
        first = None
        for node in ast.walk(st):
            if isinstance(node, ast.stmt) and node.col_offset > 0 and node.lineno <= len(lines) \
                    and (first is None or node.lineno < first[0]):
                raw = lines[node.lineno - 1].encode("utf-8")[:node.col_offset]
                if not raw.strip():
                    first = (node.lineno, raw.decode("utf-8"))
        if first is not None:
            return first[1]
    return None


def _encoding(data: bytes) -> Optional[str]:
    """The encoding Python (and libcst) read the file in: "utf-8-sig" with a byte-order mark."""
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        return None


def clear() -> None:
    _MEMO.clear()
