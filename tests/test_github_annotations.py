"""`--output-format github`: one workflow command per diagnostic, escaped exactly as GitHub's own
toolkit (@actions/core, the library actions use to write annotations) escapes it.

The comparison runs the real @actions/core `error()` / `warning()` in node on the same location
and text (installed by .ci/run, which sets SPECLINT_ACTIONS_CORE); the parser below checks the
command shape, repository-relative paths and that unescaping gives back the original text.
"""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from integrations_support import BAD, BAD_LINE, GOOD, clean_env, git_repo, require_npm_tool, speclint
from speclint.diagnostics import Diagnostic
from speclint.engine import FileResult, RunResult
from speclint.report import github

_COMMAND = re.compile(r"^::(?P<cmd>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)$")


def parse(line):
    m = _COMMAND.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m.group("props").split(","))
    return m.group("cmd"), props, m.group("data")


def unescape(text):
    for esc, ch in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(esc, ch)
    return text


def test_annotation_for_a_real_diagnostic_with_repository_relative_path(tmp_path):
    repo = git_repo(tmp_path / "repo")
    (repo / "src").mkdir()
    (repo / "src" / "bad.py").write_text(BAD, encoding="utf-8")
    (repo / "src" / "good.py").write_text(GOOD, encoding="utf-8")
    proc = speclint("--output-format", "github", ".", cwd=repo / "src")
    assert proc.returncode == 1, proc.stderr
    (line,) = proc.stdout.splitlines()  # nothing else: no summary line in this format
    cmd, props, data = parse(line)
    col = BAD.splitlines()[BAD_LINE - 1].index("[loss]") + 2
    assert cmd == "error"
    assert props == {"file": "src/bad.py", "line": str(BAD_LINE), "col": str(col), "endLine": str(BAD_LINE),
                     "endColumn": str(col + 4), "title": "speclint (SL005 outfeed-scalar-tensor)"}
    assert unescape(data).startswith(f"src/bad.py:{BAD_LINE}:{col}: SL005 [outfeed-scalar-tensor] `host_call`")
    clean = speclint("--output-format", "github", "good.py", cwd=repo / "src")
    assert (clean.returncode, clean.stdout) == (0, "")


def _result(**over):
    fields = dict(path="dir/a,b:c%.py", line=3, column=5, end_line=4, end_column=2, code="SL005",
                  name="outfeed-scalar-tensor", severity="error",
                  message="100% wrong: a, b\r\nsecond line: `x`")
    fields.update(over)
    return RunResult([FileResult(fields["path"], [Diagnostic(**fields)])])


@pytest.mark.parametrize("severity,command", [("error", "error"), ("warning", "warning")])
def test_escaping_round_trips(severity, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    out = github.render(_result(severity=severity))
    assert out.count("\n") == 1 and "\r" not in out  # one physical line per annotation
    cmd, props, data = parse(out.rstrip("\n"))
    assert cmd == command
    assert unescape(props["file"]) == "dir/a,b:c%.py"
    assert unescape(data) == "dir/a,b:c%.py:3:5: SL005 [outfeed-scalar-tensor] 100% wrong: a, b\r\nsecond line: `x`"


def test_same_bytes_as_github_actions_toolkit(tmp_path, monkeypatch):
    core = require_npm_tool("SPECLINT_ACTIONS_CORE", "@actions", "core")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    cases = []
    for severity in ("error", "warning"):
        d = _result(severity=severity).diagnostics[0]
        cases.append({"fn": severity, "message": f"{d.path}:{d.line}:{d.column}: {d.code} [{d.name}] {d.message}",
                      "props": {"file": d.path, "startLine": d.line, "startColumn": d.column,
                                "endLine": d.end_line, "endColumn": d.end_column,
                                "title": f"speclint ({d.code} {d.name})"}})
        ours = github.render(_result(severity=severity))
        cases[-1]["ours"] = ours.rstrip("\n")
    script = ("const core = await import(process.argv[1]);"
              "for (const c of JSON.parse(process.argv[2])) core[c.fn](c.message, c.props);")
    entry = (core / "lib" / "core.js").as_uri()
    proc = subprocess.run(["node", "--input-type=module", "-e", script, entry, json.dumps(cases)],
                          capture_output=True, text=True, timeout=60, env=clean_env())
    assert proc.returncode == 0, proc.stderr
    theirs = proc.stdout.splitlines()
    assert len(theirs) == 2
    for case, line in zip(cases, theirs):
        # @actions/core orders the properties differently (title first); the command, every
        # property value and the message must be byte-identical
        assert parse(case["ours"]) == parse(line)
