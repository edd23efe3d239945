"""Retiring the analyses a run no longer keeps: their reference cycles broken, so that reference
counting frees them (and the libcst trees they hold) at once.

An analysis is a web of reference cycles (a `ModuleAnalyzer` holds its runs, facts and values;
each `FunctionRun` holds its analyzer; a module's run holds the functions it defines, which hold
it).  Left to the cyclic collector, every analysis a run stops keeping (a followed module dropped
from `modules._LIBS`, a user's analysis dropped from `project_view._RUNS`, a file's own analysis
once it is checked) waits, with its whole libcst tree, for a full collection: on the 19
repositories of bench/bench_tree.py those collections freed 3.4 million objects and took a quarter
of the run.

While `tracking()` is on (a run over many files, a pool worker: never a language server's checker,
whose memos outlive any one check), every analysis made is noted, and `sweep()`, called between two
files (when no analysis is under way), retires each noted analysis that no memo keeps: not kept by
a memo itself (the memos say which they keep: `keeper()`), nor loaded (`ModuleIndex.load`) by a
kept analysis, directly or through others.  Values only ever come from another module through such
a load, so an analysis outside that closure is unreachable from every analysis still in use.  Every
analysis records what it loads, tracked or not: one made before the run (a file checked on its own
first) can be kept by a memo during it, and run code there that loads modules.  An interrupted run
(an exception, Ctrl-C while a file is analysed) retires nothing.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterable, Iterator, List, Optional

_TRACKED: Optional[List[object]] = None  # analyses noted since tracking began (None: not tracking)
_KEEPERS: List[Callable[[], Iterable[object]]] = []  # each gives the analyses a memo keeps


def keeper(kept: Callable[[], Iterable[object]]) -> Callable[[], Iterable[object]]:
    """Register a memo's `kept()` (the analyses it keeps between files; None entries allowed)."""
    _KEEPERS.append(kept)
    return kept


@contextlib.contextmanager
def tracking() -> Iterator[None]:
    """Note every analysis made inside (see the module's doc); `sweep()` between files."""
    global _TRACKED
    outer = _TRACKED
    if outer is None:
        _TRACKED = []
    try:
        yield
        if outer is None:
            sweep()  # (not after an exception: an analysis may still be under way, Ctrl-C in a join)
    finally:
        if outer is None:
            _TRACKED = None


def start() -> None:
    """Track for the rest of the process (a pool worker)."""
    global _TRACKED
    if _TRACKED is None:
        _TRACKED = []


def active() -> bool:
    return _TRACKED is not None


def note(an) -> None:
    """An analysis is made (`ModuleAnalyzer.__init__`)."""
    if _TRACKED is not None:
        _TRACKED.append(an)


def sweep() -> int:
    """Retire the noted analyses that nothing kept can reach; how many were retired."""
    if not _TRACKED:
        return 0
    live = _closure([an for kept in _KEEPERS for an in kept()])
    keep, retired = [], 0
    for an in _TRACKED:
        if id(an) in live:
            keep.append(an)
        else:
            an.retire()
            retired += 1
    _TRACKED[:] = keep
    return retired


def _closure(roots: Iterable[object]) -> set:
    seen: dict = {}
    stack = [a for a in roots if a is not None]
    while stack:
        an = stack.pop()
        if id(an) in seen:
            continue
        seen[id(an)] = an
        stack.extend(an.loaded_analyses())
    return set(seen)
