"""Paths as CI services want them: relative to the repository root, with forward slashes.

Diagnostics carry the path they were reported under (relative to the current directory when
under it).  GitHub annotations and SARIF results need the path relative to the repository root
instead: `$GITHUB_WORKSPACE` on GitHub Actions, else the nearest directory above the current one
that holds `.git`, else the current directory.
"""
from __future__ import annotations

import os
from pathlib import Path


def repository_root() -> Path:
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and os.path.isdir(workspace):
        return Path(os.path.realpath(workspace))
    cwd = Path(os.path.realpath(os.getcwd()))
    for d in (cwd, *cwd.parents):
        if (d / ".git").exists():
            return d
    return cwd


def relative_to_root(path: str, root: Path) -> str | None:
    """`path` (as reported) relative to `root` with forward slashes, or None when outside it."""
    if path == "-":
        return None
    try:
        return Path(os.path.realpath(path)).relative_to(root).as_posix()
    except ValueError:
        return None
