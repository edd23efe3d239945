"""Realistic modules in fixtures/: every `# expect: SLnnn` is reported, nothing else is.

The whole tree is linted in one run, as a user would (`speclint fixtures/`), so that helpers
imported from sibling modules and packages (the run's module index) are seen; each file's
annotations are then compared with the diagnostics reported at that file.
"""
import functools
import os
from collections import Counter
from pathlib import Path

import pytest

from expect import expected

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURES = sorted(ROOT.rglob("*.py"))


@functools.lru_cache(maxsize=1)
def _run():
    from speclint import engine
    from speclint.config import Resolver

    result = engine.check_paths([str(ROOT)], Resolver(overrides={"select": ("ALL",)}))
    assert not result.internal_errors, [(f.path, f.internal_error) for f in result.internal_errors]
    by_file = {}
    for d in result.diagnostics:
        by_file.setdefault(os.path.abspath(d.path), []).append(d)
    return by_file


def test_there_are_fixtures_for_every_static_rule():
    from speclint import rulebook
    seen = set()
    for f in FIXTURES:
        seen |= {code for _, code in expected(f.read_text(encoding="utf-8"))}
    wanted = {r.code for r in rulebook.load() if "static" in r.engines and r.code != "SL000"}
    assert wanted <= seen, f"no fixture exercises {sorted(wanted - seen)}"
    assert any(not expected(f.read_text(encoding="utf-8")) for f in FIXTURES), "no clean fixture"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fixture(path):
    want = expected(path.read_text(encoding="utf-8"))
    diags = _run().get(str(path), [])
    got = Counter((d.line, d.code) for d in diags)
    problems = []
    for key in sorted(set(want) | set(got)):
        if want[key] != got[key]:
            msgs = [d.message for d in diags if (d.line, d.code) == key]
            problems.append(f"{path.name}:{key[0]}: {key[1]} expected {want[key]}, got {got[key]}"
                            + (f" -- {msgs[0][:160]}" if msgs else ""))
    assert problems == []
