"""`speclint check --show-settings` and `--show-files`: what a run would use, without running it."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, List

from speclint import files, rulebook
from speclint.config import Resolver


def _toml(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(value)


def show_settings(resolver: Resolver, path: str) -> str:
    """The effective configuration for `path` (a file or directory) after command-line flags."""
    config = resolver.for_path(Path(path))
    rel = config.relative(path) if os.path.isfile(path) else None
    enabled = sorted(config.enabled_codes(rel))
    book = rulebook.load()
    lines = [
        f"Settings for: {path}",
        f"Configuration file: {config.source or '(none: defaults)'}",
        f"Project root: {config.root}",
        "",
        f"select = {_toml(list(config.select)) if config.select is not None else '(default: every rule on by default)'}",
        f"extend-select = {_toml(config.extend_select)}",
        f"ignore = {_toml(config.ignore)}",
        f"extend-ignore = {_toml(config.extend_ignore)}",
        "per-file-ignores = {" + ", ".join(f"{json.dumps(p)} = {_toml(s)}" for p, s in config.per_file_ignores) + "}",
        f"exclude = {_toml(config.exclude)}",
        f"extend-exclude = {_toml(config.extend_exclude)}",
        f"target = {_toml(config.target)}",
        f"modes = {_toml(config.modes)}",
        f"respect-gitignore = {_toml(config.respect_gitignore)}",
        f"baseline = {_toml(config.baseline)}",
        "",
        f"Enabled rules{' for this file' if rel else ''} ({len(enabled)}):",
    ]
    lines += [f"  {code}  {book[code].name}" for code in enabled]
    return "\n".join(lines) + "\n"


def show_files(paths: Iterable[str], resolver: Resolver) -> List[str]:
    """The files a run over `paths` would read, in the run's order (including the ones the
    prefilter then skips without parsing)."""
    from speclint.engine import display_path

    return [display_path(e.path) for e in files.walk(paths, resolver)]
