"""Each rule's doc is its test: Example blocks are flagged exactly where annotated, Use instead
blocks are clean (Fixit-style VALID/INVALID cases that are documentation at the same time)."""
import pytest

from expect import actual, expected, mismatches
from speclint import rulebook
from speclint.static.checks.runner import registered_codes

BOOK = rulebook.load()
STATIC = [r for r in BOOK if "static" in r.engines and r.code != "SL000"]


def test_rulebook_loads_and_is_consistent():
    assert BOOK.lookup("SL005").name == "outfeed-scalar-tensor"
    assert BOOK.lookup("outfeed-scalar-tensor").code == "SL005"
    for rule in BOOK:
        for section in ("## What it does", "## Why is this bad?"):
            assert section in rule.doc, f"{rule.code} lacks {section}"
    # every static rule has a check, and every check a rule (SL1xx meta rules are the pipeline's)
    assert registered_codes() == {r.code for r in STATIC if not r.code.startswith("SL1")}


@pytest.mark.parametrize("rule", STATIC, ids=lambda r: r.code)
def test_bad_examples_are_flagged_where_annotated(rule):
    blocks = rule.examples().get("Example", [])
    assert blocks, f"{rule.code} has no Example block"
    for block in blocks:
        assert any(code == rule.code for _, code in expected(block)), \
            f"{rule.code}: an Example block has no `# expect: {rule.code}`"
        assert mismatches(block, f"{rule.code}-example.py") == []


@pytest.mark.parametrize("rule", STATIC, ids=lambda r: r.code)
def test_good_examples_are_clean(rule):
    blocks = rule.examples().get("Use instead", [])
    assert blocks, f"{rule.code} has no Use instead block"
    for block in blocks:
        got, diags = actual(block, f"{rule.code}-good.py")
        assert not diags, [f"{d.line}: {d.code} {d.message[:100]}" for d in diags]


@pytest.mark.parametrize("rule", [r for r in BOOK if "static" in r.engines], ids=lambda r: r.code)
def test_messages_format_with_the_parameters_checks_pass(rule):
    for variant, template in rule.messages.items():
        assert template.strip(), (rule.code, variant)
