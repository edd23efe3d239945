"""Worker processes die with the process that started them.

A pool worker (`speclint check -j N`, the language server's checker process) waits on its task
queue.  When its parent is killed (SIGTERM, SIGKILL, an editor killing its language server), nothing
ever closes that queue (the worker holds both of its ends itself), so the worker would live on, and
with it the language server's multiprocessing resource tracker, which waits for every holder of its
pipe to go.  `bind_to_parent(pid)` runs first in every worker:

- on Linux, prctl(PR_SET_PDEATHSIG, SIGKILL): the kernel kills the worker as soon as its parent
  exits, however it exits (the worker holds nothing that needs cleaning up: the parent writes the
  cache);
- where that is unavailable (other systems, a sandbox refusing prctl), a daemon thread checks
  os.getppid() every `POLL_SECONDS` and ends the worker once it changed (the parent died and the
  worker was re-parented);
- either way, the worker ends at once if its parent is already not the process that started it
  (it died before the worker got this far).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

POLL_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def bind_to_parent(parent_pid: int) -> None:
    """Make this (worker) process end when `parent_pid`, its parent, ends."""
    if not _parent_death_signal():
        threading.Thread(target=_watch, args=(parent_pid,), name="speclint-parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)


def _parent_death_signal() -> bool:
    """prctl(PR_SET_PDEATHSIG, SIGKILL); True when the kernel took it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError, ValueError):
        return False


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(1)
