"""Parse with libcst without letting hostile input crash or hang the process.

libcst's native parser recurses on the C stack: deep nesting that CPython rejects cleanly
(`((((...` 3,000 deep, `-----x`, `a if b else ...` chains 30,000 long) makes it die with a
segmentation fault, and some shapes take minutes (`a[0][0]...` 3,000 deep: 23 s).  And a flat
`a and b and ...` of 10,000 operands, which CPython accepts, overflows the default 8 MB stack.
So, measured with libcst 1.9 (see tests/test_robustness.py):

1. CPython's own parser (about ten times faster than libcst) looks at the file first.  When it
   reports the nesting too deep (RecursionError, MemoryError, "too many nested parentheses"),
   the file is SL000 without calling libcst.  When it reports any other syntax error (code for a
   newer Python, or not Python), libcst still gets the file unless a bracket count says more than
   200 levels (CPython's own limit).  A boolean chain longer than `MAX_BOOL_OPERANDS` is SL000.
2. libcst runs in a thread with a 256 MB stack (virtual memory; only the pages used are touched),
   so the caller's stack size (a small thread of a language server, macOS's 512 KB) does not
   matter, and the remaining nesting CPython accepts fits.
"""
from __future__ import annotations

import ast
import re
import threading
import warnings
from typing import Optional

PARSER_STACK_BYTES = 256 * 1024 * 1024
MAX_BRACKET_DEPTH = 200  # CPython's MAXLEVEL
MAX_BOOL_OPERANDS = 20_000  # libcst parses 50,000 in 3 s with the big stack; 100,000 crash 64 MB
_STACK_LOCK = threading.Lock()
_TOO_DEEP = "the code is nested too deeply to parse"
_BOOL_WORDS = re.compile(rb"\b(?:and|or)\b")


def too_deep(data: bytes) -> Optional[str]:
    """Why libcst must not be given this file (None: it may)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc.
            tree = compile(data, "<speclint>", "exec", ast.PyCF_ONLY_AST,
                           dont_inherit=True)
    except (RecursionError, MemoryError):
        return _TOO_DEEP
    except SyntaxError as exc:
        msg = str(getattr(exc, "msg", "") or "")
        if "too many nested" in msg or "too complex" in msg or "nested too deeply" in msg:
            return _TOO_DEEP
        return _TOO_DEEP if _bracket_depth(data) > MAX_BRACKET_DEPTH else None
    except (ValueError, UnicodeError, LookupError, OverflowError):
        # NUL bytes, undecodable bytes, unknown coding cookie: libcst reports these itself
        return _TOO_DEEP if _bracket_depth(data) > MAX_BRACKET_DEPTH else None
    if len(_BOOL_WORDS.findall(data)) > MAX_BOOL_OPERANDS:
        stack = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.BoolOp) and len(node.values) > MAX_BOOL_OPERANDS:
                return _TOO_DEEP
            stack.extend(ast.iter_child_nodes(node))
    return None


def _bracket_depth(data: bytes) -> int:
    """Deepest bracket nesting, counting brackets in strings and comments too (an over-estimate,
    used only for files CPython already rejected)."""
    if data.count(b"(") + data.count(b"[") + data.count(b"{") <= MAX_BRACKET_DEPTH:
        return 0
    depth = deepest = 0
    for byte in re.sub(rb"[^()\[\]{}]+", b"", data):
        if byte in b"([{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif byte in b")]}":
            depth = max(0, depth - 1)
    return deepest


def run_with_big_stack(fn, *args):
    """fn(*args) in a thread with a PARSER_STACK_BYTES stack; returns its value or raises its
    exception."""
    box = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    with _STACK_LOCK:  # stack_size() is process-wide: set, start, restore
        old = threading.stack_size()
        try:
            threading.stack_size(PARSER_STACK_BYTES)
            thread = threading.Thread(target=target, name="speclint-parse", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old)
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
