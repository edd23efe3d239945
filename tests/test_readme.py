"""The README's newcomer commands stay true: `.ci/run` runs exactly the README's test command."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(python3 -m venv[^\n]*)\n```", readme)


def test_readme_has_the_two_commands_at_the_top():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run_examples, run_tests = _commands()[:2]
    assert "speclint fixtures/" in run_examples
    assert "pytest" in run_tests
    assert readme.index(run_tests) < readme.index("## What it reports")


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command.replace("-q .", "-q -e '.[test]'") in ci or test_command in ci
    assert [l for l in ci.splitlines() if l.startswith("python3 -m venv")] == [test_command]


def test_the_readme_rules_table_is_the_rulebook():
    """Regenerate with `speclint rules --output-format markdown` (tools/sync_readme.py)."""
    from speclint import rulebook
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rulebook.markdown_table(rulebook.load()) in readme
