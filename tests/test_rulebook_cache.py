"""The rulebook's parsed front matter, kept beside the bytecode (speclint.bytecache): the same
rules with it as without, keyed by the exact text (an edited rule is parsed again), and only the
current rules' entries kept."""
import sys

import pytest

from speclint import bytecache, rulebook


@pytest.fixture
def kept(tmp_path, monkeypatch):
    """The front matter table under tmp_path, bytecode writes allowed, no rulebook loaded."""
    monkeypatch.setattr(bytecache, "path_for", lambda stem: str(tmp_path / f"{stem}.marshal"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    rulebook.load.cache_clear()
    yield tmp_path / f"{rulebook.PARSED_FRONT_MATTER}.marshal"
    rulebook.load.cache_clear()


def _fields(book):
    return [(r.code, r.name, r.severity, r.summary, r.engines, r.doc, r.path, r.messages, r.shorts, r.tpu_only,
             r.default_enabled) for r in book]


def test_the_rulebook_is_the_same_from_the_kept_front_matter(kept, monkeypatch):
    first = rulebook.load()
    assert kept.exists()
    assert len(bytecache.read(str(kept))) == len(first.rules) > 40
    rulebook.load.cache_clear()

    def no_parse(text):
        raise AssertionError("parsed again")

    monkeypatch.setattr(rulebook.toml(), "loads", no_parse)
    second = rulebook.load()
    assert _fields(second) == _fields(first)


def test_an_edited_front_matter_is_parsed_again(tmp_path):
    rule = tmp_path / "SL999-made-up.md"
    rule.write_text('+++\ncode = "SL999"\nname = "made-up"\nseverity = "error"\nsummary = "new"\n'
                    'engines = ["static"]\nmessages = { default = "m" }\n+++\nDoc.\n', encoding="utf-8")
    front = rule.read_text().split("+++\n")[1].rstrip("\n")
    stale = {"code": "SL999", "name": "made-up", "severity": "error", "summary": "old", "engines": ["static"],
             "messages": {"default": "m"}}
    used = {}
    assert rulebook.parse_rule(rule, {front: stale}, used).summary == "old"  # the same text: served
    assert used == {front: stale}
    rule.write_text(rule.read_text().replace('"new"', '"edited"'), encoding="utf-8")
    used = {}
    assert rulebook.parse_rule(rule, {front: stale}, used).summary == "edited"  # another text: parsed
    assert [m["summary"] for m in used.values()] == ["edited"]


def test_only_the_current_rules_are_kept(kept):
    rulebook.load()
    table = bytecache.read(str(kept))
    bytecache.write(str(kept), dict(table, **{"code = 'SL000'\n(a rule since removed)": {}}))
    rulebook.load.cache_clear()
    rulebook.load()
    assert bytecache.read(str(kept)) == table


def test_nothing_written_when_python_writes_no_bytecode(kept, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    rulebook.load()
    assert not kept.exists()
