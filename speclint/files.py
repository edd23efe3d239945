"""Which files to lint, and the cheap byte-level prefilter that runs before any parsing."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

# A file that never spells `Estimator` can neither construct a spec (EstimatorSpec,
# TPUEstimatorSpec) nor hand a model_fn to an Estimator/TPUEstimator (aliases are imported by
# name, so the import line spells it).  Skipping these before libcst is even imported is most of
# the speed on a large tree (DESIGN.md).  Modules such a file imports are still read through the
# module index when it needs them.
PREFILTER_TOKENS = (b"Estimator",)


def may_matter(data: bytes) -> bool:
    return any(tok in data for tok in PREFILTER_TOKENS)


@dataclass
class Entry:
    path: str  # as given / walked (used for reading)
    error: Optional[str] = None  # why it cannot be read (reported as SL000)


def walk(paths, resolver) -> Iterator[Entry]:
    """Files to lint under `paths`, in a stable order; excluded directories are not entered.

    A file named on the command line is always linted (like ruff); exclusion applies to what a
    directory walk finds.  Missing paths are the caller's business (usage error).
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
                yield Entry(str(p), None if p.exists() else "broken symbolic link")


def _walk_dir(top: Path, resolver, seen) -> Iterator[Entry]:
    errors: List[str] = []

    def onerror(exc: OSError) -> None:
        errors.append(f"{exc.filename}: {exc.strerror or exc}")

    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror, followlinks=False):
        config = resolver.for_path(Path(dirpath))
        kept = []
        for d in sorted(dirnames):
            rel = config.relative(Path(dirpath, d))
            if rel is not None and config.is_excluded(rel):
                continue
            if rel is None and d in config.exclude + config.extend_exclude:
                continue
            kept.append(d)
        dirnames[:] = kept
        for f in sorted(filenames):
            if not f.endswith((".py", ".pyi")):
                continue
            full = Path(dirpath, f)
            rel = config.relative(full)
            if rel is not None and config.is_excluded(rel):
                continue
            key = os.path.abspath(full)
            if key in seen:
                continue
            seen.add(key)
            if full.is_symlink() and not full.exists():
                yield Entry(str(full), "broken symbolic link")
            else:
                yield Entry(str(full))
    for e in errors:
        yield Entry(e.split(": ", 1)[0], "cannot read directory: " + e.split(": ", 1)[-1])
