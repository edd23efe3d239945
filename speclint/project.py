"""The project index: which modules of a project use a file's model_fns (its "users").

A model_fn is often written in one file (`retinanet_model.py`) and given to a TPUEstimator in
another (`retinanet_main.py`), which decides how it runs: on TPU or not, and in which modes (a main
that only trains never runs the model_fn in EVAL).  When a file is checked, the static engine also
analyses its users (`static/project_view.py`), so that a file checked alone (pre-commit, the editor,
flake8, `speclint path/to/model.py`) gets the same findings as in a run over the whole tree.

This module finds the users cheaply, without libcst or even CPython's `ast`: per Python file of the
project, a line scan gives the modules its import statements name, and the prefilter whether it
mentions the Estimator API; only the files that spell the checked module's name are resolved.  A user of F is a
file that mentions the Estimator API and imports F, directly or through one module in between (a
registry `MODELS = {"a": a.model_fn}`, a package `__init__.py` re-exporting it).  A test is a user
whose findings count (it runs the model_fn in the modes it calls, as a tree run of it reports) but
which never narrows the modes: a test that only trains a model_fn says nothing about how the
project runs it.

The project root of a file is its nearest ancestor holding pyproject.toml, setup.py, setup.cfg or
.git, at most `MAX_LEVELS` up, never a home directory, the file system root or a site-packages
directory; else the directory its absolute imports resolve from (above its top-level package).  A file inside
site-packages has no project root (an installed library has no project view).  At
most `MAX_FILES` Python files are indexed (and `MAX_LISTED` names listed): a bigger project gets no project view (each file is
checked as before: a model_fn whose estimator is elsewhere runs in every mode).  A file with more
than `MAX_USERS` users has no project view either (the analysis of each would be repeated for it).

The index is kept per process and persisted in the result cache (`cache.Cache.load_blob`), keyed
per file by (mtime, size): a later run re-reads only the files that changed.
"""
from __future__ import annotations

import os
import re
import stat
from typing import Dict, List, Optional, Tuple

from speclint import files
from speclint.static import safeparse
from speclint.static.modules import ModuleIndex

MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
MAX_LEVELS = 8  # how far up a project root is looked for
MAX_FILES = 5000  # Python files indexed per project; past it, no project view
MAX_USERS = 8  # users analysed per file; past it, no project view for that file
MAX_LISTED = 100_000  # names (files and directories) listed while walking; past it, no project view
_SKIP_DIRS = frozenset((
    ".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".speclint_cache", ".eggs", "site-packages",
    "dist-packages", "build", "dist",
))
_TEST_DIRS = frozenset(("test", "tests", "testing"))
_TEST_NAME = re.compile(r"(^test_.*\.py$|_test\.py$|_tests\.py$|^conftest\.py$)")
BLOB_VERSION = 3
_INSTALLED = frozenset(("site-packages", "dist-packages"))


def is_test(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return bool(_TEST_NAME.search(parts[-1])) or any(p in _TEST_DIRS for p in parts[:-1])


def project_root(path: str) -> Optional[str]:
    """The project root of a file (see the module's doc); None inside site-packages (an installed
    library has no project view)."""
    here = os.path.dirname(os.path.abspath(path))
    if _INSTALLED & set(here.split(os.sep)):
        return None
    banned = {os.path.abspath(os.path.expanduser("~")), os.path.abspath(os.sep)}
    d = here
    for _ in range(MAX_LEVELS):
        if d in banned:
            break
        if any(os.path.exists(os.path.join(d, m)) for m in MARKERS):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    top = here  # the directory above the top-level package (where its absolute imports resolve)
    while os.path.isfile(os.path.join(top, "__init__.py")) and os.path.dirname(top) != top:
        top = os.path.dirname(top)
    return top


_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*(\([^)]*\)|[^\n#;]*)"
                     rb"|import[ \t]+([^\n#;]*))", re.M)
_NAME = re.compile(r"^\.*[A-Za-z_][\w.]*$")


def import_statements(data: bytes) -> list:
    """The matches of `_IMPORT.finditer(data)`, found ~5x faster: a match starts a line that spells
    `import` (`from X import`, `import X`: nothing but blanks between the words), so the pattern is
    tried only at the start of such lines (`bytes.find` skips the rest), and as finditer does, never
    inside the previous match (a parenthesised `from X import (...)` over several lines)."""
    out = []
    end = 0
    pos = data.find(b"import")
    while pos != -1:
        start = data.rfind(b"\n", 0, pos) + 1
        if start >= end:
            m = _IMPORT.match(data, start)
            if m is not None:
                out.append(m)
                end = m.end()
                pos = data.find(b"import", max(end, pos + 6))
                continue
        newline = data.find(b"\n", pos)
        if newline == -1:
            break
        pos = data.find(b"import", newline + 1)
    return out


def imports_of(data: bytes) -> List[str]:
    """Every module an import statement names, as the import table spells them (leading dots for
    relative imports); `from X import n` gives both X and X.n (n may be a submodule).

    A line scan, not a parse (CPython's `ast` costs ~20x more, for every file of the project): an
    import spelled inside a string may be listed too, which only makes a file a candidate user
    (its analysis decides), and a `from X import a, \\` continued with a backslash lists only X and
    the names on its first line."""
    out = set()
    for m in import_statements(data):
        if m.group(3) is not None:
            for item in m.group(3).decode("latin-1").split(","):
                name = item.split(" as ")[0].strip()
                if _NAME.match(name) and not name.startswith("."):
                    out.add(name)
            continue
        base = m.group(1).decode("latin-1")
        if not base or base.strip(".") != base.strip(".").strip():
            continue
        if base.strip("."):
            out.add(base)
        names = m.group(2).decode("latin-1").strip("()\\ \t\r\n")
        for item in names.replace("\n", " ").split(","):
            name = item.strip().split(" as ")[0].strip()
            if name and name != "*" and _NAME.match(name) and "." not in name:
                out.add(base + ("." if base.strip(".") else "") + name)
    return sorted(out)


def _stems(path: str) -> frozenset:
    """The names an import of the module at `path` spells (its file or package name)."""
    name = os.path.basename(path)[:-3]
    if name == "__init__":
        name = os.path.basename(os.path.dirname(path))
    return frozenset((name,))


class ProjectIndex:
    """The index of one project root: {path: [mtime_ns, size, mentions Estimator, imports]}."""

    def __init__(self, root: str):
        self.root = root
        self.entries: Dict[str, list] = {}
        self.complete = True
        self.dirty = False
        self._resolver: Optional[ModuleIndex] = None
        self._resolved: Dict[Tuple[str, str], Optional[str]] = {}  # (file, import) -> the file it resolves to
        self._users: Dict[str, Tuple[Tuple[str, bool], ...]] = {}
        self._by_name: Optional[Dict[str, List[str]]] = None  # name in an import -> files spelling it

    # ---- persistence ------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"version": BLOB_VERSION, "root": self.root, "entries": self.entries,
                "users": {f: [[u, n] for u, n in us] for f, us in self._users.items()}}

    def load_json(self, blob) -> None:
        """Entries from a persisted index (nothing in it is trusted: wrongly typed entries are dropped)."""
        if not isinstance(blob, dict) or blob.get("version") != BLOB_VERSION or blob.get("root") != self.root:
            return
        entries = blob.get("entries")
        if not isinstance(entries, dict):
            return
        for path, e in entries.items():
            if (isinstance(path, str) and isinstance(e, list) and len(e) == 4
                    and type(e[0]) is int and type(e[1]) is int and type(e[2]) is bool
                    and isinstance(e[3], list) and all(isinstance(d, str) for d in e[3])):
                self.entries[path] = e
        users = blob.get("users")
        if isinstance(users, dict):  # (the users found so far; forgotten as soon as any file changes)
            for f, us in users.items():
                if isinstance(f, str) and isinstance(us, list) and all(
                        isinstance(u, list) and len(u) == 2 and isinstance(u[0], str) and type(u[1]) is bool
                        for u in us):
                    self._users[f] = tuple((u, n) for u, n in us)

    # ---- building -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Walk the root (stat only); re-read the files that are new or changed."""
        seen: Dict[str, os.stat_result] = {}
        complete = True
        listed = 0
        stack = [self.root]
        while stack and complete:
            try:
                with os.scandir(stack.pop()) as it:
                    items = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            listed += len(items)
            if listed > MAX_LISTED:  # a data directory of many files: bounded, no project view
                complete = False
                break
            subdirs = []
            for item in items:
                try:
                    if item.is_dir(follow_symlinks=False):
                        if item.name not in _SKIP_DIRS and not item.name.startswith("."):
                            subdirs.append(item.path)
                        continue
                    if not item.name.endswith(".py"):
                        continue
                    st = item.stat()
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue  # a FIFO or device named *.py is never opened (it could block)
                seen[item.path] = st
                if len(seen) > MAX_FILES:
                    complete = False
                    break
            stack.extend(reversed(subdirs))
        changed = not complete or set(seen) != set(self.entries)
        for path in [p for p in self.entries if p not in seen]:
            del self.entries[path]
        for path, st in seen.items():
            old = self.entries.get(path)
            if old is not None and old[0] == st.st_mtime_ns and old[1] == st.st_size:
                continue
            self.entries[path] = _other_roots_entry(self.root, path, st) or _scan(path, st)
            changed = True
        self.complete = complete
        if changed:
            self.dirty = True
            self._resolver = None
            self._resolved = {}
            self._users = {}
            self._by_name = None

    # ---- queries -------------------------------------------------------------------------------
    def users_of(self, path: str) -> Optional[Tuple[Tuple[str, bool], ...]]:
        """The users of the file at `path` (absolute), sorted, as (path, whether it may narrow the
        modes: not a test); None: no project view for it."""
        if not self.complete:
            return None
        path = os.path.abspath(path)
        users = self._users.get(path)
        if users is None:
            users = self._users[path] = self._compute_users(path)
            self.dirty = True
        return None if len(users) > MAX_USERS else users

    def _imports(self, p: str, target: str, stem: str) -> bool:
        """Whether an import of `p` resolves to `target`.  Only the imports that spell `stem` (the
        target's module or package name) are resolved: a dotted name resolves to a module whose
        name is one of its parts (ModuleIndex.find), so no other can."""
        for dotted in self.entries[p][3]:
            if stem in dotted.lstrip(".").split("."):
                key = (p, dotted)
                hit = self._resolved.get(key, False)
                if hit is False:
                    if self._resolver is None:
                        self._resolver = ModuleIndex(self.entries)
                    found = self._resolver.find(dotted, p)
                    hit = self._resolved[key] = found[0] if found is not None else None
                if hit == target:
                    return True
        return False

    def _importers(self, target: str, only_matters: bool) -> List[str]:
        """Files that import `target` (only those mentioning the Estimator API, if asked); the
        cheap name test first, then the real resolution."""
        if self._by_name is None:
            by_name: Dict[str, set] = {}
            for p, e in self.entries.items():
                for d in e[3]:
                    for part in d.lstrip(".").split("."):
                        by_name.setdefault(part, set()).add(p)
            self._by_name = {k: sorted(v) for k, v in by_name.items()}
        found = []
        for stem in _stems(target):
            for p in self._by_name.get(stem, ()):
                if p != target and (self.entries[p][2] or not only_matters) and self._imports(p, target, stem):
                    found.append(p)
        return found

    def _compute_users(self, path: str) -> Tuple[Tuple[str, bool], ...]:
        if path not in self.entries:
            return ()
        users = set(self._importers(path, only_matters=True))
        for middle in self._importers(path, only_matters=False):
            users.update(u for u in self._importers(middle, only_matters=True) if u != path)
        return tuple(sorted((u, not is_test(os.path.relpath(u, self.root))) for u in users))


def _scan(path: str, st: os.stat_result) -> list:
    """A file's index entry: [mtime_ns, size, mentions the Estimator API, the modules it imports]."""
    data = _read(path, st.st_size)
    return [st.st_mtime_ns, st.st_size, data is not None and files.may_matter(data),
            imports_of(data) if data is not None else []]


def _other_roots_entry(root: str, path: str, st: os.stat_result) -> Optional[list]:
    """The entry of `path` in another root's index of this process, if it is of the same file
    (mtime, size): nested project roots (a repository's root, and a subproject with a setup.py of
    its own) list the same files; one run would read and scan them once per root."""
    for other in _INDEXES.values():
        if other.root != root:
            e = other.entries.get(path)
            if e is not None and e[0] == st.st_mtime_ns and e[1] == st.st_size:
                return list(e)
    return None


def _read(path: str, size: int) -> Optional[bytes]:
    if size > safeparse.MAX_PARSE_BYTES:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            return fh.read(safeparse.MAX_PARSE_BYTES + 1)
    except OSError:
        return None


# ---- one index per project root, per process (persisted through a cache when given) ----------
_INDEXES: Dict[str, ProjectIndex] = {}


def index_for(root: str, store=None, refresh: bool = True) -> ProjectIndex:
    """The project index of `root`, refreshed from disk; `store` (a cache.Cache or None) persists it."""
    index = _INDEXES.get(root)
    if index is None:
        index = _INDEXES[root] = ProjectIndex(root)
        if store is not None:
            index.load_json(store.load_blob(blob_name(root)))
        refresh = True
    if refresh:
        index.refresh()
    return index


def blob_name(root: str) -> str:
    import hashlib

    return "project-" + hashlib.blake2b(root.encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()


def save(store, root: str) -> None:
    """Persist the index of `root`, if it changed, into `store` (a cache.Cache)."""
    index = _INDEXES.get(root)
    if store is not None and index is not None and index.dirty:
        store.save_blob(blob_name(root), index.to_json())
        index.dirty = False


def users_for(path: str, store=None, refresh: bool = True) -> Optional[Tuple[Tuple[str, bool], ...]]:
    """The users of the file at `path` in its project; None: no project view."""
    abspath = os.path.abspath(path)
    root = project_root(abspath)
    return index_for(root, store, refresh).users_of(abspath) if root is not None else None


def clear() -> None:
    """Forget every index of this process (tests)."""
    _INDEXES.clear()
