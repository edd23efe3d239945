"""The order in which a run analyses its files, and how it splits them among pool workers.

A file's check analyses its *users* (speclint.project: the modules that run its model_fns) and the
helper modules it imports; each process keeps those analyses (`static/modules.py`,
`static/project_view.py`), and a user's own check is the analysis its used files' views share
(`project_view.remember`).  So the order matters for the work done, never for the result (the
results are reported in the walk's order):

- `users_first`: a file's users that are in the run are analysed just before it;
- `Ranges`: for a pool, each worker gets a contiguous range of that order and takes it in shrinking
  chunks, stealing half of another's range when its own is done: files of one package (and a
  file's users) mostly go to one worker, so no two workers analyse the same helpers, and the
  workers finish together.

Works are any objects with `index` (unique), `abspath`, `users` ((path, narrows) pairs) and `data`.
"""
from __future__ import annotations

from collections.abc import Sequence

# A worker's next chunk is a third of what is left of its range (guided self-scheduling: large
# chunks first, small ones at the end, so that the workers finish together), never below
# MIN_CHUNK_BYTES (a chunk is one round trip to the worker).
CHUNK_DIVISOR = 3
MIN_CHUNK_BYTES = 32 * 1024


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


class Ranges:
    """The works of a pool run, handed to `jobs` workers in chunks.

    The works, in `users_first` order (the walk's, so files of one package are together, and a
    file's users just before it), are cut into `jobs` contiguous ranges of about equal bytes, one
    per worker.  A worker takes its chunks from the front of its own range, so the helper modules a
    package's files follow are mostly analysed by one worker only.  A worker whose range is done
    takes the back half of the largest range left (work stealing).  Bytes predict a file's cost
    badly (1 to 5 times, with the helpers it follows), so the ranges are not fixed batches: the
    chunks shrink as a range empties and the last ones are small, so no worker waits long for
    another."""

    def __init__(self, works: Sequence, jobs: int):
        self.works = users_first(works)
        self.sizes = [max(1, len(w.data)) for w in self.works]
        self.part = _parts(self.works)
        total = sum(self.sizes)
        cuts = [0]
        done = 0
        for i, size in enumerate(self.sizes):  # a work goes to the range its middle byte falls in
            while len(cuts) < jobs and done + size / 2 > total * len(cuts) / jobs:
                cuts.append(i)
            done += size
        cuts += [len(self.works)] * (jobs + 1 - len(cuts))
        for j in range(1, jobs):
            cuts[j] = self._snap(cuts[j], cuts[j - 1], cuts[j + 1])
        self.ranges: list[list[int]] = [[cuts[j], cuts[j + 1]] for j in range(jobs)]

    def _snap(self, cut: int, lo: int, hi: int) -> int:
        """The position nearest `cut`, strictly inside (lo, hi), that does not separate two files
        linked by a user (one part of the user graph); `cut` itself when there is none."""
        for step in range(hi - lo):
            for c in (cut - step, cut + step):
                if lo < c < hi and self.part[c - 1] != self.part[c]:
                    return c
        return cut

    def _bytes(self, lo: int, hi: int) -> int:
        return sum(self.sizes[lo:hi])

    def next_chunk(self, worker: int) -> list | None:
        """The next works for `worker` (None: nothing is left for anyone)."""
        lo, hi = self.ranges[worker]
        if lo >= hi and not self._steal(worker):
            return None
        lo, hi = self.ranges[worker]
        want = max(MIN_CHUNK_BYTES, self._bytes(lo, hi) / CHUNK_DIVISOR)
        end, got = lo + 1, self.sizes[lo]
        while end < hi and got + self.sizes[end] <= want:
            got += self.sizes[end]
            end += 1
        self.ranges[worker][0] = end
        return self.works[lo:end]

    def _steal(self, worker: int) -> bool:
        """Give `worker` the back half (by bytes) of the largest range left; False: none is left."""
        victim = max(range(len(self.ranges)), key=lambda k: self._bytes(*self.ranges[k]))
        lo, hi = self.ranges[victim]
        if lo >= hi:
            return False
        cut, taken, half = hi, 0, self._bytes(lo, hi) / 2
        while cut > lo and taken + self.sizes[cut - 1] / 2 <= half:
            cut -= 1
            taken += self.sizes[cut]
        if cut == hi:  # one work left, or one bigger than the rest: the thief takes the last one
            cut = hi - 1
        elif cut > lo:
            cut = self._snap(cut, lo, hi)
        self.ranges[victim][1] = cut
        self.ranges[worker] = [cut, hi]
        return True


def _parts(works: Sequence) -> list[int]:
    """For each work, its part of the user graph (works linked by a user, directly or not)."""
    parent = list(range(len(works)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    at = {w.abspath: i for i, w in enumerate(works)}
    for i, w in enumerate(works):
        for user, _ in w.users:
            if user in at:
                parent[root(at[user])] = root(i)
    return [root(i) for i in range(len(works))]
