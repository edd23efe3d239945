"""The pre-commit hook, through the real pre-commit: `pre-commit try-repo` installs speclint from
this checkout (as users get it from `repo:`/`rev:`) into pre-commit's own environment, without
TensorFlow, and runs the `speclint` hook from .pre-commit-hooks.yaml on the files it passes.

Proves: the manifest is valid for pre-commit; the hook fails on a file with a misuse and shows the
diagnostic (path:line:col: SL005 ...); it passes on a clean file; files excluded by the user's
`[tool.speclint] extend-exclude` are not checked even though pre-commit names them; the hook runs
in one process (require_serial), so findings across modules are whole; the configured baseline
applies.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from integrations_support import BAD, BAD_LINE, GOOD, ROOT, TYPO, clean_env, git_repo

GIT = ["git", "-c", "user.name=speclint tests", "-c", "user.email=tests@example.invalid"]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """This checkout as a git repository pre-commit can clone: the checkout itself when it is one
    (try-repo includes uncommitted changes), else a committed copy of the files the hook needs."""
    if (ROOT / ".git").exists():
        return ROOT
    copy = git_repo(tmp_path_factory.mktemp("hook") / "speclint")
    for name in ("speclint", "rules"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, copy / name)
    subprocess.run(GIT + ["add", "-A"], cwd=copy, check=True)
    subprocess.run(GIT + ["commit", "-qm", "speclint"], cwd=copy, check=True)
    return copy


def try_repo(hook_repo, user_repo, home, *files, hook="speclint"):
    env = clean_env(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook, "--verbose",
         "--files", *files],
        cwd=user_repo, env=env, capture_output=True, text=True, timeout=900)


def test_hook_fails_on_a_misuse_and_passes_on_clean_code(hook_repo, tmp_path):
    user = git_repo(tmp_path / "user")
    (user / "train").mkdir()
    (user / "train" / "bad_model.py").write_text(BAD, encoding="utf-8")
    (user / "train" / "good_model.py").write_text(GOOD, encoding="utf-8")
    (user / "third_party").mkdir()
    (user / "third_party" / "vendored.py").write_text(BAD, encoding="utf-8")
    (user / "pyproject.toml").write_text('[tool.speclint]\nextend-exclude = ["third_party"]\n', encoding="utf-8")
    subprocess.run(GIT + ["add", "-A"], cwd=user, check=True)
    home = tmp_path / "pre-commit-home"

    bad = try_repo(hook_repo, user, home, "train/bad_model.py")
    out = bad.stdout + bad.stderr
    assert bad.returncode == 1, out
    assert "speclint" in out and "Failed" in out
    assert f"train/bad_model.py:{BAD_LINE}:" in out and "SL005 [outfeed-scalar-tensor]" in out

    good = try_repo(hook_repo, user, home, "train/good_model.py", "third_party/vendored.py")
    out = good.stdout + good.stderr
    assert good.returncode == 0, out
    assert "Passed" in out and "SL005" not in out


def test_the_manifest_runs_the_hook_serially():
    manifest = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    hooks = manifest.split("\n- id: ")[1:]
    assert [h.split("\n")[0] for h in hooks] == ["speclint", "speclint-fix"]
    assert all("\n  require_serial: true\n" in h + "\n" for h in hooks)
    assert "entry: speclint check --force-exclude --fix\n" in hooks[1]


def test_the_fix_hook_fixes_the_staged_files_and_fails_until_they_are_staged(hook_repo, tmp_path):
    """`speclint-fix` (issue 13): the safe fix is written (pre-commit fails the hook because a file
    changed), the unsafe one is not (its finding is reported); a second run changes nothing."""
    user = git_repo(tmp_path / "user")
    (user / "typo.py").write_text(TYPO, encoding="utf-8")
    (user / "scalar.py").write_text(BAD, encoding="utf-8")  # SL005: an unsafe fix only
    subprocess.run(GIT + ["add", "-A"], cwd=user, check=True)
    home = tmp_path / "home"
    first = try_repo(hook_repo, user, home, "typo.py", "scalar.py", hook="speclint-fix")
    out = first.stdout + first.stderr
    assert first.returncode == 1, out
    assert "files were modified by this hook" in out and "Fixed 1 diagnostic in 1 file." in out, out
    fixed = (user / "typo.py").read_text(encoding="utf-8")
    assert fixed == TYPO.replace("eval_metric_op=", "eval_metric_ops="), fixed
    assert (user / "scalar.py").read_text(encoding="utf-8") == BAD
    assert "scalar.py:" in out and "SL005 [outfeed-scalar-tensor]" in out
    subprocess.run(GIT + ["add", "-A"], cwd=user, check=True)
    second = try_repo(hook_repo, user, home, "typo.py", hook="speclint-fix")
    assert second.returncode == 0, second.stdout + second.stderr
    assert (user / "typo.py").read_text(encoding="utf-8") == fixed


def test_a_finding_across_modules_is_whole_and_summarised_once(hook_repo, tmp_path):
    """pre-commit splits the files of a hook that may run in parallel across processes; speclint
    then saw builders.py (the host_call helper) apart from run_classifier.py (which passes it a
    scalar) and printed one summary per process.  With require_serial, one process sees all."""
    user = git_repo(tmp_path / "user")
    shutil.copytree(ROOT / "fixtures" / "xmod_bert", user / "xmod_bert")
    subprocess.run(GIT + ["add", "-A"], cwd=user, check=True)
    files = sorted(p.relative_to(user).as_posix() for p in (user / "xmod_bert").glob("*.py"))
    expected = subprocess.run([sys.executable, "-m", "speclint", "--no-cache", "--output-format", "concise", "-q",
                               *files], cwd=user, capture_output=True, text=True, env=clean_env()).stdout.splitlines()
    assert len(expected) == 6
    proc = try_repo(hook_repo, user, tmp_path / "home", *files)
    out = proc.stdout + proc.stderr
    headers = [line for line in out.splitlines() if re.match(r"xmod_bert/\w+\.py:\d+:\d+: SL\d{3} ", line)]
    assert [h.split(" ")[:2] for h in headers] == [e.split(" ")[:2] for e in expected], out
    assert len(re.findall(r"^(?:Found \d+ diagnostics? |All checks passed)", out, re.M)) == 1, out


def test_the_hook_honours_the_configured_baseline(hook_repo, tmp_path):
    user = git_repo(tmp_path / "user")
    (user / "model.py").write_text(BAD, encoding="utf-8")
    (user / "pyproject.toml").write_text('[tool.speclint]\nbaseline = "speclint-baseline.json"\n', encoding="utf-8")
    subprocess.run([sys.executable, "-m", "speclint", "--no-cache", "--write-baseline", "speclint-baseline.json",
                    "model.py"], cwd=user, check=True, env=clean_env())
    subprocess.run(GIT + ["add", "-A"], cwd=user, check=True)
    home = tmp_path / "home"
    known = try_repo(hook_repo, user, home, "model.py")
    assert known.returncode == 0, known.stdout + known.stderr
    assert "1 diagnostic hidden by the baseline" in known.stdout
    (user / "model.py").write_text("# moved down\n" + BAD.replace("[loss]))", "[loss, tf.reduce_sum(loss)]))")
                                   .replace("def host_fn(loss)", "def host_fn(loss, total)"), encoding="utf-8")
    new = try_repo(hook_repo, user, home, "model.py")
    out = new.stdout + new.stderr
    assert new.returncode == 1, out
    # the edited line's findings are new (the old one on it too: its line changed)
    assert re.findall(r"^model\.py:(\d+):\d+: (SL\d{3})", out, re.M) == [(str(BAD_LINE + 1), "SL005")] * 2, out
