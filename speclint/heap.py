"""The cyclic garbage collector during a run over many files.

A run allocates millions of container objects per MiB of source (libcst's nodes, the analysis's
values and states), most of them freed by reference counting within the file.  CPython's default
collector runs a young collection every 700 net allocations, and a full one (which scans every
tracked object: a few hundred thousand here, about 0.3 s each on the benchmark machine) after ten
middle ones once the survivors have grown by a quarter.  `run()` makes young collections rarer
(`YOUNG_THRESHOLD`), so full ones are too, and takes what existed before the run (the
interpreter's modules, the configuration) out of the collector's scans (`gc.freeze`); both are
undone when the run ends (the objects frozen go back to the collector).

Measured on the 19 repositories of bench/bench_tree.py (`-j 1`, CPU, one session): 73 s with
CPython's defaults; 57 s with a young threshold of 10,000 (peak 213 MiB instead of 157: an
analysis is full of reference cycles, which only full collections free, so more of them wait);
56 s at 20,000 (266 MiB); 47 s with the collector off (590 MiB).  Freezing alone: 70 s.

A run over many files retires the analyses it no longer keeps (`static/retire.py`: their cycles
broken, reference counting frees them), so little cyclic garbage is left to wait, and its young
threshold is `RETIRING_YOUNG_THRESHOLD` (a later session, same tree, time in the collector):
6.5 s at 10,000, 3.4 s at 100,000, 1.4 s at 300,000, 0.75 s at 1,000,000, peak 135-139 MiB
throughout.  A language server's checker (whose memos outlive any one check, so nothing is
retired) keeps `YOUNG_THRESHOLD`.
"""
from __future__ import annotations

import contextlib
import gc

YOUNG_THRESHOLD = 10_000
RETIRING_YOUNG_THRESHOLD = 300_000


@contextlib.contextmanager
def run(young: int = YOUNG_THRESHOLD):
    """The collector's settings for one run over many files (see `worker` for a pool worker)."""
    old = _settings(young)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def worker(young: int = YOUNG_THRESHOLD) -> None:
    """A pool worker, or a language server's checker (a process of its own): the same settings,
    never undone."""
    _settings(young)


def _settings(young: int) -> tuple:
    """Freeze what exists and raise the young threshold to `young`; the thresholds before."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old[0], young), *old[1:])
    return old
