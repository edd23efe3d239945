"""Issue 16, items 11-13: an empty --select, an unreadable pyproject.toml, --config naming a
directory, and SL000 placed where CPython places the syntax error."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import warnings

import pytest

from speclint.cli import cli

from integrations_support import clean_env
from samples import BAD, BAD_LINE, HEADER, runner


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def _run(*args):
        result = runner().invoke(cli, list(args) if args[0] == "run" else ["--no-cache", *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        return result.exit_code, result.stdout, result.stderr
    return _run


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("speclint: error: "), err
    return lines[0]


# ---- item 11: --select '' ----------------------------------------------------------------------
@pytest.mark.parametrize("value", ["", " ", ",", " , "])
def test_an_empty_select_is_a_usage_error_not_all_checks_passed(run, tmp_path, value):
    (tmp_path / "bad.py").write_text(BAD)
    code, out, err = run("--select", value, "bad.py")
    assert code == 2 and out == ""
    assert "--select" in one_error_line(err) and "selects no rule" in err


def test_an_empty_select_for_the_runtime_shim_is_a_usage_error(run, tmp_path):
    (tmp_path / "train.py").write_text("print('never run')\n")
    code, out, err = run("run", "--select", "", "train.py")
    assert code == 2 and "selects no rule" in one_error_line(err)


def test_an_empty_ignore_ignores_nothing(run, tmp_path):
    # the twin: an unset variable in --ignore is harmless, the run goes on with every default rule
    (tmp_path / "bad.py").write_text(BAD)
    code, out, err = run("--ignore", "", "--output-format", "json", "bad.py")
    assert code == 1 and [d["code"] for d in json.loads(out)] == ["SL005"]


# ---- item 12: an unreadable pyproject.toml ----------------------------------------------------------
def test_an_unreadable_pyproject_is_a_configuration_error(run, tmp_path, monkeypatch):
    (tmp_path / "bad.py").write_text(BAD)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.speclint]\nignore = ["SL005"]\n')
    from speclint import config

    def deny(path, *args, **kwargs):  # as chmod 000 does for anyone but root (tests may run as root)
        if isinstance(path, (str, os.PathLike)) and os.fspath(path) == str(pyproject):
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)
    monkeypatch.setattr(config, "open", deny, raising=False)  # the config module's reads only
    code, out, err = run("bad.py")
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert str(pyproject) in line and "Permission denied" in line


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_pyproject_with_real_permissions(tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.speclint]\nignore = ["SL005"]\n')
    pyproject.chmod(0)
    try:
        proc = subprocess.run([sys.executable, "-m", "speclint", "--no-cache", "bad.py"], cwd=tmp_path,
                              env=clean_env(), capture_output=True, text=True, timeout=120)
    finally:
        pyproject.chmod(0o644)
    assert proc.returncode == 2 and "Permission denied" in one_error_line(proc.stderr)


def test_a_readable_pyproject_without_speclint_is_ignored(run, tmp_path):
    # the twin: a pyproject.toml of another tool is read, found not to configure speclint, skipped
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "pyproject.toml").write_text('[tool.black]\nline-length = 100\n')
    code, out, err = run("bad.py")
    assert code == 1 and err == ""


# ---- item 13: --config naming a directory ----------------------------------------------------------
def test_config_naming_a_directory_is_one_error_line(run, tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "conf").mkdir()
    code, out, err = run("--config", "conf", "bad.py")
    assert code == 2 and out == ""
    assert "conf" in one_error_line(err) and "directory" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_config_naming_a_fifo_is_one_error_line_not_a_hang(tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    os.mkfifo(tmp_path / "conf.toml")
    proc = subprocess.run([sys.executable, "-m", "speclint", "--no-cache", "--config", "conf.toml", "bad.py"],
                          cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "not a regular file" in one_error_line(proc.stderr)


# ---- item 13: SL000 where CPython places the syntax error ---------------------------------------------
PARENTHESISED = HEADER + "EstimatorSpec = None\ndef f((pars): bool = True):\n    pass\n"


def cpython_error(source: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, "x.py", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except SyntaxError as exc:
            return exc
    raise AssertionError("CPython accepts it")


@pytest.mark.parametrize("source", [
    PARENTHESISED,
    HEADER + "EstimatorSpec = None\nprint 'step', 1\n",
    HEADER + "EstimatorSpec = None\nx = (1,\ny = 2\n",
    HEADER + "EstimatorSpec = None\nif True:\n  a = 1\n    b = 2\n",
], ids=["parenthesised parameter", "python 2 print", "unclosed bracket", "indentation"])
def test_sl000_is_placed_and_worded_as_cpython_reports_it(run, tmp_path, source):
    (tmp_path / "x.py").write_text(source)
    code, out, _ = run("--output-format", "json", "x.py")
    [diag] = json.loads(out)
    exc = cpython_error(source)
    assert diag["code"] == "SL000" and code == 1
    assert (diag["line"], diag["column"]) == (exc.lineno, exc.offset)
    assert exc.msg in diag["message"]


def test_a_file_only_libcst_rejects_keeps_libcst_s_position(run, tmp_path, monkeypatch):
    # the twin: where CPython compiles the file (a gap in libcst's grammar) there is no CPython
    # position to take; simulated by making libcst reject a valid file
    import libcst

    source = BAD
    (tmp_path / "ok.py").write_text(source)

    def reject(data, *args, **kwargs):
        raise libcst.ParserSyntaxError("made up", lines=["x"], raw_line=2, raw_column=0)
    monkeypatch.setattr(libcst, "parse_module", reject)
    code, out, _ = run("--output-format", "json", "ok.py")
    [diag] = json.loads(out)
    assert diag["code"] == "SL000" and diag["line"] == 2 and "made up" in diag["message"]
    assert BAD_LINE != 2
