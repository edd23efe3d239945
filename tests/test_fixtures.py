"""Realistic modules in fixtures/: every `# expect: SLnnn` is reported, nothing else is."""
from pathlib import Path

import pytest

from expect import expected, mismatches

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").glob("*.py"))


def test_there_are_fixtures_for_every_static_rule():
    from speclint import rulebook
    seen = set()
    for f in FIXTURES:
        seen |= {code for _, code in expected(f.read_text(encoding="utf-8"))}
    wanted = {r.code for r in rulebook.load() if "static" in r.engines and r.code != "SL000"}
    assert wanted <= seen, f"no fixture exercises {sorted(wanted - seen)}"
    assert any(not expected(f.read_text(encoding="utf-8")) for f in FIXTURES), "no clean fixture"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture(path):
    assert mismatches(path.read_text(encoding="utf-8"), path.name) == []
