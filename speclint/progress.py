"""Progress on stderr for long runs: `speclint: checking 1,234/2,020 files (61%)`, rewritten in
place, then erased before the report is printed.

Shown only when stderr is a terminal (never in a pipe, a file or CI logs), not under `--quiet`,
and only once a run has taken `DELAY` seconds (a run that ends sooner prints nothing); updated at
most `INTERVAL` times a second.  `SPECLINT_PROGRESS_DELAY` overrides the delay (the tests set 0).
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

TYPE_CHECKING = False  # (typing costs ~5 ms of a plain run's start-up)
if TYPE_CHECKING:
    from typing import TextIO

DELAY = 1.0
INTERVAL = 0.1


class Progress:
    def __init__(self, stream: TextIO, delay: float = DELAY, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.last = None  # when the line was last written
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.started < self.delay or (self.last is not None and now - self.last < INTERVAL and done < total):
            return
        self.last = now
        percent = 100 * done // total if total else 100
        self.stream.write(f"\r\x1b[2Kspeclint: checking {done:,}/{total:,} files ({percent}%)")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """Erase the line (nothing to do when it was never shown)."""
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.shown = False


def for_run(quiet: bool, stream: TextIO | None = None) -> Progress | None:
    stream = stream or sys.stderr
    if quiet or os.environ.get("TERM") == "dumb":
        return None
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    try:
        delay = float(os.environ.get("SPECLINT_PROGRESS_DELAY", DELAY))
    except ValueError:
        delay = DELAY
    return Progress(stream, delay)
