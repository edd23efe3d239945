"""One `Finding` for both engines: what a rule check decided, before it is formatted.

A check (static or runtime) yields `Finding(code, at, variant, params)`: the rule code, where the
misuse is (`at`: a libcst node for the static engine, a `runtime.locate.Location` for the shim),
the message variant of the rule's TOML `[messages]` table and its parameters.  The engines turn
findings into `Diagnostic`s (positions, severities, suppressions); checks never format text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional


@dataclass
class Finding:
    code: str
    at: object  # a libcst node (static engine) or a runtime Location (shim); None: unknown
    variant: str = "default"
    params: Dict[str, object] = field(default_factory=dict)
    replacement: Optional[str] = None  # a safe fix: the text that replaces `at` (static engine)
