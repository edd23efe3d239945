"""The per-run module index: helpers imported from other modules of the linted tree.

`from mypkg import modeling`, `import optimization` (a sibling script module, BERT style) or
`from . import utils` resolve to a linted file when that file is among the files of this run.
The imported module is parsed and its module body interpreted (once per process, while its file is
unchanged), so a metric function, host-call builder, `create_model` or `model_fn_builder` defined
there is followed with the caller's values, exactly like a same-module helper.

Only files of the run are consulted (never site-packages), well-known library roots are never
looked up (a tree that vendors `tensorflow_estimator` keeps resolving its APIs as APIs), and every
module consulted while a file is analysed is recorded with its content hash (`consulted()`), so a
cached result can be invalidated when an imported module changes.  So is every file whose absence
or presence decided where an import resolves when it is looked for on disk (hash None when absent:
a candidate module not there, a directory without `__init__.py`), so a helper or an `__init__.py`
created later invalidates it too.
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
from collections import OrderedDict
from typing import Dict, FrozenSet, Iterable, Iterator, Optional, Tuple

from speclint.static import retire

# Import roots that are libraries, never modules of the linted tree.
LIBRARY_ROOTS = frozenset((
    "tensorflow", "tensorflow_estimator", "tf_keras", "keras", "absl", "numpy", "functools",
    "six", "os", "sys", "collections", "typing", "re", "json", "math", "logging",
))
_CACHE_SIZE = 64  # library analyses kept per process (each holds a parsed module)
# ... and at most this much source among them: a parsed module holds about 175 MiB per MiB of source
# (a language server's checker process keeps them between runs)
_CACHE_BYTES = 8 * 1024 * 1024


class ModuleIndex:
    """The absolute paths of the files of this run (picklable; cheap to build).

    With `disk=True`, an import that names a `.py` file on disk outside the run is followed too
    (pre-commit passes only the staged files; an editor checks one file): its helpers are seen,
    but findings located in it are reported only by a run that includes it (`in_run`).
    """

    def __init__(self, paths: Iterable[str], disk: bool = False):
        self.paths: FrozenSet[str] = frozenset(os.path.abspath(p) for p in paths)
        self.disk = disk
        self._memo()

    def _memo(self) -> None:
        # What this index found out, for its lifetime (one run, or one check of an editor's
        # file): an analysis resolves the same imported names again and again (a cold run over
        # the sweep's 19 repositories: 169k lookups, each probing two or three paths on disk)
        self._roots: Dict[str, tuple] = {}  # importer dir -> (search roots, __init__.py probes)
        self._found: Dict[tuple, tuple] = {}  # (dotted, importer) -> (answer, files probed)
        self._stats: Dict[str, tuple] = {}  # path -> (mtime, size) when first loaded

    def __getstate__(self):
        return {"paths": self.paths, "disk": self.disk}

    def __setstate__(self, state):
        self.paths = state["paths"]
        self.disk = state.get("disk", False)
        self._memo()

    def in_run(self, path: str) -> bool:
        return path in self.paths

    def load(self, path: str):
        """The library analysis (ModuleAnalyzer) of the module at `path`, or None (see `load`)."""
        return load(path, self)

    def _exists(self, candidate: str) -> bool:
        if candidate in self.paths:
            return True
        if not self.disk:
            return False
        if os.path.isfile(candidate):
            return True  # (recorded with its hash when it is loaded)
        _probed(((candidate, None),))
        return False

    def _search_roots(self, importer_dir: str) -> Tuple[str, ...]:
        """The importer's own directory (script-style sibling imports) and the directory above
        its top-level package (absolute imports of the package)."""
        memo = self._roots.get(importer_dir)
        if memo is None:
            top, probes = importer_dir, []
            while True:
                init = os.path.join(top, "__init__.py")
                present = os.path.isfile(init)
                probes.append((init, _digest(init) if present else None))
                if not present:
                    break
                parent = os.path.dirname(top)
                if parent == top:
                    break
                top = parent
            found = (importer_dir,) if top == importer_dir else (importer_dir, top)
            memo = self._roots[importer_dir] = (found, tuple(probes))
        _probed(memo[1])  # recorded each time: the memo outlives one file's analysis
        return memo[0]

    def find(self, dotted: str, importer: str) -> Optional[Tuple[str, Tuple[str, ...]]]:
        """(file, attribute path inside it) for a dotted name seen from `importer`, or None.

        `dotted` may start with dots (a relative import, as the import table spells it).  The
        files probed on disk to answer are recorded in the analysis running (`recording`) each
        time, also when the answer is remembered.
        """
        key = (dotted, importer)
        hit = self._found.get(key)
        if hit is None:
            with recording() as probes:
                answer = self._find(dotted, importer)
            hit = self._found[key] = (answer, tuple(probes.items()))
        table = _CONSULTED.get()
        if table is not None:
            for path, entry in hit[1]:
                _record(table, path, entry)
        return hit[0]

    def _find(self, dotted: str, importer: str) -> Optional[Tuple[str, Tuple[str, ...]]]:
        level = len(dotted) - len(dotted.lstrip("."))
        parts = [p for p in dotted[level:].split(".") if p]
        if not parts or (level == 0 and parts[0] in LIBRARY_ROOTS):
            return None
        here = os.path.dirname(os.path.abspath(importer))
        if level:
            base = here
            for _ in range(level - 1):
                base = os.path.dirname(base)
            roots: Tuple[str, ...] = (base,)
        else:
            roots = self._search_roots(here)
        for root in roots:
            for k in range(len(parts), 0, -1):
                stem = os.path.join(root, *parts[:k])
                for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
                    if self._exists(candidate) and candidate != os.path.abspath(importer):
                        return candidate, tuple(parts[k:])
        return None


# ---- loading imported modules -------------------------------------------------------------------
_LIBS: "OrderedDict[str, tuple]" = OrderedDict()  # path -> (stat key, sha256, analyzer or None, nested consulted)
_LOADING: set = set()
_CONSULTED: contextvars.ContextVar = contextvars.ContextVar("speclint_consulted", default=None)


@contextlib.contextmanager
def recording() -> Iterator[Dict[str, tuple]]:
    """Collect {path: (sha256, analyzer)} of every module consulted inside the block."""
    table: Dict[str, tuple] = {}
    token = _CONSULTED.set(table)
    try:
        yield table
    finally:
        _CONSULTED.reset(token)


def _probed(probes) -> None:
    """Record files looked for on disk, (path, sha256 or None when absent), in the analysis
    running now (see `recording`)."""
    table = _CONSULTED.get()
    if table is not None:
        for path, digest in probes:
            table.setdefault(path, (digest, None))


def _digest(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def load(path: str, index: ModuleIndex):
    """The library analysis (module body interpreted) of a linted file, or None if it cannot be
    read or parsed, or is being loaded (an import cycle)."""
    key = index._stats.get(path)  # (a file is looked at once per run: a snapshot)
    if key is None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = index._stats[path] = (st.st_mtime_ns, st.st_size)
    hit = _LIBS.get(path)
    if hit is None or hit[0] != key:
        if path in _LOADING:
            return None
        _LOADING.add(path)
        try:
            with recording() as nested:  # modules that this one's analysis consults in turn
                analysed = _analyse(path, index)
            hit = (key,) + analysed + (dict(nested),)
        finally:
            _LOADING.discard(path)
        _LIBS[path] = hit
        while len(_LIBS) > 1 and (len(_LIBS) > _CACHE_SIZE
                                  or sum(h[0][1] for h in _LIBS.values()) > _CACHE_BYTES):
            _LIBS.popitem(last=False)
    else:
        _LIBS.move_to_end(path)
    table = _CONSULTED.get()
    if table is not None and hit[1] is not None:
        _record(table, path, (hit[1], hit[2]))
        for other, entry in hit[3].items():  # transitively: also when served from _LIBS
            _record(table, other, entry)
    return hit[2]


@retire.keeper
def kept_analyses() -> Iterator[object]:
    """The analyses this process keeps between files (retire.py)."""
    for hit in list(_LIBS.values()):
        yield hit[2]
        for _, lib in list(hit[3].values()):
            yield lib


def record_into(table: Dict[str, tuple], path: str, entry: tuple) -> None:
    """Add a consulted module (path -> (sha256, analyzer or None)) to a `recording` table."""
    _record(table, path, entry)


def file_digest(path: str) -> Optional[str]:
    """The sha256 of a file's content (None when it cannot be read), as `recording` records it."""
    return _digest(path)


def _record(table: Dict[str, tuple], path: str, entry: tuple) -> None:
    """(an analysed module replaces a mere probe of the same file: an __init__.py looked at, then imported)"""
    if path not in table or (table[path][1] is None and entry[1] is not None):
        table[path] = entry


def _analyse(path: str, index: ModuleIndex) -> tuple:
    from speclint.static import safeparse

    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > safeparse.MAX_PARSE_BYTES:  # too large: not followed
                h = hashlib.sha256()
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
                return h.hexdigest(), None
            data = fh.read()
    except OSError:
        return None, None
    digest = hashlib.sha256(data).hexdigest()
    # imported here, not at the top: the engine imports ModuleIndex before it knows whether any
    # file needs libcst
    from speclint.static.analyzer import ModuleAnalyzer
    from speclint.static.parse import parse

    parsed = parse(data)
    if parsed.module is None:
        return digest, None
    try:
        return digest, ModuleAnalyzer(parsed.module, path=path, index=index).analyze_library()
    except RecursionError:
        return digest, None


def clear() -> None:
    """Forget every loaded module (tests; a long-running server after many edits)."""
    _LIBS.clear()
