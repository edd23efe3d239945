"""speclint.workers: worker processes with a pipe each (the engine's pool runs)."""
import os
import time

from speclint import workers

TAG = None


def _init(tag):
    global TAG
    TAG = tag


def _run(task):
    if task == "die":
        os._exit(7)
    if task == "raise":
        raise ValueError("bad task")
    if task == "sleep":
        time.sleep(60)
    return (TAG, os.getpid(), task * 2)


def _collect(pool):
    got = {}
    while any(pool.busy):
        for worker, result in pool.results():
            got[worker] = result
    return got


def test_each_worker_does_the_tasks_it_is_given():
    pool = workers.Workers(2, _init, ("ready",), _run)
    try:
        pool.submit(0, 1)
        pool.submit(1, 10)
        got = _collect(pool)
        assert {w: (tag, task) for w, (tag, _, task) in got.items()} == {0: ("ready", 2), 1: ("ready", 20)}
        assert got[0][1] != got[1][1] != os.getpid()  # two processes, not this one
        pool.submit(1, 3)  # the same worker again
        assert _collect(pool)[1][1] == got[1][1]
    finally:
        pool.close()


def test_a_worker_that_dies_is_reported_and_the_others_go_on():
    pool = workers.Workers(2, _init, ("ready",), _run)
    try:
        pool.submit(0, "die")
        pool.submit(1, 5)
        got = _collect(pool)
        assert isinstance(got[0], workers.Died) and "exit code 7" in str(got[0])
        assert got[1][2] == 10 and not pool.alive(0) and pool.alive(1)
        pool.stop(0)
        pool.submit(1, 4)
        assert _collect(pool)[1][2] == 8
    finally:
        pool.close()
    assert not any(p.is_alive() for p in pool.procs)


def test_a_task_that_raises_is_reported_and_the_worker_goes_on():
    pool = workers.Workers(1, _init, ("ready",), _run)
    try:
        pool.submit(0, "raise")
        got = _collect(pool)[0]
        assert isinstance(got, workers.Died) and str(got) == "ValueError: bad task"
        assert pool.alive(0)
        pool.submit(0, 2)
        assert _collect(pool)[0][2] == 4
    finally:
        pool.close()
    assert not any(p.is_alive() for p in pool.procs)


def test_closing_ends_a_busy_worker_at_once():
    pool = workers.Workers(2, _init, ("ready",), _run)
    pool.submit(0, "sleep")
    time.sleep(0.2)
    start = time.monotonic()
    pool.close()
    assert time.monotonic() - start < 5
    assert not any(p.is_alive() for p in pool.procs)


def test_a_start_that_fails_part_way_ends_the_workers_already_started(monkeypatch):
    import multiprocessing

    import pytest

    started = []
    context = multiprocessing.get_context("fork" if workers.forks() else "spawn")
    real_start = type(context.Process(target=_run)).start

    def start(self):
        if len(started) == 2:
            raise OSError(11, "Resource temporarily unavailable")  # (fork's EAGAIN: no process left)
        real_start(self)
        started.append(self)

    monkeypatch.setattr(type(context.Process(target=_run)), "start", start)
    with pytest.raises(OSError, match="temporarily unavailable"):
        workers.Workers(3, _init, ("ready",), _run)
    assert len(started) == 2 and not any(p.is_alive() for p in started)
