"""From a pasted error to the rule, the user's line and speclint's diagnostics.

1. `reading.read` finds the errors in the text (tracebacks, error lines, log records).
2. `tpu_failures.candidates` (the table the TPU simulation uses too) ranks the rules that explain
   each one; the traceback's TF functions and the message's clues decide between rules that share a
   message.
3. `frames` finds the innermost frame of the user's code, and the user frames of the op-creation
   stacks TF printed for the ops the message names, on this machine.
4. The static engine checks those files for the candidate rules: a diagnostic confirms a candidate and
   shows the offending expression and the fix.
"""
from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from speclint import rulebook, tpu_failures
from speclint.diagnostics import Diagnostic
from speclint.explain import frames as frames_mod
from speclint.explain.reading import Event, Frame, Parsed, read

# Exception classes a pasted name stands for (the table names bases too: TF raises
# InaccessibleTensorError where older TF raised ValueError; op errors are OpErrors).
_OP_ERRORS = {"InvalidArgumentError", "NotFoundError", "ResourceExhaustedError", "FailedPreconditionError",
              "OutOfRangeError", "UnimplementedError", "InternalError", "UnavailableError", "AbortedError",
              "CancelledError", "DeadlineExceededError", "AlreadyExistsError", "PermissionDeniedError",
              "UnauthenticatedError", "DataLossError", "UnknownError"}
_BASES = {"InaccessibleTensorError": ("ValueError",), "KeyError": ("LookupError",),
          "IndexError": ("LookupError",), "ModuleNotFoundError": ("ImportError",)}
_KIND_ORDER = {"traceback": 0, "exception": 1, "recorded": 2, "text": 3, "log": 4}


def exception_names(type_name: Optional[str]) -> Tuple[str, ...]:
    if not type_name:
        return ()
    bases = _BASES.get(type_name, ())
    if type_name in _OP_ERRORS:
        bases = bases + ("OpError",)
    return (type_name,) + bases


@dataclass
class Explanation:
    """A rule (or a known mistake without a rule yet) that explains an error."""

    key: str  # the rule code, or the provisional name
    code: Optional[str]
    name: str
    evidence: str  # "traceback" | "clue" | "message"
    via: str
    why: str
    look_for: str
    summary: str = ""
    severity: str = ""
    tpu_only: bool = False
    url: Optional[str] = None
    confirmed: bool = False  # speclint check found this rule in the user's files
    decidable: bool = False  # a traceback would show where it was raised (the entry has `within`)
    checked_by: Optional[str] = None  # for a mistake without a rule yet: the rule that reports it today
    stage: str = "build"  # tpu_failures.STAGES: when TF raises it ("log": TF only warns)
    entry: Optional[tpu_failures.TPUFailure] = field(default=None, repr=False)  # the table entry


@dataclass
class Place:
    """A frame of the user's code, and its file here."""

    frame: Frame
    located: Optional[frames_mod.Located]
    op: Optional[str] = None  # set for the creation site of an op the message names


@dataclass
class ErrorReading:
    event: Event
    explanations: List[Explanation] = field(default_factory=list)
    needs_traceback: List[tpu_failures.TPUFailure] = field(default_factory=list)
    place: Optional[Place] = None  # the innermost frame of the user's code on the traceback
    op_places: List[Place] = field(default_factory=list)
    checked: List[str] = field(default_factory=list)  # files the static engine checked
    diagnostics: List[Diagnostic] = field(default_factory=list)
    check_note: str = ""  # why the files were not checked, when they were not

    @property
    def explained(self) -> bool:
        return bool(self.explanations)


@dataclass
class Report:
    findings: List[ErrorReading]  # the explained errors; else the one error shown as not explained
    empty: bool = False  # the input held no text
    considered: List[ErrorReading] = field(default_factory=list)  # every error and log record read

    @property
    def explained(self) -> bool:
        return any(f.explained for f in self.findings)


def _functions(event: Event, parsed: Parsed) -> Tuple[Optional[List[str]], bool]:
    """The traceback's functions ("file.py:func", innermost first) and whether it is complete."""
    stacks = [parsed.op_stacks[op] for op in _ops(event, parsed)]
    frames = list(event.frames)
    if not frames and not stacks:
        return None, True
    names = [f.qualified for f in reversed(frames)]
    for stack in stacks:
        names += [f.qualified for f in reversed(stack)]
    # complete: the traceback shows where it was raised. It does when it runs from the user's call into
    # TF uncut, and when its innermost frame is the user's own line (then no TF function raised it).
    complete = bool(frames) and (frames_mod.is_user_path(frames[-1].path) or (
        not event.partial and any(not frames_mod.is_user_path(f.path) for f in frames)))
    return names, complete


def _ops(event: Event, parsed: Parsed) -> List[str]:
    return [op for op in tpu_failures.op_names(event.message) if op in parsed.op_stacks]


def _explanation(c: tpu_failures.Candidate, book) -> Explanation:
    e = c.entry
    rule = book.by_code.get(e.code) if e.code else None
    return Explanation(
        key=e.key, code=e.code, name=rule.name if rule else e.name, evidence=c.evidence, via=c.via,
        why=e.why, look_for=e.look_for, summary=rule.summary if rule else "",
        severity=rule.severity if rule else "", tpu_only=bool(rule and rule.tpu_only),
        url=rule.url if rule else None, decidable=bool(e.within),
        checked_by=e.checked_by[0] if e.checked_by else None, stage=e.stage, entry=e)


def _innermost_user(frames: Sequence[Frame]) -> Optional[Frame]:
    for f in reversed(frames):
        if frames_mod.is_user_path(f.path):
            return f
    return None


def _place(frame: Optional[Frame], cwd: Optional[str], op: Optional[str] = None) -> Optional[Place]:
    if frame is None:
        return None
    return Place(frame, frames_mod.locate(frame, cwd), op)


class _Tracebacks:
    """The input's tracebacks in input order, to find the one printed after a log record."""

    def __init__(self, events: Sequence[Event]):
        self.events = sorted((e for e in events if e.kind == "traceback" and e.frames), key=lambda e: e.input_line)
        self.lines = [e.input_line for e in self.events]

    def after(self, line: int) -> Optional[Event]:
        k = bisect.bisect_right(self.lines, line)
        return self.events[k] if k < len(self.events) else None


def _companion(event: Event, tracebacks: _Tracebacks) -> Event:
    """A logged error ("Error recorded from training_loop: ...") with the traceback TF printed right
    after it: the traceback of the same error when its exception line repeats the message, or was cut
    off before it (a paste that stops early)."""
    if event.frames or event.kind not in ("recorded", "log"):
        return event
    first = event.message.split("\n", 1)[0].strip()
    other = tracebacks.after(event.input_line)
    if other is not None and (not other.message or other.message.split("\n", 1)[0].strip() == first):
        return Event(event.exc_type or other.exc_type, event.message, other.frames, event.kind,
                     event.input_line, partial=True)
    return event


def _finding(event: Event, parsed: Parsed, book, cwd: Optional[str], tracebacks: _Tracebacks) -> Optional[ErrorReading]:
    """What explains one error; None for a log record that is no error speclint knows."""
    if event.kind == "log" and not tpu_failures.could_match(event.message):
        return None  # the common case in a training log: a record that is no error
    event = _companion(event, tracebacks)
    names = exception_names(event.type_name)
    functions, complete = _functions(event, parsed)
    found = tpu_failures.candidates(names, event.message, functions, complete)
    needs = tpu_failures.needs_traceback(names, event.message) if not found and (functions is None or not complete) else []
    if event.kind == "log" and not found and not needs:
        return None
    finding = ErrorReading(event, [_explanation(c, book) for c in found], needs)
    finding.place = _place(_innermost_user(event.frames), cwd)
    for op in _ops(event, parsed):
        p = _place(_innermost_user(parsed.op_stacks[op]), cwd, op)
        seen = [q for q in [finding.place] + finding.op_places if q is not None]
        if p is not None and all((q.frame.path, q.frame.line) != (p.frame.path, p.frame.line) for q in seen):
            finding.op_places.append(p)
    return finding


def _strength(f: ErrorReading) -> tuple:
    best = max(({"traceback": 3, "clue": 2, "message": 1}[e.evidence] for e in f.explanations), default=0)
    return (best, -_KIND_ORDER[f.event.kind], len(f.event.frames))


def _select(findings: List[ErrorReading]) -> List[ErrorReading]:
    """One finding per explained error: the same error seen twice (a log record and the traceback, a
    chain) is kept once, with its strongest evidence."""
    explained = [f for f in findings if f.explained]
    best = {}
    for f in explained:
        key = f.explanations[0].key
        if key not in best or _strength(f) > _strength(best[key]):
            best[key] = f
    chosen = sorted(best.values(), key=lambda f: f.event.input_line)
    # a log record or bare message that repeats an error line already explained adds nothing
    out = []
    for f in chosen:
        if f.event.kind in ("log", "recorded", "text") and any(
                g is not f and g.event.kind in ("traceback", "exception")
                and f.event.message.split("\n")[0].strip() in g.event.message for g in chosen):
            continue
        out.append(f)
    return out


def _unexplained(findings: List[ErrorReading]) -> Optional[ErrorReading]:
    """The error to show when no rule explains any: one a traceback could confirm, else the last raised."""
    for f in reversed(findings):
        if f.needs_traceback:
            return f
    for kinds in (("traceback", "exception"), ("recorded", "text")):
        for f in reversed(findings):
            if f.event.kind in kinds and (f.event.message or f.event.exc_type):
                return f
    return None


def _check(finding: ErrorReading, book, cwd: Optional[str], parsed: Parsed) -> None:
    """Run the static engine on the user's files for the candidate rules."""
    codes = list(dict.fromkeys(e.code or e.checked_by for e in finding.explanations if e.code or e.checked_by))
    runtime_only = [c for c in codes if "static" not in book.by_code[c].engines]
    codes = [c for c in codes if c not in runtime_only]
    if not codes:
        if runtime_only:
            finding.check_note = (f"{', '.join(runtime_only)} has no static check; run the program under "
                                  f"`speclint run` (the runtime shim) to have it checked")
        elif finding.explanations:
            finding.check_note = "speclint has no static rule for this mistake yet"
        return
    places = [p for p in [finding.place] + finding.op_places if p is not None]
    user = [Place(f, frames_mod.locate(f, cwd)) for f in frames_mod.user_frames(finding.event.frames)]
    if not places and not user:  # a log without a traceback: the user's files TF's log records name
        user = [Place(f, frames_mod.locate(f, cwd)) for f in frames_mod.user_frames(parsed.log_files)]
    files: List[str] = []
    for p in places + user:
        if p.located is not None and not p.located.stale and p.located.abspath not in files:
            files.append(p.located.abspath)
    if not files:
        select = f"`speclint check --select {','.join(codes)} PATH`"
        if any(p.located is not None and p.located.stale for p in places + user):
            finding.check_note = (f"your files changed since the error (their lines differ from the traceback's); "
                                  f"check them with {select}")
        elif places or user:
            finding.check_note = ("the files of your frames are not on this machine (run `speclint explain` in the "
                                  "project's checkout)")
        else:
            finding.check_note = f"the error names no file of your code; check it with {select}"
        return
    from speclint import engine
    from speclint.config import ConfigError, Resolver

    overrides = {"select": codes, "ignore": []}
    if any(book.by_code[c].tpu_only for c in codes):
        overrides["target"] = "tpu"  # TF raised a TPU-only error: this code ran on TPU
    try:
        result = engine.check_paths(files, Resolver(None, overrides), jobs=1)
    except (ConfigError, OSError) as exc:
        finding.check_note = f"speclint check could not run: {exc}"
        return
    finding.checked = [_shown(f, cwd) for f in files]
    at = {(p.located.abspath, p.frame.line) for p in places if p.located is not None}
    diags = [d for d in result.diagnostics if d.code in codes]
    diags.sort(key=lambda d: ((os.path.abspath(d.path), d.line) not in at, d.sort_key()))
    finding.diagnostics = diags
    found = {d.code for d in diags}
    for e in finding.explanations:
        e.confirmed = (e.code or e.checked_by) in found
    strength = {"traceback": 3, "clue": 2, "message": 1}
    finding.explanations.sort(key=lambda e: -strength[e.evidence] * 2 - e.confirmed)


def _shown(path: str, cwd: Optional[str]) -> str:
    rel = os.path.relpath(path, cwd or os.getcwd())
    return path if rel.startswith("..") else rel.replace(os.sep, "/")


def explain(text: str, *, cwd: Optional[str] = None, check: bool = True) -> Report:
    """Explain the TensorFlow errors in `text`. `cwd`: where the user's files are looked up (default:
    the current directory); `check`: run the static engine on them."""
    if not text.strip():
        return Report([], empty=True)
    book = rulebook.load()
    parsed = read(text)
    tracebacks = _Tracebacks(parsed.events)
    findings = [f for f in (_finding(e, parsed, book, cwd, tracebacks) for e in parsed.events) if f is not None]
    chosen = _select(findings)
    if not chosen:
        shown = _unexplained(findings)
        chosen = [shown] if shown is not None else []
    if check:
        for f in chosen:
            if f.explained:
                _check(f, book, cwd, parsed)
    return Report(chosen, considered=findings)
