"""`path:line:col: SL005 [outfeed-scalar-tensor] message`, sorted, then a summary line."""
from __future__ import annotations

from collections import Counter

import click


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def render(result, *, color: bool = False, quiet: bool = False, statistics: bool = False) -> str:
    diags = result.diagnostics
    out = []
    for d in diags:
        loc = f"{d.path}:{d.line}:{d.column}:"
        code = d.code
        if color:
            loc = click.style(loc, bold=True)
            code = click.style(code, fg="red" if d.severity == "error" else "yellow", bold=True)
        out.append(f"{loc} {code} [{d.name}] {d.message}")
    if statistics and diags:
        counts = Counter((d.code, d.name) for d in diags)
        if out:
            out.append("")
        width = max(len(str(n)) for n in counts.values())
        for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"{n:>{width}}  {code}  {name}")
    if not quiet:
        out.append(summary(result))
    return "\n".join(out) + ("\n" if out else "")


def summary(result) -> str:
    files = result.files
    diags = result.diagnostics
    checked = sum(1 for f in files if not f.skipped)
    skipped = sum(1 for f in files if f.skipped)
    if not files:
        return "No Python files found."
    scope = f"{_plural(len(files), 'file')} ({checked} analysed, {skipped} skipped: they never mention Estimator)"
    if not diags:
        return f"All checks passed: {scope}."
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = len(diags) - errors
    with_diags = len({d.path for d in diags})
    return (f"Found {_plural(len(diags), 'diagnostic')} ({_plural(errors, 'error')}, "
            f"{_plural(warnings, 'warning')}) in {_plural(with_diags, 'file')}; checked {scope}.")
