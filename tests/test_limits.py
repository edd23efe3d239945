"""Issue 16: bounded memory for large input (item 2), what is named on the command line that is not
a regular file (items 4 and 8), and the exit code of an internal error (item 4).

Runs that could hang or exhaust memory on the unfixed code run in a subprocess with a timeout and
an address-space limit, so that a regression fails the test instead of taking the machine down."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from speclint import engine
from speclint.cli import cli
from speclint.config import Resolver
from speclint.static import modules, safeparse

from integrations_support import clean_env
from samples import BAD, runner

TIMEOUT = 120  # seconds; a hang would be forever
ADDRESS_SPACE = 6 * 2**30  # no speclint run on these inputs needs more (a regression: MemoryError)


def speclint(*args, cwd, stdin=None):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    proc = subprocess.run([sys.executable, "-m", "speclint", *args], cwd=cwd, env=clean_env(), stdin=stdin,
                          capture_output=True, timeout=TIMEOUT, preexec_fn=limit)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def json_run(*args, cwd):
    code, out, err = speclint("--no-cache", "--output-format", "json", *args, cwd=cwd)
    assert "Traceback" not in err, err
    return code, (json.loads(out) if out.strip() else []), err


def big_source(n_bytes: int) -> bytes:
    body, i = [BAD], 0
    size = len(BAD)
    while size < n_bytes:
        s = f"def helper_{i}(x):\n    return [x + {i}, {{'k': x * {i}}}]\n\n"
        body.append(s)
        size += len(s)
        i += 1
    return "".join(body).encode()


# ---- item 2: memory is bounded; "too large" with the size --------------------------------------
def test_a_file_over_the_parse_limit_is_sl000_too_large_with_its_size(tmp_path):
    # the real default limit: about 0.9 GB of memory per MB of source would be spent past it
    data = big_source(safeparse.MAX_PARSE_BYTES + 1)
    (tmp_path / "huge.py").write_bytes(data)
    code, diags, _ = json_run("huge.py", cwd=tmp_path)
    assert code == 1 and [d["code"] for d in diags] == ["SL000"], diags
    msg = diags[0]["message"]
    assert "too large to analyse" in msg and f"{len(data):,} bytes" in msg and "the limit is 1 MiB" in msg


def test_the_limit_applies_in_pool_workers_and_the_language_server(tmp_path, monkeypatch):
    # -j 2 and the language server analyse in another process; both go through check_source
    monkeypatch.setattr(safeparse, "MAX_PARSE_BYTES", 4000)
    data = big_source(5000)
    config = Resolver().for_path(tmp_path)
    [diag] = engine.check_source(data, "big.py", config).diagnostics
    assert diag.code == "SL000" and "too large to analyse (0.0 MiB: 5,0" in diag.message
    lsp = pytest.importorskip("speclint.lsp")
    [diag] = lsp.check_in_worker(data, "big.py", config, None, None)
    assert "too large to analyse" in diag.message
    # the twin: under the limit, the file is analysed
    monkeypatch.setattr(safeparse, "MAX_PARSE_BYTES", 6000)
    assert [d.code for d in engine.check_source(data, "big.py", config).diagnostics] == ["SL005"]


def test_an_oversized_file_in_a_run_is_not_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(safeparse, "MAX_PARSE_BYTES", 4000)
    (tmp_path / "big.py").write_bytes(big_source(5000))
    reads = []
    real_read = engine._read

    def spy(path):
        data = real_read(path)
        reads.append(len(data))
        return data
    monkeypatch.setattr(engine, "_read", spy)
    result = engine.check_paths([str(tmp_path / "big.py")], Resolver())
    [diag] = result.diagnostics
    assert diag.code == "SL000" and "too large" in diag.message and reads == []


def test_an_imported_module_over_the_limit_is_not_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(safeparse, "MAX_PARSE_BYTES", 4000)
    modules.clear()
    helper = tmp_path / "helpers.py"
    helper.write_bytes(b"def host_fn(loss):\n    return []\n" + b"x = 1\n" * 1000)  # 6 KB
    (tmp_path / "train.py").write_text(BAD.replace("    def host_fn(loss):\n        return []\n", "")
                                       .replace("import tensorflow.compat.v1 as tf\n",
                                                "import tensorflow.compat.v1 as tf\nfrom helpers import host_fn\n"))
    parsed = []
    from speclint.static import pipeline

    real_parse = pipeline.parse
    monkeypatch.setattr(pipeline, "parse", lambda data: parsed.append(len(data)) or real_parse(data))
    result = engine.check_paths([str(tmp_path / "train.py")], Resolver())
    assert all(n < 4000 for n in parsed), parsed  # the helper was looked at, never parsed
    assert [d.code for d in result.diagnostics] == ["SL005"]  # the importer is still checked
    modules.clear()


def test_stdin_over_the_limit_is_sl000_not_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(safeparse, "MAX_PARSE_BYTES", 4000)
    monkeypatch.chdir(tmp_path)
    result = runner().invoke(cli, ["--no-cache", "--output-format", "json", "-"], input=big_source(50_000))
    diags = json.loads(result.stdout)
    assert result.exit_code == 1 and [d["code"] for d in diags] == ["SL000"]
    assert "too large to analyse" in diags[0]["message"]


def test_stdin_over_the_limit_without_the_api_is_skipped(tmp_path, monkeypatch):
    # the twin: a large input that never mentions the API is skipped, as a file would be
    monkeypatch.setattr(safeparse, "MAX_PARSE_BYTES", 4000)
    monkeypatch.chdir(tmp_path)
    result = runner().invoke(cli, ["--no-cache", "--output-format", "json", "-"], input=b"x = 1\n" * 10_000)
    assert result.exit_code == 0 and json.loads(result.stdout) == []


# ---- items 4 and 8: not a regular file ------------------------------------------------------------
def test_fifo_named_on_the_command_line_is_sl000_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")  # nobody writes: opening it for reading would block forever
    (tmp_path / "bad.py").write_text(BAD)
    code, diags, _ = json_run("pipe.py", "bad.py", cwd=tmp_path)
    assert code == 1
    assert [(d["path"], d["code"]) for d in diags] == [("bad.py", "SL005"), ("pipe.py", "SL000")]
    assert "not a regular file (a FIFO)" in diags[1]["message"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_named_on_the_command_line_is_sl000_not_memory_error(tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    code, diags, err = json_run("/dev/zero", "bad.py", cwd=tmp_path)
    assert code == 1, err
    assert [(d["path"], d["code"]) for d in diags] == [("/dev/zero", "SL000"), ("bad.py", "SL005")]
    assert "not a regular file (a character device)" in diags[0]["message"]


def test_a_symlink_to_a_device_named_on_the_command_line(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.py")
    code, diags, _ = json_run("zero.py", cwd=tmp_path)
    assert code == 1 and [d["code"] for d in diags] == ["SL000"]
    assert "not a regular file" in diags[0]["message"]


# ---- item 4: an internal error exits 2 with one line -------------------------------------------
CRASH = """
import sys
from speclint import engine
from speclint.cli import main
def boom(*args, **kwargs):
    raise {exc}
engine.check_paths = boom
sys.argv = ["speclint", "--no-cache", "."]
main()
"""


@pytest.mark.parametrize("exc", ["RecursionError('maximum recursion depth exceeded')",
                                 "TypeError(\"'<' not supported between instances of 'str' and 'int'\")",
                                 "MemoryError()"])
def test_an_internal_error_outside_a_file_exits_2_with_one_line(tmp_path, exc):
    (tmp_path / "bad.py").write_text(BAD)
    proc = subprocess.run([sys.executable, "-c", CRASH.format(exc=exc)], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("speclint: internal error: "), proc.stderr
    assert exc.split("(")[0] in lines[0] and "please report" in lines[0]
    assert proc.stdout == ""


def test_the_module_index_keeps_a_bounded_amount_of_parsed_source(tmp_path, monkeypatch):
    # a language server's checker process keeps imported modules parsed between runs: bounded by
    # bytes of source too, not only by count (a parsed module holds ~175 MB per MB of source)
    monkeypatch.setattr(modules, "_CACHE_BYTES", 10_000)
    modules.clear()
    index = modules.ModuleIndex([], disk=True)
    paths = []
    for i in range(5):
        p = tmp_path / f"helper{i}.py"
        p.write_text("def f(x):\n    return x\n" + "y = 1\n" * 700)  # ~4.2 KB each
        paths.append(str(p))
        assert modules.load(str(p), index) is not None
        assert sum(h[0][1] for h in modules._LIBS.values()) <= 10_000
    assert list(modules._LIBS) == paths[-2:]  # the most recent ones stay
    modules.clear()
