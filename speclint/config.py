"""Configuration: `.speclint.toml`, `speclint.toml` (top level) or `[tool.speclint]` in
pyproject.toml, the first found in a linted file's directory or the nearest one above it (in that
order within a directory, as ruff looks for `.ruff.toml`, `ruff.toml`, `pyproject.toml`).

Keys: select, extend-select, ignore, extend-ignore, per-file-ignores, exclude, extend-exclude,
target, respect-gitignore, baseline.  Command-line flags override the file (`--extend-select` and
`--extend-ignore` add to the file's lists).  A bad file is a ConfigError naming the file and key (exit code 2).
"""
from __future__ import annotations

import fnmatch
import functools
import os
import re
import stat
from pathlib import Path, PurePosixPath

from speclint import rulebook
from speclint.record import Frozen

DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pytest_cache",
    ".ruff_cache", ".speclint_cache", ".svn", ".tox", ".venv", "__pycache__", "__pypackages__",
    "_build", "buck-out", "build", "dist", "node_modules", "venv",
)
TARGETS = ("auto", "tpu", "cpu")
MODES = ("invoked", "all")  # which modes of a model_fn are checked
_KEYS = {"select", "extend-select", "ignore", "extend-ignore", "per-file-ignores", "exclude", "extend-exclude",
         "target", "modes", "respect-gitignore", "baseline"}
CONFIG_FILES = (".speclint.toml", "speclint.toml", "pyproject.toml")  # looked for in this order


class ConfigError(Exception):
    """A bad configuration or selector; the message is one line for the user."""


class Config(Frozen):
    FIELDS = ("root", "source", "select", "extend_select", "ignore", "extend_ignore", "per_file_ignores", "exclude",
              "extend_exclude", "target", "modes", "respect_gitignore", "baseline")

    root: Path
    source: Path | None
    select: tuple | None  # selectors; None = every rule enabled by default
    extend_select: tuple  # added to select (or to the default rules)
    ignore: tuple
    extend_ignore: tuple
    per_file_ignores: tuple  # ((pattern, (selectors...)), ...)
    exclude: tuple
    extend_exclude: tuple
    target: str
    modes: str  # "all": check every mode of every model_fn, invoked or not
    respect_gitignore: bool
    baseline: str | None  # absolute path of the baseline file

    def __init__(self, root: Path, source: Path | None = None, select: tuple | None = None,
                 extend_select: tuple = (), ignore: tuple = (), extend_ignore: tuple = (),
                 per_file_ignores: tuple = (), exclude: tuple = DEFAULT_EXCLUDE, extend_exclude: tuple = (),
                 target: str = "auto", modes: str = "invoked", respect_gitignore: bool = True,
                 baseline: str | None = None) -> None:
        self._set(root=root, source=source, select=select, extend_select=extend_select, ignore=ignore,
                  extend_ignore=extend_ignore, per_file_ignores=per_file_ignores, exclude=exclude,
                  extend_exclude=extend_exclude, target=target, modes=modes, respect_gitignore=respect_gitignore,
                  baseline=baseline)

    def with_overrides(self, select=None, ignore=None, target=None, respect_gitignore=None,
                       extend_select=None, extend_ignore=None, baseline=None, modes=None) -> Config:
        """Command-line values: each replaces the file's, except `extend_*`, which add to it;
        `baseline=""` turns the file's baseline off."""
        changes = {}
        if extend_select:
            changes["extend_select"] = self.extend_select + tuple(extend_select)
        if extend_ignore:
            changes["extend_ignore"] = self.extend_ignore + tuple(extend_ignore)
        if baseline is not None:
            changes["baseline"] = os.path.abspath(baseline) if baseline else None
        if respect_gitignore is not None:
            changes["respect_gitignore"] = respect_gitignore
        if select is not None:
            changes["select"] = tuple(select)
        if ignore is not None:
            changes["ignore"] = tuple(ignore)
        if target is not None:
            changes["target"] = target
        if modes is not None:
            changes["modes"] = modes
        return self.replace(**changes) if changes else self

    # ---- which rules apply ----------------------------------------------------------------------
    def enabled_codes(self, rel_path: str | None = None) -> frozenset:
        return _enabled(self.select, self.extend_select,
                        self.ignore + self.extend_ignore + self._file_ignores(rel_path))

    def _file_ignores(self, rel_path: str | None) -> tuple:
        if not rel_path or not self.per_file_ignores:
            return ()
        out: tuple = ()
        for pattern, selectors in self.per_file_ignores:
            if _matches(pattern, rel_path):
                out += tuple(selectors)
        return out

    def is_excluded(self, rel_path: str, named_parts: int = 0) -> bool:
        """`named_parts`: how many leading parts of `rel_path` are the directory named on the
        command line, whose own name does not exclude what is under it (`speclint .venv/lib/pkg`
        checks pkg, as ruff does; globs still apply to the whole path)."""
        names, globs = self._exclude_split
        parts = rel_path.split("/")
        if not names.isdisjoint(parts[named_parts:]):
            return True
        return any(_matches(p, rel_path, parts) for p in globs)

    @functools.cached_property
    def _exclude_split(self):
        """(plain names, other patterns): a plain name (the default list) matches a path when it
        is one of its parts, a set lookup instead of fnmatch per part (the walk calls this for
        every file and directory)."""
        names, globs = set(), []
        for p in self.exclude + self.extend_exclude:
            if "/" in p.rstrip("/") or any(c in p for c in "*?["):
                globs.append(p)
            else:
                names.add(p.rstrip("/"))
        return frozenset(names), tuple(globs)

    def relative(self, path) -> str | None:
        """`path` relative to the root, with forward slashes; None outside the root.  (String
        operations: this runs for every walked file.)"""
        abspath = os.path.abspath(path)
        root = self._root_str
        if abspath == root:
            return "."
        prefix = root if root.endswith(os.sep) else root + os.sep
        if not abspath.startswith(prefix):
            return None
        rel = abspath[len(prefix):]
        return rel.replace(os.sep, "/") if os.sep != "/" else rel

    @functools.cached_property
    def _root_str(self) -> str:
        return os.path.abspath(self.root)


def _matches(pattern: str, rel_path: str, parts=None) -> bool:
    pattern = pattern.rstrip("/")
    if fnmatch.fnmatchcase(rel_path, pattern):
        return True
    if parts is None:
        parts = PurePosixPath(rel_path).parts
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(p, pattern) for p in parts)
    # a pattern with a slash also matches every path below the directory it names
    return any(fnmatch.fnmatchcase("/".join(parts[:i]), pattern) for i in range(1, len(parts)))


@functools.lru_cache(maxsize=256)
def _enabled(select, extend_select, ignore) -> frozenset:
    book = rulebook.load()
    if select is None:
        codes = {r.code for r in book if r.default_enabled}
    else:
        codes = set()
        for s in select:
            codes |= set(book.expand(s))
    for s in extend_select:
        codes |= set(book.expand(s))
    for s in ignore:
        codes -= set(book.expand(s))
    return frozenset(codes)


def validate_selectors(selectors, where: str) -> list:
    book = rulebook.load()
    out = []
    for s in selectors:
        s = s.strip()
        if not s:
            continue
        if not book.expand(s):
            raise ConfigError(f"{where}: unknown rule selector {s!r} (see `speclint rules`)")
        out.append(s)
    return out


def _str_list(value, where: str) -> tuple:
    if isinstance(value, str):  # as ruff: a list even for one value (select = "SL005" is an error)
        raise ConfigError(f'{where} must be a list of strings, not a string: write ["{value}"]')
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _globs(value, where: str) -> tuple:
    patterns = _str_list(value, where)
    for p in patterns:
        check_glob(p, where)
    return patterns


def check_glob(pattern: str, where: str) -> None:
    """Reject a glob that can never match what it looks meant to (fnmatch accepts anything)."""
    problem = None
    if not pattern.strip():
        problem = "is empty"
    elif "\0" in pattern:
        problem = "contains a NUL character"
    elif pattern.startswith("/") or (len(pattern) > 1 and pattern[1] == ":"):
        problem = "is absolute; patterns are relative to the directory of the config file"
    else:
        i = 0
        while i < len(pattern):
            if pattern[i] == "[":
                j = i + 1
                if j < len(pattern) and pattern[j] in "!^":
                    j += 1
                if j < len(pattern) and pattern[j] == "]":
                    j += 1
                close = pattern.find("]", j)
                if close < 0:
                    problem = "has an unclosed '['"
                    break
                body = pattern[i + 1:close].lstrip("!^")
                for m in re.finditer(r"(.)-(.)", body):
                    if m.group(1) > m.group(2):
                        problem = f"has an empty character range {m.group(0)!r}"
                        break
                if problem:
                    break
                i = close
            i += 1
    if problem:
        raise ConfigError(f"{where}: glob {pattern!r} {problem}")


def parse(table: dict, source: Path, root: Path) -> Config:
    where = f"{source}: [tool.speclint]" if Path(source).name == "pyproject.toml" else str(source)
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (expected one of: {', '.join(sorted(_KEYS))})")
    kw: dict[str, object] = {}
    for key in ("select", "extend-select", "ignore", "extend-ignore"):
        if key in table:
            kw[key.replace("-", "_")] = tuple(validate_selectors(_str_list(table[key], f"{where} {key}"), f"{where} {key}"))
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"{where} per-file-ignores must be a table of glob = [codes]")
        items = []
        for pattern, sel in pfi.items():
            k = f"{where} per-file-ignores.{pattern!r}"
            check_glob(pattern, f"{where} per-file-ignores")
            items.append((pattern, tuple(validate_selectors(_str_list(sel, k), k))))
        kw["per_file_ignores"] = tuple(items)
    for key, attr in (("exclude", "exclude"), ("extend-exclude", "extend_exclude")):
        if key in table:
            kw[attr] = _globs(table[key], f"{where} {key}")
    if "target" in table:
        if table["target"] not in TARGETS:
            raise ConfigError(f"{where} target must be one of {', '.join(TARGETS)}, not {table['target']!r}")
        kw["target"] = table["target"]
    if "modes" in table:
        if table["modes"] not in MODES:
            raise ConfigError(f"{where} modes must be one of {', '.join(MODES)}, not {table['modes']!r}")
        kw["modes"] = table["modes"]
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise ConfigError(f"{where} respect-gitignore must be true or false, not {table['respect-gitignore']!r}")
        kw["respect_gitignore"] = table["respect-gitignore"]
    if "baseline" in table:
        value = table["baseline"]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where} baseline must be the path of a baseline file (relative to "
                              f"the config file's directory), not {value!r}")
        kw["baseline"] = os.path.normpath(os.path.join(root, value))
    return Config(root=root, source=source, **kw)


def load_file(path: Path) -> Config:
    """Load a config file: pyproject.toml ([tool.speclint]) or a speclint.toml (top level)."""
    path = Path(path)
    tomllib = rulebook.toml()
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"{path}: is a directory, not a config file (name its pyproject.toml or speclint.toml)")
        if not stat.S_ISREG(mode):  # a FIFO would block, /dev/zero never end
            raise ConfigError(f"{path}: cannot read config file: not a regular file")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("speclint") if isinstance(data.get("tool"), dict) else None
    if table is None:
        table = {} if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.speclint] must be a table")
    return parse(table, path, Path(os.path.abspath(path.parent)))


class Resolver:
    """Finds and caches the config that applies to each directory."""

    def __init__(self, explicit: Path | None = None, overrides: dict | None = None):
        self.overrides = overrides or {}
        self._explicit = load_file(explicit).with_overrides(**self.overrides) if explicit else None
        self._by_dir: dict[str, Config] = {}

    def for_dir(self, directory: str) -> Config:
        """The config for files in `directory` (no check that it is one)."""
        if self._explicit is not None:
            return self._explicit
        return self._for_dir(os.path.abspath(directory))

    def for_file(self, path: str) -> Config:
        """The config for the file `path` (its directory's; no file-system access)."""
        return self.for_dir(os.path.dirname(path) or ".")

    def for_path(self, path: Path) -> Config:
        if self._explicit is not None:
            return self._explicit
        d = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
        return self._for_dir(d)

    def _for_dir(self, d: str) -> Config:
        if d in self._by_dir:
            return self._by_dir[d]
        config = None
        for name in CONFIG_FILES:
            candidate = os.path.join(d, name)
            if os.path.isfile(candidate) and (name != "pyproject.toml" or _has_table(candidate)):
                config = load_file(Path(candidate)).with_overrides(**self.overrides)
                break
        if config is None:
            parent = os.path.dirname(d)
            if parent and parent != d:
                config = self._for_dir(parent)
            else:
                config = Config(root=Path(os.getcwd())).with_overrides(**self.overrides)
        self._by_dir[d] = config
        return config


def _has_table(path: str) -> bool:
    """Whether a pyproject.toml configures speclint (`[tool.speclint]`, `[tool]` with a
    `speclint` key, or dotted `tool.speclint.x = ...`).  Invalid TOML that mentions speclint
    counts (loading it then reports the error, naming the file).  A pyproject.toml that cannot be
    read is a ConfigError: it might configure speclint, so the defaults may not apply."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return False  # (removed since it was listed)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    if b"speclint" not in data:
        return False
    tomllib = rulebook.toml()
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    tool = doc.get("tool")
    return isinstance(tool, dict) and "speclint" in tool
