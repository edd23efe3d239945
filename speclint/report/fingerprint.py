"""Line-independent fingerprints of diagnostics, shared by SARIF (`primaryLocationLineHash`) and
the baseline (`speclint --baseline`).

A fingerprint is `HASH:N`: HASH depends on the rule, the file's path (as the consumer keys it: SARIF
relative to the repository root, a baseline relative to its own directory), the text of the flagged
line and the text of the flagged expression, with runs of whitespace collapsed; N counts the
identical findings up to this one in the file (1 for the first).  So moving code up or down,
re-indenting it or editing other lines keeps a finding's fingerprint; changing the flagged line
itself, renaming the file or fixing an identical finding above it does not.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable


def key(d, path: str, lines: list[str] | None) -> str:
    """Hash of rule, file, flagged line and flagged text: independent of the line number."""
    line_text = flagged = ""
    if lines and 0 < d.line <= len(lines):
        line_text = lines[d.line - 1]
        if d.end_line == d.line:
            flagged = line_text[d.column - 1:d.end_column - 1]
        else:
            flagged = line_text[d.column - 1:] + "\n" + "\n".join(lines[d.line:d.end_line - 1]) + "\n" + (
                lines[d.end_line - 1][:d.end_column - 1] if d.end_line <= len(lines) else "")
    else:  # the source is gone (stdin): the message names the expression
        flagged = d.message
    material = "\0".join((d.code, path, " ".join(line_text.split()), " ".join(flagged.split())))
    import hashlib  # here: not at start-up of a run that prints text

    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def fingerprints(diagnostics: Iterable, path_of: Callable[[object], str], sources) -> list[str]:
    """`HASH:N` for each diagnostic, in the order given (which must be the run's sorted order:
    N counts identical findings before this one).  `path_of(d)` is the path to hash;
    `sources` a `sources.Sources`."""
    seen: Counter = Counter()
    out = []
    for d in diagnostics:
        k = key(d, path_of(d), sources.lines(d.path))
        seen[k] += 1
        out.append(f"{k}:{seen[k]}")
    return out
