"""Baselines: adopt speclint on a code base that already has findings, and see only new ones.

`speclint --write-baseline FILE PATH...` records the findings of the run in FILE;
`speclint --baseline FILE PATH...` (or `baseline = "FILE"` in the configuration) then reports only
the findings that are not in it.  `speclint check`, pre-commit, the language server and the flake8
plugin all honour the configured baseline.

A finding is keyed by its fingerprint, the one SARIF's `primaryLocationLineHash` uses
(`speclint.report.fingerprint`): the rule, the file (relative to the baseline's directory), the
whitespace-normalised text of the flagged line and expression, and how many identical findings
come before it in the file.  Moving code, re-indenting it or editing other lines leaves it in the
baseline; editing the flagged line or adding an identical finding above it makes it new.

The file is JSON, sorted, one entry per finding (`path`, `code`, `name`, `line`, `fingerprint`,
`message`; only `path` and `fingerprint` are compared, the rest is for the reader):

    {"speclint_baseline": 1, "findings": [{"path": "src/model.py", "code": "SL005", ...}]}

A run *covers* an entry when the entry's file was checked in the run and its rule was enabled
for that file.  A covered entry that no longer occurs is stale: `check` reports it, and writing the
baseline again drops it.  Writing keeps the entries the run does not cover (other files, other
rules), as long as their file still exists, so a run over part of the tree cannot erase the rest.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from speclint.config import ConfigError
from speclint.report import fingerprint

FORMAT = 1


class BaselineError(ConfigError):
    """A baseline file that cannot be read (one line for the user, exit code 2)."""


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the baseline's directory, forward slashes
    code: str
    name: str
    line: int
    fingerprint: str
    message: str = ""

    def key(self) -> Tuple[str, str]:
        return (self.path, self.fingerprint)

    def to_json(self) -> dict:
        return {"path": self.path, "code": self.code, "name": self.name, "line": self.line,
                "fingerprint": self.fingerprint, "message": self.message}


class Baseline:
    def __init__(self, path: str, entries: Iterable[Entry] = ()):
        self.path = os.path.abspath(path)
        self.directory = os.path.dirname(self.path)
        self.entries: List[Entry] = list(entries)
        self._keys = {e.key() for e in self.entries}

    # ---- reading and writing -------------------------------------------------------------------
    @classmethod
    def load(cls, path: str) -> "Baseline":
        try:
            with open(path, "rb") as fh:
                data = json.loads(fh.read().decode("utf-8"))
        except FileNotFoundError:
            raise BaselineError(f"{path}: baseline file not found (create it with "
                                f"`speclint --write-baseline {path}`)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BaselineError(f"{path}: cannot read baseline file: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BaselineError(f"{path}: invalid baseline file: {exc}") from None
        if not isinstance(data, dict) or data.get("speclint_baseline") != FORMAT \
                or not isinstance(data.get("findings"), list):
            raise BaselineError(f"{path}: not a speclint baseline (expected {{\"speclint_baseline\": {FORMAT}, "
                                "\"findings\": [...]}, as written by --write-baseline)")
        entries = []
        for i, item in enumerate(data["findings"]):
            if not (isinstance(item, dict) and all(isinstance(item.get(k), str) for k in ("path", "code", "fingerprint"))):
                raise BaselineError(f"{path}: findings[{i}] needs string `path`, `code` and `fingerprint`")
            line = item.get("line")
            entries.append(Entry(item["path"], item["code"], str(item.get("name", "")),
                                 line if isinstance(line, int) else 0, item["fingerprint"],
                                 str(item.get("message", ""))))
        return cls(path, entries)

    def dump(self) -> str:
        ordered = sorted(self.entries, key=lambda e: (e.path, e.line, e.code, e.fingerprint))
        return json.dumps({"speclint_baseline": FORMAT, "findings": [e.to_json() for e in ordered]},
                          indent=2, ensure_ascii=False) + "\n"

    def write(self) -> None:
        tmp = f"{self.path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(self.dump())
        os.replace(tmp, self.path)

    # ---- matching ------------------------------------------------------------------------------
    def relative(self, reported_path: str) -> str:
        """A reported path as this baseline stores it (stdin stays `-`)."""
        if reported_path == "-":
            return "-"
        rel = os.path.relpath(os.path.abspath(reported_path), self.directory)
        return rel.replace(os.sep, "/")

    def describe(self, diagnostics: List, sources) -> List[Entry]:
        """One entry per diagnostic (in the run's sorted order, which numbers identical ones)."""
        prints = fingerprint.fingerprints(diagnostics, lambda d: self.relative(d.path), sources)
        return [Entry(self.relative(d.path), d.code, d.name, d.line, fp, d.message)
                for d, fp in zip(diagnostics, prints)]

    def split(self, diagnostics: List, sources) -> Tuple[List, List[Entry]]:
        """(diagnostics not in the baseline, entries of those that are)."""
        new, known = [], []
        for d, entry in zip(diagnostics, self.describe(diagnostics, sources)):
            if entry.key() in self._keys:
                known.append(entry)
            else:
                new.append(d)
        return new, known


_LOADED: Dict[str, Tuple[Tuple[int, int], Baseline]] = {}


def load_cached(path: str) -> Baseline:
    """`Baseline.load`, reused while the file's modification time and size stay the same (the
    language server checks a document on every pause in typing)."""
    key = os.path.abspath(path)
    try:
        st = os.stat(key)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        _LOADED.pop(key, None)
        return Baseline.load(path)  # raises the error that names the problem
    hit = _LOADED.get(key)
    if hit is None or hit[0] != stamp:
        hit = _LOADED[key] = (stamp, Baseline.load(path))
    return hit[1]


def filter_document(config, path: str, text: str, diagnostics: List) -> List:
    """The diagnostics of one document (`path` as reported, `text` its current content) that are
    not in the baseline of its configuration, in their order.  For the language server and the
    flake8 plugin, which check one file at a time; BaselineError when the baseline is unreadable."""
    if not config.baseline or not diagnostics:
        return diagnostics
    from speclint.report.sources import Sources

    b = load_cached(config.baseline)
    unique = sorted({_identity(d): d for d in diagnostics}.values(), key=lambda d: d.sort_key())
    new, known = b.split(unique, Sources({path: text}))
    if not known:
        return diagnostics
    keep = {_identity(d) for d in new}
    return [d for d in diagnostics if _identity(d) in keep]


def _identity(d) -> tuple:
    return (d.path, d.line, d.column, d.end_line, d.end_column, d.code, d.message)


# ---- a run ---------------------------------------------------------------------------------------
class Baselines:
    """The baselines of a run: each file's comes from `baseline_of(path)` (the configuration that
    applies to it, or --baseline), loaded once."""

    def __init__(self, baseline_of: Callable[[str], Optional[str]]):
        self._baseline_of = baseline_of
        self._loaded: Dict[str, Baseline] = {}

    def for_path(self, path: str) -> Optional[Baseline]:
        where = self._baseline_of(path)
        if not where:
            return None
        key = os.path.abspath(where)
        if key not in self._loaded:
            self._loaded[key] = Baseline.load(where)
        return self._loaded[key]


@dataclass
class Outcome:
    hidden: int = 0  # diagnostics the baselines hid
    stale: List[Tuple[Baseline, Entry]] = field(default_factory=list)  # covered entries that no longer occur


def apply(result, baselines: Baselines, sources, enabled_for: Callable[[str], frozenset]) -> Outcome:
    """Drop the diagnostics of `result` (an engine.RunResult) that its files' baselines hold; find
    the entries of those baselines that the run covers but did not match."""
    diags = result.diagnostics
    groups: Dict[str, Tuple[Baseline, List]] = {}
    for d in diags:
        b = baselines.for_path(d.path)
        if b is not None:
            groups.setdefault(b.path, (b, []))[1].append(d)
    for f in result.files:  # files without diagnostics still decide staleness
        b = baselines.for_path(f.path)
        if b is not None:
            groups.setdefault(b.path, (b, []))
    hidden = set()
    outcome = Outcome()
    for b, ds in groups.values():
        new, known = b.split(ds, sources)
        new_ids = {id(d) for d in new}
        hidden |= {_identity(d) for d in ds if id(d) not in new_ids}
        matched = {e.key() for e in known}
        covered = _coverage(b, [f.path for f in result.files if baselines.for_path(f.path) is b], enabled_for)
        outcome.stale.extend((b, e) for e in b.entries if e.key() not in matched and _covers(covered, e))
    if hidden:
        for f in result.files:
            f.diagnostics = [d for d in f.diagnostics if _identity(d) not in hidden]
    outcome.hidden = len(hidden)
    return outcome


def _coverage(b: Baseline, paths: List[str], enabled_for) -> Dict[str, frozenset]:
    return {b.relative(p): enabled_for(p) for p in paths}


def _covers(covered: Dict[str, frozenset], entry: Entry) -> bool:
    codes = covered.get(entry.path)
    return codes is not None and entry.code in codes


def write(path: str, result, sources, enabled_for: Callable[[str], frozenset]) -> Tuple[int, int]:
    """Record the diagnostics of `result` in the baseline at `path`, keeping the entries of an
    existing one that the run does not cover and whose file still exists.  (written, kept)."""
    target = Baseline(path)
    old: List[Entry] = []
    if os.path.exists(path):
        try:
            old = Baseline.load(path).entries
        except BaselineError:
            old = []  # an unreadable baseline is replaced
    covered = _coverage(target, [f.path for f in result.files], enabled_for)
    kept = [e for e in old if not _covers(covered, e)
            and os.path.exists(os.path.join(target.directory, *e.path.split("/")))]
    fresh = target.describe(result.diagnostics, sources)
    Baseline(path, fresh + kept).write()
    return len(fresh), len(kept)
