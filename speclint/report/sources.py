"""The source lines of reported files, read once per run, for the reporters that quote or hash them
(the code frame of the full text format, SARIF and baseline fingerprints).

Lines are split where Python and the language server split them (`\\r\\n`, `\\r`, `\\n`; not at
form feeds or `\\u2028`); a byte-order mark is dropped.  Bytes that are not UTF-8 are replaced
(one character per byte, so the columns of a latin-1 file still line up).  Text that is not on
disk (stdin, an editor's buffer) is given as an override for its reported path.
"""
from __future__ import annotations

import re

NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines as the engine counts their columns (a byte-order mark is not part of the first)."""
    return NEWLINE.split(text[1:] if text.startswith("\ufeff") else text)


class Sources:
    def __init__(self, overrides: dict[str, str] | None = None):
        self._lines: dict[str, list[str] | None] = {
            path: split_lines(text) for path, text in (overrides or {}).items()}

    def lines(self, path: str) -> list[str] | None:
        """The lines of the file reported as `path` (relative to the current directory or
        absolute), or None when it cannot be read (stdin, a file gone since)."""
        if path not in self._lines:
            if path == "-":
                self._lines[path] = None
            else:
                try:
                    with open(path, "rb") as fh:
                        text = fh.read().decode("utf-8", errors="replace")
                    self._lines[path] = split_lines(text)
                except OSError:
                    self._lines[path] = None
        return self._lines[path]
