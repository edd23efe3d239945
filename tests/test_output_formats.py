"""Issue 13, readable output: the default `full` text format (header, code frame with the flagged
range underlined, help lines, doc link), `concise` (the one-line format, also under its old name
`text`), `--statistics`, `--output-file`.  Output is pinned exactly, as ruff's snapshot tests do."""
import json
import textwrap

import pytest

from speclint import rulebook
from speclint.diagnostics import Diagnostic
from speclint.report import full, message
from test_cli import BAD, BAD_COL, BAD_LINE, run, write  # noqa: F401 - `run` is a fixture

URL5 = rulebook.docs_url("SL005", "outfeed-scalar-tensor")
URL2 = rulebook.docs_url("SL002", "host-call-arity-mismatch")
SUMMARY1 = ("Found 1 diagnostic (1 error, 0 warnings) in 1 file; checked 1 file (1 analysed, 0 skipped: "
            "they never mention Estimator).")

# SL005's fix is unsafe: shown in a `fix:` line, not marked `[*]` (issue 13: fixes)
FULL_BAD = f"""\
bad.py:{BAD_LINE}:{BAD_COL}: SL005 [outfeed-scalar-tensor] `host_call` tensor[0] `loss` is a scalar (rank 0)
  |
6 |         return []
7 |     return tf.estimator.tpu.TPUEstimatorSpec(
8 |         mode, loss=loss, train_op=tf.no_op(), host_call=(host_fn, [loss]))
  |                                                                    ^^^^ SL005
  |
  = help: TPUEstimator concatenates outfed tensors from every TPU core along dimension 0, so on TPU
          the graph build fails with "RuntimeError: All tensors outfed from TPU should preserve
          batch size dimension, but got scalar Tensor("OutfeedDequeueTuple:0", ...)" (it passes on
          CPU).
  = help: Give it a batch dimension, e.g. `tf.reshape(loss, [1])` (the host function then reads
          `[0]` or averages), or pass the per-example values.
  = fix: Give it a batch dimension: `tf.reshape(loss, [1])` (unsafe fix: `--fix --unsafe-fixes`)
  = docs: {URL5}

{SUMMARY1}
"""

MULTI = textwrap.dedent("""\
    import tensorflow.compat.v1 as tf

    def metric_fn(a, b, c):
        return {}

    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        return tf.estimator.tpu.TPUEstimatorSpec(
            mode, loss=loss, train_op=tf.no_op(),
            eval_metrics=(metric_fn, [
                features["x"],
                features["y"],
            ]))
    """)

FULL_MULTI = f"""\
multi.py:10:34: SL002 [host-call-arity-mismatch] `eval_metrics` passes 2 tensor(s) by position but `metric_fn` takes 3 positional argument(s) (a, b, c)
   |
 8 |       return tf.estimator.tpu.TPUEstimatorSpec(
 9 |           mode, loss=loss, train_op=tf.no_op(),
10 |           eval_metrics=(metric_fn, [
   |  __________________________________^
11 | |             features["x"],
12 | |             features["y"],
13 | |         ]))
   | |_________^ SL002
   |
   = help: TPUEstimatorSpec raises "RuntimeError: In TPUEstimatorSpec.eval_metrics, length of
           tensors 2 does not match method args of the function, which takes 3." when the spec is
           built.
   = help: Pass one tensor per parameter, or pass a dict keyed by parameter name.
   = docs: {URL2}

{SUMMARY1}
"""


def test_full_is_the_default_and_pinned(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    code, out = run("--no-cache", "bad.py")
    assert code == 1
    assert out == FULL_BAD
    assert run("--no-cache", "--output-format", "full", "bad.py")[1] == FULL_BAD


def test_a_range_over_several_lines(run, tmp_path):
    write(tmp_path, "multi.py", MULTI)
    assert run("--no-cache", "multi.py")[1] == FULL_MULTI


def test_concise_is_the_old_one_line_format_and_text_its_alias(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    code, out = run("--no-cache", "--output-format", "concise", "bad.py")
    assert code == 1
    (line, summary) = out.splitlines()
    d = json.loads(run("--no-cache", "--output-format", "json", "bad.py")[1])[0]
    assert line == f"bad.py:{BAD_LINE}:{BAD_COL}: SL005 [outfeed-scalar-tensor] {d['message']}"
    assert summary == SUMMARY1
    assert run("--no-cache", "--output-format", "text", "bad.py")[1] == out


def test_readable_line_lengths_on_the_fixtures(run, monkeypatch):
    """The point of the full format: the fixtures' one-line messages run to hundreds of characters."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    concise = run("--no-cache", "--output-format", "concise", "fixtures/")[1].splitlines()[:-1]
    full_out = run("--no-cache", "fixtures/")[1].splitlines()[:-1]
    median = lambda lines: sorted(map(len, lines))[len(lines) // 2]  # noqa: E731
    assert median(concise) > 300
    assert median(full_out) < 80
    help_lines = [line for line in full_out if line.lstrip().startswith(("= help:", "= docs:"))
                  or line.startswith("         ")]
    assert help_lines and all(len(line) <= 100 for line in help_lines if "= docs:" not in line)


def test_statistics_prints_the_counts_not_the_diagnostics(run, tmp_path):
    write(tmp_path, "a.py", BAD)
    write(tmp_path, "b.py", BAD.replace("[loss]", "[loss, loss]").replace("def host_fn(loss)", "def host_fn(a, b)"))
    code, out = run("--no-cache", "--statistics", "-q", "a.py", "b.py")
    assert (code, out) == (1, "3  SL005  outfeed-scalar-tensor\n")
    code, out = run("--no-cache", "--statistics", "--output-format", "concise", "a.py", "b.py")
    assert out.splitlines()[0] == "3  SL005  outfeed-scalar-tensor"
    assert out.splitlines()[1].startswith("Found 3 diagnostics")


def test_output_file(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    code, out = run("--no-cache", "--output-file", "report.txt", "--color", "auto", "bad.py")
    assert (code, out) == (1, "")
    assert (tmp_path / "report.txt").read_text(encoding="utf-8") == FULL_BAD
    code, out = run("--no-cache", "-o", "report.json", "--output-format", "json", "bad.py")
    assert code == 1 and json.loads((tmp_path / "report.json").read_text())[0]["code"] == "SL005"
    code, out = run("--no-cache", "-o", "no/such/dir/report.txt", "bad.py")
    assert code == 2 and "speclint: error: cannot write no/such/dir/report.txt" in out


def test_colour_in_the_full_format(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    out = run("--no-cache", "--color", "always", "bad.py")[1]
    assert "\x1b[31m\x1b[1mSL005\x1b[0m" in out  # the code in red, as in concise
    assert "\x1b[34m\x1b[1m8 |\x1b[0m" in out  # the gutter in blue
    import click
    assert click.unstyle(out) == FULL_BAD


def test_source_that_cannot_be_read_has_no_frame():
    d = Diagnostic("gone.py", 3, 5, 3, 9, "SL005", "outfeed-scalar-tensor", "error",
                   "`host_call` tensor[0] `x` is a scalar (rank 0): on TPU it fails. Give it a batch dimension.")
    assert full.diagnostic(d, None) == [
        "gone.py:3:5: SL005 [outfeed-scalar-tensor] `host_call` tensor[0] `x` is a scalar (rank 0)",
        "  = help: On TPU it fails.",
        "  = help: Give it a batch dimension.",
        f"  = docs: {URL5}",
    ]


def test_tabs_and_wide_characters_keep_the_underline_under_the_expression():
    lines = ["x = 1", "\tz = f('中文', loss)"]
    col = lines[1].index("loss") + 1
    d = Diagnostic("m.py", 2, col, 2, col + 4, "SL005", "outfeed-scalar-tensor", "error", "short")
    frame = full.diagnostic(d, lines)[1:5]
    assert frame == [
        "  |",
        "1 | x = 1",
        "2 |     z = f('中文', loss)",
        "  |                   ^^^^ SL005",
    ]


def test_empty_range_and_folded_long_range():
    lines = [f"line{i}" for i in range(1, 21)]
    d = Diagnostic("m.py", 2, 3, 2, 3, "SL000", "syntax-error", "error", "could not check this file: oops")
    assert full.diagnostic(d, lines)[1:6] == ["  |", "1 | line1", "2 | line2", "  |   ^ SL000", "3 | line3"]
    d = Diagnostic("m.py", 3, 1, 15, 4, "SL019", "missing-field-for-mode", "error", "x")
    frame = full.diagnostic(d, lines)[1:]
    assert frame[:6] == ["   |", " 1 |   line1", " 2 |   line2", " 3 |   line3", "   |  _^", " 4 | | line4"]
    assert frame[6:11] == ["...", "14 | | line14", "15 | | line15", "   | |___^ SL019", "16 |   line16"]


@pytest.mark.parametrize("text, head, helps", [
    # the statement ends at the first ": " outside backticks and quotes
    ("`a: b` is wrong: TF raises \"X: y\". Do z.", "`a: b` is wrong", ["TF raises \"X: y\".", "Do z."]),
    # the last sentence is the fix, the ones before it the why
    ("x is bad: it breaks. On TPU too. Fix it, e.g. `f(x)`.", "x is bad",
     ["It breaks. On TPU too.", "Fix it, e.g. `f(x)`."]),
    # a short message with a one-sentence explanation stays whole
    ("could not check this file: syntax error at line 3", "could not check this file: syntax error at line 3", []),
    ("no colon and no sentence end", "no colon and no sentence end", []),
])
def test_message_split(text, head, helps):
    assert message.split(text) == (head, helps)


def test_a_short_part_given_by_the_rulebook_wins():
    text = "x is a scalar: TPUEstimator concatenates. Reshape it."
    assert message.split(text, short="x is a scalar: TPUEstimator concatenates") == (
        "x is a scalar: TPUEstimator concatenates", ["Reshape it."])


def test_every_fixture_message_splits_into_a_statement_and_help(run, monkeypatch):
    """The heuristic on the real messages: each header statement is short, and what it cut off comes
    back in the help lines word for word."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    items = json.loads(run("--no-cache", "--output-format", "json", "fixtures/")[1])
    assert len({i["code"] for i in items}) > 30
    for item in items:
        head, helps = message.split(item["message"])
        normalized = " ".join(item["message"].split())
        if not helps:  # kept whole: short, with a one-sentence explanation (SL100)
            assert head == normalized and len(head) <= message.KEEP_WHOLE
            continue
        assert len(head) < 200, item["message"]
        rest, joined = normalized[len(head):].lstrip(": "), " ".join(helps)
        assert normalized.startswith(head) and joined[1:] == rest[1:] and joined[0].lower() == rest[0].lower()


def test_short_and_help_carried_by_a_diagnostic_are_used_as_they_are():
    class Split:
        message = "x is a scalar: TPUEstimator concatenates. Reshape it."
        short = "x is a scalar"
        help = ["TPUEstimator concatenates outfed tensors.", "Reshape it:  `tf.reshape(x, [1])`."]

    assert message.parts(Split()) == ("x is a scalar", ["TPUEstimator concatenates outfed tensors.",
                                                        "Reshape it: `tf.reshape(x, [1])`."])
