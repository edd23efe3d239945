"""Where in the user's code: the frame that built a spec, the line a function reads a name on,
the source text of a keyword argument.  Positions are 1-based lines and columns (end exclusive).
Everything here is best effort and cheap; it only runs when something is reported.
"""
from __future__ import annotations

import ast
import dis
import functools
import linecache
import os
import re
import site
import sys
import sysconfig
from dataclasses import dataclass
from typing import Iterable, Optional

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the speclint package


@dataclass(frozen=True)
class Location:
    path: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0

    def normalized(self) -> "Location":
        end_line = self.end_line or self.line
        end_col = self.end_column if self.end_column else self.column
        return Location(self.path, self.line, self.column, end_line, end_col)


# Code that is never the user's: speclint, TF and the libraries it runs on (also when they live
# outside site-packages), the standard library and installed third-party packages (site-packages;
# a project's own code, also installed editable, lives in its checkout).
_FRAMEWORK_MODULES = ("tensorflow", "tensorflow_estimator", "keras", "tf_keras", "absl", "numpy",
                      "google.protobuf", "wrapt", "h5py")


@functools.lru_cache(maxsize=8)
def _dirs_for(loaded: tuple) -> tuple:
    dirs = [_HERE]
    for name in loaded:
        f = getattr(sys.modules.get(name), "__file__", None)
        if f:
            dirs.append(os.path.dirname(os.path.abspath(f)))
    return tuple(dict.fromkeys(dirs))


def _framework_dirs() -> tuple:
    """Recomputed when one of the framework modules gets imported (TF is imported lazily)."""
    return _dirs_for(tuple(name for name in _FRAMEWORK_MODULES if name in sys.modules))


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple:
    paths = sysconfig.get_paths()
    dirs = [paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    try:
        dirs += list(site.getsitepackages()) + [site.getusersitepackages()]
    except AttributeError:  # some virtualenv builds of `site` lack them
        pass
    return tuple(dict.fromkeys(os.path.abspath(d) for d in dirs if d))


def is_speclint_file(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_HERE + os.sep)


def is_user_file(filename: str) -> bool:
    if not filename or filename.startswith("<"):
        return False
    return _is_user_path(os.path.abspath(filename), _framework_dirs())


_NOT_USER_PARTS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)
_GENERATED_PREFIXES = ("__autograph_generated_file",)  # TF autograph's converted copies of user code


@functools.lru_cache(maxsize=4096)
def _is_user_path(path: str, framework_dirs: tuple) -> bool:
    if os.path.basename(path).startswith(_GENERATED_PREFIXES) or any(p in path for p in _NOT_USER_PARTS):
        return False  # a generated file, or an installed library (any environment's)
    return not any(path == d or path.startswith(d + os.sep) for d in framework_dirs + _library_dirs())


_USER_CODE_FRAME = re.compile(r'File "([^"]+)", line (\d+), in ')


def user_code_location(message: str) -> Optional[Location]:
    """The innermost user frame TF names in an error raised from converted code (autograph's
    "in user code:" section lists the user's original frames, outermost first)."""
    _, found, rest = message.partition("in user code:")
    if not found:
        return None
    last = None
    for m in _USER_CODE_FRAME.finditer(rest):
        if is_user_file(m.group(1)):
            last = line_location(m.group(1), int(m.group(2)))
    return last


def display(path: str) -> str:
    try:
        rel = os.path.relpath(os.path.abspath(path))
    except ValueError:
        return path
    return path if rel.startswith("..") else rel.replace(os.sep, "/")


def _instruction_position(code, lasti: int):
    """(line, col, end_line, end_col) of the instruction at `lasti` (Python 3.11+), else None."""
    if not hasattr(code, "co_positions"):
        return None
    try:
        positions = list(code.co_positions())
        pos = positions[lasti // 2]
    except (IndexError, ValueError):
        return None
    if pos[0] is None:
        return None
    line, end_line, col, end_col = pos
    return (line, (col or 0) + 1, end_line or line, (end_col or 0) + 1)


def caller_frame(skip: int = 1):
    """The innermost frame outside TF, speclint and the stdlib plumbing."""
    frame = sys._getframe(skip + 1)
    while frame is not None and not is_user_file(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def frame_location(frame) -> Optional[Location]:
    if frame is None:
        return None
    code = frame.f_code
    pos = _instruction_position(code, frame.f_lasti)
    if pos is None:
        return Location(display(code.co_filename), frame.f_lineno, 1)
    line, col, end_line, end_col = pos
    return Location(display(code.co_filename), line, col, end_line, end_col)


def function_location(fn) -> Optional[Location]:
    """The `def` line of a function (of a partial's function, a bound method, a callable object)."""
    code = _code_of(fn)
    if code is None:
        return None
    return line_location(code.co_filename, code.co_firstlineno)


def line_location(filename: str, line: int) -> Location:
    """A whole source line, from its indentation to its end (column 1 when the text is unknown)."""
    text = linecache.getline(filename, line).rstrip("\n")
    if not text.strip():
        return Location(display(filename), line, 1, line, 1)
    return Location(display(filename), line, len(text) - len(text.lstrip()) + 1, line, len(text) + 1)


def traceback_location(fs) -> Location:
    """The position of a traceback entry (`traceback.FrameSummary`; columns on Python 3.11+)."""
    col = getattr(fs, "colno", None)
    if col is None:
        return line_location(fs.filename, fs.lineno)
    end_col = getattr(fs, "end_colno", None)
    return Location(display(fs.filename), fs.lineno, col + 1, getattr(fs, "end_lineno", None) or fs.lineno,
                    (end_col if end_col is not None else col) + 1)


def innermost_user_location(frames, below: Optional[str] = None) -> Optional[Location]:
    """The innermost user entry of a traceback (a list of FrameSummary). `below`: a file whose
    last entry is cut off with everything above it (an op's creation stack starts at the
    interpreter's first frame, above the caller that wants the user's code below it)."""
    frames = list(frames)
    if below is not None:
        below = os.path.abspath(below)
        starts = [i for i, fs in enumerate(frames) if os.path.abspath(fs.filename) == below]
        frames = frames[starts[-1] + 1:] if starts else frames
    for fs in reversed(frames):
        if is_user_file(fs.filename):
            return traceback_location(fs)
    return None


def _code_of(fn):
    seen = 0
    while seen < 10:
        seen += 1
        if isinstance(fn, functools.partial):
            fn = fn.func
            continue
        code = getattr(fn, "__code__", None)
        if code is not None:
            return code
        fn = getattr(fn, "__func__", None) or getattr(fn, "__call__", None)
        if fn is None:
            return None
    return None


def name_use(fn, name: str) -> Optional[Location]:
    """Where `fn`'s code (or a nested function or comprehension in it) first reads `name`."""
    code = _code_of(fn)
    if code is None:
        return None
    found = _find_load(code, name)
    if found is None:
        return function_location(fn)
    code, inst = found
    pos = getattr(inst, "positions", None)
    if pos is not None and pos.lineno is not None:
        return Location(display(code.co_filename), pos.lineno, (pos.col_offset or 0) + 1,
                        pos.end_lineno or pos.lineno, (pos.end_col_offset or 0) + 1)
    line = inst.starts_line or code.co_firstlineno
    return Location(display(code.co_filename), line, 1)


_LOADS = {"LOAD_DEREF", "LOAD_CLOSURE", "LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST", "LOAD_CLASSDEREF"}


def _find_load(code, name):
    for inst in dis.get_instructions(code):
        if inst.opname in _LOADS and inst.argval == name:
            return code, inst
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            found = _find_load(const, name)
            if found:
                return found
    return None


@functools.lru_cache(maxsize=64)
def _parse(path: str, mtime: float):
    try:
        source = "".join(linecache.getlines(path))
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):  # so that source_of() quotes the code as written
        node._speclint_source = source
    return tree


def _tree(path: str):
    try:
        mtime = os.path.getmtime(path)
    except OSError:
        return None
    return _parse(path, mtime)


def call_node(loc: Location, abs_path: str) -> Optional[ast.Call]:
    """The ast.Call whose span is `loc` (the instruction position of a call)."""
    tree = _tree(abs_path)
    if tree is None:
        return None
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno <= loc.line <= (node.end_lineno or node.lineno):
            if node.lineno == loc.line and node.col_offset + 1 == loc.column:
                if best is None or (node.end_lineno, node.end_col_offset) >= (best.end_lineno, best.end_col_offset):
                    best = node
    return best


def node_location(path: str, node: ast.AST) -> Location:
    return Location(path, node.lineno, node.col_offset + 1, node.end_lineno or node.lineno,
                    (node.end_col_offset or node.col_offset) + 1)


def _without_comments(text: str) -> Optional[str]:
    """`text` (a whole expression) with its comments removed, else None."""
    import io
    import tokenize
    try:
        comments = [t.start for t in tokenize.generate_tokens(io.StringIO(text).readline)
                    if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return None
    lines = text.splitlines(True)
    for row, col in reversed(comments):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + ("\n" if line.endswith("\n") else "")
    return "".join(lines)


def source_of(node: ast.AST) -> str:
    """The code of `node` as written (whitespace folded, cut at 60 characters), as the static
    engine quotes it, comments dropped; regenerated by ast.unparse when the file's text is unknown."""
    text = None
    source = getattr(node, "_speclint_source", None)
    if source is not None:
        try:
            text = ast.get_source_segment(source, node)
        except Exception:  # noqa: BLE001
            text = None
        if text is not None and "#" in text:
            text = _without_comments(text)
    try:
        text = " ".join((text if text is not None else ast.unparse(node)).split())
    except Exception:  # noqa: BLE001
        return "?"
    return text if len(text) <= 60 else text[:57] + "..."


def keyword_arg(call: Optional[ast.Call], field: str, position: Optional[int]) -> Optional[ast.AST]:
    """The argument node that gives `field`: `field=...`, else positional `position`."""
    if call is None:
        return None
    for kw in call.keywords:
        if kw.arg == field:
            return kw
    if position is not None and position < len(call.args) and not any(
            isinstance(a, ast.Starred) for a in call.args[: position + 1]):
        return call.args[position]
    return None


def value_of(arg: Optional[ast.AST]) -> Optional[ast.AST]:
    return arg.value if isinstance(arg, ast.keyword) else arg


def enclosing_function(tree, line: int):
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if node.lineno <= line <= (node.end_lineno or node.lineno):
                if best is None or node.lineno >= best.lineno:
                    best = node
    return best


def resolve_name(abs_path: str, line: int, name: str) -> Optional[ast.AST]:
    """The value assigned to `name` before `line` in the function around `line`, when there is
    exactly one such assignment (`x = ...`, a single Name target); with several (branches), which
    one ran is unknown, so None."""
    tree = _tree(abs_path)
    if tree is None:
        return None
    scope = enclosing_function(tree, line) or tree
    found = []
    for node in ast.walk(scope):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)) and node.lineno < line:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if isinstance(node, ast.With):
                targets = [item.optional_vars for item in node.items]
            for t in targets:
                if t is not None and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(t)):
                    found.append(node)
    if len(found) != 1 or not isinstance(found[0], ast.Assign) or len(found[0].targets) != 1 \
            or not isinstance(found[0].targets[0], ast.Name):
        return None
    return found[0].value


def tensor_origin(tensor) -> Optional[Location]:
    """The user line that created a tensor or op (its op's creation traceback)."""
    op = getattr(tensor, "op", tensor)
    try:
        tb = op.traceback
    except Exception:  # noqa: BLE001
        return None
    for entry in reversed(list(tb or ())):
        filename, lineno = _tb_entry(entry)
        if filename and is_user_file(filename):
            return Location(display(filename), lineno, 1)
    return None


def _tb_entry(entry):
    if isinstance(entry, tuple):
        return entry[0], entry[1]
    return getattr(entry, "filename", None), getattr(entry, "lineno", 0)


def abs_path_of_location(loc: Location) -> str:
    return _abs(loc.path)


def abs_path_of(frame) -> str:
    return os.path.abspath(frame.f_code.co_filename)


def innermost_user_frame(tb, line: Optional[int] = None):
    """(frame, line) of the innermost entry of a traceback that is the user's code (on `line` when
    given), else (None, None)."""
    found = (None, None)
    while tb is not None:
        if is_user_file(tb.tb_frame.f_code.co_filename) and (line is None or tb.tb_lineno == line):
            found = (tb.tb_frame, tb.tb_lineno)
        tb = tb.tb_next
    return found


def frame_tree(frame):
    """The parsed source of a frame's file (an ast, cached while the file is unchanged), or None."""
    return _tree(abs_path_of(frame))


def first(items: Iterable):
    for x in items:
        return x
    return None


def _abs(path: str) -> str:
    return os.path.abspath(path)


def outermost_call_at(path: str, line: int) -> Optional[ast.AST]:
    """The outermost call expression that starts on `line` (for naming an op's creating call)."""
    tree = _tree(_abs(path))
    if tree is None:
        return None
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno == line:
            span = ((node.end_lineno or line) - line, (node.end_col_offset or 0) - node.col_offset)
            if best is None or node.col_offset < best.col_offset or (
                    node.col_offset == best.col_offset and span > ((best.end_lineno or line) - line, 0)):
                best = node
    return best


def source_at(loc: Optional[Location], fallback: str = "?") -> str:
    """The source of the outermost call on the location's line (else the stripped line)."""
    if loc is None:
        return fallback
    node = outermost_call_at(loc.path, loc.line)
    if node is not None:
        return source_of(node)
    text = linecache.getline(_abs(loc.path), loc.line).strip()
    if not text:
        return fallback
    return text if len(text) <= 60 else text[:57] + "..."


def call_location(loc: Optional[Location]) -> Optional[Location]:
    """`loc` widened to the outermost call on its line."""
    if loc is None:
        return None
    node = outermost_call_at(loc.path, loc.line)
    return node_location(loc.path, node) if node is not None else loc


def return_value(fn):
    """(location, source) of the last `return <value>` in fn's own body, when visible."""
    code = _code_of(fn)
    if code is None:
        return None, None
    tree = _tree(code.co_filename)
    if tree is None:
        return None, None
    target = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and node.lineno == code.co_firstlineno:
            target = node
            break
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.decorator_list and \
                node.decorator_list[0].lineno == code.co_firstlineno:
            target = node
            break
    if target is None:
        return None, None
    if isinstance(target, ast.Lambda):
        return node_location(display(code.co_filename), target.body), source_of(target.body)
    last = None
    for node in _own_nodes(target):
        if isinstance(node, ast.Return) and node.value is not None:
            if last is None or node.lineno > last.lineno:
                last = node
    if last is None:
        return None, None
    return node_location(display(code.co_filename), last.value), source_of(last.value)


def _own_nodes(fn_node):
    """Nodes of a function body, not descending into nested functions or classes."""
    stack = list(fn_node.body)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def find_call_in_function(loc: Optional[Location], name_suffix: str) -> Optional[Location]:
    """A call to `...name_suffix(...)` in the function around `loc` (e.g. CrossShardOptimizer)."""
    if loc is None:
        return None
    tree = _tree(_abs(loc.path))
    if tree is None:
        return None
    scope = enclosing_function(tree, loc.line) or tree
    for node in ast.walk(scope):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name.endswith(name_suffix):
                return node_location(loc.path, node)
    return None
