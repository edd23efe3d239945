"""The one diagnostic type both engines produce."""
from __future__ import annotations

from speclint.record import Frozen


class Diagnostic(Frozen):
    """A finding at a source range. Lines and columns are 1-based; end_column is exclusive.

    Columns count code points.  `url` is the rule's documentation (rulebook.docs_url).  `fix`, when
    a rule knows one, is {"applicability": "safe", "message": "...", "edits": [{"line", "column",
    "end_line", "end_column", "content"}]}: replace each range (same conventions) by `content`.
    Diagnostics compare, hash and sort by their first ten fields (not `url`, not `fix`).
    """

    FIELDS = ("path", "line", "column", "end_line", "end_column", "code", "name", "severity", "message",
              "engine", "url", "fix")
    COMPARED = FIELDS[:10]

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    severity: str  # "error" | "warning"
    message: str
    engine: str  # "static" | "runtime"
    url: str | None
    fix: dict | None

    def __init__(self, path: str, line: int, column: int, end_line: int, end_column: int, code: str, name: str,
                 severity: str, message: str, engine: str = "static", url: str | None = None,
                 fix: dict | None = None) -> None:
        if url is None and code.startswith("SL"):
            from speclint.rulebook import docs_url  # the one place rule links come from

            url = docs_url(code, name)
        self._set(path=path, line=line, column=column, end_line=end_line, end_column=end_column, code=code,
                  name=name, severity=severity, message=message, engine=engine, url=url, fix=fix)

    def __lt__(self, other):
        return self.compared() < other.compared() if other.__class__ is self.__class__ else NotImplemented

    def __le__(self, other):
        return self.compared() <= other.compared() if other.__class__ is self.__class__ else NotImplemented

    def __gt__(self, other):
        return self.compared() > other.compared() if other.__class__ is self.__class__ else NotImplemented

    def __ge__(self, other):
        return self.compared() >= other.compared() if other.__class__ is self.__class__ else NotImplemented

    def fixable(self, unsafe: bool = False) -> bool:
        """Whether `--fix` applies this diagnostic's fix (`unsafe`: with `--unsafe-fixes`)."""
        fix = self.fix
        return bool(fix) and bool(fix.get("edits")) and (fix.get("applicability") == "safe" or unsafe)

    def to_json(self) -> dict:
        """The fields as a new dict (the fix copied, as `dataclasses.asdict` copied it)."""
        return {f: _copied(getattr(self, f)) for f in self.FIELDS}

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)


def _copied(value):
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    return value
