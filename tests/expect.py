"""`# expect: SLnnn[, SLnnn...]` annotations versus what speclint reports.

Used by the rule-doc and fixture tests; also runnable: `python tests/expect.py FILE...` prints
every mismatch (missing or unexpected diagnostics) and exits 1 if there is any.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>SL\d{3}(?:\s*,\s*SL\d{3})*)")


def expected(source: str) -> Counter:
    out: Counter = Counter()
    for lineno, line in enumerate(source.splitlines(), 1):
        m = _EXPECT.search(line)
        if m:
            for code in re.split(r"\s*,\s*", m.group("codes")):
                out[(lineno, code)] += 1
    return out


def actual(source: str, path: str = "example.py", target: str = "auto", select=("ALL",)) -> tuple:
    from speclint import engine
    from speclint.config import Config

    config = Config(root=Path.cwd(), select=tuple(select), target=target)
    result = engine.check_source(source.encode("utf-8"), path, config)
    assert result.internal_error is None, result.internal_error
    return Counter((d.line, d.code) for d in result.diagnostics), result.diagnostics


def mismatches(source: str, path: str = "example.py", target: str = "auto") -> list:
    want = expected(source)
    got, diags = actual(source, path, target)
    problems = []
    for key in sorted(set(want) | set(got)):
        if want[key] != got[key]:
            line, code = key
            msgs = [d.message for d in diags if (d.line, d.code) == key]
            problems.append(f"{path}:{line}: {code} expected {want[key]}, got {got[key]}"
                            + (f" -- {msgs[0][:160]}" if msgs else ""))
    return problems


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    bad = 0
    for name in sys.argv[1:]:
        for p in mismatches(Path(name).read_text(encoding="utf-8"), name):
            print(p)
            bad += 1
    sys.exit(1 if bad else 0)
