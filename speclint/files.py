"""Which files to lint, and the cheap byte-level prefilter that runs before any parsing.

Walking: directories are walked recursively for `*.py` / `*.pyi` in a stable (sorted) order;
excluded directories (config `exclude` / `extend-exclude`) are not entered; symbolic links to
directories are not followed (no loops); only regular files are read (a FIFO or device named
`x.py` is never opened, it would block).  Inside a git work tree, `.gitignore` files are respected
(see `GitIgnore`).  A file named on the command line is always linted, even when excluded or
ignored (like ruff).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from speclint.record import Record

# A file that never spells `Estimator` can neither construct a spec (EstimatorSpec,
# TPUEstimatorSpec) nor hand a model_fn to an Estimator/TPUEstimator (aliases are imported by
# name, so the import line spells it).  Skipping these before libcst is even imported is most of
# the speed on a large tree (`import libcst` alone costs 0.17 s).  Modules such a file imports are still read through the
# module index when it needs them.  `bytes.__contains__` is a fast substring search (about
# 1 GB/s); each added token costs one more pass over the bytes of every file.
PREFILTER_TOKENS = (b"Estimator",)


def may_matter(data: bytes) -> bool:
    return any(tok in data for tok in PREFILTER_TOKENS)


class Entry(Record):
    FIELDS = ("path", "error")

    def __init__(self, path: str, error: str | None = None) -> None:
        self.path = path  # as given / walked (used for reading)
        self.error = error  # why it cannot be read (reported as SL000)


def walk(paths, resolver) -> Iterator[Entry]:
    """Files to lint under `paths`, in a stable order; excluded directories are not entered.

    A file named on the command line is always linted (like ruff); exclusion applies to what a
    directory walk finds, below the directory named (a folder named inside `.venv` is walked).  Missing paths are the caller's business (usage error).
    """
    seen = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            yield from _walk_dir(p, resolver, seen)
        elif p.exists() or p.is_symlink():
            key = os.path.abspath(p)
            if key not in seen:
                seen.add(key)
                yield Entry(str(p), None if p.exists() else _dangling(p))


def _dangling(p: Path) -> str:
    try:
        os.stat(p)
    except OSError as exc:
        return f"broken symbolic link ({exc.strerror or exc})"
    return "broken symbolic link"


def _walk_dir(top: Path, resolver, seen) -> Iterator[Entry]:
    """Depth-first, sorted, directories before their contents (os.walk's top-down order), with
    os.scandir: the directory entry's type needs no stat() for regular files, and paths stay
    strings (a 2,000-file tree is walked in a few tens of milliseconds)."""
    ignores: dict[str, GitIgnore | None] = {}
    sep = os.sep
    stack = [str(top)]
    while stack:
        dirpath = stack.pop()
        try:
            with os.scandir(dirpath) as it:
                entries = list(it)
        except OSError as exc:
            if dirpath == str(top) or os.path.lexists(dirpath):
                yield Entry(dirpath, "cannot read directory: " + (exc.strerror or str(exc)))
            continue  # (a directory deleted since it was listed is not an error)
        config = resolver.for_dir(dirpath)
        top_rel = config.relative(str(top))
        named = 0 if top_rel in (None, ".") else len(top_rel.split("/"))  # the named directory's parts
        gitignore = _gitignore_for(dirpath, ignores) if config.respect_gitignore else None
        base = dirpath if dirpath.endswith(sep) else dirpath + sep
        subdirs = []
        py_files = []
        for e in entries:
            try:
                is_dir = e.is_dir(follow_symlinks=False)  # symbolic links to directories: not followed
            except OSError:
                is_dir = False
            if is_dir:
                subdirs.append(e.name)
            elif e.name.endswith((".py", ".pyi")):
                py_files.append(e)
        py_files.sort(key=lambda e: e.name)
        for e in py_files:
            full = base + e.name
            rel = config.relative(full)
            if rel is not None and config.is_excluded(rel, named):
                continue
            key = os.path.abspath(full)
            if key in seen:
                continue
            if gitignore is not None and gitignore.ignored(full, False):
                continue
            try:
                regular = e.is_file()  # follows a symbolic link
            except OSError:
                regular = False
            if not regular:
                if e.is_symlink() and not os.path.exists(full):
                    seen.add(key)
                    yield Entry(full, _dangling(Path(full)))
                continue  # a FIFO, socket, device or directory named *.py: never opened by a walk
            seen.add(key)
            yield Entry(full)
        kept = []
        for d in sorted(subdirs):
            full = base + d
            rel = config.relative(full)
            if rel is not None and config.is_excluded(rel, named):
                continue
            if rel is None and d in config.exclude + config.extend_exclude:
                continue
            if gitignore is not None and gitignore.ignored(full, True):
                continue
            kept.append(full)
        stack.extend(reversed(kept))


# ---- .gitignore ---------------------------------------------------------------------------------
class GitIgnore:
    """The `.gitignore` rules that apply to one directory of a git work tree.

    Supported (through the `pathspec` library's `GitIgnoreSpec`, which implements git's
    wildmatch): every `.gitignore` from the work-tree root down to the directory, and
    `.git/info/exclude`; comments, blank lines, `!` negation, trailing `/` (directories only),
    leading or inner `/` (anchored to the `.gitignore`'s directory), `*`, `?`, `[...]`, `**`,
    backslash escapes; a deeper file's rules win over a shallower one's; an ignored directory is
    not entered (so, as in git, nothing below it can be re-included).  Not read: the global
    `core.excludesFile` and anything from git's index (a tracked file that matches an ignore rule
    is still skipped).  Outside a git work tree (no `.git` above the directory) nothing is ignored,
    as with git.
    """

    def __init__(self, layers: tuple[tuple[str, object], ...]):
        self.layers = layers  # ((base_dir, spec), ...) shallowest first

    def ignored(self, path: str, is_dir: bool) -> bool:
        for base, spec in reversed(self.layers):
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            if rel.startswith("../"):
                continue
            result = spec.check_file(rel + "/" if is_dir else rel)
            if result.include is not None:
                return bool(result.include)
        return False


def _read_patterns(path: str) -> list[str] | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return data.decode("utf-8", "replace").splitlines()


def _spec(lines: list[str]):
    import pathspec  # only when a .gitignore exists

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except Exception:  # noqa: BLE001 - an unparsable line: keep the valid ones
        good = []
        for line in lines:
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except Exception:  # noqa: BLE001
                continue
            good.append(line)
        return pathspec.GitIgnoreSpec.from_lines(good)


def _gitignore_for(dirpath: str, memo: dict[str, GitIgnore | None]) -> GitIgnore | None:
    """The rules for `dirpath` (None outside a git work tree), built from its parent's."""
    d = os.path.abspath(dirpath)
    if d in memo:
        return memo[d]
    if os.path.lexists(os.path.join(d, ".git")):
        layers: tuple[tuple[str, object], ...] = ()
        lines = _read_patterns(os.path.join(d, ".git", "info", "exclude"))
        if lines:
            layers += ((d, _spec(lines)),)
        parent: GitIgnore | None = GitIgnore(layers)
    else:
        up = os.path.dirname(d)
        parent = _gitignore_for(up, memo) if up and up != d else None
    result = parent
    if parent is not None:
        lines = _read_patterns(os.path.join(d, ".gitignore"))
        if lines:
            result = GitIgnore(parent.layers + ((d, _spec(lines)),))
    memo[d] = result
    return result
