"""Issue 6, robustness: hostile input never crashes speclint; unparsable files are SL000 with the
reason; the exit code stays right.  Each case runs the real CLI in-process."""
import json
import os
import socket
import sys
import time

import pytest

from speclint import engine
from speclint.cli import cli
from speclint.config import Resolver

from samples import BAD, BAD_COL, BAD_LINE, HEADER, runner as _runner  # tests/ is on sys.path (conftest)
SPEC = "EstimatorSpec  # mentions the spec API, so the prefilter lets it through\n"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def _run(*args):
        result = _runner().invoke(cli, ["--no-cache", "--output-format", "json", *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        assert "Traceback" not in result.stderr
        diags = json.loads(result.stdout) if result.stdout.strip() else []
        return result.exit_code, diags, result.stderr
    return _run


def write_bytes(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def only_sl000(diags, reason_part):
    assert [d["code"] for d in diags] == ["SL000"], diags
    assert reason_part in diags[0]["message"], diags[0]["message"]


# ---- nesting ---------------------------------------------------------------------------------
DEEP = {
    "parentheses": lambda n: "x = " + "(" * n + "1" + ")" * n,
    "lists": lambda n: "x = " + "[" * n + "]" * n,
    "unary minus": lambda n: "x = " + "-" * n + "1",
    "not": lambda n: "x = " + "not " * n + "1",
    "binary plus": lambda n: "x = " + "+".join(["1"] * n),
    "attribute chain": lambda n: "x = a" + ".b" * n,
    "call chain": lambda n: "x = a" + "()" * n,
    "subscripts": lambda n: "x = a" + "[0]" * n,
    "conditional chain": lambda n: "x = " + "a if b else " * n + "c",
    "lambdas": lambda n: "x = " + "lambda: " * n + "1",
    "powers": lambda n: "x = " + "**".join(["2"] * n),
    "and chain": lambda n: "x = " + " and ".join(["a"] * n),
    "or chain": lambda n: "x = " + " or ".join(["a"] * n),
    "elif chain": lambda n: "if a:\n    pass\n" + "elif a:\n    pass\n" * n,
}


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_hostile_nesting_is_sl000_not_a_crash_or_a_hang(run, tmp_path, shape):
    # 30,000 deep: each of these segfaults libcst's native parser or takes minutes in it.
    write_bytes(tmp_path, "deep.py", (HEADER + SPEC + DEEP[shape](30_000) + "\n").encode())
    start = time.perf_counter()
    code, diags, _ = run("deep.py")
    assert code == 1
    only_sl000(diags, "nested too deeply")
    assert time.perf_counter() - start < 60  # a generous bound: a hang would be minutes


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_ordinary_nesting_is_still_analysed(run, tmp_path, shape):
    # the bad twin of the case above: moderately nested code is parsed and checked as usual
    write_bytes(tmp_path, "ok.py", (BAD + DEEP[shape](50) + "\n").encode())
    code, diags, _ = run("ok.py")
    assert code == 1 and [d["code"] for d in diags] == ["SL005"], diags


def test_nesting_deep_enough_for_python_recursion_is_handled(run, tmp_path):
    # CPython accepts ~1,000-deep subscripts; libcst parses them; the analysis may run out of
    # Python recursion depth: SL000 or a normal result, never a traceback.
    write_bytes(tmp_path, "deep.py", (BAD + "x = a" + "[0]" * 900 + "\n").encode())
    code, diags, _ = run("deep.py")
    assert code == 1 and {d["code"] for d in diags} <= {"SL005", "SL000"} and diags


def test_parse_in_a_thread_with_a_small_stack(tmp_path):
    # a language server may call the engine from a thread with a small stack
    import threading

    data = (BAD + "x = " + " and ".join(["a"] * 900) + "\n").encode()
    out = []
    threading.stack_size(512 * 1024)
    try:
        t = threading.Thread(target=lambda: out.append(engine.check_source(data, "t.py", Resolver().for_path(tmp_path))))
        t.start()
        t.join()
    finally:
        threading.stack_size(0)
    assert [d.code for d in out[0].diagnostics] == ["SL005"]


# ---- size ------------------------------------------------------------------------------------
def test_very_large_file_without_the_spec_api_is_skipped_quickly(run, tmp_path):
    write_bytes(tmp_path, "big.py", b"x = [1, 2, 3]  # padding padding padding\n" * 500_000)  # 21 MB
    start = time.perf_counter()
    code, diags, _ = run("big.py")
    assert code == 0 and diags == []
    assert time.perf_counter() - start < 30


def test_large_file_with_the_spec_api_is_analysed(run, tmp_path):
    body = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(3000))  # 9,000 lines
    write_bytes(tmp_path, "big.py", (BAD + body).encode())
    code, diags, _ = run("big.py")
    assert code == 1 and [(d["code"], d["line"]) for d in diags] == [("SL005", BAD_LINE)]


# ---- bytes and encodings ---------------------------------------------------------------------
def test_binary_file_named_py(run, tmp_path):
    write_bytes(tmp_path, "blob.py", bytes(range(256)) * 8 + b"EstimatorSpec" + b"\x00\xff" * 100)
    code, diags, _ = run("blob.py")
    assert code == 1
    only_sl000(diags, "could not check this file")


def test_binary_file_without_the_spec_api_is_skipped(run, tmp_path):
    write_bytes(tmp_path, "blob.py", bytes(range(256)) * 8)
    assert run("blob.py")[:2] == (0, [])


def test_latin1_without_coding_cookie_is_sl000(run, tmp_path):
    write_bytes(tmp_path, "l1.py", (BAD + "# caf\xe9\n").encode("latin-1"))
    code, diags, _ = run("l1.py")
    assert code == 1
    only_sl000(diags, "decode")


def test_latin1_with_coding_cookie_is_analysed(run, tmp_path):
    src = "# -*- coding: latin-1 -*-\n" + BAD + "# caf\xe9\n"
    write_bytes(tmp_path, "l1.py", src.encode("latin-1"))
    code, diags, _ = run("l1.py")
    assert code == 1 and [(d["code"], d["line"]) for d in diags] == [("SL005", BAD_LINE + 1)]


def test_unknown_coding_cookie_is_sl000(run, tmp_path):
    write_bytes(tmp_path, "x.py", ("# coding: no-such-codec\n" + BAD).encode())
    code, diags, _ = run("x.py")
    assert code == 1
    only_sl000(diags, "could not check this file")


def test_utf8_bom(run, tmp_path):
    write_bytes(tmp_path, "bom.py", b"\xef\xbb\xbf" + BAD.encode())
    code, diags, _ = run("bom.py")
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("SL005", BAD_LINE, BAD_COL)]


def test_bom_contradicting_the_coding_cookie_is_sl000(run, tmp_path):
    write_bytes(tmp_path, "bom.py", b"\xef\xbb\xbf# coding: latin-1\n" + BAD.encode())
    code, diags, _ = run("bom.py")
    assert code == 1
    only_sl000(diags, "could not check this file")


def test_crlf_line_endings(run, tmp_path):
    write_bytes(tmp_path, "crlf.py", BAD.replace("\n", "\r\n").encode())
    code, diags, _ = run("crlf.py")
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("SL005", BAD_LINE, BAD_COL)]


def test_lone_cr_line_endings(run, tmp_path):
    write_bytes(tmp_path, "cr.py", BAD.replace("\n", "\r").encode())
    code, diags, _ = run("cr.py")
    assert code in (0, 1) and {d["code"] for d in diags} <= {"SL005", "SL000"}


def test_form_feeds(run, tmp_path):
    src = BAD.replace("\ndef model_fn", "\n\f\ndef model_fn").replace("    loss = ", "\f    loss = ")
    write_bytes(tmp_path, "ff.py", src.encode())
    code, diags, _ = run("ff.py")
    assert [(d["code"], d["line"]) for d in diags] == [("SL005", BAD_LINE + 1)]


def test_null_bytes_in_source(run, tmp_path):
    write_bytes(tmp_path, "nul.py", BAD.encode() + b"x = 1\x00\n")
    code, diags, _ = run("nul.py")
    assert code == 1 and diags and {d["code"] for d in diags} <= {"SL000", "SL005"}


def test_python2_file_is_sl000_at_the_error_line(run, tmp_path):
    write_bytes(tmp_path, "py2.py", (HEADER + SPEC + 'print "step", 1\n').encode())
    code, diags, _ = run("py2.py")
    assert code == 1
    only_sl000(diags, "syntax error")
    assert diags[0]["line"] == 3


def test_empty_and_whitespace_only_files(run, tmp_path):
    write_bytes(tmp_path, "a.py", b"")
    write_bytes(tmp_path, "b.py", b"  \n\t\n\f")
    assert run("--no-prefilter", ".")[:2] == (0, [])


# ---- file system -----------------------------------------------------------------------------
def test_symlink_loops(run, tmp_path):
    write_bytes(tmp_path, "pkg/bad.py", BAD.encode())
    os.symlink("..", tmp_path / "pkg" / "up")  # directory loop: not followed
    os.symlink("self.py", tmp_path / "pkg" / "self.py")  # file loop
    code, diags, _ = run(".")
    assert code == 1
    assert sorted((d["path"], d["code"]) for d in diags) == [("pkg/bad.py", "SL005"), ("pkg/self.py", "SL000")]
    assert "broken symbolic link" in [d for d in diags if d["code"] == "SL000"][0]["message"]


def test_symlink_loop_named_on_the_command_line(run, tmp_path):
    os.symlink("loop.py", tmp_path / "loop.py")
    code, diags, _ = run("loop.py")
    assert code == 1
    only_sl000(diags, "broken symbolic link")


def test_fifo_and_socket_named_py_are_not_opened_by_a_walk(run, tmp_path):
    write_bytes(tmp_path, "bad.py", BAD.encode())
    os.mkfifo(tmp_path / "fifo.py")  # opening it would block forever
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock.py"))
        code, diags, _ = run(".")
    finally:
        sock.close()
    assert code == 1 and [d["path"] for d in diags] == ["bad.py"]


def test_directory_named_py(run, tmp_path):
    write_bytes(tmp_path, "pkg.py/bad.py", BAD.encode())
    code, diags, _ = run(".")
    assert [d["path"] for d in diags] == ["pkg.py/bad.py"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file_and_directory(run, tmp_path):
    f = write_bytes(tmp_path, "secret.py", BAD.encode())
    d = tmp_path / "locked"
    write_bytes(tmp_path, "locked/bad.py", BAD.encode())
    f.chmod(0)
    d.chmod(0)
    try:
        code, diags, _ = run(".")
    finally:
        f.chmod(0o644)
        d.chmod(0o755)
    assert code == 1
    assert sorted((d_["path"], d_["code"]) for d_ in diags) == [("locked", "SL000"), ("secret.py", "SL000")]


def test_unreadable_directory_is_reported(run, tmp_path, monkeypatch):
    # (also when running as root, where chmod cannot make a directory unreadable)
    write_bytes(tmp_path, "a/bad.py", BAD.encode())
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(str(path)) == "a":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)
    monkeypatch.setattr(os, "scandir", scandir)
    code, diags, _ = run(".")
    assert code == 1
    only_sl000(diags, "cannot read directory: Permission denied")
    assert diags[0]["path"] == "a"


def test_files_deleted_while_the_run_goes_on(run, tmp_path, monkeypatch):
    for i in range(4):
        write_bytes(tmp_path, f"m{i}.py", BAD.encode())
    from speclint import files

    real_walk = files.walk

    def walk(paths, resolver):
        for entry in real_walk(paths, resolver):
            if entry.path.endswith(("m1.py", "m3.py")):
                os.unlink(entry.path)  # gone between the listing and the read
            yield entry
    monkeypatch.setattr(files, "walk", walk)
    code, diags, _ = run(".")
    assert code == 1
    assert [(d["path"], d["code"]) for d in diags] == [
        ("m0.py", "SL005"), ("m1.py", "SL000"), ("m2.py", "SL005"), ("m3.py", "SL000")]
    assert "No such file or directory" in diags[1]["message"]


def test_directory_deleted_while_the_walk_goes_on(run, tmp_path, monkeypatch):
    write_bytes(tmp_path, "a/x.py", BAD.encode())
    write_bytes(tmp_path, "b/y.py", BAD.encode())
    import shutil

    real_scandir = os.scandir
    deleted = []

    def scandir(path="."):
        if os.path.basename(str(path)) == "b":
            shutil.rmtree(path)  # listed in its parent, gone before it is read
            deleted.append(path)
        return real_scandir(path)
    monkeypatch.setattr(os, "scandir", scandir)
    code, diags, _ = run(".")
    assert deleted
    assert code == 1 and [(d["path"], d["code"]) for d in diags] == [("a/x.py", "SL005")]


def test_non_utf8_file_name(run, tmp_path):
    if sys.platform == "darwin":
        pytest.skip("macOS file systems reject non-UTF-8 names")
    name = os.fsdecode(b"caf\xe9.py")
    (tmp_path / name).write_bytes(BAD.encode())
    code, diags, _ = run(".")
    assert code == 1 and [d["path"] for d in diags] == ["caf\\xe9.py"]


def test_big_stack_thread_unavailable_falls_back(monkeypatch, tmp_path):
    # e.g. a virtual-memory limit: the parse runs on the caller's thread instead
    import threading

    from speclint.static import safeparse

    def refuse(size=0):
        if size == safeparse.PARSER_STACK_BYTES:
            raise ValueError("size not valid")
        return 0
    monkeypatch.setattr(threading, "stack_size", refuse)
    result = engine.check_source(BAD.encode(), "t.py", Resolver().for_path(tmp_path))
    assert [d.code for d in result.diagnostics] == ["SL005"]


def test_file_over_the_size_limit_is_not_read_whole(run, tmp_path, monkeypatch):
    from speclint.static import safeparse

    monkeypatch.setattr(safeparse, "MAX_PARSE_BYTES", 1000)
    monkeypatch.setattr(engine, "_CHUNK", 64)  # the token straddles chunk boundaries
    pad = b"x = 1\n" * 400
    write_bytes(tmp_path, "huge_tf.py", pad + b"from tf import TPUEstimatorSpec\n" + pad)
    write_bytes(tmp_path, "huge_other.py", pad * 2)
    write_bytes(tmp_path, "small.py", BAD.encode())
    code, diags, _ = run(".")
    assert code == 1
    assert [(d["path"], d["code"]) for d in diags] == [("huge_tf.py", "SL000"), ("small.py", "SL005")]
    assert "too large to analyse" in diags[0]["message"]
