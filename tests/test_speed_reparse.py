"""`static/reparse.py`: a document parsed again after an edit, by top-level statement, is the
module a whole-file parse gives (node for node), and unchanged statements are not parsed again."""
from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from speclint.static import parse as P
from speclint.static import reparse, safeparse

ROOT = Path(__file__).resolve().parents[1]
REAL = sorted((ROOT / "speclint").rglob("*.py")) + sorted((ROOT / "fixtures").rglob("*.py")) \
    + sorted((ROOT / "bench").rglob("*.py"))


def _both(data: bytes, key: str = "doc"):
    reason, tree = safeparse.check(data)
    assert reason is None and tree is not None
    return cst.parse_module(data), reparse.parse_module(data, tree, key)


@pytest.mark.parametrize("path", REAL, ids=lambda p: str(p.relative_to(ROOT)))
def test_real_files_put_together_equal_a_whole_parse(path):
    reparse.clear()
    whole, pieces = _both(path.read_bytes())
    assert pieces is not None
    assert pieces.deep_equals(whole)
    assert pieces.code == whole.code


EDGE = {
    "mixed newlines": "import os\r\ndef f():\n    return os\n",
    "segment indented otherwise": "def f():\n  return 1\n\n\ndef g():\n    return 2\n",
    "indented comment after a block": "def f():\n    x = 1\n    # about f\n\n# about g\ndef g():\n    pass\n",
    "two-space indent, decorators": "import a\n\n\n@a.b(1)\n@c\ndef f(x):\n  if x:\n    return 1\n  return 2\n",
    "first block a one-line suite": "if x: pass\nelse:\n\tz = 1\nclass A:\n    y = 2\n",
    "semicolons": "a = 1; b = 2\nc = 3\n",
    "elif blocks first": "if a: x\nelif b: y\nelif c:\n   z\nelse: w\ndef f():\n   return 1\n",
    "CRLF newlines": "import os\r\n\r\ndef f():\r\n    return os\r\n",
    "no final newline": "x = (1,\n     2)\ny = 3",
    "continuation": "x = 1 + \\\n    2\ny = x\n",
    "only comments": "# nothing\n# here\n",
    "empty": "",
    "comments at the end": "x = 1\n\n# trailing\n",
    "utf-8 cookie": "# -*- coding: utf-8 -*-\ns = 'é'\n",
    "nested blocks first": "try:\n    import a\nexcept ImportError:\n        a = None\n",
}


@pytest.mark.parametrize("name", sorted(EDGE))
def test_edge_cases_equal_a_whole_parse(name):
    reparse.clear()
    data = EDGE[name].encode("utf-8")
    whole, pieces = _both(data)
    if name in ("empty", "only comments"):  # no statement: parsed whole
        assert pieces is None and P.parse(data, key="doc").module.deep_equals(whole)
        return
    if pieces is None:  # a segment whose own indentation or newline is not the file's: whole
        assert name in ("mixed newlines", "segment indented otherwise", "first block a one-line suite")
        assert P.parse(data, key="doc").module.deep_equals(whole)
        return
    assert pieces.deep_equals(whole) and pieces.code == whole.code


def test_not_utf8_or_bom_is_parsed_whole():
    for data in (b"\xef\xbb\xbfx = 1\n", "# coding: latin-1\ns = 'é'\n".encode("latin-1"), b"x = 1\n\f\ny = 2\n"):
        reparse.clear()
        _, tree = safeparse.check(data)
        assert reparse.parse_module(data, tree, "doc") is None
        assert P.parse(data, key="doc").module.deep_equals(cst.parse_module(data))


def test_an_edit_parses_only_the_statements_it_changed():
    reparse.clear()
    src = (ROOT / "fixtures").glob("*.py")
    text = max(src, key=lambda p: p.stat().st_size).read_text(encoding="utf-8")
    first = P.parse(text.encode(), key="doc").module
    lines = text.splitlines(keepends=True)
    # an edit inside the last top-level statement
    edited = "".join(lines) + "\n_edit = 1\n"
    second = P.parse(edited.encode(), key="doc").module
    assert second.deep_equals(cst.parse_module(edited.encode()))
    reused = sum(1 for a, b in zip(first.body, second.body) if a is b)
    assert reused >= len(first.body) - 2 and len(first.body) > 5
    # another document is parsed on its own
    other = P.parse(b"y = 2\n", key="other").module
    assert other.code == "y = 2\n"


def test_a_syntax_error_after_an_edit_is_reported_as_by_a_whole_parse():
    reparse.clear()
    P.parse(b"def f():\n    return 1\n", key="doc")
    broken = b"def f():\n    return 1\nprint 'x'\n"
    assert P.parse(broken, key="doc").error == P.parse(broken).error is not None


def test_an_edit_inside_a_method_parses_that_part_of_the_class_only():
    reparse.clear()
    text = (ROOT / "speclint" / "lsp.py").read_text(encoding="utf-8")
    first = P.parse(text.encode(), key="doc").module
    marker = "        self.debounce = DEBOUNCE_SECONDS\n"
    assert marker in text
    edited = text.replace(marker, marker + "        self._edited = 1\n")
    second = P.parse(edited.encode(), key="doc").module
    assert second.deep_equals(cst.parse_module(edited.encode()))
    cls = [i for i, s in enumerate(first.body) if isinstance(s, cst.ClassDef) and s.name.value == "SpeclintServer"][0]
    old_methods, new_methods = first.body[cls].body.body, second.body[cls].body.body
    reused = sum(1 for a, b in zip(old_methods, new_methods) if a is b)
    assert len(old_methods) > 10 and reused >= len(old_methods) - 2


TRICKY = '''import os
def f(x):
    """A docstring that looks like code:
def g():
    return 1
else:
"""
    return x
@dec
class A(
    Base):
    x = 1
if x:
    y = 1
else:
    y = 2
try:
    pass
except E:
    pass
finally:
    pass
z = (1,
2)
s = \\
    3
w = """
@notdec
"""
'''


@pytest.mark.parametrize("chunk", [16, 40, 200])
def test_a_file_compiled_in_parts_has_the_outline_of_a_whole_compile(monkeypatch, chunk):
    datas = [TRICKY.encode() * 3, (ROOT / "speclint" / "lsp.py").read_bytes(),
             (ROOT / "speclint" / "static" / "analyzer.py").read_bytes()]
    wholes = [safeparse.check(d) for d in datas]  # (each under 2 * CHUNK_BYTES: one part)
    monkeypatch.setattr(safeparse, "CHUNK_BYTES", chunk)
    for data, whole in zip(datas, wholes):
        assert len(data) > 2 * chunk
        assert safeparse.check(data) == whole and whole[1]
    # errors are the file's, wherever they are
    for bad in (TRICKY + "def broken(:\n    pass\n" + TRICKY, TRICKY + "x = " + "(" * 300 + ")" * 300 + "\n",
                TRICKY + "y = " + " + ".join(["a"] * 1200) + "\n" + TRICKY):
        monkeypatch.setattr(safeparse, "CHUNK_BYTES", 10**9)
        expected = safeparse.check(bad.encode())
        monkeypatch.setattr(safeparse, "CHUNK_BYTES", chunk)
        assert safeparse.check(bad.encode()) == expected and expected[1] is None


def test_a_large_file_is_compiled_in_parts_and_parsed_by_statements():
    big = ("def helper_%d(x):\n    return [x, {'k': x}]\n\n" * 4000) % tuple(range(4000))
    data = big.encode()
    assert len(data) > 2 * safeparse.CHUNK_BYTES
    reason, outline = safeparse.check(data)
    assert reason is None and len(outline) == 4000 and outline[-1].end == 4000 * 3 - 1
    assert P.parse(data).module.deep_equals(cst.parse_module(data))


def test_parsing_skips_libcst_validation_only_while_it_parses():
    # libcst's own parser builds valid nodes; speclint turns libcst's per-node validation off while
    # it parses (static/parse.py) and must put it back: a malformed node built after still raises.
    from speclint.static import parse as parse_mod

    source = b"import tensorflow as tf\n\n\ndef f(x):\n    return tf.reduce_sum(x)  # c\n"
    parse_mod.clear()
    parsed = parse_mod.parse(source)
    assert parsed.module is not None and parsed.module.deep_equals(cst.parse_module(source))
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleWhitespace("not whitespace")
    with parse_mod.parser_nodes():
        cst.SimpleWhitespace("not whitespace")  # unchecked within
        with parse_mod.parser_nodes():  # nested (another parse): still unchecked, then restored once
            cst.SimpleWhitespace("x")
        cst.SimpleWhitespace("y")
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleWhitespace("not whitespace")
