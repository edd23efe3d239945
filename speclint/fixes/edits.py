"""Fixes as text edits: which fixes apply, and the text once they are applied.

A diagnostic's `fix` (see `speclint.diagnostics.Diagnostic`) is a list of edits, each replacing a
range given as 1-based lines and 1-based code-point columns, where lines end at `\\r\\n`, `\\r` or
`\\n` and a byte-order mark is not part of the first line (as the engine counts them).  Fixes
whose edits overlap an edit already taken are left for the next pass (`run.py` re-analyses the
new text): one pass never applies two fixes to the same code.
"""
from __future__ import annotations

import difflib
import re
from typing import Iterable, List, Optional, Sequence, Tuple

NEWLINE = re.compile(r"\r\n|\r|\n")
SAFE, UNSAFE = "safe", "unsafe"


def applicable(d, unsafe: bool = False) -> bool:
    """Whether `--fix` applies the diagnostic's fix (`unsafe`: `--unsafe-fixes` was given)."""
    return d.fixable(unsafe)


def line_starts(text: str) -> List[int]:
    """The offset of each line's first character (line 1 first); a byte-order mark is skipped."""
    starts = [1 if text.startswith("\ufeff") else 0]
    starts += [m.end() for m in NEWLINE.finditer(text)]
    return starts


def _offset(starts: List[int], text: str, line: int, column: int) -> Optional[int]:
    if not 1 <= line <= len(starts):
        return None
    end = starts[line] if line < len(starts) else len(text)
    offset = starts[line - 1] + column - 1
    return offset if starts[line - 1] <= offset <= end else None


def spans(text: str, fix: dict, starts: Optional[List[int]] = None) -> Optional[List[Tuple[int, int, str]]]:
    """The fix's edits as (start, end, content) offsets into `text`, in order; None when one is
    outside the text or two overlap."""
    starts = starts if starts is not None else line_starts(text)
    out = []
    for e in fix.get("edits", ()):
        a = _offset(starts, text, e["line"], e["column"])
        b = _offset(starts, text, e["end_line"], e["end_column"])
        if a is None or b is None or b < a:
            return None
        out.append((a, b, e["content"]))
    out.sort()
    if any(out[i][1] > out[i + 1][0] for i in range(len(out) - 1)):
        return None
    return out


def newline_of(text: str) -> str:
    """The file's line ending (its first one; a line feed when it has none)."""
    m = NEWLINE.search(text)
    return m.group(0) if m else "\n"


def apply(text: str, diagnostics: Iterable, unsafe: bool = False) -> Tuple[str, list]:
    """(new text, the diagnostics whose fixes were applied): each applicable fix in source order,
    skipping one that overlaps (or touches the same point as) a fix already taken.  (A fix's code
    has the file's line endings already: the engine generates it with the module's.)"""
    starts = line_starts(text)
    taken: List[Tuple[int, int, str]] = []
    applied = []
    seen = set()
    for d in sorted((d for d in diagnostics if applicable(d, unsafe)), key=lambda d: d.sort_key()):
        key = (d.code, d.line, d.column, d.end_line, d.end_column, repr(d.fix.get("edits")))
        if key in seen:
            continue  # the same finding reported twice (a helper seen from two model_fns)
        edits = spans(text, d.fix, starts)
        if edits is None or any(_overlap(e, t) for e in edits for t in taken):
            continue
        seen.add(key)
        taken.extend(edits)
        applied.append(d)
    out = text
    for a, b, content in sorted(taken, reverse=True):
        out = out[:a] + content + out[b:]
    return out, applied


def _overlap(x: Sequence, y: Sequence) -> bool:
    return x[0] < y[1] and y[0] < x[1] or x[0] == y[0] or (x[0] == x[1] and y[0] <= x[0] <= y[1]) \
        or (y[0] == y[1] and x[0] <= y[0] <= x[1])


def unified_diff(path: str, before: str, after: str) -> str:
    """The change as a unified diff (`--- a/path` / `+++ b/path`, as `git diff` shows it)."""
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(a, b, f"a/{path}", f"b/{path}"):
        lines.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(lines)
