"""Issue 16: a planted or corrupt `.speclint_cache/` (a cloned repository may carry one) can neither
crash a run nor change a file outside it (items 4 and 6), and `speclint clean` tells the truth.

Every corrupt entry is a cache miss: the output equals a run without the cache.  Cases that would
hang or exhaust memory on the unfixed code run in a subprocess with a timeout and an address-space
limit."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from speclint import __version__, cache
from speclint.cli import cli

from integrations_support import clean_env
from samples import BAD, GOOD, runner

CACHE = ".speclint_cache"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cache.ENV_CACHE_DIR, raising=False)

    def _run(*args):
        result = runner().invoke(cli, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        return result.exit_code, result.stdout, result.stderr
    return _run


def subprocess_run(tmp_path, *args):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))
    proc = subprocess.run([sys.executable, "-m", "speclint", *args], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, timeout=120, preexec_fn=limit)
    return proc.returncode, proc.stdout, proc.stderr


def entries(tmp_path):
    return sorted((tmp_path / CACHE).rglob("*.json"))


def tree(tmp_path):
    (tmp_path / "bad.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "good.py").write_text(GOOD, encoding="utf-8")


def files_outside(tmp_path):
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                  if CACHE not in p.relative_to(tmp_path).parts)


# ---- item 4: a corrupt entry is a miss ------------------------------------------------------------
def _mutations():
    def nested(e):
        return "[" * 200_000 + "]" * 200_000

    def deep_diag(e):
        e["diagnostics"] = [{"x": json.loads("[" * 50 + "]" * 50)}]
        return json.dumps(e)

    def set_(key, value):
        def f(e):
            e[key] = value
            return json.dumps(e)
        return f

    def diag(key, value):
        def f(e):
            for d in e["diagnostics"]:
                d[key] = value
            return json.dumps(e)
        return f

    return {
        "nested 200,000 deep": nested,
        "deeply nested diagnostic": deep_diag,
        "deps a list": set_("deps", ["x"]),
        "deps values not strings": set_("deps", {"/nonexistent": 5}),
        "diagnostics a dict": set_("diagnostics", {"code": "SL005"}),
        "diagnostic a string": set_("diagnostics", ["SL005"]),
        "line a string": diag("line", "eight"),
        "line a float": diag("line", 8.5),
        "line a bool": diag("line", True),
        "code a number": diag("code", 5),
        "message null": diag("message", None),
        "fix a list": diag("fix", ["x"]),
        "unknown field": diag("colour", "red"),
        "path a number": diag("path", 7),
        "top level a list": lambda e: json.dumps([e]),
        "huge integer": lambda e: json.dumps(e).replace('"line":', '"line":' + "9" * 5000 + ","
                                                         '"x":', 1),
        "not UTF-8": lambda e: b"\xff\xfe" + json.dumps(e).encode(),
        "truncated": lambda e: json.dumps(e)[:40],
    }


MUTATIONS = _mutations()


@pytest.mark.parametrize("how", sorted(MUTATIONS))
def test_a_corrupt_entry_is_a_miss(run, tmp_path, how):
    tree(tmp_path)
    cold = run(".")
    assert cold[0] == 1
    for path in entries(tmp_path):
        text = MUTATIONS[how](json.loads(path.read_text()))
        if isinstance(text, str):
            text = text.encode()
        path.write_bytes(text)
    assert run(".") == cold
    assert run(".") == cold  # (rewritten by the second run, served by the third)


def test_entries_rewritten_after_a_miss_are_served(run, tmp_path, monkeypatch):
    # the twin: a good entry is a hit (nothing parsed)
    tree(tmp_path)
    cold = run(".")
    from speclint.static import pipeline

    monkeypatch.setattr(pipeline, "parse", lambda data: pytest.fail("parsed on a warm run"))
    assert run(".") == cold


def test_planted_deps_on_devices_and_fifos_neither_hang_nor_exhaust_memory(tmp_path):
    tree(tmp_path)
    cold = subprocess_run(tmp_path, ".")
    os.mkfifo(tmp_path / "fifo")
    for path in entries(tmp_path):
        entry = json.loads(path.read_text())
        entry["deps"] = {"/dev/zero": "0" * 64, str(tmp_path / "fifo"): "0" * 64}
        path.write_text(json.dumps(entry))
    assert subprocess_run(tmp_path, ".") == cold


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_an_entry_that_is_a_symlink_to_a_device_or_fifo_is_a_miss(tmp_path, target):
    tree(tmp_path)
    cold = subprocess_run(tmp_path, ".")
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
        target = str(tmp_path / "fifo")
    for path in entries(tmp_path):
        path.unlink()
        os.symlink(target, path)
    assert subprocess_run(tmp_path, ".") == cold


# ---- item 6: writes never follow a symbolic link ----------------------------------------------------
@pytest.mark.parametrize("name", ["CACHEDIR.TAG", ".gitignore"])
def test_dangling_tag_symlinks_do_not_create_files_elsewhere(run, tmp_path, name):
    tree(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / CACHE).mkdir()
    os.symlink(tmp_path / "outside" / "planted", tmp_path / CACHE / name)
    before = files_outside(tmp_path)
    cold = run("--no-cache", ".")
    assert run(".")[:2] == cold[:2]
    assert files_outside(tmp_path) == before
    assert not os.path.lexists(tmp_path / "outside" / "planted")
    assert entries(tmp_path)  # the cache still works; the planted link is left alone
    assert os.path.islink(tmp_path / CACHE / name)


def test_a_symlinked_cache_directory_is_not_written_through(run, tmp_path):
    tree(tmp_path)
    target = tmp_path / "elsewhere"
    target.mkdir()
    os.symlink(target, tmp_path / CACHE)
    cold = run("--no-cache", ".")
    assert run(".")[:2] == cold[:2]
    assert run(".")[:2] == cold[:2]
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("level", ["version", "shard"])
def test_symlinked_directories_inside_the_cache_are_not_written_through(run, tmp_path, level):
    tree(tmp_path)
    cold = run(".")
    [first, second] = entries(tmp_path)
    target = tmp_path / "elsewhere"
    target.mkdir()
    planted = first.parent.parent if level == "version" else first.parent
    for p in (first, second):
        p.unlink(missing_ok=True)
    if level == "shard":
        for p in (first.parent, second.parent):
            if p.exists():
                p.rmdir()
        for p in {first.parent, second.parent}:
            os.symlink(target, p)
    else:
        import shutil

        shutil.rmtree(planted)
        os.symlink(target, planted)
    assert run(".")[:2] == cold[:2]
    assert list(target.iterdir()) == []


def test_entries_are_written_inside_the_cache_with_tag_files(run, tmp_path):
    # the twin: an ordinary cache directory gets its tag, .gitignore and one entry per file
    tree(tmp_path)
    run(".")
    root = tmp_path / CACHE
    assert (root / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (root / ".gitignore").read_text().endswith("*\n")
    assert len(entries(tmp_path)) == 2 and all(p.parent.parent == root / __version__ for p in entries(tmp_path))


# ---- item 6: speclint clean ----------------------------------------------------------------------
def test_clean_removes_a_symlinked_cache_link_but_not_its_target(run, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("not a cache")
    os.symlink(target, tmp_path / CACHE)
    code, out, err = run("clean")
    assert code == 0, err
    assert not os.path.lexists(tmp_path / CACHE)
    assert (target / "keep.txt").read_text() == "not a cache"
    assert "Removed" in out and "symbolic link" in out


def test_clean_refuses_a_directory_that_is_not_a_speclint_cache(run, tmp_path, monkeypatch):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    code, out, err = run("clean", "--cache-dir", str(precious))
    assert code == 2 and "does not look like a speclint cache" in err
    assert (precious / "thesis.tex").exists()


def test_clean_says_removed_only_when_it_removed(run, tmp_path):
    tree(tmp_path)
    run(".")
    code, out, _ = run("clean")
    assert code == 0 and "Removed cache at: " in out and not (tmp_path / CACHE).exists()
    assert run("clean")[:2] == (0, "")


def test_without_openat_planted_links_are_refused_too(run, tmp_path, monkeypatch):
    # systems without openat()/O_NOFOLLOW (Windows) take the path-based branch, checked with lstat()
    monkeypatch.setattr(cache, "_AT", False)
    tree(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / CACHE).mkdir()
    os.symlink(tmp_path / "outside" / "planted", tmp_path / CACHE / "CACHEDIR.TAG")
    cold = run("--no-cache", ".")
    assert run(".")[:2] == cold[:2]
    assert not os.path.lexists(tmp_path / "outside" / "planted")
    [first, second] = entries(tmp_path)
    from speclint import engine
    from speclint.config import Resolver

    assert all(f.cached for f in engine.check_paths(["."], Resolver(), caches=cache.Caches()).files)
    for p in (first, second):
        p.unlink()
    import shutil

    shutil.rmtree(first.parent.parent)
    os.symlink(tmp_path / "outside", first.parent.parent)  # the version directory
    assert run(".")[:2] == cold[:2]
    assert list((tmp_path / "outside").iterdir()) == []
