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
   200 levels (CPython's own limit).  Code nested deeper than `MAX_AST_DEPTH` (where libcst
   turns slow: seconds to minutes) is SL000 too; a chain of `and`/`or` operands counts as
   nested, as libcst builds it.
   A file over `MAX_PARSE_BYTES` is never parsed ("too large"): libcst's peak memory is about
   900 MiB per MiB of source (bench/bench_memory.py), and at 50 MB it aborts the process.
2. libcst runs in a thread with a 256 MB stack (virtual memory; only the pages used are touched),
   so the caller's stack size (a small thread of a language server, macOS's 512 KB) does not
   matter, and the remaining nesting fits; the analysis runs there too, with a Python recursion
   limit of `ANALYSIS_RECURSION_LIMIT` (libcst's visitors recurse).
"""
from __future__ import annotations

import ast
import contextlib
import re
import sys
import threading
import warnings
from typing import Optional

PARSER_STACK_BYTES = 256 * 1024 * 1024
# Parsing costs memory in proportion to the source: libcst peaks at about 900 MiB per MiB (CPython's
# AST about 250 MiB per MiB before it), the analysis takes 15-35 s per MiB.  The largest files that
# mention the Estimator API in TensorFlow itself are under 0.35 MiB (tpu_estimator.py: 0.18 MiB).
MAX_PARSE_BYTES = 1024 * 1024
MAX_BRACKET_DEPTH = 200  # CPython's MAXLEVEL
# Deeper than this (CPython accepts up to about 3,000) libcst takes seconds to minutes: subscripts
# `a[0][0]...` 1,000 deep take 1.4 s, 2,900 deep 20 s.  Real code stays far below 100.
MAX_AST_DEPTH = 1000
# The analysis runs libcst visitors (about 3 Python frames per level) on the big stack.
ANALYSIS_RECURSION_LIMIT = 20_000
_STACK_LOCK = threading.Lock()
_THREAD_NAME = "speclint-big-stack"
_TOO_DEEP = "the code is nested too deeply to parse"


def too_large(size: int) -> str:
    """The SL000 reason for a file over MAX_PARSE_BYTES."""
    return (f"the file is too large to analyse ({size / 2**20:,.1f} MiB: {size:,} bytes; "
            f"the limit is {MAX_PARSE_BYTES / 2**20:g} MiB)")


def too_deep(data: bytes) -> Optional[str]:
    """Why libcst must not be given this file (None: it may): too large, or nested too deeply."""
    return check(data)[0]


def check(data: bytes):
    """(too_deep's verdict, CPython's AST of the file or None where it has none)."""
    if len(data) > MAX_PARSE_BYTES:
        return too_large(len(data)), None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc.
            tree = compile(data, "<speclint>", "exec", ast.PyCF_ONLY_AST,
                           dont_inherit=True)
    except (RecursionError, MemoryError):  # (CPython's parser says MemoryError for deep nesting)
        return _TOO_DEEP, None
    except SyntaxError as exc:
        msg = str(getattr(exc, "msg", "") or "")
        if "too many nested" in msg or "too complex" in msg or "nested too deeply" in msg:
            return _TOO_DEEP, None
        return (_TOO_DEEP if _bracket_depth(data) > MAX_BRACKET_DEPTH else None), None
    except (ValueError, UnicodeError, LookupError, OverflowError):
        # NUL bytes, undecodable bytes, unknown coding cookie: libcst reports these itself
        return (_TOO_DEEP if _bracket_depth(data) > MAX_BRACKET_DEPTH else None), None
    if _ast_depth(tree) > MAX_AST_DEPTH:
        return _TOO_DEEP, None
    return None, tree


def cpython_syntax_error(data: bytes):
    """CPython's verdict on a file libcst rejected: (message, (line, column, end line, end column)),
    columns 0-based, or None where CPython accepts the file (a gap in libcst's grammar) or rejects
    it for another reason.  The position and words users see from Python itself."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<speclint>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        if not exc.lineno or not exc.msg:
            return None
        line, col = exc.lineno, max((exc.offset or 1) - 1, 0)
        end = (getattr(exc, "end_lineno", None) or line, (getattr(exc, "end_offset", None) or 0) - 1)
        return exc.msg, (line, col) + (end if end > (line, col) else (line, col))
    except (ValueError, RecursionError, MemoryError, OverflowError, LookupError, UnicodeError):
        return None
    return None


def _ast_depth(tree) -> int:
    """Nesting depth as libcst will build it (a chain of `and`/`or` operands nests there), with
    an early exit past the limit: the depth `ast.iter_child_nodes` gives, walked without its
    generators (about a tenth of a libcst parse)."""
    stack = [(tree, 1)]
    deepest = 0
    node_type = ast.AST
    bool_op = ast.BoolOp
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        cls = type(node)
        if cls is bool_op:
            depth += len(node.values)
        if depth > deepest:
            deepest = depth
            if depth > MAX_AST_DEPTH:
                break
        depth += 1
        for name in cls._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        push((item, depth))
            elif isinstance(value, node_type):
                push((value, depth))
    return deepest


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


_limit_users = 0
_saved_limit = 0


@contextlib.contextmanager
def _deep_recursion():
    """Raise the (process-wide) recursion limit while any big-stack thread runs; restore after."""
    global _limit_users, _saved_limit
    with _STACK_LOCK:
        if _limit_users == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, ANALYSIS_RECURSION_LIMIT))
        _limit_users += 1
    try:
        yield
    finally:
        with _STACK_LOCK:
            _limit_users -= 1
            if _limit_users == 0:
                sys.setrecursionlimit(_saved_limit)


def run_with_big_stack(fn, *args):
    """fn(*args) in a thread with a PARSER_STACK_BYTES stack; returns its value or raises its
    exception."""
    if threading.current_thread().name == _THREAD_NAME:
        return fn(*args)  # already on a big stack
    box = {}

    def target():
        try:
            with _deep_recursion():
                box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    with _STACK_LOCK:  # stack_size() is process-wide: set, start, restore
        old = threading.stack_size()
        try:
            threading.stack_size(PARSER_STACK_BYTES)
            thread = threading.Thread(target=target, name=_THREAD_NAME, daemon=True)
            thread.start()
        except (RuntimeError, ValueError, MemoryError):
            thread = None  # no room for the stack (ulimit -v, 32-bit): run here, as before
        finally:
            threading.stack_size(old)
    if thread is None:
        return fn(*args)
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


_INDENT_FF = re.compile(rb"(?m)^[ \t\f]*\f")


def without_indent_formfeeds(data: bytes) -> bytes:
    """Python resets the indentation column at a form feed in a line's leading whitespace; libcst
    does not accept it there.  Dropping the leading whitespace up to the last form feed keeps the
    meaning and the line numbers (columns on such a line shift by the bytes dropped)."""
    return _INDENT_FF.sub(b"", data)
