"""The order of analysis and the pool's batches (speclint/schedule.py): users before the files they
use, files linked by a user in one batch, every file exactly once."""
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


def test_a_linked_part_stays_in_one_batch():
    works = [W(i, w.abspath, w.users, b"x" * 20_000) for i, w in enumerate(_works())]  # parts fit the limit (64 KiB)
    tasks = schedule.batches(works, jobs=2)
    where = {w.index: n for n, batch in enumerate(tasks) for w in batch}
    assert sorted(where) == list(range(7))  # every file, once
    assert where[0] == where[1]
    assert where[2] == where[3] == where[4]
    sizes = [sum(len(w.data) for w in b) for b in tasks]
    assert sizes == sorted(sizes, reverse=True)  # the largest first
    for batch in tasks:  # users first within a batch
        seen = [w.abspath for w in batch]
        for w in batch:
            for user, _ in w.users:
                if user in seen:
                    assert seen.index(user) < seen.index(w.abspath)


def test_a_part_larger_than_a_fair_share_is_cut():
    big = [W(0, "/lib.py", users=tuple((f"/u{i}.py", True) for i in range(1, 9)), data=b"x" * 200_000)]
    big += [W(i, f"/u{i}.py", data=b"x" * 200_000) for i in range(1, 9)]
    tasks = schedule.batches(big, jobs=2)
    assert len(tasks) > 1
    assert sorted(w.index for b in tasks for w in b) == list(range(9))
    limit = max(schedule.MIN_BATCH_BYTES, 9 * 200_000 // (2 * schedule.BATCHES_PER_WORKER))
    assert all(sum(len(w.data) for w in b) <= max(limit, 200_000) for b in tasks)


def test_small_unlinked_files_share_a_batch():
    works = [W(i, f"/f{i}.py", data=b"x" * 1000) for i in range(10)]
    tasks = schedule.batches(works, jobs=2)
    assert len(tasks) == 1 and [w.index for w in tasks[0]] == list(range(10))


# ---- the pool with batches, on real files ------------------------------------------------------
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
    monkeypatch.setattr(schedule, "MIN_BATCH_BYTES", 1)  # several batches
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
schedule.MIN_BATCH_BYTES = 1
pooled = run(2)
print(json.dumps({"same": pooled == serial, "retried": retried, "findings": sum(len(d) for _, _, d in serial)}))
"""


def test_a_batch_whose_worker_dies_is_analysed_again_file_by_file(tmp_path):
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
