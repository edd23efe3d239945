"""Issue 13: every fix on the fixture programs (real-world shaped model_fns, `fixtures/`), with
the default rules and with every rule on TPU: after `--fix --unsafe-fixes` every file compiles,
nothing is left to fix, no rule reports more than before (a fix never trades one misuse for
another), and each fixed finding is gone."""
import collections
import json
import py_compile
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from speclint.cli import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _json(*args):
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--jobs", "1", "--output-format", "json", *args, "."])
    return json.loads(result.stdout)


@pytest.mark.parametrize("options", [(), ("--select", "ALL", "--target", "tpu")], ids=["default", "all-tpu"])
def test_fixing_the_fixtures(tmp_path, monkeypatch, options):
    work = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, work)
    monkeypatch.chdir(work)
    before = _json(*options)
    fixable = [d for d in before if d["fix"]]
    assert len(fixable) >= 10, len(fixable)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--jobs", "1", "--fix", "--unsafe-fixes",
                                      "--output-format", "concise", *options, "."])
    assert "\nFixed " in result.stdout, result.stdout
    after = _json(*options)
    assert not [d for d in after if d["fix"]]
    counts_before = collections.Counter(d["code"] for d in before)
    counts_after = collections.Counter(d["code"] for d in after)
    assert not {c for c in counts_after if counts_after[c] > counts_before[c]}, (counts_before, counts_after)
    for code in {d["code"] for d in fixable}:
        fixed_here = sum(1 for d in fixable if d["code"] == code)
        assert counts_after[code] <= counts_before[code] - fixed_here + 1, code  # (two copies of one misuse)
    for path in work.rglob("*.py"):
        py_compile.compile(str(path), doraise=True)
    changed = {p.relative_to(work).as_posix() for p in work.rglob("*.py")
               if p.read_bytes() != (FIXTURES / p.relative_to(work)).read_bytes()}
    assert changed == {d["path"] for d in fixable}  # a file without fixes is never written
