"""Data speclint derives from its own files, kept beside its bytecode like a .pyc (start-up).

`path_for(stem)` is `__pycache__/<stem>.<cache tag>.marshal` beside this package's modules (where
Python puts their .pyc files, or under `sys.pycache_prefix`).  `write` stores a value there with
this Python's MAGIC_NUMBER, atomically (processes may write at once: the last one wins, each file
is whole), unless `sys.dont_write_bytecode` (PYTHONDONTWRITEBYTECODE, `python -B`) is set, and
silently not at all where it cannot (a read-only install).  `read` gives the value back, or None
when there is none, or it is unreadable, truncated or written by another Python.  What is kept:
speclint.importcache's tables of generated dataclass code, and the rulebook's parsed front matter
(speclint.rulebook).  Never a result of a check.
"""
from __future__ import annotations

import marshal
import os
import sys

try:  # (loaded at every start-up; importlib.util imports typing on Python 3.9)
    from importlib._bootstrap_external import MAGIC_NUMBER, cache_from_source
except ImportError:  # pragma: no cover - another Python's layout
    from importlib.util import MAGIC_NUMBER, cache_from_source


def path_for(stem: str) -> str | None:
    """Where the data `stem` lives (None: this Python keeps no bytecode cache)."""
    tag = sys.implementation.cache_tag
    if tag is None:
        return None
    try:
        pyc = cache_from_source(__file__)
    except (NotImplementedError, ValueError, TypeError):  # (no bytecode cache, no file: frozen)
        return None
    return os.path.join(os.path.dirname(pyc), f"{stem}.{tag}.marshal")


def read(path: str | None):
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        magic, value = marshal.loads(data)  # (marshal.load(fh) reads piecemeal: 17 ms for 0.9 MB, not 3)
    except (OSError, EOFError, ValueError, TypeError):  # none yet, unreadable, truncated, not ours
        return None
    return value if magic == MAGIC_NUMBER else None


def write(path: str | None, value) -> None:
    if path is None or sys.dont_write_bytecode:
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump((MAGIC_NUMBER, value), fh)
        os.replace(tmp, path)
    except (OSError, ValueError):  # a read-only install, a full disk, a value marshal cannot write
        try:
            os.unlink(tmp)
        except OSError:
            pass
