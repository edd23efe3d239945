"""`--output-format concise` (and its old name `text`): one line per diagnostic,
`path:line:col: SL005 [outfeed-scalar-tensor] message` with the whole message, sorted, then a
summary line.  With `--statistics`, the number of diagnostics per rule instead of the diagnostics
(as ruff prints them), for both text formats.  The summary line is shared with the full format.
"""
from __future__ import annotations

from collections import Counter

from speclint.report.style import style


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def location(d, color: bool) -> str:
    loc = f"{d.path}:{d.line}:{d.column}:"
    return style(loc, bold=True) if color else loc


def marker(d, result) -> str:
    """`[*] ` before the rule name of a diagnostic that `--fix` would fix (unsafe fixes only when
    the run has `--unsafe-fixes`), as ruff marks them."""
    return "[*] " if d.fixable(getattr(result, "unsafe_fixes", False)) else ""


def render(result, *, color: bool = False, quiet: bool = False, statistics: bool = False, **_) -> str:
    diags = result.diagnostics
    out = []
    if statistics:
        out.extend(statistics_lines(diags))
    else:
        for d in diags:
            code = d.code
            if color:
                code = style(code, fg="red" if d.severity == "error" else "yellow", bold=True)
            out.append(f"{location(d, color)} {code} {marker(d, result)}[{d.name}] {d.message}")
    if not quiet:
        out.append(summary(result))
        fixes = fix_summary(result)
        if fixes:
            out.append(fixes)
    return "\n".join(out) + ("\n" if out else "")


def statistics_lines(diags) -> list:
    """`COUNT  CODE  name` per rule, most frequent first."""
    counts = Counter((d.code, d.name) for d in diags)
    if not counts:
        return []
    width = max(len(str(n)) for n in counts.values())
    return [f"{n:>{width}}  {code}  {name}"
            for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def fix_summary(result) -> str:
    """`[*] N fixable with `--fix` ...` (empty when nothing is fixable), as ruff prints it."""
    unsafe = getattr(result, "unsafe_fixes", False)
    diags = result.diagnostics
    n = sum(1 for d in diags if d.fixable(unsafe))
    hidden = 0 if unsafe else sum(1 for d in diags if d.fixable(True) and not d.fixable(False))
    if not n:
        return ""  # only unsafe fixes: each is shown in the full format's `fix:` line
    flag = "`--fix --unsafe-fixes`" if unsafe else "`--fix`"
    more = (f" ({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with `--unsafe-fixes`)"
            if hidden else "")
    return f"[*] {n} fixable with {flag}{more}."


def summary(result) -> str:
    files = result.files
    diags = result.diagnostics
    checked = sum(1 for f in files if not f.skipped)
    skipped = sum(1 for f in files if f.skipped)
    baselined = getattr(result, "baselined", 0)
    hidden = f"; {_plural(baselined, 'diagnostic')} hidden by the baseline" if baselined else ""
    if not files:
        return "No Python files found."
    scope = f"{_plural(len(files), 'file')} ({checked} analysed, {skipped} skipped: they never mention Estimator)"
    if not diags:
        return f"All checks passed: {scope}{hidden}."
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = len(diags) - errors
    with_diags = len({d.path for d in diags})
    return (f"Found {_plural(len(diags), 'diagnostic')} ({_plural(errors, 'error')}, "
            f"{_plural(warnings, 'warning')}) in {_plural(with_diags, 'file')}; checked {scope}{hidden}.")
