"""The pre-commit hook, through the real pre-commit: `pre-commit try-repo` installs speclint from
this checkout (as users get it from `repo:`/`rev:`) into pre-commit's own environment, without
TensorFlow, and runs the `speclint` hook from .pre-commit-hooks.yaml on the files it passes.

Proves: the manifest is valid for pre-commit; the hook fails on a file with a misuse and shows the
diagnostic (path:line:col: SL005 ...); it passes on a clean file; files excluded by the user's
`[tool.speclint] extend-exclude` are not checked even though pre-commit names them.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from integrations_support import BAD, BAD_LINE, GOOD, ROOT, clean_env, git_repo

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


def try_repo(hook_repo, user_repo, home, *files):
    env = clean_env(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "speclint", "--verbose",
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
