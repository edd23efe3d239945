"""Issue 13, baselines: `--write-baseline FILE` records today's findings, `--baseline FILE` (or
`baseline = FILE` in the configuration) reports only new ones, keyed by SARIF's line-independent
fingerprints; stale entries are reported and dropped on rewrite; honoured by `check` (every output
format, stdin), the flake8 plugin and the language server (pre-commit: tests/test_precommit.py)."""
import json
import re
import subprocess
import sys
import textwrap

import pytest

from samples import runner
from speclint.cli import cli
from test_cli import BAD, BAD_LINE, write

TWO = textwrap.dedent("""\
    import tensorflow.compat.v1 as tf

    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        def host_fn(loss):
            return []
        train_op = tf.no_op() if mode == tf.estimator.ModeKeys.TRAIN else None
        if mode == tf.estimator.ModeKeys.TRAIN:
            return tf.estimator.tpu.TPUEstimatorSpec(
                mode, loss=loss, train_op=train_op, host_call=(host_fn, [loss]))
        return tf.estimator.tpu.TPUEstimatorSpec(
            mode, loss=loss, train_op=train_op, host_call=(host_fn, [loss]))
    """)  # SL005 twice, at lines 10 and 12, on flagged lines that differ only in indentation
LAST = "    return tf.estimator.tpu.TPUEstimatorSpec(\n        mode, loss=loss, train_op=train_op, host_call=(host_fn, [loss]))\n"
assert TWO.endswith(LAST)


@pytest.fixture
def cli_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def _run(*args, input=None):
        result = runner().invoke(cli, ["--no-cache", *args], input=input, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr
    return _run


def entries(path):
    return json.loads(path.read_text(encoding="utf-8"))["findings"]


def test_write_then_check_reports_nothing_old(cli_run, tmp_path):
    write(tmp_path, "src/bad.py", BAD)
    code, out, err = cli_run("--write-baseline", "speclint-baseline.json", "src")
    assert (code, out) == (0, "")
    assert err == "speclint: recorded 1 finding in the baseline speclint-baseline.json.\n"
    data = json.loads((tmp_path / "speclint-baseline.json").read_text(encoding="utf-8"))
    (entry,) = data["findings"]
    assert data["speclint_baseline"] == 1
    assert set(entry) == {"path", "code", "name", "line", "fingerprint", "message"}
    assert (entry["path"], entry["code"], entry["line"]) == ("src/bad.py", "SL005", BAD_LINE)
    assert re.fullmatch(r"[0-9a-f]{16}:1", entry["fingerprint"])

    code, out, err = cli_run("--baseline", "speclint-baseline.json", "src")
    assert (code, err) == (0, "")
    assert out == ("All checks passed: 1 file (1 analysed, 0 skipped: they never mention Estimator); "
                   "1 diagnostic hidden by the baseline.\n")
    # without the baseline everything is back
    assert cli_run("src")[0] == 1


def test_the_fingerprint_is_sarifs(cli_run, tmp_path):
    (tmp_path / ".git").mkdir()  # the repository root: SARIF paths are relative to it
    write(tmp_path, "src/bad.py", TWO)
    cli_run("--write-baseline", "b.json", "src")
    sarif = json.loads(cli_run("--output-format", "sarif", "src")[1])
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in sarif["runs"][0]["results"]]
    assert [e["fingerprint"] for e in entries(tmp_path / "b.json")] == hashes
    assert [h[-2:] for h in hashes] == [":1", ":2"]  # identical findings are numbered


def test_moving_code_keeps_findings_in_the_baseline(cli_run, tmp_path):
    p = write(tmp_path, "m.py", TWO)
    cli_run("--write-baseline", "b.json", "m.py")
    # lines inserted above, the function re-indented into a class, blank lines added
    moved = "import os\n\n\n" + TWO.replace("def model_fn(features", "class M:\n  def model_fn(self, features")
    moved = moved.replace("\n    ", "\n      ")
    p.write_text(moved, encoding="utf-8")
    assert cli_run("m.py")[0] == 1  # still there...
    code, out, err = cli_run("--baseline", "b.json", "m.py")
    assert (code, err) == (0, "")  # ...but known
    assert "2 diagnostics hidden by the baseline" in out


def test_new_findings_are_reported_including_a_third_identical_one(cli_run, tmp_path):
    p = write(tmp_path, "m.py", TWO)
    cli_run("--write-baseline", "b.json", "m.py")
    # a third copy of the flagged line, in a new branch between the two: the number of identical
    # findings decides, so the last of the three (line 15) is the new one
    p.write_text(TWO.replace(LAST, "    if params[\"x\"]:\n" + textwrap.indent(LAST, "    ") + LAST), encoding="utf-8")
    code, out, err = cli_run("--baseline", "b.json", "--output-format", "json", "m.py")
    (new,) = json.loads(out)
    assert code == 1 and (new["code"], new["line"]) == ("SL005", 15)
    # editing a flagged line makes its finding new
    edited = TWO.replace(LAST, LAST.replace("[loss]", "[(loss)]"))
    p.write_text(edited, encoding="utf-8")
    code, out, err = cli_run("--baseline", "b.json", "--output-format", "concise", "m.py")
    col = edited.splitlines()[11].index("(loss)") + 2  # `loss` inside the parentheses
    assert code == 1 and [line.split(" [")[0] for line in out.splitlines()[:-1]] == [f"m.py:12:{col}: SL005"]
    assert out.splitlines()[-1].endswith("; 1 diagnostic hidden by the baseline.")


def test_stale_entries_are_reported_and_dropped_by_a_rewrite(cli_run, tmp_path):
    p = write(tmp_path, "src/m.py", TWO)
    cli_run("--write-baseline", "b.json", "src")
    p.write_text(TWO.replace(LAST, LAST.replace("[loss]", "[tf.reshape(loss, [1])]")), encoding="utf-8")
    code, out, err = cli_run("--baseline", "b.json", "src")
    assert code == 0 and "1 diagnostic hidden by the baseline" in out
    assert err == ("speclint: 1 entry of the baseline b.json no longer occurs (fixed, or the flagged line "
                   "changed); write the baseline again (--write-baseline) to drop it:\n"
                   "  src/m.py:12: SL005 [outfeed-scalar-tensor]\n")
    cli_run("--write-baseline", "b.json", "src")
    assert [e["line"] for e in entries(tmp_path / "b.json")] == [10]
    assert cli_run("--baseline", "b.json", "src")[2] == ""


def test_a_partial_run_keeps_the_rest_of_the_baseline(cli_run, tmp_path):
    write(tmp_path, "a.py", BAD)
    write(tmp_path, "b.py", TWO)
    write(tmp_path, "gone.py", BAD)
    cli_run("--write-baseline", "b.json", ".")
    assert sorted({e["path"] for e in entries(tmp_path / "b.json")}) == ["a.py", "b.py", "gone.py"]
    (tmp_path / "gone.py").unlink()
    # a run over a.py only: b.py's entries are not stale and are kept; gone.py's go
    code, out, err = cli_run("--baseline", "b.json", "a.py")
    assert (code, err) == (0, "")
    cli_run("--write-baseline", "b.json", "a.py")
    assert sorted(e["path"] for e in entries(tmp_path / "b.json")) == ["a.py", "b.py", "b.py"]
    # rules the run did not check are not stale either, and are kept
    code, out, err = cli_run("--baseline", "b.json", "--select", "SL001", ".")
    assert (code, err) == (0, "")
    cli_run("--write-baseline", "b.json", "--select", "SL001", ".")
    assert len(entries(tmp_path / "b.json")) == 3


def test_the_configured_baseline_and_no_baseline(cli_run, tmp_path):
    write(tmp_path, "proj/pyproject.toml", '[tool.speclint]\nbaseline = "lint/baseline.json"\n')
    write(tmp_path, "proj/src/m.py", BAD)
    (tmp_path / "proj" / "lint").mkdir()
    code, out, err = cli_run("proj/src")
    assert code == 2 and err.startswith("speclint: error: ") and "baseline file not found" in err
    cli_run("--write-baseline", "proj/lint/baseline.json", "proj/src")
    assert entries(tmp_path / "proj" / "lint" / "baseline.json")[0]["path"] == "../src/m.py"
    assert cli_run("proj/src")[0] == 0
    assert cli_run("--no-baseline", "proj/src")[0] == 1
    # stdin with a file name is matched against the same baseline
    code, out, err = cli_run("-", "--stdin-filename", "proj/src/m.py", input=BAD)
    assert code == 0 and "1 diagnostic hidden" in out


@pytest.mark.parametrize("text, needle", [
    ("{", "invalid baseline file"),
    ('{"findings": []}', "not a speclint baseline"),
    ('{"speclint_baseline": 1, "findings": [{"path": 1}]}', "findings[0] needs string `path`"),
])
def test_a_broken_baseline_is_a_one_line_error(cli_run, tmp_path, text, needle):
    write(tmp_path, "m.py", BAD)
    write(tmp_path, "b.json", text)
    code, out, err = cli_run("--baseline", "b.json", "m.py")
    assert code == 2 and len(err.splitlines()) == 1 and needle in err and "Traceback" not in err


def test_flake8_honours_the_configured_baseline(tmp_path):
    from integrations_support import clean_env

    write(tmp_path, "m.py", TWO)
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nbaseline = "b.json"\n')
    speclint = [sys.executable, "-m", "speclint", "--no-cache"]
    subprocess.run(speclint + ["--write-baseline", "b.json", "m.py"], cwd=tmp_path, check=True, env=clean_env())
    flake8 = [sys.executable, "-m", "flake8", "--isolated", "--select", "SL"]
    proc = subprocess.run(flake8 + ["m.py"], cwd=tmp_path, capture_output=True, text=True, env=clean_env())
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    # moved one line down, and the last spec's flagged line edited: only its finding is new
    (tmp_path / "m.py").write_text("# moved\n" + TWO.replace(LAST, LAST.replace("[loss]", "[(loss)]")))
    proc = subprocess.run(flake8 + ["m.py"], cwd=tmp_path, capture_output=True, text=True, env=clean_env())
    assert [line.split(" ")[:2] for line in proc.stdout.splitlines()] == [["m.py:13:67:", "SL005"]], proc.stdout


def test_a_baseline_that_cannot_be_written(cli_run, tmp_path):
    write(tmp_path, "m.py", BAD)
    code, out, err = cli_run("--write-baseline", "no/such/dir/b.json", "m.py")
    assert (code, err) == (2, "speclint: error: cannot write no/such/dir/b.json: No such file or directory\n")
