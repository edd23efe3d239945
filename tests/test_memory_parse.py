"""What bounds the parse's memory: libcst is never given a large file at once (its parser peaks at
about 900 MiB per MiB of what it is given), and CPython's tree of a large file is built in parts.
Behaviour only: the figures are bench/bench_memory.py's."""
from __future__ import annotations

import libcst
import libcst as cst

from speclint.static import parse as P
from speclint.static import reparse, safeparse


def _source(n_functions: int) -> bytes:
    return "".join(f"def helper_{i}(x, y=None):\n    z = x + {i} * (y or 1)\n    return [z, {{'k': z}}]\n\n"
                   for i in range(n_functions)).encode()


def test_libcst_is_given_statements_not_the_file(monkeypatch):
    data = _source(1800)  # about 145 KB
    given = []
    real = libcst.parse_module
    monkeypatch.setattr(libcst, "parse_module", lambda text, *a, **k: given.append(len(text)) or real(text, *a, **k))
    compiled = []
    real_compile = safeparse._compile
    monkeypatch.setattr(safeparse, "_compile", lambda d: compiled.append(len(d)) or real_compile(d))
    module = P.parse(data).module
    assert module is not None and len(module.body) == 1800
    assert given and max(given) <= reparse.BATCH_BYTES < len(data) // 30
    # CPython's tree: parts of at least CHUNK_BYTES, none of them the whole file
    assert len(data) > 2 * safeparse.CHUNK_BYTES and len(compiled) >= 2 and max(compiled) < len(data)
    monkeypatch.setattr(libcst, "parse_module", real)
    assert module.deep_equals(cst.parse_module(data))


def test_a_file_over_the_limit_is_never_compiled_nor_parsed(monkeypatch):
    monkeypatch.setattr(safeparse, "MAX_PARSE_BYTES", 10_000)
    monkeypatch.setattr(safeparse, "_compile", lambda d: (_ for _ in ()).throw(AssertionError("compiled")))
    parsed = P.parse(_source(200))
    assert parsed.module is None and "too large" in parsed.error and "bytes" in parsed.error
