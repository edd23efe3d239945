"""What the runtime shim raises and warns with."""
from __future__ import annotations

from typing import Sequence


def _format(diagnostics) -> str:
    lines = [f"{d.path}:{d.line}:{d.column}: {d.code} [{d.name}] {d.message}" for d in diagnostics]
    return "\n".join(lines)


class SpecLintError(ValueError):
    """A model_fn violates speclint rules (raise mode). `.diagnostics` holds the findings."""

    def __init__(self, diagnostics: Sequence):
        self.diagnostics = list(diagnostics)
        n = len(self.diagnostics)
        head = f"speclint found {n} problem{'s' if n != 1 else ''} in the model_fn:"
        super().__init__(head + "\n" + _format(self.diagnostics))


class SpecLintWarning(UserWarning):
    """A speclint diagnostic (warn mode), or an internal problem of a check (never raised)."""

    def __init__(self, message: str, diagnostic=None):
        super().__init__(message)
        self.diagnostic = diagnostic
