"""Worker processes of a pool run, each fed tasks of its own.

`concurrent.futures` hands a task to whichever worker is free; the engine needs to say which
worker does what (`schedule.Ranges`: the next chunk of a worker's range goes to that worker, which
already holds the helper modules the chunk's files follow).  So each worker here has a pipe of its
own: `submit(worker, task)`, then `results()` waits for any busy worker.

Every worker is started at once, before any thread of this module exists: on Linux, from a process
with no other thread, they are forked (they inherit libcst and the rulebook, already loaded); else,
or when asked for `fresh` ones (engine._isolated), spawned (`init` and `run` must then be
importable functions, their arguments picklable).  A spawned worker's `init_args` reach it through
a private file (`_handed_over`), not through multiprocessing's start-up pipe: multiprocessing
writes a spawned process's start-up data to that pipe while it still holds the pipe's reading end
itself, so past the pipe's buffer (64 KB; a big project's module index is more) a child killed
before it has read them (the OOM killer) would leave the parent blocked for ever.  A worker that
dies (a crash, out of memory), or whose task raises, gives `Died` for its task; a dead one is not
replaced, its work goes to the others (`stop`).  Workers exit when the run closes them, and die
with the run (`init` binds them to their parent: engine._init_worker); a start that fails
part-way (no process left to fork, an interrupt) ends the workers it had started.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
import threading
from multiprocessing.connection import wait
from typing import Callable, List, Tuple


class Died(Exception):
    """The worker process ended while it held a task (`exit_code` says how), or its task raised
    (`exit_code` None: the worker goes on)."""

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        self.exit_code = exit_code


def _serve(conn, init: Callable, init_args, run: Callable) -> None:
    if isinstance(init_args, str):  # (spawned: the path of the file holding them)
        with open(init_args, "rb") as fh:
            init_args = pickle.load(fh)
    init(*init_args)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the run is gone
            return
        if task is None:
            return
        try:
            result = run(task)
        except Exception as exc:  # noqa: BLE001 - reported as the task's end, as a death is
            result = Died(f"{type(exc).__name__}: {exc}")
        conn.send(result)


def forks() -> bool:
    """Whether workers started now are forked (on Linux, from a process with no other thread)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


class Workers:
    def __init__(self, jobs: int, init: Callable, init_args: tuple, run: Callable, fresh: bool = False):
        """`jobs` workers, each running `init(*init_args)` then `run(task)` for each task;
        `fresh`: spawned (a new interpreter) even where they could be forked."""
        spawned = fresh or not forks()
        context = multiprocessing.get_context("spawn" if spawned else "fork")
        self.procs: list = []
        self.conns: list = []
        self.busy: List[bool] = []
        self._directory = None
        try:
            if spawned:
                self._directory, init_args = _handed_over(init_args)
            for _ in range(jobs):
                conn, child = context.Pipe()
                try:
                    proc = context.Process(target=_serve, args=(child, init, init_args, run), daemon=True)
                    proc.start()
                    self.procs.append(proc)
                    self.conns.append(conn)
                    self.busy.append(False)
                except BaseException:
                    conn.close()
                    raise
                finally:
                    child.close()
        except BaseException:  # (no fork left, an interrupt): the workers started so far end with it
            self.close()
            raise

    def submit(self, worker: int, task) -> None:
        self.busy[worker] = True
        try:
            self.conns[worker].send(task)
        except OSError:  # (dead already: results() says so)
            pass

    def results(self) -> List[Tuple[int, object]]:
        """(worker, its task's result or a `Died`) for each busy worker that is done, waiting for
        at least one."""
        busy = {self.conns[w]: w for w in range(len(self.conns)) if self.busy[w]}
        out = []
        for conn in wait(list(busy)):
            worker = busy[conn]
            self.busy[worker] = False
            try:
                out.append((worker, conn.recv()))
            except (EOFError, OSError):
                proc = self.procs[worker]
                proc.join(5)
                out.append((worker, Died(f"the analysis process died (exit code {proc.exitcode})", proc.exitcode)))
        return out

    def alive(self, worker: int) -> bool:
        return self.procs[worker].is_alive()

    def stop(self, worker: int) -> None:
        """End `worker` (dead, or to be given no more work)."""
        self.procs[worker].terminate()
        _join(self.procs[worker], 5)

    def close(self) -> None:
        """Idle workers are told to exit; a busy one (the run was interrupted) is terminated."""
        for worker, (proc, conn) in enumerate(zip(self.procs, self.conns)):
            if self.busy[worker]:
                proc.terminate()
            else:
                try:
                    conn.send(None)
                except OSError:
                    pass
        for proc, conn in zip(self.procs, self.conns):
            _join(proc, 10)
            conn.close()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None


def _handed_over(value) -> tuple:
    """(a private directory, the path of a file in it holding `value`, pickled): what a spawned
    worker reads in `_serve`.  The directory (mode 0700: no other user can read or replace the
    file) is removed when the workers are closed."""
    directory = tempfile.mkdtemp(prefix="speclint-workers-")
    try:
        path = os.path.join(directory, "init.pickle")
        with open(path, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return directory, path


def _join(proc, seconds: float) -> None:
    """Wait for `proc` to end, killing it after `seconds`."""
    proc.join(seconds)
    if proc.is_alive():
        proc.kill()
        proc.join(5)
