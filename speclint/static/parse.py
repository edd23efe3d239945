"""Parsing one file's bytes into a libcst module (or the reason it cannot be: SL000)."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional, Tuple

import libcst as cst

from speclint.static import reparse, safeparse
from speclint.static.reparse import parser_nodes  # noqa: F401 - (speclint.static.parse.parser_nodes)


@dataclass
class Parsed:
    module: Optional[cst.Module]
    error: Optional[str] = None
    error_range: Tuple[int, int, int, int] = (1, 0, 1, 0)
    data: bytes = b""  # the bytes parsed (for the source text, without regenerating it)
    tops: tuple = ()  # (first line, last line) of each top-level statement, from CPython's tree

    def source(self) -> str:
        """The module's text.  `module.code` regenerates it from the tree (0.05 s for 1,000
        lines); decoding the parsed bytes gives the same text."""
        try:
            text = self.data.decode(self.module.encoding)
        except (UnicodeDecodeError, LookupError, AttributeError):
            return self.module.code
        return text[1:] if text.startswith("\ufeff") else text


# The same bytes are parsed more than once in a run: a module as another file's helper or user
# (`modules.py`, `project_view.py`) and as a file of its own; 20% of the lines a cold run over the
# 19 repositories of bench/bench_tree.py parsed were such repeats.  libcst's trees are immutable,
# so the last few parses are kept by content (and by total size: a tree holds ~100 MiB per MiB).
_MEMO_ENTRIES = 16
_MEMO_BYTES = 2 * 1024 * 1024
_MEMO: "OrderedDict[bytes, Parsed]" = OrderedDict()


# Without a key, the bodies of a file's eligible functions are parsed when first read
# (`lazydefs.py`): most bodies of a model file are never run by the analysis.  Tests turn this
# off to compare findings with whole parses.
LAZY_BODIES = True


def parse(data: bytes, key: Optional[str] = None) -> Parsed:
    """The file is parsed by its top-level statements (`reparse.py`: a fraction of libcst's
    memory), its eligible function bodies when first read (`LAZY_BODIES`).  `key` names a
    document parsed again and again (a language server's): only the statements whose text
    changed since its last parse are parsed, all of them at once.  Without a key, the same bytes
    parsed recently give the same `Parsed` (a module followed from other files and checked as a
    file of its own is parsed once)."""
    if key is not None:
        return _parse_file(data, key)
    hit = _MEMO.get(data)
    if hit is not None:
        _MEMO.move_to_end(data)
        return hit
    parsed = _parse_file(data, None, lazy=LAZY_BODIES)
    if parsed.module is not None and len(data) <= _MEMO_BYTES // 4:  # (SL000s: cheap, and the limits are settings)
        _MEMO[data] = parsed
        while len(_MEMO) > _MEMO_ENTRIES or sum(len(d) for d in _MEMO) > _MEMO_BYTES:
            _MEMO.popitem(last=False)
    return parsed


def parse_whole(data: bytes) -> Parsed:
    """The file parsed at once, bodies included (what a lazy body libcst rejects means for the
    file: `engine._analyse`)."""
    return _parse_file(data, None)


def clear() -> None:
    """Forget the parses kept (tests; a language server's checker after many edits)."""
    _MEMO.clear()


def _parse_file(data: bytes, key: Optional[str], lazy: bool = False) -> Parsed:
    reason, outline = safeparse.check(data, lazy=lazy)
    if reason is not None:
        return Parsed(None, reason)
    with parser_nodes():
        return _parse_checked(data, outline, key, lazy)


def _parse_checked(data: bytes, outline, key: Optional[str], lazy: bool = False) -> Parsed:
    tops = tuple((t.first, t.end) for t in outline) if outline else ()
    if outline:
        module = safeparse.run_with_big_stack(reparse.parse_module, data, outline, key, lazy)
        if module is not None:
            return Parsed(module, data=data, tops=tops)
    parsed = _parse(data)
    if parsed.module is not None:
        parsed.tops = tops
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
