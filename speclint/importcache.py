"""Start-up: the bytecode of the methods `dataclasses` writes, kept between runs like a .pyc.

Importing the analyser creates about 260 dataclasses (libcst's node classes, and speclint's own).
For each class `dataclasses` writes `__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`...
as source text and compiles it with `exec`: about half of the import time of libcst (measured on
2 cores: `import libcst` 200-220 ms, 65-110 ms with this table; speclint's own modules 85 -> 45 ms).
Python keeps the bytecode of modules in `__pycache__`, not the bytecode of this generated code;
this module does the same for it.

While `generated_code(name)` is active, `dataclasses` compiles through a table of code objects
keyed by the exact source text: the same text gives the same bytecode, so every class is exactly the one
`compile` would give, and text not in the table is compiled as usual.  The table is loaded from
`__pycache__/dataclass-code.<format>.<name>.<cache tag>.marshal` beside this file (where Python puts this package's
own .pyc files, or under `sys.pycache_prefix`) and saved there when it gained entries, unless
`sys.dont_write_bytecode` (PYTHONDONTWRITEBYTECODE, `python -B`) is set, as for .pyc files.  A
table that cannot be read, or was written by another Python, is ignored; the file is replaced
atomically (pool workers may save at once: the last one wins, each table is whole).
"""
from __future__ import annotations

import builtins
import sys
import threading
from contextlib import contextmanager

from speclint import bytecache

# A table past this is not grown (a libcst upgrade adds its classes' texts beside the old ones;
# removing the file, like __pycache__, starts afresh).  libcst 1.9 and speclint need ~850.
MAX_ENTRIES = 5000
FORMAT = "v2"  # in the file's name: a table written by another version of this module is not read

_LOCK = threading.RLock()
_active = 0
_table: dict[str, object] | None = None  # the table in use, while a scope is active
_name = ""  # its name (one per import scope: the command line's, the analyser's)
_added = 0  # entries it gained in this scope
_loaded: dict[str, dict[str, object]] = {}  # the tables this process loaded (each read once)


def table_path(name: str) -> str | None:
    """Where the table `name` lives (None: this Python keeps no bytecode cache)."""
    return bytecache.path_for(f"dataclass-code.{FORMAT}.{name}")


def _load(name: str) -> dict[str, object]:
    table = bytecache.read(table_path(name))
    return table if isinstance(table, dict) else {}


def _save(name: str, table: dict[str, object]) -> None:
    bytecache.write(table_path(name), table)


def _exec(source, globals=None, locals=None):
    """`exec` for `dataclasses`: compiled source text comes from the table.  Compiled as
    `dataclasses` compiles it: with no `__future__` flag of this module or its caller
    (`dont_inherit`: annotations stay objects, not strings)."""
    global _added
    table = _table  # (another thread may close the scope meanwhile)
    if not isinstance(source, str):
        return builtins.exec(source, globals, locals)
    code = table.get(source) if table is not None else None
    if code is None:
        code = compile(source, "<string>", "exec", dont_inherit=True)
        if table is not None and len(table) < MAX_ENTRIES:
            table[source] = code
            _added += 1
    return builtins.exec(code, globals, locals)


@contextmanager
def generated_code(name: str):
    """Import under this: the dataclasses it defines compile through the table `name` (each
    import scope has its own, so a run that never imports the analyser never loads its table).
    Nested, the outermost scope's table serves."""
    global _active, _table, _added, _name
    import dataclasses

    with _LOCK:
        hooked = _active > 0 or "exec" not in vars(dataclasses)  # (not someone else's hook)
        if hooked:
            if _active == 0:
                if name not in _loaded:
                    _loaded[name] = _load(name)
                _table, _name, _added = _loaded[name], name, 0
                dataclasses.exec = _exec
            _active += 1
    try:
        yield
    finally:
        if hooked:
            with _LOCK:
                _active -= 1
                if _active == 0:
                    if vars(dataclasses).get("exec") is _exec:
                        del dataclasses.exec
                    if _added:
                        _save(_name, _table)
                    _table = None


def analyser():
    """speclint.static.pipeline (which imports libcst), imported under `generated_code()` (once:
    a run asks for it for every file)."""
    pipeline = sys.modules.get("speclint.static.pipeline")
    if pipeline is None:
        with generated_code("analyser"):
            from speclint.static import pipeline
    return pipeline
