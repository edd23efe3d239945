"""The per-file pipeline and the run over many files.

read -> prefilter -> parse -> analyse -> checks -> positions (reported nodes only) -> diagnostics
-> suppressions.  The static analyser (and libcst) is imported only when a file survives the
prefilter.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from speclint import files, rulebook
from speclint.config import Config, Resolver
from speclint.diagnostics import Diagnostic


@dataclass
class FileResult:
    path: str
    diagnostics: List[Diagnostic] = field(default_factory=list)
    skipped: bool = False  # no Estimator API mentioned: not parsed
    internal_error: Optional[str] = None
    deps: Dict[str, str] = field(default_factory=dict)  # imported linted modules: path -> sha256


@dataclass
class RunResult:
    files: List[FileResult] = field(default_factory=list)

    @property
    def diagnostics(self) -> List[Diagnostic]:
        # a finding inside an imported module can be reported by each module that imports it
        out = list({_identity(d): d for f in self.files for d in f.diagnostics}.values())
        out.sort(key=Diagnostic.sort_key)
        return out

    @property
    def internal_errors(self) -> List[FileResult]:
        return [f for f in self.files if f.internal_error]


def _identity(d: Diagnostic) -> tuple:
    return (d.path, d.line, d.column, d.end_line, d.end_column, d.code, d.message)


def display_path(path: str) -> str:
    """Relative to the current directory when under it, with forward slashes."""
    if path == "-":
        return path
    try:
        rel = os.path.relpath(os.path.abspath(path))
    except ValueError:
        return path
    if rel.startswith(".."):
        return os.path.abspath(path)
    return rel.replace(os.sep, "/")


def _diag(code: str, path: str, message: str, rng=(1, 0, 1, 0)) -> Diagnostic:
    rule = rulebook.load()[code]
    line, col, end_line, end_col = rng
    return Diagnostic(path, line, col + 1, end_line, end_col + 1, code, rule.name, rule.severity,
                      message, "static")


def check_source(data: bytes, path: str, config: Config, rel_path: Optional[str] = None, *,
                 file: Optional[str] = None, index=None) -> FileResult:
    """Lint one file's bytes. `path` is the path to report; `file` the file on disk (if any) and
    `index` the run's module index, for helpers imported from other linted modules."""
    result = FileResult(path)
    enabled = config.enabled_codes(rel_path)
    if not files.may_matter(data):
        result.skipped = True
        return result
    from speclint.static import pipeline  # imports libcst: only for files that may matter

    parsed = pipeline.parse(data)
    if parsed.error is not None:
        if "SL000" in enabled:
            result.diagnostics.append(_diag("SL000", path, rulebook.load()["SL000"].message(reason=parsed.error), parsed.error_range))
        return result
    def enabled_for(other: str) -> frozenset:
        return config.enabled_codes(config.relative(Path(other)))

    try:
        outcome = pipeline.diagnose(parsed, path, config.target, enabled, file=file, index=index,
                                    enabled_for=enabled_for, show=display_path)
        result.diagnostics, result.deps = outcome.diagnostics, outcome.deps
    except RecursionError:
        if "SL000" in enabled:
            result.diagnostics.append(_diag("SL000", path, rulebook.load()["SL000"].message(
                reason="the code is nested too deeply to analyse")))
    return result


def check_file(entry: files.Entry, config: Config, index=None) -> FileResult:
    shown = display_path(entry.path)
    rel = config.relative(Path(entry.path))
    if entry.error is None:
        try:
            with open(entry.path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            entry = files.Entry(entry.path, exc.strerror or str(exc))
    if entry.error is not None:
        result = FileResult(shown)
        if "SL000" in config.enabled_codes(rel):
            result.diagnostics.append(_diag("SL000", shown, rulebook.load()["SL000"].message(
                reason=f"cannot read file ({entry.error})")))
        return result
    try:
        return check_source(data, shown, config, rel, file=entry.path, index=index)
    except Exception as exc:  # noqa: BLE001 - a bug in speclint must not stop the run
        return FileResult(shown, internal_error=f"{type(exc).__name__}: {exc}")


def check_paths(paths: Iterable[str], resolver: Resolver) -> RunResult:
    run = RunResult()
    entries = list(files.walk(paths, resolver))
    index = module_index(entries)
    for entry in entries:
        run.files.append(check_file(entry, resolver.for_path(Path(entry.path)), index))
    return run


def module_index(entries):
    """The run's module index (imported lazily: it belongs to the static engine)."""
    from speclint.static.modules import ModuleIndex

    return ModuleIndex((e.path for e in entries if e.error is None), disk=True)


def check_stdin(data: bytes, filename: Optional[str], resolver: Resolver) -> RunResult:
    name = filename or "-"
    config = resolver.for_path(Path(filename) if filename else Path(os.getcwd()))
    rel = config.relative(Path(filename)) if filename else None
    shown = display_path(name)
    index = None
    if filename:  # an editor piping a buffer: its imports are followed on disk
        from speclint.static.modules import ModuleIndex

        index = ModuleIndex((), disk=True)
    try:
        result = check_source(data, shown, config, rel, file=os.path.abspath(filename) if filename else None,
                              index=index)
    except Exception as exc:  # noqa: BLE001
        result = FileResult(shown, internal_error=f"{type(exc).__name__}: {exc}")
    return RunResult([result])
