"""Every fix against its rule's doc: applying the fixes of each `## Example` block (safe and unsafe
ones) leaves code that compiles, that the rule no longer flags where it was fixed, that has nothing
left to fix (a second `--fix` is a no-op), and no new findings of other rules.  Built from the
rulebook: a rule that gains a fix is tested here without a line of test code."""
import pytest

from expect import actual
from speclint import rulebook
from speclint.fixes import edits
from speclint.fixes.run import fix_text

BOOK = rulebook.load()
STATIC = [r for r in BOOK if "static" in r.engines and r.code != "SL000"]


def _diagnose(path):
    def run(text):
        class R:
            pass
        r = R()
        r.diagnostics = actual(text, path)[1]
        return r
    return run


def _fixable_blocks(rule):
    out = []
    for i, block in enumerate(rule.examples().get("Example", [])):
        diags = actual(block, f"{rule.code}-example-{i}.py")[1]
        if any(d.code == rule.code and d.fix for d in diags):
            out.append((i, block, diags))
    return out


FIXABLE = [r for r in STATIC if _fixable_blocks(r)]


def test_at_least_eight_rules_have_fixes_and_each_documents_its_safety():
    assert len(FIXABLE) >= 8, [r.code for r in FIXABLE]
    for rule in STATIC:
        documented = "## Fix safety" in rule.doc
        assert documented == (rule in FIXABLE), (rule.code, documented)


@pytest.mark.parametrize("rule", FIXABLE, ids=lambda r: r.code)
def test_fixing_the_example_removes_the_findings_it_fixes(rule):
    for i, block, before in _fixable_blocks(rule):
        path = f"{rule.code}-example-{i}.py"
        fixed_text, fixed, result, passes, stable = fix_text(block, _diagnose(path), unsafe=True)
        assert stable and fixed, (rule.code, i)
        compile(fixed_text, path, "exec")
        after = result.diagnostics
        assert not [d for d in after if edits.applicable(d, True)], "a second --fix would change something"
        n_fixed = sum(1 for d in fixed if d.code == rule.code)
        assert sum(d.code == rule.code for d in after) == sum(d.code == rule.code for d in before) - n_fixed, \
            [(d.line, d.message[:80]) for d in after if d.code == rule.code]
        new_codes = {d.code for d in after} - {d.code for d in before}
        assert not new_codes, (rule.code, i, new_codes, fixed_text)
        again, more, _, _, _ = fix_text(fixed_text, _diagnose(path), unsafe=True)
        assert again == fixed_text and not more


@pytest.mark.parametrize("rule", FIXABLE, ids=lambda r: r.code)
def test_safe_fixes_alone_also_leave_compiling_code(rule):
    for i, block, _ in _fixable_blocks(rule):
        path = f"{rule.code}-example-{i}.py"
        fixed_text, fixed, result, _, stable = fix_text(block, _diagnose(path), unsafe=False)
        assert stable
        compile(fixed_text, path, "exec")
        assert all(d.fix["applicability"] == "safe" for d in fixed)
