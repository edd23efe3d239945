"""One `Finding` for both engines: what a rule check decided, before it is formatted.

A check (static or runtime) yields `Finding(code, at, variant, params)`: the rule code, where the
misuse is (`at`: a libcst node for the static engine, a `runtime.locate.Location` for the shim),
the message variant of the rule's TOML `[messages]` table and its parameters.  The engines turn
findings into `Diagnostic`s (positions, severities, suppressions); checks never format text.

A static finding may carry a `Fix`: edits that each replace one node of the user's tree by new
code (built from the user's own nodes, so their spelling and formatting are kept), and whether the
fix is safe (applied by `--fix`) or unsafe (only with `--unsafe-fixes`); each rule's doc says why
under "## Fix safety".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

SAFE, UNSAFE = "safe", "unsafe"


@dataclass(frozen=True)
class Fix:
    message: str  # what the fix does ("Wrap `hook` in a list")
    edits: Tuple[Tuple[object, object], ...]  # (libcst node, the libcst node (or code) replacing it)
    applicability: str = SAFE  # SAFE | UNSAFE


@dataclass
class Finding:
    code: str
    at: object  # a libcst node (static engine) or a runtime Location (shim); None: unknown
    variant: str = "default"
    params: Dict[str, object] = field(default_factory=dict)
    replacement: Optional[str] = None  # a safe fix: the text that replaces `at` (static engine)
    fix: Optional[Fix] = None  # a fix of any shape (static engine); wins over `replacement`
