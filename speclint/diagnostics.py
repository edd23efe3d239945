"""The one diagnostic type both engines produce."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A finding at a source range. Lines and columns are 1-based; end_column is exclusive.

    Columns count code points.  `url` is the rule's documentation (rulebook.docs_url).  `fix`, when
    a rule knows one, is {"applicability": "safe", "message": "...", "edits": [{"line", "column",
    "end_line", "end_column", "content"}]}: replace each range (same conventions) by `content`.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    severity: str  # "error" | "warning"
    message: str
    engine: str = "static"  # "static" | "runtime"
    url: Optional[str] = field(default=None, compare=False)
    fix: Optional[dict] = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.url is None and self.code.startswith("SL"):
            from speclint.rulebook import docs_url  # the one place rule links come from

            object.__setattr__(self, "url", docs_url(self.code, self.name))

    def fixable(self, unsafe: bool = False) -> bool:
        """Whether `--fix` applies this diagnostic's fix (`unsafe`: with `--unsafe-fixes`)."""
        fix = self.fix
        return bool(fix) and bool(fix.get("edits")) and (fix.get("applicability") == "safe" or unsafe)

    def to_json(self) -> dict:
        return asdict(self)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)
