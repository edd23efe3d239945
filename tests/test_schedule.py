"""The order of analysis and the pool's batches (speclint/schedule.py): users before the files they
use, files linked by a user in one batch, every file exactly once."""
from dataclasses import dataclass

from speclint import schedule


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
