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
  static engine's module index) still exists and hashes the same;
- the set of files of the run is the same (`run_key`): the module index resolves an import only
  to a file of the run, so adding or removing a file can change what an import means.

Files the prefilter skips are not cached: skipping costs less than hashing.  Unreadable files and
internal errors are never cached.  Any I/O problem with the cache disables it quietly for that
directory; a corrupt entry is a miss.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

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


def cache_root(project_root: Path, override: Optional[str] = None) -> Path:
    """Where the cache for a project lives: `--cache-dir`, else $SPECLINT_CACHE_DIR, else
    `<project root>/.speclint_cache`."""
    chosen = override or os.environ.get(ENV_CACHE_DIR)
    return Path(chosen) if chosen else Path(project_root) / CACHE_DIR_NAME


class Cache:
    """The entries of one cache directory; used from the main process only."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.dir = self.root / __version__
        self.disabled = False
        self._prepared = False
        self._dep_hashes: Dict[str, Optional[str]] = {}

    def _entry_path(self, abspath: str, ckey: str) -> Path:
        import hashlib

        name = hashlib.blake2b(f"{abspath}\0{ckey}".encode("utf-8", "surrogateescape"),
                               digest_size=16).hexdigest()
        return self.dir / name[:2] / (name + ".json")

    def get(self, abspath: str, chash: str, ckey: str, rkey: str, shown: str, show=None
            ) -> Optional[Tuple[List[Diagnostic], Dict[str, str]]]:
        """(diagnostics, deps) of a valid entry, else None.  `shown` is the file's reported path;
        `show` turns the absolute path of another module (a finding reported there) into its
        reported path."""
        if self.disabled:
            return None
        import json

        try:
            with open(self._entry_path(abspath, ckey), "rb") as fh:
                entry = json.loads(fh.read())
            if (entry.get("path") != abspath or entry.get("content") != chash
                    or entry.get("config") != ckey or entry.get("run") != rkey
                    or entry.get("fingerprint") != fingerprint()):
                return None
            deps = entry.get("deps") or {}
            for dep, dep_hash in deps.items():
                if self._hash_of(dep) != dep_hash:
                    return None
            diags = []
            for d in entry["diagnostics"]:
                other = d.pop("path", None)
                where = shown if other is None else (show(other) if show else other)
                diags.append(Diagnostic(path=where, **d))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        return diags, dict(deps)

    def _hash_of(self, path: str) -> Optional[str]:
        if path not in self._dep_hashes:
            try:
                with open(path, "rb") as fh:
                    self._dep_hashes[path] = content_hash(fh.read())
            except OSError:
                self._dep_hashes[path] = None
        return self._dep_hashes[path]

    def put(self, abspath: str, chash: str, ckey: str, rkey: str, shown: str,
            diagnostics: List[Diagnostic], deps: Dict[str, str]) -> None:
        if self.disabled:
            return
        import json
        import tempfile

        entry = {
            "path": abspath, "content": chash, "config": ckey, "run": rkey, "fingerprint": fingerprint(),
            "deps": deps,
            # a diagnostic in this file has no path (it is shown as this file is shown at lookup);
            # one inside an imported module keeps that module's absolute path
            "diagnostics": [{k: v for k, v in d.to_json().items() if k != "path"} if d.path == shown
                            else dict(d.to_json(), path=os.path.abspath(d.path)) for d in diagnostics],
        }
        target = self._entry_path(abspath, ckey)
        try:
            self._prepare()
            target.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(entry, fh, separators=(",", ":"))
                os.replace(tmp, target)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except (OSError, TypeError, ValueError):
            self.disabled = True  # read-only tree, full disk, removed while running: go on uncached

    def _prepare(self) -> None:
        if self._prepared:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tag = self.root / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n"
                           "# This file is a cache directory tag created by speclint.\n")
        ignore = self.root / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Automatically created by speclint.\n*\n")
        self._prepared = True


class Caches:
    """The caches of one run, one per project root."""

    def __init__(self, override: Optional[str] = None):
        self.override = override
        self._by_root: Dict[str, Cache] = {}

    def for_project(self, project_root: Path) -> Cache:
        root = str(cache_root(project_root, self.override))
        if root not in self._by_root:
            self._by_root[root] = Cache(Path(root))
        return self._by_root[root]


def clean(directory: Path) -> bool:
    """Remove a cache directory; True if there was one."""
    import shutil

    directory = Path(directory)
    if not directory.is_dir():
        return False
    shutil.rmtree(directory, ignore_errors=True)
    return True
