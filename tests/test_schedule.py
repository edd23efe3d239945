"""The order of analysis and the pool's ranges (speclint/schedule.py): users before the files they
use, each worker's range handed out in shrinking contiguous chunks, stealing when idle, every file
exactly once."""
from dataclasses import dataclass

from pathlib import Path

import pytest

from speclint import schedule

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class W:
    index: int
    abspath: str
    users: tuple = ()
    data: bytes = b"x" * 10


def _works():
    return [
        W(0, "/p/a/model.py", users=(("/p/a/main.py", True),)),
        W(1, "/p/a/main.py"),
        W(2, "/p/b/lib.py", users=(("/p/b/run.py", True), ("/p/b/run_test.py", False))),
        W(3, "/p/b/run.py"),
        W(4, "/p/b/run_test.py"),
        W(5, "/p/c/alone.py"),
        W(6, "/p/a/outside_user.py", users=(("/elsewhere/user.py", True),)),  # a user not in the run
    ]


def test_users_come_just_before_the_files_they_use():
    order = [w.index for w in schedule.users_first(_works())]
    assert order == [1, 0, 3, 4, 2, 5, 6]


def test_users_first_follows_a_cycle_of_users_once():
    a = W(0, "/a.py", users=(("/b.py", True),))
    b = W(1, "/b.py", users=(("/a.py", True),))
    assert [w.index for w in schedule.users_first([a, b])] == [1, 0]


def drain(ranges, order):
    """Chunks handed out when the workers ask in `order` (cycled) until every one gets None."""
    got = {w: [] for w in set(order)}
    done = set()
    i = 0
    while len(done) < len(got):
        worker = order[i % len(order)]
        i += 1
        if worker in done:
            continue
        chunk = ranges.next_chunk(worker)
        if chunk is None:
            done.add(worker)
        else:
            got[worker].append(chunk)
    return got


@pytest.mark.parametrize("jobs,order", [(2, [0, 1]), (2, [0, 0, 0, 1]), (3, [2, 1, 0, 0]), (4, [3, 3, 1, 0, 2])])
def test_ranges_hand_out_every_work_once_in_contiguous_chunks(jobs, order):
    works = [W(i, f"/p/{i // 7}/f{i}.py", data=b"x" * (1000 + (i * 7919) % 90_000)) for i in range(60)]
    ranges = schedule.Ranges(works, jobs)
    got = drain(ranges, order)
    handed = [w.index for chunks in got.values() for c in chunks for w in c]
    assert sorted(handed) == list(range(60))  # every work, once
    position = {w.index: n for n, w in enumerate(ranges.works)}
    for chunks in got.values():
        for c in chunks:  # a chunk is a run of the users_first order
            assert [position[w.index] for w in c] == list(range(position[c[0].index], position[c[0].index] + len(c)))


def test_each_worker_starts_on_its_own_range_with_a_third_of_it():
    works = [W(i, f"/f{i}.py", data=b"x" * 50_000) for i in range(24)]
    ranges = schedule.Ranges(works, 2)
    assert ranges.ranges == [[0, 12], [12, 24]]  # equal bytes, contiguous
    first = ranges.next_chunk(0)
    assert [w.index for w in first] == [0, 1, 2, 3]  # a third of 12 works of 50 KB
    second = ranges.next_chunk(0)
    assert [w.index for w in second] == [4, 5]  # a third of what is left: the chunks shrink
    assert [w.index for w in ranges.next_chunk(1)] == [12, 13, 14, 15]


def test_an_idle_worker_steals_the_back_half_of_the_largest_range():
    works = [W(i, f"/f{i}.py", data=b"x" * 50_000) for i in range(24)]
    ranges = schedule.Ranges(works, 3)
    ranges.ranges = [[8, 8], [8, 16], [20, 24]]  # worker 0 is done; worker 1 has the most left
    chunk = ranges.next_chunk(0)
    assert ranges.ranges[1] == [8, 12] and chunk[0].index == 12  # the back half, from its front
    ranges.ranges = [[0, 0], [5, 6], [6, 6]]  # one work left: the thief takes it
    assert [w.index for w in ranges.next_chunk(2)] == [5]
    assert ranges.next_chunk(0) is None and ranges.next_chunk(1) is None and ranges.next_chunk(2) is None


def test_ranges_and_steals_do_not_cut_between_linked_files():
    works = [W(i, w.abspath, w.users, b"x" * 20_000) for i, w in enumerate(_works())]
    ranges = schedule.Ranges(works, 2)
    assert [w.index for w in ranges.works] == [1, 0, 3, 4, 2, 5, 6]
    # the middle byte is in run_test.py (users 3, 4 of lib.py 2): the cut moves past the part
    assert ranges.ranges == [[0, 5], [5, 7]]
    ranges.ranges = [[0, 0], [0, 7]]  # worker 0 steals from worker 1: half would be at 3 or 4
    ranges.next_chunk(0)
    cut = ranges.ranges[1][1]
    assert cut == 2 and ranges.part[cut - 1] != ranges.part[cut]
    for chunks in drain(schedule.Ranges(works, 2), [0, 0, 0, 0, 0, 0, 0, 1]).values():
        seen = [w.abspath for c in chunks for w in c]  # users before the files they use, per worker
        for w in works:
            for user, _ in w.users:
                if user in seen and w.abspath in seen:
                    assert seen.index(user) < seen.index(w.abspath)


def test_one_huge_work_leaves_a_range_empty_not_a_work_lost():
    works = [W(0, "/big.py", data=b"x" * 10_000_000)] + [W(i, f"/f{i}.py", data=b"x" * 1000) for i in range(1, 5)]
    got = drain(schedule.Ranges(works, 2), [0, 1])
    assert sorted(w.index for chunks in got.values() for c in chunks for w in c) == list(range(5))


# ---- the pool with ranges, on real files ------------------------------------------------------
BAD = '''import tensorflow as tf


def model_fn(features, labels, mode, params):
    loss = tf.reduce_sum(features["x"])
    train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
                                             eval_metrics={"m": tf.compat.v1.metrics.mean(loss)})


est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=8)
est.train(input_fn=None, max_steps=1)
'''


def _tree(tmp_path, n=6):
    for i in range(n):
        (tmp_path / f"m{i}.py").write_text(BAD.replace("model_fn", f"model_fn_{i}") + f"# {i}\n")
    return tmp_path


def _run(tmp_path, jobs):
    from speclint import engine
    from speclint.config import Resolver

    result = engine.check_paths([str(tmp_path)], Resolver(), jobs=jobs)
    return [(r.path, r.internal_error, [(d.code, d.line, d.message) for d in r.diagnostics]) for r in result.files]


def test_the_pool_gives_the_serial_result_in_walk_order(tmp_path, monkeypatch):
    from speclint import engine

    _tree(tmp_path)
    serial = _run(tmp_path, jobs=1)
    assert all(diags for _, _, diags in serial) and [p for p, _, _ in serial] == sorted(p for p, _, _ in serial)
    monkeypatch.setattr(engine, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(schedule, "MIN_CHUNK_BYTES", 1)  # several chunks
    assert _run(tmp_path, jobs=2) == serial


_DYING_POOL = """
import json, os, sys
from speclint import engine, schedule
from speclint.config import Resolver

def run(jobs):
    result = engine.check_paths([sys.argv[1]], Resolver(), jobs=jobs)
    return [(r.path, r.internal_error, [(d.code, d.line, d.message) for d in r.diagnostics]) for r in result.files]

serial = run(1)
real = engine._pool_batch

def dying(tasks):  # the forked workers inherit it; the file-by-file retry is spawned (no patch)
    if any(b"CRASH_ME" in t[0] for t in tasks):
        os._exit(3)
    return real(tasks)

dying.__module__, dying.__qualname__ = "speclint.engine", "_pool_batch"  # (pickled by name)
engine._pool_batch = dying
retried = []
isolated = engine._isolated
engine._isolated = lambda work, *a: retried.append(work.shown) or isolated(work, *a)
engine.POOL_MIN_BYTES = 0
schedule.MIN_CHUNK_BYTES = 1
pooled = run(2)
print(json.dumps({"same": pooled == serial, "retried": retried, "findings": sum(len(d) for _, _, d in serial)}))
"""


def test_a_chunk_whose_worker_dies_is_analysed_again_file_by_file(tmp_path):
    # in a fresh interpreter: the pool forks only from a single-threaded process (this one may
    # have TensorFlow's threads), and the forked workers must inherit the dying batch function
    import json
    import subprocess
    import sys

    _tree(tmp_path)
    (tmp_path / "m3.py").write_text((tmp_path / "m3.py").read_text() + "# CRASH_ME\n")
    if not sys.platform.startswith("linux"):
        pytest.skip("the pool forks only on Linux")
    out = subprocess.run([sys.executable, "-c", _DYING_POOL, str(tmp_path)], capture_output=True, text=True,
                         timeout=600, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["findings"] >= 6
    assert report["same"]  # nothing lost, nothing blamed
    assert any(p.endswith("m3.py") for p in report["retried"])  # the batch holding m3.py did die


def test_when_every_worker_dies_the_rest_is_analysed_file_by_file(tmp_path):
    """No worker is started again (a spawned one that dies at start-up would hang the run): the
    others take over a dead worker's range, and when none is left the rest goes file by file."""
    import json
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("the pool forks only on Linux")
    _tree(tmp_path)
    for p in tmp_path.glob("m*.py"):
        p.write_text(p.read_text() + "# CRASH_ME\n")
    out = subprocess.run([sys.executable, "-c", _DYING_POOL, str(tmp_path)], capture_output=True, text=True,
                         timeout=600, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["same"] and report["findings"] >= 6
    assert len(report["retried"]) == 6  # every file, once, each in a fresh process


_KILLED_AT_START = """
import os, signal, sys
from multiprocessing import util
from speclint import engine, workers
from speclint.config import Resolver
from speclint.static.modules import ModuleIndex

real = util.spawnv_passfds

def killed_at_start(path, args, passfds):  # (the OOM killer, as the new process starts)
    pid = real(path, args, passfds)
    if any("spawn_main" in os.fsdecode(a) for a in args) and not any("resource_tracker" in os.fsdecode(a) for a in args):
        os.kill(pid, signal.SIGKILL)
    return pid

if __name__ == "__main__":
    util.spawnv_passfds = killed_at_start
    file = sys.argv[1]
    data = open(file, "rb").read()
    work = engine._Work(0, data, "m.py", Resolver().for_file(file), "m.py", file, os.path.abspath(file))
    # a module index of a big project: the options are far past a pipe's 64 KB
    options = {"index": ModuleIndex([f"/nowhere/pkg{i}/module_{i}.py" for i in range(5000)], disk=False)}
    print(engine._isolated(work, options, RuntimeError("first")).internal_error)
    pool = workers.Workers(2, engine._init_worker, (options, os.getpid()), engine._pool_batch, fresh=True)
    try:
        pool.submit(0, [engine._task(work)])
        print(pool.results()[0][1])
    finally:
        pool.close()
    print(pool._directory, [os.path.basename(d) for d in os.listdir(os.environ["TMPDIR"])])
"""


def test_a_process_killed_as_it_starts_does_not_hang_the_run(tmp_path):
    """multiprocessing writes a spawned process's start-up data to a pipe whose reading end it
    still holds itself: past the pipe's buffer, that write blocked for ever once the child was
    gone (the retry of a file, a spawned pool).  Their start-up arguments go through a file."""
    import os
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("kills the process through a Linux spawn")
    (tmp_path / "m.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "probe.py").write_text(_KILLED_AT_START, encoding="utf-8")
    (tmp_path / "tmp").mkdir()
    out = subprocess.run([sys.executable, str(tmp_path / "probe.py"), str(tmp_path / "m.py")], capture_output=True,
                         text=True, timeout=120, cwd=str(ROOT),
                         env=dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path / "tmp")))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["the analysis process died (exit code -9)",
                                       "the analysis process died (exit code -9)", "None []"], out.stdout
