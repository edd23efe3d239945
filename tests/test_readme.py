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


def test_the_readme_shows_real_output():
    """The examples under "What it reports" are what speclint prints (each run of lines between
    `...` appears, in order, in the real output; doc links compared without their directory)."""
    import os
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## What it reports"):readme.index("## Rules")]
    blocks = re.findall(r"```\n\$ (speclint [^\n]*)\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    docs = re.compile(r"file:///\S*/(SL\d{3}-[\w-]+\.md)")
    for command, shown in blocks:
        args = command.split()[1:]
        proc = subprocess.run([sys.executable, "-m", "speclint", "--no-cache", *args], cwd=ROOT,
                              capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
        real = docs.sub(r"DOCS/\1", proc.stdout)
        position = 0
        for chunk in docs.sub(r"DOCS/\1", shown).split("...\n"):
            if chunk.strip():
                position = real.index(chunk, position) + len(chunk)  # ValueError: not in the output
