"""The result cache: `.speclint_cache/` in the project root (the directory of the configuration
file, else the current directory), like ruff's `.ruff_cache/`.

One small JSON file per (linted file, effective configuration), named by a hash of both and
overwritten when the file changes, so the cache does not grow with edits.  An entry is valid only
while all of these hold:

- the file's content hash is the same (`content_hash`, BLAKE2b of the bytes);
- speclint's fingerprint is the same: its version plus the size and mtime of each of its own
  modules and rule files (so an edited checkout never serves stale results);
- the effective configuration is the same (it is part of the entry's name and checked inside):
  the enabled codes after `per-file-ignores`, the target, the prefilter mode;
- every other file the analysis consulted (`deps`: {absolute path: content hash}, filled by the
  static engine's module index) still exists and hashes the same, and every file whose absence it
  relied on (an import that did not resolve, a directory without `__init__.py`: hash None) is
  still absent;
- the rules enabled for each consulted module (its own `per-file-ignores`, its nested
  configuration) are the same: findings located in it are reported with them;
- the set of files of the run is the same (`run_key`): the module index resolves an import only
  to a file of the run, so adding or removing a file can change what an import means.

The project index (`speclint.project`: which modules use a file's model_fns) is kept beside the
entries, one `<version>/project-<hash of the root>.index` per project root, valid only with the same
fingerprint; its entries are checked file by file against (mtime, size).  The users of a file are
part of its entry's configuration key, and each user's content hash is among its deps.

Files the prefilter skips are not cached: skipping costs less than hashing.  Unreadable files and
internal errors are never cached.  Any I/O problem with the cache disables it quietly for that
directory; a corrupt entry (not JSON, nested absurdly, wrongly typed, too big, not a regular file)
is a miss.

A cache directory may come with a cloned repository, so nothing in it is trusted: below the cache
root every name is opened relative to an open directory with O_NOFOLLOW (openat), so a planted
symbolic link (the version or shard directory, an entry, `CACHEDIR.TAG`, `.gitignore`) is refused,
never followed, and files are created with O_EXCL; the default `.speclint_cache` must not itself be a
symbolic link (a `--cache-dir` / `$SPECLINT_CACHE_DIR` the user chose may be).  Files named in an
entry's `deps` are only hashed, and only when they are regular files.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from speclint import __version__
from speclint.diagnostics import Diagnostic

CACHE_DIR_NAME = ".speclint_cache"
ENV_CACHE_DIR = "SPECLINT_CACHE_DIR"


# hashlib, json, shutil and tempfile are imported where used: a run whose files all fail the
# prefilter never needs them (start-up time of `speclint FILE` on a file with no TF code).


def content_hash(data: bytes) -> str:
    """The content hash used for cache keys and `FileResult.deps` values (SHA-256, as the module
    index records the modules it consults)."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def run_key(paths) -> str:
    """The set of files of the run: the module index resolves imports only to them, so a file's
    result can change when a file is added to or removed from the run (an import that now
    resolves).  Part of every entry."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    for p in sorted(paths):
        h.update(p.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """speclint's version and the (name, size, mtime) of every module and rule file it loads."""
    import hashlib

    from speclint import rulebook

    h = hashlib.blake2b(__version__.encode(), digest_size=16)
    package = Path(__file__).resolve().parent
    sources = sorted(package.rglob("*.py"))
    try:
        sources += sorted(Path(rulebook.rules_dir()).glob("*.md"))
    except Exception:  # noqa: BLE001 - a broken rulebook is reported elsewhere
        pass
    for p in sources:
        try:
            st = p.stat()
        except OSError:
            continue
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()


def config_key(enabled: frozenset, target: str, prefilter: bool) -> str:
    return f"{','.join(sorted(enabled))}|{target}|{'prefilter' if prefilter else 'all'}"


def codes_key(enabled: frozenset) -> str:
    """A short key for the rules enabled for a consulted module (part of an entry's validity)."""
    import hashlib

    return hashlib.blake2b(",".join(sorted(enabled)).encode(), digest_size=8).hexdigest()


def cache_root(project_root: Path, override: str | None = None) -> Path:
    """Where the cache for a project lives: `--cache-dir`, else $SPECLINT_CACHE_DIR, else
    `<project root>/.speclint_cache`."""
    chosen = override or os.environ.get(ENV_CACHE_DIR)
    return Path(chosen) if chosen else Path(project_root) / CACHE_DIR_NAME


MAX_ENTRY_BYTES = 16 * 1024 * 1024  # an entry is a few KB; a bigger one is not read
_HASH_CHUNK = 1 << 20
_AT = (os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd
       and os.replace in os.supports_dir_fd and os.unlink in os.supports_dir_fd
       and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY"))
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_TAGS = (("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                          "# This file is a cache directory tag created by speclint.\n"),
         (".gitignore", "# Automatically created by speclint.\n*\n"))


class _Dir:
    """A directory below the cache root, named without following symbolic links: an open
    directory (fd) where the system has openat(), else a path checked with lstat()."""

    def __init__(self, fd: int | None, path: str):
        self.fd, self.path = fd, path

    @classmethod
    def open(cls, parent: _Dir | None, name: str, create: bool, follow: bool = False) -> _Dir:
        path = os.path.join(parent.path, name) if parent is not None else name
        if _AT:
            flags = os.O_RDONLY | os.O_DIRECTORY | (0 if follow else os.O_NOFOLLOW)
            where = dict(dir_fd=parent.fd) if parent is not None else {}
            try:
                return cls(os.open(name if parent is not None else path, flags, **where), path)
            except FileNotFoundError:
                if not create:
                    raise
            try:
                os.mkdir(name if parent is not None else path, 0o777, **where)
            except FileExistsError:
                pass
            return cls(os.open(name if parent is not None else path, flags, **where), path)
        if not follow and os.path.islink(path):
            raise OSError(errno.ELOOP, "a symbolic link (refused)", path)
        if create:
            os.makedirs(path, exist_ok=True)
        if not os.path.isdir(path) or (not follow and os.path.islink(path)):
            raise NotADirectoryError(20, "Not a directory", path)
        return cls(None, path)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def open_file(self, name: str, flags: int, mode: int = 0o644) -> int:
        flags |= _NOFOLLOW | _BINARY
        if self.fd is not None:
            return os.open(name, flags, mode, dir_fd=self.fd)
        path = os.path.join(self.path, name)
        if os.path.islink(path):
            raise OSError(errno.ELOOP, "a symbolic link (refused)", path)
        return os.open(path, flags, mode)

    def replace(self, src: str, dst: str) -> None:
        if self.fd is not None:
            os.replace(src, dst, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.replace(os.path.join(self.path, src), os.path.join(self.path, dst))

    def unlink(self, name: str) -> None:
        if self.fd is not None:
            os.unlink(name, dir_fd=self.fd)
        else:
            os.unlink(os.path.join(self.path, name))


class Cache:
    """The entries of one cache directory; used from the main process only.  `follow_root`: the
    root may be a symbolic link (the user named it: `--cache-dir`, $SPECLINT_CACHE_DIR); nothing
    below it may."""

    def __init__(self, root: Path, follow_root: bool = False):
        self.root = Path(root)
        self.dir = self.root / __version__
        self.follow_root = follow_root
        self.disabled = False
        self._prepared = False
        self._dep_hashes: dict[str, str | None] = {}

    def _entry_name(self, abspath: str, ckey: str) -> tuple[str, str]:
        """(shard directory, file name) of an entry below the version directory."""
        import hashlib

        name = hashlib.blake2b(f"{abspath}\0{ckey}".encode("utf-8", "surrogateescape"),
                               digest_size=16).hexdigest()
        return name[:2], name + ".json"

    def _entry_path(self, abspath: str, ckey: str) -> Path:
        shard, name = self._entry_name(abspath, ckey)
        return self.dir / shard / name

    @contextlib.contextmanager
    def _shard(self, abspath: str, ckey: str, create: bool) -> Iterator[tuple[_Dir, str]]:
        """The entry's shard directory (opened) and the entry's name in it."""
        shard, name = self._entry_name(abspath, ckey)
        with self._version_dir(create) as version:
            directory = _Dir.open(version, shard, create)
            try:
                yield directory, name
            finally:
                directory.close()

    def get(self, abspath: str, chash: str, ckey: str, rkey: str, shown: str, show=None,
            codes_for: Callable[[str], str] | None = None
            ) -> tuple[list[Diagnostic], dict[str, str | None]] | None:
        """(diagnostics, deps) of a valid entry, else None.  `shown` is the file's reported path;
        `show` turns the absolute path of another module (a finding reported there) into its
        reported path; `codes_for(path)` is the `codes_key` of the rules now enabled for a
        consulted module."""
        if self.disabled:
            return None
        import json

        try:
            with self._shard(abspath, ckey, create=False) as (directory, name):
                fd = directory.open_file(name, os.O_RDONLY | _NONBLOCK)
            with open(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY_BYTES:
                    return None
                raw = fh.read(MAX_ENTRY_BYTES + 1)
            if len(raw) > MAX_ENTRY_BYTES:
                return None
            entry = json.loads(raw)
            if not isinstance(entry, dict):
                return None
            if (entry.get("path") != abspath or entry.get("content") != chash
                    or entry.get("config") != ckey or entry.get("run") != rkey
                    or entry.get("fingerprint") != fingerprint()):
                return None
            deps = entry.get("deps") or {}
            dep_codes = entry.get("dep_codes") or {}
            if not (isinstance(deps, dict) and isinstance(dep_codes, dict)
                    and all(isinstance(h, str) or h is None for h in deps.values())
                    and all(isinstance(k, str) for k in dep_codes.values())):
                return None
            for dep, dep_hash in deps.items():
                if self._hash_of(dep) != dep_hash:
                    return None
                if dep_hash is not None and codes_for is not None and dep_codes.get(dep) != codes_for(dep):
                    return None  # the rules for that module changed (its per-file-ignores, its config)
            raw_diags = entry.get("diagnostics")
            if not isinstance(raw_diags, list):
                return None
            diags = []
            for d in raw_diags:
                d = _diagnostic_fields(d)
                if d is None:
                    return None
                other = d.pop("path", None)
                where = shown if other is None else (show(other) if show else other)
                diags.append(Diagnostic(path=where, **d))
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None  # (not there, unreadable, not JSON, nested beyond the parser's recursion...)
        return diags, dict(deps)

    def _hash_of(self, path: str) -> str | None:
        """The content hash of a regular file (streamed); None when it is absent, unreadable or
        not a regular file (a FIFO or /dev/zero named in a planted entry is never read)."""
        if path not in self._dep_hashes:
            digest = None
            try:
                fd = os.open(path, os.O_RDONLY | _NONBLOCK | _BINARY)
                with open(fd, "rb") as fh:
                    if stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                        import hashlib

                        h = hashlib.sha256()
                        for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
                            h.update(chunk)
                        digest = h.hexdigest()
            except (OSError, ValueError):
                digest = None
            self._dep_hashes[path] = digest
        return self._dep_hashes[path]

    def put(self, abspath: str, chash: str, ckey: str, rkey: str, shown: str,
            diagnostics: list[Diagnostic], deps: dict[str, str | None],
            dep_codes: dict[str, str] | None = None) -> None:
        if self.disabled:
            return
        import json

        entry = {
            "path": abspath, "content": chash, "config": ckey, "run": rkey, "fingerprint": fingerprint(),
            "deps": deps, "dep_codes": dep_codes or {},
            # a diagnostic in this file has no path (it is shown as this file is shown at lookup);
            # one inside an imported module keeps that module's absolute path
            "diagnostics": [{k: v for k, v in d.to_json().items() if k != "path"} if d.path == shown
                            else dict(d.to_json(), path=os.path.abspath(d.path)) for d in diagnostics],
        }
        try:
            data = json.dumps(entry, separators=(",", ":")).encode("utf-8", "surrogateescape")
            self._prepare()
            with self._shard(abspath, ckey, create=True) as (directory, name):
                _write_atomically(directory, name, data)
        except (OSError, TypeError, ValueError):
            self.disabled = True  # read-only tree, full disk, a planted link, removed while running: go on uncached

    @contextlib.contextmanager
    def _version_dir(self, create: bool) -> Iterator[_Dir]:
        opened: list[_Dir] = []
        try:
            root = _Dir.open(None, str(self.root), create, follow=self.follow_root)
            opened.append(root)
            version = _Dir.open(root, __version__, create)
            opened.append(version)
            yield version
        finally:
            for d in reversed(opened):
                d.close()

    def load_blob(self, name: str):
        """A JSON document stored with `save_blob` (the project index: `<version>/<name>.index`,
        beside the entries' shards), or None.  Not trusted: the caller checks its shape."""
        if self.disabled:
            return None
        import json

        try:
            with self._version_dir(create=False) as directory:
                fd = directory.open_file(name + ".index", os.O_RDONLY | _NONBLOCK)
            with open(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY_BYTES:
                    return None
                raw = fh.read(MAX_ENTRY_BYTES + 1)
            blob = json.loads(raw)
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(blob, dict) or blob.get("fingerprint") != fingerprint():
            return None
        return blob.get("data")

    def save_blob(self, name: str, data) -> None:
        if self.disabled:
            return
        import json

        try:
            raw = json.dumps({"fingerprint": fingerprint(), "data": data},
                             separators=(",", ":")).encode("utf-8", "surrogateescape")
            if len(raw) > MAX_ENTRY_BYTES:
                return
            self._prepare()
            with self._version_dir(create=True) as directory:
                _write_atomically(directory, name + ".index", raw)
        except (OSError, TypeError, ValueError):
            self.disabled = True

    def _prepare(self) -> None:
        """Create the root (not through a symbolic link) with its CACHEDIR.TAG and .gitignore; a
        name already taken, by anything, is left alone."""
        if self._prepared:
            return
        if not self.root.parent.is_dir():
            os.makedirs(self.root.parent, exist_ok=True)
        root = _Dir.open(None, str(self.root), create=True, follow=self.follow_root)
        try:
            _Dir.open(root, __version__, create=True).close()
            for name, text in _TAGS:
                try:
                    fd = root.open_file(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
                except OSError as exc:
                    if isinstance(exc, FileExistsError) or exc.errno == errno.ELOOP:
                        continue  # taken, if only by a dangling symbolic link: nothing is followed
                    raise
                with open(fd, "wb") as fh:
                    fh.write(text.encode())
        finally:
            root.close()
        self._prepared = True


_DIAGNOSTIC_FIELDS = frozenset(Diagnostic.FIELDS)
_INT_FIELDS = ("line", "column", "end_line", "end_column")
_STR_FIELDS = ("code", "name", "severity", "message", "engine")


def _diagnostic_fields(d) -> dict | None:
    """A cached diagnostic's fields, checked: every field of its type, or None."""
    if not isinstance(d, dict) or not set(d) <= _DIAGNOSTIC_FIELDS:
        return None
    if not all(type(d.get(k)) is int for k in _INT_FIELDS) or not all(type(d.get(k)) is str for k in _STR_FIELDS[:4]):
        return None
    if not isinstance(d.get("engine", "static"), str) or not isinstance(d.get("path", ""), str):
        return None
    if not isinstance(d.get("url"), (str, type(None))) or not _valid_fix(d.get("fix")):
        return None
    return dict(d)


def _valid_fix(fix) -> bool:
    if fix is None:
        return True
    if not isinstance(fix, dict) or not isinstance(fix.get("message"), str) or not isinstance(fix.get("edits"), list):
        return False
    return all(isinstance(e, dict) and all(type(e.get(k)) is int for k in _INT_FIELDS)
               and isinstance(e.get("content"), str) for e in fix["edits"])


class Caches:
    """The caches of one run, one per project root."""

    def __init__(self, override: str | None = None):
        self.override = override
        self._by_root: dict[str, Cache] = {}

    def for_project(self, project_root: Path) -> Cache:
        root = str(cache_root(project_root, self.override))
        if root not in self._by_root:
            chosen = bool(self.override or os.environ.get(ENV_CACHE_DIR))  # named by the user
            self._by_root[root] = Cache(Path(root), follow_root=chosen)
        return self._by_root[root]


class NotACache(OSError):
    """`speclint clean` was pointed at a directory that is not a speclint cache."""


def clean(directory: Path) -> str | None:
    """Remove a cache directory.  None when there was none; else what was removed ("" for a cache
    directory; a note for a symbolic link, which is removed itself, its target left alone).
    OSError when it cannot be removed, NotACache for a directory that does not look like a
    speclint cache (no CACHEDIR.TAG written by speclint, and not named .speclint_cache)."""
    import shutil

    directory = Path(directory)
    if directory.is_symlink():
        target = os.readlink(directory)
        directory.unlink()
        return f"a symbolic link to {target}; the link was removed, its target left alone"
    if not directory.is_dir():
        return None
    if directory.name != CACHE_DIR_NAME and not _has_our_tag(directory):
        raise NotACache(0, "it does not look like a speclint cache (no CACHEDIR.TAG written by speclint); "
                           "not removed", str(directory))
    failures: list[str] = []
    shutil.rmtree(directory, onerror=lambda fn, path, exc: failures.append(f"{path}: {exc[1]}"))
    if os.path.lexists(directory):
        raise OSError(0, failures[0] if failures else "could not remove it", str(directory))
    return ""


def _has_our_tag(directory: Path) -> bool:
    try:
        fd = os.open(directory / "CACHEDIR.TAG", os.O_RDONLY | _NONBLOCK | _NOFOLLOW | _BINARY)
        with open(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return False
            head = fh.read(4096)
    except OSError:
        return False
    return head.startswith(b"Signature: 8a477f597d28d172789f06886806bc55") and b"speclint" in head


def _write_atomically(directory: _Dir, name: str, data: bytes) -> None:
    """Write `name` in `directory` through a temporary file and a rename (readers never see half a
    file); the temporary file is removed on any failure."""
    import secrets

    tmp = f".tmp-{os.getpid()}-{secrets.token_hex(8)}"
    fd = directory.open_file(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with open(fd, "wb") as fh:
            fh.write(data)
        directory.replace(tmp, name)
    except BaseException:
        try:
            directory.unlink(tmp)
        except OSError:
            pass
        raise
