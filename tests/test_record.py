"""speclint.record: the plain path's types behave as the dataclasses they replaced did, and a run
over a file without Estimator code imports neither `dataclasses` (with `inspect`) nor `typing`
(issue 12: ~14 ms of the 60 ms budget)."""
from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from speclint.config import Config
from speclint.diagnostics import Diagnostic
from speclint.engine import FileResult, RunResult
from speclint.files import Entry
from speclint.rulebook import load

ROOT = Path(__file__).resolve().parents[1]


def diag(**changes):
    fields = dict(path="a.py", line=3, column=5, end_line=3, end_column=9, code="SL001", name="scaffold-captures-tensor",
                  severity="error", message="m")
    fields.update(changes)
    return Diagnostic(**fields)


def test_diagnostic_equality_hash_and_order_ignore_url_and_fix():
    a, b = diag(), diag(fix={"applicability": "safe", "message": "x", "edits": []}, url="u")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != diag(engine="runtime") and a != diag(line=4)
    assert sorted([diag(line=9), diag(line=2), diag(column=1, line=9)]) == [diag(line=2), diag(column=1, line=9),
                                                                            diag(line=9)]
    assert diag(line=2) < diag(line=3) <= diag(line=3) and diag(line=4) > diag(line=3) >= diag(line=3)
    assert a != ("a.py",) and (a == object()) is False
    with pytest.raises(TypeError):
        a < 1  # noqa: B015 - the comparison is the test


def test_diagnostic_is_frozen_and_replace_makes_a_copy():
    a = diag()
    with pytest.raises(AttributeError, match="frozen"):
        a.line = 4
    with pytest.raises(AttributeError, match="frozen"):
        del a.line
    b = a.replace(message="other")
    assert (b.message, a.message, b.line, b.url) == ("other", "m", 3, a.url)
    with pytest.raises(TypeError, match="no field 'bogus'"):
        a.replace(bogus=1)


def test_diagnostic_url_defaults_to_the_rule_docs_and_json_copies_the_fix():
    fix = {"applicability": "safe", "message": "x", "edits": [{"line": 1, "column": 1, "end_line": 1,
                                                                "end_column": 2, "content": "y"}]}
    a = diag(fix=fix)
    assert a.url and "SL001" in a.url
    assert diag(code="E999").url is None
    js = a.to_json()
    assert list(js) == list(Diagnostic.FIELDS) and js["fix"] == fix
    js["fix"]["edits"][0]["content"] = "changed"
    assert fix["edits"][0]["content"] == "y"  # (as dataclasses.asdict: a deep copy)


@pytest.mark.parametrize("value", [
    diag(fix={"applicability": "safe", "message": "x", "edits": []}),
    Config(root=Path("/r"), select=("SL001",), per_file_ignores=(("a/*", ("SL002",)),)),
    FileResult("a.py", [diag()], deps={"/b.py": "h", "/c.py": None}),
    RunResult([FileResult("a.py")], baselined=2),
    Entry("a.py", "broken"),
])
def test_records_pickle_and_copy_to_equal_values(value):
    for copied in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
        assert copied == value and type(copied) is type(value) and repr(copied) == repr(value)


def test_mutable_records_have_fresh_defaults_and_no_hash():
    a, b = FileResult("a.py"), FileResult("a.py")
    a.diagnostics.append(diag())
    a.deps["x"] = None
    assert b.diagnostics == [] and b.deps == {} and RunResult().files == []
    assert a != b
    with pytest.raises(TypeError):
        hash(a)


def test_config_replace_and_hash():
    c = Config(root=Path("/r"))
    assert c.with_overrides(select=["SL001"]).select == ("SL001",) and c.select is None
    assert c.with_overrides() is c
    assert hash(c) == hash(Config(root=Path("/r"))) and {c: 1}[Config(root=Path("/r"))] == 1


def test_rule_equality_ignores_its_message_tables():
    rule = load()["SL001"]
    twin = rule.replace(messages={}, shorts={})
    assert twin == rule and hash(twin) == hash(rule) and rule.replace(severity="warning") != rule


def test_a_plain_run_imports_neither_dataclasses_nor_typing_nor_hashlib(tmp_path):
    (tmp_path / "plain.py").write_text("x = 1\n", encoding="utf-8")
    probe = ("import sys, atexit\n"
             "atexit.register(lambda: sys.__stderr__.write('[' + ','.join(sorted(m for m in ('dataclasses', 'inspect', 'hashlib',"
             " 'typing', 'click', 'tomllib') if m in sys.modules)) + ']'))\n"
             "from speclint.launcher import main\nsys.argv = ['speclint', 'plain.py']\nmain()\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # (-S: what an installed package's .pth files import is not speclint's start-up)
    proc = subprocess.run([sys.executable, "-S", "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.endswith("[]"), proc.stderr
