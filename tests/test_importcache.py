"""speclint.importcache: the bytecode of generated dataclass methods, kept between runs."""
import dataclasses
import importlib.util
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from speclint import importcache


@pytest.fixture
def table(tmp_path, monkeypatch):
    """Tables under tmp_path, bytecode writes allowed, no table loaded."""
    monkeypatch.setattr(importcache, "table_path", lambda name: str(tmp_path / f"{name}.marshal"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(importcache, "_table", None)
    monkeypatch.setattr(importcache, "_added", 0)
    monkeypatch.setattr(importcache, "_loaded", {})
    return tmp_path


def _make():
    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int = 2
    return Point


def _saved(path):
    with open(path, "rb") as fh:
        return marshal.load(fh)


def test_generated_code_is_saved_then_served_from_the_table(table):
    with importcache.generated_code("t"):
        first = _make()
    magic, saved = _saved(table / "t.marshal")
    assert magic == importlib.util.MAGIC_NUMBER
    assert any("def __init__(" in src for src in saved)
    assert "exec" not in vars(dataclasses)  # the hook is gone once the scope ends
    importcache._loaded.clear()  # (as in a new process: the table is read from its file)

    compiled = []
    real = compile

    def counting(*args, **kwargs):
        compiled.append(args[0])
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("builtins.compile", counting)
        with importcache.generated_code("t"):
            second = _make()
    assert compiled == []  # every method came from the table
    a, b = first(1), second(1)
    assert (a.x, a.y) == (b.x, b.y) == (1, 2)
    assert repr(a).endswith("Point(x=1, y=2)") and repr(b).endswith("Point(x=1, y=2)")
    assert second(1) == second(1, 2) and hash(second(1)) == hash(second(1, 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.x = 3


def test_nothing_new_nothing_written(table):
    with importcache.generated_code("t"):
        pass
    assert not (table / "t.marshal").exists()


def test_no_table_written_when_python_writes_no_bytecode(table, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    with importcache.generated_code("t"):
        _make()
    assert not (table / "t.marshal").exists()


@pytest.mark.parametrize("content", [b"", b"garbage\x00\x01", marshal.dumps(("not the magic", {})),
                                     marshal.dumps((importlib.util.MAGIC_NUMBER, ["not", "a", "dict"]))])
def test_a_table_that_is_broken_or_foreign_is_ignored_and_replaced(table, content):
    (table / "t.marshal").write_bytes(content)
    with importcache.generated_code("t"):
        cls = _make()
    assert cls(5).x == 5
    magic, saved = _saved(table / "t.marshal")
    assert magic == importlib.util.MAGIC_NUMBER and isinstance(saved, dict) and saved


def test_an_unwritable_place_only_loses_the_table(table, monkeypatch):
    monkeypatch.setattr(importcache, "table_path", lambda name: str(table / "missing-file-as-dir" / "x" / "t"))
    (table / "missing-file-as-dir").write_text("a file where a directory would be")
    with importcache.generated_code("t"):
        assert _make()(1).y == 2  # no error


def test_someone_elses_hook_is_left_alone(table, monkeypatch):
    seen = []

    def other(src, g=None, l=None):
        seen.append(src)
        return exec(src, g, l)

    monkeypatch.setattr(dataclasses, "exec", other, raising=False)
    with importcache.generated_code("t"):
        _make()
    assert seen and vars(dataclasses)["exec"] is other
    assert not (table / "t.marshal").exists()


def test_nested_scopes_use_the_outer_table(table):
    with importcache.generated_code("outer"):
        with importcache.generated_code("inner"):
            _make()
        assert vars(dataclasses)["exec"] is importcache._exec
    assert (table / "outer.marshal").exists() and not (table / "inner.marshal").exists()


def test_the_real_table_lives_beside_the_packages_bytecode():
    path = importcache.table_path("cli")
    assert path.endswith(f"dataclass-code.{importcache.FORMAT}.cli.{sys.implementation.cache_tag}.marshal")
    assert "__pycache__" in path or sys.pycache_prefix


def test_a_fresh_process_builds_the_analyser_the_same_with_and_without_the_table(tmp_path):
    """Run the analyser twice in fresh processes (the first writes the table, the second reads
    it): the same findings on a fixture."""
    fixture = str(Path(__file__).resolve().parents[1] / "fixtures" / "albert_classifier_buggy.py")
    code = ("import sys\nfrom speclint import importcache\n"
            f"importcache.table_path = lambda name: {str(tmp_path)!r} + '/' + name\n"
            "from speclint import engine\nfrom speclint.config import Resolver\n"
            f"r = engine.check_paths([{fixture!r}], Resolver())\n"
            "print(sorted((d.code, d.line, d.column, d.message) for d in r.diagnostics))\n")
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
        assert done.returncode == 0, done.stderr
        runs.append(done.stdout)
    assert (tmp_path / "analyser").exists()
    assert runs[0] == runs[1] and "SL" in runs[0]


def test_a_table_is_read_once_per_process(table, monkeypatch):
    with importcache.generated_code("t"):
        _make()
    reads = []
    real = importcache._load
    monkeypatch.setattr(importcache, "_load", lambda name: reads.append(name) or real(name))
    importcache._loaded.clear()
    for _ in range(3):
        with importcache.generated_code("t"):
            _make()
    assert reads == ["t"]


def test_generated_methods_are_compiled_as_dataclasses_compiles_them(table):
    """No `__future__` flag of importcache (which has `annotations`) leaks into the generated
    code: `__init__`'s annotations are the types, not strings, with the table and from it."""
    import typing

    plain = _make()
    for _ in range(2):  # compiled into the table, then served from it
        importcache._loaded.clear()
        with importcache.generated_code("t"):
            cls = _make()
        assert cls.__init__.__annotations__ == plain.__init__.__annotations__ == {"x": int, "y": int, "return": None}
        assert typing.get_type_hints(cls.__init__) == typing.get_type_hints(plain.__init__)
