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
   A file over `MAX_PARSE_BYTES` is never parsed ("too large"): the analysis takes 15-35 s per
   MiB, and libcst given a whole file peaks at about 900 MiB per MiB of source (at 50 MB it
   aborts the process).  A large file is compiled in parts (`CHUNK_BYTES`), each reduced to the
   outline of its top-level statements (`Top`), which `reparse` uses to give libcst one
   statement, or a small batch of them, at a time: about 90 MiB per MiB at the peak.
2. libcst runs in a thread with a 256 MB stack (virtual memory; only the pages used are touched),
   so the caller's stack size (a small thread of a language server, macOS's 512 KB) does not
   matter, and the remaining nesting fits; the analysis runs there too, with a Python recursion
   limit of `ANALYSIS_RECURSION_LIMIT` (libcst's visitors recurse).
"""
from __future__ import annotations

import ast
import bisect
import contextlib
import re
import sys
import threading
import warnings

PARSER_STACK_BYTES = 256 * 1024 * 1024
# Parsing costs memory in proportion to the source (by statements, about 90 MiB per MiB at the peak:
# bench/bench_memory.py), the analysis takes 15-35 s per MiB.  The largest files that mention the
# Estimator API in TensorFlow itself are under 0.35 MiB (tpu_estimator.py: 0.18 MiB).
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


def too_deep(data: bytes) -> str | None:
    """Why libcst must not be given this file (None: it may): too large, or nested too deeply."""
    return check(data)[0]


# CPython's tree of a file holds about 110 MiB per MiB of source and peaks at 250 while it is
# built: a file over this size is compiled in parts of at least this size (whole top-level
# statements), each part's tree reduced to its outline (`Top`) and dropped before the next one.
CHUNK_BYTES = 64 * 1024
_CHUNK_START = re.compile(rb"^[A-Za-z_@]", re.M)
_CONTINUES = re.compile(rb"(?:else|elif|except|finally)\b")


class Top:
    """One top-level statement of a file, from CPython's tree: what `reparse` needs to cut the
    file into statements.  Lines are 1-based.  (A plain class: this module is imported on every
    run, before the prefilter.)"""
    __slots__ = ("first", "end", "indent", "body", "lazy")

    def __init__(self, first: int, end: int, indent: str | None, body: tuple | None = None,
                 lazy: LazyBody | None = None):
        self.first = first  # its first line (decorators included)
        self.end = end  # its last line
        self.indent = indent  # the indentation of its first indented block (libcst's first INDENT)
        self.body = body  # a class: its body's statements, (first line, end line, column)
        # a function whose body libcst may parse later (`check(lazy=True)`): its LazyBody; a
        # class: a LazyBody or None for each statement of its body
        self.lazy = lazy

    def _key(self) -> tuple:
        return self.first, self.end, self.indent, self.body

    def __eq__(self, other) -> bool:
        return isinstance(other, Top) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Top{self._key()!r}"


def check(data: bytes, lazy: bool = False):
    """(too_deep's verdict, the outline of the file's top-level statements (`Top`s) or None
    where CPython has no tree of it).  `lazy`: say which top-level functions' bodies can be
    parsed later (`Top.lazy`, see `LazyBody`)."""
    if len(data) > MAX_PARSE_BYTES:
        return too_large(len(data)), None
    lines = data.splitlines(keepends=True)  # (bytes: \n, \r\n and \r, as CPython counts lines)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    outline: list[Top] = []
    for start, deep, tree in _parts(data):
        if tree is None:
            if deep:
                return _TOO_DEEP, None
            return (_TOO_DEEP if _bracket_depth(data) > MAX_BRACKET_DEPTH else None), None
        if _ast_depth(tree) > MAX_AST_DEPTH:
            return _TOO_DEEP, None
        outline.extend(_outline(tree, lines, bisect.bisect_left(starts, start), lazy))
        del tree
    return None, outline


def _parts(data: bytes):
    """(start, nested too deeply, CPython's tree or None) of parts of the file: whole top-level
    statements, each at least CHUNK_BYTES.  A part that CPython cannot compile (cut inside a
    string, a bracket, before an `else:`) is joined to the next one, so every part compiled ends
    where a statement ends; the last part runs to the end of the file, and a failure there is the
    file's.  A file with a coding declaration other than UTF-8, or a byte-order mark, is one part."""
    if len(data) <= 2 * CHUNK_BYTES or not _plain_utf8(data):
        yield (0,) + _compile(data)
        return
    start = 0
    for m in _CHUNK_START.finditer(data, CHUNK_BYTES):
        cut = m.start()
        if cut - start < CHUNK_BYTES or len(data) - cut < CHUNK_BYTES or _CONTINUES.match(data, cut):
            continue
        deep, tree = _compile(data[start:cut])
        if tree is None:
            continue  # joined to the next part
        yield start, False, tree
        del tree
        start = cut
    yield (start,) + _compile(data[start:] if start else data)


def _plain_utf8(data: bytes) -> bool:
    head = data[:2048].split(b"\n", 2)[:2]
    return not data.startswith(b"\xef\xbb\xbf") and not any(
        re.match(rb"^[ \t\f]*#.*?coding[:=][ \t]*(?!utf-?8\b)[-\w.]+", line, re.I) for line in head)


def _compile(data: bytes):
    """(nested too deeply, CPython's tree or None)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc.
            return False, compile(data, "<speclint>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (RecursionError, MemoryError):  # (CPython's parser says MemoryError for deep nesting)
        return True, None
    except SyntaxError as exc:
        msg = str(getattr(exc, "msg", "") or "")
        return ("too many nested" in msg or "too complex" in msg or "nested too deeply" in msg), None
    except (ValueError, UnicodeError, LookupError, OverflowError):
        # NUL bytes, undecodable bytes, unknown coding cookie: libcst reports these itself
        return False, None


def _outline(tree, lines: list, offset: int, lazy: bool = False) -> list[Top]:
    """The `Top`s of a part's tree (`offset`: the lines before the part)."""
    out = []
    for st in tree.body:
        first = min([st.lineno] + [d.lineno for d in getattr(st, "decorator_list", ())]) + offset
        body = None
        if isinstance(st, ast.ClassDef):
            body = tuple((min([b.lineno] + [d.lineno for d in getattr(b, "decorator_list", ())]) + offset,
                          (b.end_lineno or b.lineno) + offset, b.col_offset) for b in st.body)
        later = None
        if lazy and body is not None:  # a class: its methods' (LazyBody or None for each statement)
            later = tuple(_lazy_body(b, lines, offset) for b in st.body)
            later = later if any(later) else None
        elif lazy:
            later = _lazy_body(st, lines, offset)
        out.append(Top(first, (st.end_lineno or st.lineno) + offset, _first_indent(st, lines, offset), body, later))
    return out


class LazyBody:
    """What the analysis would collect in the body of a function that it does not parse unless
    something reads it (`static/lazydefs.py`): a body with no import or class, and no nested
    function that could be a model_fn (see `_lazy_body`)."""
    __slots__ = ("header_end", "body_line", "attr_writes", "called", "attributes", "calls", "factory_calls", "chains", "bound",
                 "nested")

    def __init__(self, header_end: int, body_line: int, attr_writes: tuple, called: frozenset, attributes: frozenset,
                 calls: frozenset, factory_calls: frozenset, chains: frozenset, bound: frozenset, nested: bool):
        self.header_end = header_end  # the line of the header's colon (1-based)
        self.body_line = body_line  # the line of the body's first statement
        # attributes assigned (`x.a = ...`, `x.a += ...`, `x.a: T`), in source order: (the
        # holder's name, or None when it is not a plain name or the write is in a nested
        # function, where no holder is the method's `self`; the attribute)
        self.attr_writes = attr_writes
        self.called = called  # names called (`f(...)`, `x.f(...)`)
        self.attributes = attributes  # (holder's last name, attribute) of every attribute read or written
        self.calls = calls  # the dotted names called (`f`, `tf.estimator.EstimatorSpec`)
        # the calls of an attribute of a call with no arguments (`contrib.tpu().X(...)`: a name
        # `imports.resolve_expr` may resolve through MODULE_FACTORIES), as (the dotted name of
        # the inner call's function, "" when it is not a name; the attributes after it)
        self.factory_calls = factory_calls
        # (name, attribute, attribute or None) of every outermost attribute chain on a name
        # (`tf.contrib.layers.x` -> ("tf", "contrib", "layers")): `tfversion._scan`'s question
        self.chains = chains
        # names bound as `checks/fixes._Bindings` counts them: assignment, `for`, `with ... as`
        # and `except ... as` targets, lambda parameters, nested functions and their parameters
        self.bound = bound
        # whether the body defines functions (the analysis learns where they are nested when it
        # reads the body: `ModuleAnalyzer.parent_of`)
        self.nested = nested


LAZY_MIN_LINES = 6  # a shorter body is parsed with its header (libcst costs ~1 ms a call)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)  # (a tuple: `in` and isinstance both take it)
# The parameters by which the analysis takes a function for a model_fn when no Estimator in sight
# is given it (`ModuleAnalyzer.analyze`): a function that defines such a function is not lazy.
MODEL_FN_HEADER = frozenset(("features", "mode"))


def _lazy_body(st, lines: list, offset: int) -> LazyBody | None:
    """The `LazyBody` of a function whose body starts on a line of its own, or None: none for a
    body that holds what the pre-pass records node by node (an import; a class, whose methods it
    tables), nor for one that defines a function with a model_fn's parameters or is itself such a
    function and defines one (analyze() picks model_fns among every function by their parameters,
    and a model_fn's direct callees: those are walked whole, model_fn builders among them)."""
    if not isinstance(st, _DEFS) or not st.body:
        return None
    end = st.end_lineno or st.lineno
    header_end = st.body[0].lineno - 1  # back over blank and comment lines to the colon's line
    while header_end > st.lineno and _blank_or_comment(lines[header_end + offset - 1]):
        header_end -= 1
    if header_end < st.lineno or end - header_end < LAZY_MIN_LINES:
        return None
    called, attributes, calls, chains, bound = set(), set(), set(), set(), set()
    nested = False
    factories = set()
    inner = set()  # ids of attributes inside a chain already recorded
    writes = []  # (in source order, as the pre-pass meets them: methods' `self.x` writes)
    # every node under the body, each before its children, in source order (the order of libcst's
    # fields, which the pre-pass walks, for the statements: a nested function's header is met
    # after its body here, and holds no statement); `in_def`: inside a function the body defines
    kinds, fields, defs, ast_node = _KINDS, _FIELDS, _DEFS, ast.AST
    stack = [(node, False) for node in reversed(st.body)]
    pop, push = stack.pop, stack.append
    while stack:
        node, in_def = pop()
        cls = type(node)
        names = fields.get(cls)
        if names is None:
            names = _fields_of(cls)
        if names:
            below = in_def or cls in defs
            for name in names:  # (reversed: the first child is popped first)
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in reversed(value):
                        if isinstance(item, ast_node):
                            push((item, below))
                elif isinstance(value, ast_node):
                    push((value, below))
        kind = kinds.get(cls)
        if kind is None:
            continue
        if kind == _IMPORT_OR_CLASS:
            return None
        if kind == _DEF:
            params = _param_names(node.args)
            if MODEL_FN_HEADER <= set(params):
                return None
            nested = True
            bound.add(node.name)
            bound.update(params)
        elif kind == _ASSIGN:
            _attribute_targets(node.targets if type(node) is ast.Assign else [node.target], writes, in_def)
            if type(node) is not ast.AugAssign:
                _names(node.targets if type(node) is ast.Assign else [node.target], bound)
        elif kind == _FOR:
            _names([node.target], bound)
        elif kind == _WITHITEM:
            _names([node.optional_vars] if node.optional_vars is not None else [], bound)
        elif kind == _HANDLER:
            bound.update([node.name] if node.name else [])
        elif kind == _LAMBDA:
            bound.update(_param_names(node.args))
        elif kind == _CALL:
            f = node.func
            called.add(f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else "")
            parts, root = _chain(f)
            if isinstance(root, ast.Name):
                calls.add(".".join([root.id] + parts))
            elif isinstance(root, ast.Call) and not root.args and not root.keywords:
                names, base = _chain(root.func)
                factories.add((".".join([base.id] + names) if isinstance(base, ast.Name) else "", tuple(parts)))
        else:  # an attribute
            base = node.value
            holder = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else ""
            attributes.add((holder, node.attr))
            if id(node) not in inner:  # (the outermost attribute of a chain comes first)
                parts, root = _chain(node, inner)
                if isinstance(root, ast.Name):
                    chains.add((root.id, parts[0], parts[1] if len(parts) > 1 else None))
    if nested and MODEL_FN_HEADER <= set(_param_names(st.args)):
        return None
    return LazyBody(header_end + offset, st.body[0].lineno + offset, tuple(writes), frozenset(called), frozenset(attributes),
                    frozenset(calls), frozenset(factories), frozenset(chains), frozenset(bound), nested)


def _param_names(a: ast.arguments) -> list:
    return [p.arg for p in a.posonlyargs + a.args + [a.vararg] + a.kwonlyargs + [a.kwarg] if p is not None]


# What `_lazy_body` records, by node class (CPython's node classes are never subclassed in a tree).
_IMPORT_OR_CLASS, _DEF, _ASSIGN, _FOR, _WITHITEM, _HANDLER, _LAMBDA, _CALL, _ATTRIBUTE = range(9)
_KINDS = {ast.Import: _IMPORT_OR_CLASS, ast.ImportFrom: _IMPORT_OR_CLASS, ast.ClassDef: _IMPORT_OR_CLASS,
          ast.FunctionDef: _DEF, ast.AsyncFunctionDef: _DEF, ast.Assign: _ASSIGN, ast.AugAssign: _ASSIGN,
          ast.AnnAssign: _ASSIGN, ast.For: _FOR, ast.AsyncFor: _FOR, ast.withitem: _WITHITEM,
          ast.ExceptHandler: _HANDLER, ast.Lambda: _LAMBDA, ast.Call: _CALL, ast.Attribute: _ATTRIBUTE}
# Fields that hold a name or a flag (strings, numbers), never a node.
_NAMES_AND_FLAGS = frozenset(("id", "attr", "arg", "module", "level", "kind", "conversion", "is_async", "simple",
                              "type_comment", "lineno", "tag"))
# Fields that never hold a node a summary looks at: those, and the leaves with nothing under them
# (`ctx`: Load/Store, `op`/`ops`: Add, Eq, And...; `_ast_depth` counts these).
_NOT_NODES = _NAMES_AND_FLAGS | {"ctx", "op", "ops"}
_FIELDS: dict = {}


def _fields_of(cls) -> tuple:
    """The fields of a node class that may hold nodes `_lazy_body` looks at, last first."""
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple(f for f in reversed(cls._fields) if f not in _NOT_NODES)
    return fields


def _names(targets, out: set) -> None:
    """The names of assignment targets (`a`, `a, (b, *c)`; not `x.a`, `x[0]`)."""
    for t in targets:
        if isinstance(t, ast.Name):
            out.add(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            _names(t.elts, out)
        elif isinstance(t, ast.Starred):
            _names([t.value], out)


def _chain(node, inner: set | None = None):
    """(the attribute names of an attribute chain, outermost last; the node under them); `inner`
    gets the ids of the attributes under the outermost one."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
        if inner is not None and isinstance(node, ast.Attribute):
            inner.add(id(node))
    parts.reverse()
    return parts, node


def _blank_or_comment(line: bytes) -> bool:
    text = line.strip()
    return not text or text.startswith(b"#")


def _attribute_targets(targets, out: list, in_def: bool = False) -> None:
    for t in targets:
        if isinstance(t, (ast.Tuple, ast.List)):
            _attribute_targets(t.elts, out, in_def)
        elif isinstance(t, ast.Starred):
            _attribute_targets([t.value], out, in_def)
        elif isinstance(t, ast.Attribute):
            out.append((t.value.id if isinstance(t.value, ast.Name) and not in_def else None, t.attr))


def _first_indent(st, lines: list, offset: int) -> str | None:
    """The indentation of the first statement in `st` that starts a line of its own past column 0
    (where libcst's tokenizer gives its first INDENT), or None: the first statement of the first
    of its blocks, in source order, that is not on its header's line (a one-line suite holds no
    block of its own)."""
    blocks = []
    for name in ("body", "handlers", "orelse", "finalbody", "cases"):
        value = getattr(st, name, None)
        if not isinstance(value, list):
            continue
        if name in ("handlers", "cases"):
            blocks.extend(h.body for h in value)
        else:
            blocks.append(value)
    for block in blocks:
        if not block or not isinstance(block[0], ast.stmt):
            continue
        node = block[0]
        if isinstance(node, ast.If) and node.col_offset == st.col_offset:  # an `elif`: its blocks
            found = _first_indent(node, lines, offset)
            if found is not None:
                return found
            continue
        line = node.lineno + offset
        raw = lines[line - 1][:node.col_offset] if line <= len(lines) else b"x"
        if node.col_offset > 0 and not raw.strip():
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


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
    generators, each class's fields that hold no node (names, flags) not looked at."""
    stack = [(tree, 1)]
    deepest = 0
    node_type = ast.AST
    bool_op = ast.BoolOp
    fields = _DEPTH_FIELDS
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
        names = fields.get(cls)
        if names is None:
            names = fields[cls] = tuple(f for f in cls._fields if f not in _NAMES_AND_FLAGS)
        for name in names:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        push((item, depth))
            elif isinstance(value, node_type):
                push((value, depth))
    return deepest


_DEPTH_FIELDS: dict = {}  # node class -> its fields but names and flags (`_ast_depth`)


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
