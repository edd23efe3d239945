"""Issue 16, item 7: worker processes do not outlive their parent.  Real processes and real
signals: `speclint check -j 2` is killed (SIGTERM, SIGKILL) while its pool analyses files, and
`speclint server` is killed as an editor kills it; every process they started must be gone within a
bounded wait (a worker polls or is signalled within about a second; the bound is generous for a
loaded machine).  Reading the process table needs Linux's /proc."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from integrations_support import clean_env
from samples import BAD

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")

DEADLINE = 30  # seconds: a bound on the wait, not a speed target


def _stat(pid: int):
    """(state, ppid) of a process, None when it no longer exists."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0].decode(), int(fields[1])


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def children(pid: int) -> list:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None and st[1] == pid and st[0] != "Z":
                out.append(int(name))
    return out


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] != "Z"  # a zombie has exited (nobody may reap it in a container)


def wait_until(predicate, what, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _slow_tree(root: Path) -> None:
    # enough source for `-j 2` to start its pool (engine.POOL_MIN_BYTES) and to keep it busy
    body = "".join(f"def helper_{i}(x):\n    return [x + {i}, {{'k': x * {i}}}]\n\n" for i in range(600))
    for i in range(40):
        (root / f"m{i:02d}.py").write_text(BAD + body, encoding="utf-8")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_check_workers_die_with_a_killed_parent(tmp_path, sig):
    _slow_tree(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "speclint", "check", "--no-cache", "-j", "2", "."],
                            cwd=tmp_path, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    try:
        workers = wait_until(lambda: len(children(proc.pid)) >= 2 and children(proc.pid), "two pool workers")
        assert all("speclint" in _cmdline(w) or "python" in _cmdline(w) for w in workers)
        assert proc.poll() is None  # the run is still going: the workers are busy or waiting
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=DEADLINE) == -sig
        wait_until(lambda: not any(alive(w) for w in workers), f"the workers {workers} to end")
    finally:
        _kill_all(workers + [proc.pid])
        proc.wait()


def test_check_workers_end_normally_without_a_signal(tmp_path):
    # the twin: an undisturbed run ends with all its workers, and gives its usual result
    _slow_tree(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "speclint", "check", "--no-cache", "-q",
                             "--output-format", "json", "-j", "2", "."],
                            cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    workers = wait_until(lambda: len(children(proc.pid)) >= 2 and children(proc.pid), "two pool workers")
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 1 and out.count(b'"SL005"') == 40
    wait_until(lambda: not any(alive(w) for w in workers), "the workers to end")


def test_language_server_checker_and_resource_tracker_die_with_a_killed_server(tmp_path):
    from test_lsp_robustness import RawClient

    client = RawClient(tmp_path)
    server = client.proc
    started = []
    try:
        client.initialize(tmp_path)  # `initialized` starts the checker process (warm-up)
        uri = (tmp_path / "model.py").as_uri()
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                              "text": BAD}}, request=False)
        while True:  # the document was checked: the checker process exists
            msg = client.receive()
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] == uri:
                break
        started = children(server.pid)
        kinds = sorted("resource_tracker" if "resource_tracker" in _cmdline(p) else "worker" for p in started)
        assert kinds == ["resource_tracker", "worker"], [(_cmdline(p)) for p in started]
        server.kill()  # as an editor does when it gives up on its server
        server.wait(timeout=DEADLINE)
        wait_until(lambda: not any(alive(p) for p in started), f"the server's processes {started} to end")
    finally:
        _kill_all(started + [server.pid])
        server.wait()


GRANDCHILD = """
import sys, time
from speclint import lifetime
if sys.argv[2] == "poll":
    lifetime._parent_death_signal = lambda: False  # as on a system without prctl
    lifetime.POLL_SECONDS = 0.2
if sys.argv[2] != "unbound":
    lifetime.bind_to_parent(int(sys.argv[1]))
print("ready", flush=True)
time.sleep(600)
"""
MIDDLE = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(os.getpid()), sys.argv[2]])
print(child.pid, flush=True)
child.wait()
"""


@pytest.mark.parametrize("how", ["prctl", "poll", "unbound"])
def test_bind_to_parent_ends_an_orphan(how):
    """Both mechanisms of speclint.lifetime on their own; "unbound" is the control: a process that
    is not bound outlives its killed parent (which is why the binding is needed)."""
    middle = subprocess.Popen([sys.executable, "-c", MIDDLE, GRANDCHILD, how], env=clean_env(),
                              stdout=subprocess.PIPE)
    child = int(middle.stdout.readline())
    try:
        assert middle.stdout.readline().strip() == b"ready"
        middle.kill()
        middle.wait()
        if how == "unbound":
            time.sleep(3)  # (several poll periods)
            assert alive(child)
        else:
            wait_until(lambda: not alive(child), "the orphan to end")
    finally:
        _kill_all([child, middle.pid])
        middle.wait()
