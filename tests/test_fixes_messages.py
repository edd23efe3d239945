"""Issue 13, the message split: every rule's message template is a pair (short statement,
explanation); the full text format's header line is the statement of the template the message
matches, whatever the parameters hold; JSON/SARIF/GitHub keep the whole message."""
import json
from pathlib import Path

import pytest

from expect import actual
from speclint import rulebook
from speclint.diagnostics import Diagnostic
from speclint.report import full, message

BOOK = rulebook.load()
ROOT = Path(__file__).resolve().parents[1]
FRAGMENTS = {(r.code, v) for r in BOOK for v in r.messages if v.startswith("fix_")} | {("SL102", "confirmed")}


def test_every_message_is_a_statement_and_an_explanation():
    for rule in BOOK:
        for variant, whole in rule.messages.items():
            if (rule.code, variant) in FRAGMENTS:
                assert variant not in rule.shorts  # embedded in another message: no split
                continue
            short = rule.shorts.get(variant)
            assert short, f"{rule.code} {variant}: not a [statement, explanation] pair"
            assert whole == rulebook.joined(short, whole[len(rulebook.joined(short, "")):])
            assert whole.startswith(short) and len(whole) > len(short) + 2


def test_a_malformed_message_pair_is_a_rulebook_error(tmp_path):
    p = tmp_path / "SL999-x.md"
    p.write_text('+++\ncode = "SL999"\nname = "x"\nseverity = "error"\nengines = ["static"]\n'
                 'summary = "s"\n[messages]\ndefault = ["only one"]\n+++\n# x\n', encoding="utf-8")
    with pytest.raises(rulebook.RulebookError, match="pair"):
        rulebook.parse_rule(p)


@pytest.mark.parametrize("rule", [r for r in BOOK if "static" in r.engines and r.code != "SL000"],
                         ids=lambda r: r.code)
def test_every_reported_message_matches_its_template(rule):
    for section in ("Example",):
        for i, block in enumerate(rule.examples().get(section, [])):
            for d in actual(block, f"{rule.code}-{i}.py", target="tpu")[1]:
                short = BOOK[d.code].short_of(d.message)
                assert short and d.message.startswith(short), (d.code, d.message)


def test_the_statement_comes_from_the_template_not_from_the_punctuation():
    # a parameter with an unbalanced parenthesis (a shortened expression) made the old heuristic
    # run the statement into the explanation
    rule = BOOK["SL035"]
    msg = rule.message("missing", expr="eval_spec", other="tf.estimator.tpu.TPUEstimatorSpec( mode=mode, ...",
                       field="eval_metrics")
    head, helps = message.parts(Diagnostic("m.py", 1, 1, 1, 2, "SL035", rule.name, "error", msg))
    assert head == ("`eval_spec` is returned, but another TPUEstimatorSpec (tf.estimator.tpu.TPUEstimatorSpec( "
                    "mode=mode, ...) was built after it on this path")
    assert helps[0].startswith("TPUEstimatorSpec stores the host calls on the class")
    # a `: ` inside a parameter does not move the statement's end either
    msg = BOOK["SL102"].message("default", mode="TRAIN", error="ValueError: bad shape")
    head, helps = message.parts(Diagnostic("m.py", 1, 1, 1, 2, "SL102", "tpu-build-failed", "error", msg,
                                           "runtime"))
    assert head == 'the TPU graph build (TRAIN, use_tpu=True, simulated on CPU) fails with "ValueError: bad shape"'
    assert helps[0].startswith("Speclint has no rule for this failure")


def test_the_header_is_the_short_statement_and_json_keeps_the_whole_message(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from speclint.cli import cli
    monkeypatch.chdir(tmp_path)
    block = BOOK["SL020"].examples()["Example"][0]
    (tmp_path / "m.py").write_text(block, encoding="utf-8")
    out = CliRunner().invoke(cli, ["check", "--no-cache", "m.py"]).stdout
    header = out.splitlines()[0]
    assert header.endswith("SL020 [loss-not-scalar] loss `loss` is per-example (it keeps the batch dimension), "
                           "but loss must be a scalar")
    assert "  = help: TF raises \"ValueError: Loss must be scalar" in out.replace("   = help", "  = help")
    diags = json.loads(CliRunner().invoke(cli, ["check", "--no-cache", "--output-format", "json", "m.py"]).stdout)
    assert diags[0]["message"] == BOOK["SL020"].message("default", expr="loss")
    assert diags[0]["message"].startswith(header.split("[loss-not-scalar] ")[1] + ": TF raises")
    lines = full.diagnostic(Diagnostic("m.py", 1, 1, 1, 2, "SL000", "syntax-error", "error",
                                       BOOK["SL000"].message(reason="oops")), None)
    assert lines[0] == "m.py:1:1: SL000 [syntax-error] could not check this file: oops"  # short: kept whole
