"""Shared by the integration tests (SARIF, GitHub annotations, pre-commit, LSP, flake8): sample
model_fn files and how to run speclint and the external tools those tests drive."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".ci" / "tools" / "node_modules"  # where .ci/run installs the npm tools

from test_cli import BAD, BAD_LINE, GOOD  # noqa: E402,F401 - the CLI tests' model_fn: SL005 at BAD_LINE

TYPO = textwrap.dedent("""\
    import tensorflow as tf


    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(), eval_metric_op={})
    """)  # SL018 with a safe fix: eval_metric_op -> eval_metric_ops


def clean_env(**extra) -> dict:
    """The environment for a speclint subprocess: no CI variables that change path reporting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(extra)
    return env


def speclint(*args, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "speclint", *args], cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, timeout=120)


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git = ["git", "-c", "user.name=speclint tests", "-c", "user.email=tests@example.invalid"]
    subprocess.run(git + ["init", "-q", str(path)], check=True)
    return path


def npm_tool(env_var: str, *relative: str) -> Optional[Path]:
    """An npm-installed tool: `$env_var` if set (then it must exist: CI sets it), else where
    `.ci/run` installs it (`.ci/tools/node_modules/...`); None when it is not installed here."""
    configured = os.environ.get(env_var)
    if configured:
        path = Path(configured)
        if not path.exists():
            pytest.fail(f"{env_var}={configured} does not exist (.ci/run installs it with npm)")
        return path
    path = TOOLS.joinpath(*relative)
    return path if path.exists() else None


def require_npm_tool(env_var: str, *relative: str) -> Path:
    path = npm_tool(env_var, *relative)
    if path is None:
        pytest.skip(f"{'/'.join(relative)} is not installed: run the npm line of .ci/run "
                    f"(CI sets {env_var}, so there this test cannot skip)")
    return path

