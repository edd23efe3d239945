"""GitHub Actions workflow commands: one `::error` / `::warning` annotation per diagnostic.

    ::error file=models/m.py,line=42,col=13,endLine=42,endColumn=41,title=speclint (SL005 name)::...

Escaping as GitHub's runner expects (@actions/core `escapeData` / `escapeProperty`): in the
message `%`, CR and LF become `%25`, `%0D`, `%0A`; property values also escape `:` and `,`.
"""
from __future__ import annotations

from speclint.report.paths import relative_to_root, repository_root

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result, **_) -> str:
    root = repository_root()
    out = []
    for d in result.diagnostics:
        path = relative_to_root(d.path, root) or d.path
        props = [("file", path), ("line", d.line), ("col", d.column), ("endLine", d.end_line),
                 ("endColumn", d.end_column), ("title", f"speclint ({d.code} {d.name})")]
        joined = ",".join(f"{k}={escape_property(str(v))}" for k, v in props)
        message = f"{path}:{d.line}:{d.column}: {d.code} [{d.name}] {d.message}"
        out.append(f"::{LEVELS.get(d.severity, 'warning')} {joined}::{escape_data(message)}")
    return "".join(line + "\n" for line in out)
