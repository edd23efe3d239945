"""`--fix` / `--diff` over files: analyse, apply the fixes, re-analyse, until nothing is left to fix.

Each file is read once here and analysed from those bytes (so the fixes match the text they edit),
fixed in passes (fixes that overlap in one pass wait for the next one, after a re-analysis of the
new text), at most `MAX_PASSES` times.  Only the file's own diagnostics are fixed, after its
suppression comments (a suppressed finding is no diagnostic) and its baseline (a baselined finding
is not fixed).  The file is written only if something changed and only if it still holds the bytes
that were read: a file edited meanwhile is left alone and reported.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from speclint import baseline, engine
from speclint.fixes import edits

MAX_PASSES = 10


@dataclass
class FileFix:
    path: str  # as reported
    file: str  # on disk
    before: str = ""
    after: str = ""
    fixed: list = field(default_factory=list)  # the diagnostics fixed, pass after pass
    result: Optional[engine.FileResult] = None  # the last analysis (what is left)
    passes: int = 0
    stable: bool = True  # False: MAX_PASSES passes still had fixes to apply
    error: Optional[str] = None  # why the file was not fixed or not written

    @property
    def changed(self) -> bool:
        return self.after != self.before


def candidates(result, unsafe: bool) -> List[str]:
    """The reported paths of the files of `result` with a fix that applies (in the run's order)."""
    paths = []
    for f in result.files:
        if f.path != "-" and any(d.path == f.path and edits.applicable(d, unsafe) for d in f.diagnostics):
            paths.append(f.path)
    return paths


def fix_file(path: str, resolver, *, unsafe: bool = False, write: bool = True, index=None) -> FileFix:
    """Fix the file reported as `path` (see the module docstring).  `write=False` (`--diff`)
    computes the fixed text and leaves the file alone."""
    out = FileFix(path, os.path.abspath(path))
    try:
        with open(out.file, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        out.error = f"cannot read it: {exc.strerror or exc}"
        return out
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        out.error = "it is not UTF-8 text; fixes are written only to UTF-8 files"
        return out
    out.before = out.after = text
    config = resolver.for_file(out.file)
    rel = config.relative(out.file)

    users = engine.users_for(out.file, config)  # the project view: fixes what `check` reports

    def diagnose(current: str) -> engine.FileResult:
        return engine.check_source(current.encode("utf-8"), path, config, rel, file=out.file, index=index,
                                   resolver=resolver, users=users)

    out.after, out.fixed, out.result, out.passes, out.stable = fix_text(
        text, diagnose, lambda current, ds: baseline.filter_document(config, path, current, ds),
        path=path, unsafe=unsafe)
    if write and out.changed:
        try:
            with open(out.file, "rb") as fh:
                now = fh.read()
        except OSError as exc:
            out.error = f"cannot read it again before writing: {exc.strerror or exc}"
            return out
        if now != data:
            out.error = "it changed on disk while it was being fixed; not written"
            return out
        try:
            with open(out.file, "wb") as fh:
                fh.write(out.after.encode("utf-8"))
        except OSError as exc:
            out.error = f"cannot write it: {exc.strerror or exc}"
    return out


def fix_text(text: str, diagnose: Callable, keep: Optional[Callable] = None, *, path: Optional[str] = None,
             unsafe: bool = False, max_passes: int = MAX_PASSES):
    """Fix `text` in passes: (fixed text, the diagnostics fixed, the last FileResult, passes, stable).

    `diagnose(text)` analyses a text (an engine.FileResult); `keep(text, diagnostics)` drops the
    ones not to fix (the baseline); only diagnostics reported at `path` (when given) are fixed."""
    current, fixed, passes = text, [], 0
    result = diagnose(current)
    while True:
        own = [d for d in result.diagnostics if path is None or d.path == path]
        if keep is not None:
            own = keep(current, own)
        fixable = [d for d in own if edits.applicable(d, unsafe)]
        if not fixable:
            return current, fixed, result, passes, True
        if passes == max_passes:
            return current, fixed, result, passes, False
        new, applied = edits.apply(current, fixable, unsafe)
        passes += 1
        if not applied or new == current:
            return current, fixed, result, passes, True
        if _parses(current) and not _parses(new):  # a safety net: fixes are built as syntax trees
            return current, fixed, result, passes, False
        fixed.extend(applied)
        current = new
        result = diagnose(current)


def _parses(text: str) -> bool:
    import ast

    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def fix_run(result, resolver, paths, *, unsafe: bool = False, write: bool = True) -> List[FileFix]:
    """Fix every file of `result` (an engine.RunResult of `paths`) that has a fix to apply; the
    file results of `result` are replaced by the analyses of the fixed text (what is left)."""
    todo = candidates(result, unsafe)
    if not todo:
        return []
    from speclint import files

    index = engine.module_index(list(files.walk(paths, resolver)))
    done = []
    for path in todo:
        ff = fix_file(path, resolver, unsafe=unsafe, write=write, index=index)
        done.append(ff)
    by_path = {ff.path: ff for ff in done if ff.result is not None and ff.error is None}
    if write:
        result.files = [by_path[f.path].result if f.path in by_path else f for f in result.files]
    return done
