"""The shim's settings, and where its findings go.

Data flow: a patched spec constructor records a `Construction` (`calls.py`) in the innermost active
`ModelFnCall`; the checks turn constructions and the returned spec into `Finding`s
(`speclint.finding`); `emit` formats them with the rulebook's templates into `Diagnostic`s (engine
"runtime"), adds them to the session `COLLECTOR`, and raises or warns according to the mode.
"""
from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from typing import List, Optional

from speclint import apis, rulebook
from speclint.diagnostics import Diagnostic
from speclint.finding import Finding
from speclint.runtime import locate
from speclint.runtime.errors import SpecLintError, SpecLintWarning


# ----------------------------------------------------------------------------------------------
# Settings
@dataclass
class Settings:
    mode: Optional[str] = None  # "raise" | "warn" | "collect" (record only); None: $SPECLINT_RUNTIME or raise
    target: str = "auto"  # "auto" | "tpu" | "cpu": where TPU-only rules apply
    select: Optional[frozenset] = None  # rule codes to report (None: every rule)


SETTINGS = Settings()


def env_mode() -> Optional[str]:
    value = os.environ.get(apis.RUNTIME_ENV, "").strip().lower()
    if not value:
        return None
    if value not in apis.RUNTIME_MODES:
        warnings.warn(SpecLintWarning(
            f"{apis.RUNTIME_ENV}={value!r} is not one of {', '.join(apis.RUNTIME_MODES)}; ignored"))
        return None
    return value


def disabled() -> bool:
    return env_mode() == "off"


# ----------------------------------------------------------------------------------------------
# Where diagnostics go
class Collector:
    """Every runtime diagnostic reported in this process (for `speclint run` and pytest)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: List[Diagnostic] = []
        self._seen = set()
        self.model_fn_calls = 0

    def add(self, diags) -> List[Diagnostic]:
        """Adds and returns what is new. A finding seen before is not new, nor one whose message
        a finding at the same spot (path, line, column, code) extends: the TPU simulation appends
        what the TPU build raised to the shim's message (`simulate._merge`), and that version
        replaces the plain one."""
        new = []
        with self._lock:
            for d in diags:
                key = (d.path, d.line, d.column, d.code, d.message)
                if key in self._seen:
                    continue
                self._seen.add(key)
                same = [i for i, o in enumerate(self._items) if (o.path, o.line, o.column, o.code) == key[:4]]
                if any(self._items[i].message.startswith(d.message) for i in same):
                    continue  # a fuller version is already there
                for i in reversed(same):
                    if d.message.startswith(self._items[i].message):
                        del self._items[i]  # superseded by this fuller version
                self._items.append(d)
                new.append(d)
        return new

    def diagnostics(self) -> List[Diagnostic]:
        with self._lock:
            return sorted(self._items, key=Diagnostic.sort_key)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._seen.clear()
            self.model_fn_calls = 0


COLLECTOR = Collector()


def to_diagnostic(f: Finding) -> Optional[Diagnostic]:
    book = rulebook.load()
    rule = book.lookup(f.code)
    if rule is None:  # the rule's doc is not part of this build: nothing to report with
        return None
    try:
        message = rule.message(f.variant, **f.params)
    except (KeyError, IndexError, ValueError) as exc:
        internal(f"{f.code} message {f.variant!r}: {exc}")
        return None
    loc = (f.at or locate.Location("<unknown>", 1)).normalized()
    return Diagnostic(loc.path, loc.line, loc.column, loc.end_line, loc.end_column, rule.code,
                      rule.name, rule.severity, message, "runtime")


def internal(message: str) -> None:
    """A problem inside a speclint check: a warning, never an exception in the user's job."""
    warnings.warn(SpecLintWarning(f"speclint internal error (the check was skipped): {message}"),
                  stacklevel=2)


def selected(code: str) -> bool:
    return SETTINGS.select is None or code in SETTINGS.select


def emit(findings: List[Finding], cause: Optional[BaseException] = None) -> None:
    """Report findings per the mode: raise SpecLintError, warn, or only record."""
    diags = [d for d in (to_diagnostic(f) for f in findings if selected(f.code)) if d is not None]
    if not diags:
        return
    COLLECTOR.add(diags)
    mode = SETTINGS.mode or env_mode() or "raise"
    if mode == "raise":
        raise SpecLintError(diags) from cause
    if mode == "warn":
        for d in diags:
            text = f"{d.code} [{d.name}] {d.message}"
            warnings.warn_explicit(SpecLintWarning(text, d), SpecLintWarning,
                                   d.path, d.line, module="speclint.runtime")
