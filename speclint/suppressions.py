"""Inline suppressions: `# noqa[: SL005, ...]` and `# speclint: ignore[SL005, name]`.

Applied by the engine after the checks (never inside a rule), so that a suppression that
suppressed nothing can be reported.  A comment suppresses a diagnostic on its own line or on the
first line of the statement holding the reported expression.
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Dict, List, Optional

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[\w\-]+(?:[,\s]+[\w\-]+)*))?", re.I)
_IGNORE = re.compile(r"#\s*speclint:\s*ignore\[(?P<codes>[^\]]*)\]", re.I)


@dataclass
class Suppression:
    line: int
    codes: Optional[frozenset]  # None: blanket (`# noqa` without codes)
    kind: str  # "noqa" | "speclint"
    column: int = 0  # 0-based start of the comment's directive, and its end
    end_column: int = 0
    text: str = ""  # the directive as written, e.g. `# noqa: SL005`
    used: bool = False

    def covers(self, code: str, name: str) -> bool:
        return self.codes is None or code in self.codes or name in self.codes


def _codes(text: str) -> frozenset:
    return frozenset(c.strip().upper() if c.strip().upper().startswith("SL") else c.strip().lower()
                     for c in re.split(r"[,\s]+", text) if c.strip())


def parse(source: str) -> Dict[int, List[Suppression]]:
    """Suppression comments by line (only real comments: strings are not comments)."""
    if not _NOQA.search(source) and not _IGNORE.search(source):
        return {}  # (no comment can hold a directive the text does not: tokenizing costs ~25 ms per 1,000 lines)
    out: Dict[int, List[Suppression]] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return {}
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        line, col = tok.start
        m = _IGNORE.search(tok.string)
        if m:
            out.setdefault(line, []).append(Suppression(
                line, _codes(m.group("codes")), "speclint", col + m.start(), col + m.end(), m.group(0)))
        m = _NOQA.search(tok.string)
        if m:
            codes = m.group("codes")
            out.setdefault(line, []).append(Suppression(
                line, _codes(codes) if codes else None, "noqa", col + m.start(), col + m.end(), m.group(0)))
    return out


def find(table: Dict[int, List[Suppression]], lines, code: str, name: str) -> Optional[Suppression]:
    for line in lines:
        for s in table.get(line, ()):
            if s.covers(code, name):
                return s
    return None
