"""The order in which a run analyses its files, and how it splits them among pool workers.

A file's check analyses its *users* (speclint.project: the modules that run its model_fns) and the
helper modules it imports; each process keeps those analyses (`static/modules.py`,
`static/project_view.py`), and a user's own check is the analysis its used files' views share
(`project_view.remember`).  So the order matters for the work done, never for the result (the
results are reported in the walk's order):

- `users_first`: a file's users that are in the run are analysed just before it;
- `batches`: for a pool, files linked by a user (the connected parts of the user graph) go to the
  same worker, as one task, so no two workers analyse the same user or (mostly) the same helpers.
  A part larger than a fair share is cut, in `users_first` order, so the workers stay busy.

Works are any objects with `index` (unique), `abspath`, `users` ((path, narrows) pairs) and `data`.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

# A batch is cut at about total / (jobs * BATCHES_PER_WORKER) bytes (and never below MIN_BATCH_BYTES):
# several batches per worker, largest first, so that no worker is left with the last big one.
BATCHES_PER_WORKER = 4
MIN_BATCH_BYTES = 64 * 1024


def users_first(works: Sequence) -> list:
    """`works` in their order, except that a file's users among them come just before it (and a
    user's own users before it, one level further: a registry's importers)."""
    by_path = {w.abspath: w for w in works}
    out: list = []
    seen: set = set()

    def add(work, depth: int) -> None:
        if work.index in seen:
            return
        seen.add(work.index)
        if depth < 2:
            for user, _ in work.users:
                other = by_path.get(user)
                if other is not None:
                    add(other, depth + 1)
        out.append(work)

    for work in works:
        add(work, 0)
    return out


def batches(works: Sequence, jobs: int) -> List[list]:
    """`works` split into tasks for `jobs` workers: each connected part of the user graph (in
    `users_first` order), cut where it exceeds a fair share; the largest first."""
    ordered = users_first(works)
    parent: Dict[int, int] = {w.index: w.index for w in ordered}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_path = {w.abspath: w for w in ordered}
    for w in ordered:
        for user, _ in w.users:
            other = by_path.get(user)
            if other is not None:
                parent[root(other.index)] = root(w.index)
    parts: Dict[int, list] = {}
    for w in ordered:
        parts.setdefault(root(w.index), []).append(w)
    total = sum(len(w.data) for w in ordered)
    limit = max(MIN_BATCH_BYTES, total // max(1, jobs * BATCHES_PER_WORKER))
    out: List[list] = []
    for part in parts.values():
        batch: list = []
        size = 0
        for w in part:
            if batch and size + len(w.data) > limit:
                out.append(batch)
                batch, size = [], 0
            batch.append(w)
            size += len(w.data)
        if batch:
            out.append(batch)
    # small parts (files no user links) fill up to the limit together, in walk order
    merged: List[list] = []
    for batch in sorted(out, key=lambda b: min(w.index for w in b)):
        size = sum(len(w.data) for w in batch)
        last = merged[-1] if merged else None
        if last is not None and last[1] + size <= limit:
            last[0].extend(batch)
            last[1] += size
        else:
            merged.append([list(batch), size])
    merged.sort(key=lambda m: -m[1])
    return [m[0] for m in merged]
