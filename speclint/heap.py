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
"""
from __future__ import annotations

import contextlib
import gc

YOUNG_THRESHOLD = 10_000


@contextlib.contextmanager
def run():
    """The collector's settings for one run over many files (also a pool worker's lifetime)."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old[0], YOUNG_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def worker() -> None:
    """A pool worker (a process of its own for the whole run): the same settings, never undone."""
    gc.freeze()
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], YOUNG_THRESHOLD), *old[1:])
