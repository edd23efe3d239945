"""Parsing one file's bytes into a libcst module (or the reason it cannot be: SL000)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import libcst as cst

from speclint.static import reparse, safeparse


@dataclass
class Parsed:
    module: Optional[cst.Module]
    error: Optional[str] = None
    error_range: Tuple[int, int, int, int] = (1, 0, 1, 0)
    data: bytes = b""  # the bytes parsed (for the source text, without regenerating it)

    def source(self) -> str:
        """The module's text.  `module.code` regenerates it from the tree (0.05 s for 1,000
        lines); decoding the parsed bytes gives the same text."""
        try:
            text = self.data.decode(self.module.encoding)
        except (UnicodeDecodeError, LookupError, AttributeError):
            return self.module.code
        return text[1:] if text.startswith("\ufeff") else text


def parse(data: bytes, key: Optional[str] = None) -> Parsed:
    """The file is parsed by its top-level statements (`reparse.py`: a fraction of libcst's
    memory).  `key` names a document parsed again and again (a language server's): only the
    statements whose text changed since its last parse are parsed."""
    reason, outline = safeparse.check(data)
    if reason is not None:
        return Parsed(None, reason)
    if outline:
        module = safeparse.run_with_big_stack(reparse.parse_module, data, outline, key)
        if module is not None:
            return Parsed(module, data=data)
    parsed = _parse(data)
    if parsed.error is not None and parsed.error.startswith("syntax error") and b"\f" in data:
        # libcst rejects a form feed in indentation ("no matching outer block for dedent"), which
        # Python accepts (it resets the column); retry with those form feeds removed.
        retry = _parse(safeparse.without_indent_formfeeds(data))
        if retry.error is None:
            return retry
    return parsed


def _parse(data: bytes) -> Parsed:
    try:
        return Parsed(safeparse.run_with_big_stack(cst.parse_module, data), data=data)
    except cst.ParserSyntaxError as exc:
        cpython = safeparse.cpython_syntax_error(data)  # Python's own words and position, if it agrees
        if cpython is not None:
            return Parsed(None, "syntax error: " + cpython[0], cpython[1])
        line = max(exc.raw_line, 1)
        col = max(exc.raw_column, 0)
        return Parsed(None, "syntax error: " + exc.message.splitlines()[0], (line, col, line, col))
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
        return Parsed(None, f"cannot decode the file ({exc})")
    except RecursionError:
        return Parsed(None, "the code is nested too deeply to parse")
    except Exception as exc:  # noqa: BLE001 - libcst raises odd errors on odd input
        return Parsed(None, f"cannot parse the file ({type(exc).__name__}: {exc})")
