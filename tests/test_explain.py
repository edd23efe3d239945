"""`speclint explain` on real error texts: public issues and real runs of TF 2.15.1 (tests/data/explain,
each with its source in fixtures.toml), as whole logs, tracebacks alone and last error lines alone;
ordinary TF errors that are not spec misuse must not be claimed. Also the failure table itself
(verified against the installed TF's source) and that the TPU simulation reads the same table.
"""
import json
import re
from functools import lru_cache
from pathlib import Path

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

import pytest
from click.testing import CliRunner

from speclint import rulebook, tpu_failures
from speclint.cli import cli
from speclint.explain import explain
from speclint.explain.reading import read

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "explain"
MANIFEST = tomllib.loads((DATA / "fixtures.toml").read_text(encoding="utf-8"))["fixture"]
BY_FILE = {f["file"]: f for f in MANIFEST}
REAL = [f for f in MANIFEST if f["file"].startswith("real/")]
ISSUES = [f for f in MANIFEST if f["file"].startswith("issues/")]
_EXC_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception): ")


def _text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _recorded_root(text: str) -> str:
    """The checkout a real log was recorded in (its frames' paths start with it), which is not
    this checkout's path on another machine or worktree."""
    import re
    m = re.search(r'"(/[^"]*?)/tests/data/explain/programs/', text)
    return m.group(1) if m else str(ROOT)


@lru_cache(maxsize=None)
def _explained(name: str, part: str = "all", check: bool = True):
    """explain() of a fixture: the whole text, its traceback alone, or its last error line alone."""
    text = _text(name)
    if part == "traceback":
        text = _traceback_only(text)
    elif part == "last":
        text = _last_error_line(text)
    return explain(text, cwd=str(ROOT), check=check)


def _traceback_only(text: str) -> str:
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("Traceback (most recent call last)"))
    return "\n".join(lines[start:]) + "\n"


def _last_error_line(text: str) -> str:
    """What a user copies as "the error": the last exception line and the lines of its message."""
    lines = text.rstrip("\n").splitlines()
    start = max(i for i, ln in enumerate(lines) if _EXC_LINE.match(ln))
    return "\n".join(lines[start:]) + "\n"


def _words(text: str) -> str:
    """Text output with its line wrapping undone."""
    return " ".join(text.split())


def _keys(report):
    return [e.key for f in report.findings for e in f.explanations]


def _frame(report):
    f = report.findings[0]
    if f.place is None:
        return None
    name = re.split(r"[/\\]", f.place.frame.path)[-1]
    return f"{name}:{f.place.frame.line}"


# -- the fixtures and their sources ----------------------------------------------------------------
def test_every_fixture_has_its_source():
    files = {str(p.relative_to(DATA)) for d in ("issues", "real") for p in (DATA / d).iterdir()}
    assert files == set(BY_FILE), files ^ set(BY_FILE)
    for f in MANIFEST:
        assert f["source"].strip(), f["file"]
        if f["file"].startswith("issues/"):
            assert f["source"].startswith("https://github.com/"), f["file"]
            assert f["form"] in ("traceback", "last-line", "message", "log", "ipython", "chained"), f["file"]
        else:
            program = DATA / "programs" / (Path(f["file"]).stem + ".py")
            assert program.is_file() and f"programs/{program.name}" in f["source"], f["file"]


def test_the_forms_the_issue_asks_for_are_covered():
    forms = {f["form"] for f in ISSUES}
    assert {"traceback", "last-line", "message", "log", "ipython", "chained"} <= forms
    logs = [_text(f["file"]) for f in REAL]
    assert any(re.search(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+:\d+\] ", t, re.M) for t in logs)  # absl
    assert any("\nWARNING:tensorflow:" in t for t in logs)  # TF's Python logging
    assert any(re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: I tensorflow/", t, re.M) for t in logs)  # C++
    chained = [f for f in REAL if "During handling of the above exception" in _text(f["file"])]
    assert any(f["expect"] for f in chained) and any(not f["expect"] for f in chained)
    assert any("disable_v2_behavior" in f["source"] for f in REAL if f["expect"])  # TF1 wording
    assert {"neg_matmul_shape_mismatch", "neg_missing_checkpoint", "neg_out_of_memory"} <= \
        {Path(f["file"]).stem for f in REAL if not f["expect"]}


def test_real_run_tracebacks_match_their_programs():
    """The logs' frames of programs/*.py print the programs' current lines (the fixtures are not stale)."""
    for f in REAL:
        for event in read(_text(f["file"])).events:
            for frame in event.frames:
                if "/tests/data/explain/programs/" in frame.path and frame.source:
                    program = DATA / "programs" / Path(frame.path).name
                    line = program.read_text(encoding="utf-8").splitlines()[frame.line - 1].strip()
                    assert line == frame.source, (f["file"], frame)


# -- explaining them -------------------------------------------------------------------------------
@pytest.mark.parametrize("fixture", MANIFEST, ids=[f["file"] for f in MANIFEST])
def test_fixture_is_explained_as_expected(fixture):
    report = _explained(fixture["file"])
    assert report.explained == bool(fixture["expect"])
    assert _keys(report) == fixture["expect"], [(f.event.message[:120], f.needs_traceback) for f in report.findings]
    if not fixture["expect"]:
        assert len(report.findings) <= 1
        assert [e.key for f in report.findings for e in f.needs_traceback] == fixture.get("needs_traceback", [])
    if "frame" in fixture:
        assert _frame(report) == fixture["frame"]
    if "op_frames" in fixture:
        got = [f"{p.op}={p.frame.line}" for p in report.findings[0].op_places]
        assert got == fixture["op_frames"]


TRACEBACK_RUNS = [f for f in REAL if "Traceback (most recent call last)" in _text(f["file"])]


@pytest.mark.parametrize("fixture", REAL, ids=[f["file"] for f in REAL])
def test_real_run_points_at_the_program_and_its_diagnostics(fixture):
    report = _explained(fixture["file"])
    [finding] = report.findings
    program = f"tests/data/explain/programs/{Path(fixture['file']).stem}.py"
    if fixture in TRACEBACK_RUNS:
        assert finding.place is not None and finding.place.located is not None
        assert finding.place.located.path == program and not finding.place.located.stale
        assert finding.place.located.text == finding.place.frame.source
    else:  # a run that only logged a warning: no frame
        assert finding.place is None and not finding.event.frames
    got = sorted({f"{d.code}:{d.line}" for d in finding.diagnostics})
    assert got == fixture.get("diagnostics", [])
    assert all(d.path == program for d in finding.diagnostics)
    for e in finding.explanations:
        assert e.confirmed == any(d.code == (e.code or e.checked_by) for d in finding.diagnostics)
    if fixture.get("diagnostics"):
        assert finding.checked == [program]


@pytest.mark.parametrize("fixture", TRACEBACK_RUNS, ids=[f["file"] for f in TRACEBACK_RUNS])
def test_the_traceback_alone_explains_like_the_log(fixture):
    alone = _explained(fixture["file"], "traceback", check=False)
    whole = _explained(fixture["file"], "all", check=False)
    assert _keys(alone) == _keys(whole) and sorted(_keys(alone)) == sorted(fixture["expect"])
    if "frame" in fixture:
        assert _frame(alone) == fixture["frame"]


@pytest.mark.parametrize("fixture", TRACEBACK_RUNS, ids=[f["file"] for f in TRACEBACK_RUNS])
def test_the_last_error_line_alone(fixture):
    report = _explained(fixture["file"], "last", check=False)
    assert _keys(report) == fixture["last_line"]
    needs = [e.key for f in report.findings for e in f.needs_traceback]
    assert needs == fixture.get("last_line_needs_traceback", [])
    assert report.findings and report.findings[0].place is None  # no frame in one line


def test_a_warning_only_log_is_explained_and_checked_where_it_can_be():
    [finding] = _explained("real/sl029_classification_output_raw_receiver.log").findings
    [e] = finding.explanations
    assert (e.key, e.stage) == ("SL029", "log") and not finding.checked
    assert finding.check_note.startswith("SL029 has no static check")
    [finding] = _explained("issues/bert-chinese-ner-58.txt").findings
    assert [(e.key, e.stage) for e in finding.explanations] == [("SL023", "log")]
    # a log that repeats the warning in both logging formats is one finding
    assert len(_explained("issues/bert-chinese-ner-58.txt").findings) == 1


def test_ordinary_tf_errors_are_not_claimed():
    negatives = [f for f in MANIFEST if not f["expect"]]
    assert len(negatives) >= 8
    for f in negatives:
        report = _explained(f["file"])
        assert not report.explained and not _keys(report), f["file"]
    # the missing checkpoint error inside scaffold_fn (where SL015's message is raised too) stays unclaimed
    text = ('  File "/usr/local/lib/python2.7/dist-packages/tensorflow/contrib/tpu/python/tpu/tpu_estimator.py", '
            'line 2953, in _get_scaffold\n    scaffold = scaffold_fn()\n')
    report = explain("Traceback (most recent call last):\n" + text +
                     "NotFoundError: Unsuccessful TensorSliceReader constructor: Failed to get matching files on "
                     "gs://bucket/bert_model.ckpt\n", check=False)
    assert not report.explained


def test_ranked_candidates_say_what_to_look_for():
    """One message, several rules: the issue's example "... is in a while loop"."""
    msg = "ValueError: Cannot use 'dense/BiasAdd' as input to 'Mean' because 'dense/BiasAdd' is in a while loop."
    [finding] = explain(msg, check=False).findings
    assert [e.key for e in finding.explanations] == ["SL007", "SL015", "SL031"]
    assert all(e.look_for and e.why and e.decidable for e in finding.explanations)
    # the summary merge named in the message singles out SL012, with or without a traceback
    msg = msg.replace("'Mean'", "'Merge_2/MergeSummary'")
    [finding] = explain(msg, check=False).findings
    assert [(e.key, e.evidence) for e in finding.explanations] == [("SL012", "clue")]
    # the traceback decides between rules sharing a message (the TF1 scaffold_fn run, last line vs log)
    assert _keys(_explained("real/sl015_scaffold_fn_captures_tensor_tf1.log", "last", False))[:2] == ["SL007", "SL015"]
    [e] = _explained("real/sl015_scaffold_fn_captures_tensor_tf1.log").findings[0].explanations
    assert (e.key, e.evidence, e.via) == ("SL015", "traceback", "tpu_estimator.py:_get_scaffold")


def test_speclint_check_confirmation_ranks_first():
    """"Missing predictions.": SL019, or a mode compared with 'predict' (SL037); the static engine
    finds SL037 in the program, which then comes first."""
    assert _keys(_explained("real/sl037_mode_compared_to_predict_string.log", "last", False)) == ["SL019", "SL037"]
    [finding] = _explained("real/sl037_mode_compared_to_predict_string.log").findings
    assert [(e.key, e.confirmed) for e in finding.explanations] == [("SL037", True), ("SL019", False)]


def test_tf_op_creation_stacks_point_at_the_user_line():
    """TF1 control flow logs where each op of the error was created: the summary call, not the
    Estimator call the traceback ends in."""
    [finding] = _explained("real/sl012_summary_in_model_fn_tf1.log").findings
    assert finding.place.frame.line == 37 and "estimator.train" in finding.place.frame.source
    [op] = finding.op_places
    assert op.op == "my_loss" and op.located.text == 'tf.summary.scalar("my_loss", loss)'
    assert [d.line for d in finding.diagnostics] == [op.frame.line]


def test_issue_7_mistakes_are_explained_honestly():
    for name, checked_by in (("tpu_params_reserved_keys", "SL040"), ("tpu_train_batch_size_missing", None),
                             ("tpu_api_name_missing", None), ("keras_pretrained_weights_in_tpu_model_fn", None)):
        [finding] = _explained(f"real/{name}.log").findings
        [e] = finding.explanations
        assert e.code is None and e.key == e.name and e.name.replace("-", "_") == name
        assert e.checked_by == checked_by
        assert rulebook.load().lookup(e.name) is None  # a provisional key, not a rule (yet)
    out = _words(CliRunner().invoke(cli, ["explain", str(DATA / "real/tpu_train_batch_size_missing.log")]).output)
    assert "a known TPUEstimator mistake; speclint has no static rule for it yet" in out
    out = _words(CliRunner().invoke(cli, ["explain", str(DATA / "real/tpu_params_reserved_keys.log")]).output)
    assert "reports it as SL040 today" in out and "SL040 [model-fn-signature]" in out


def test_a_traceback_from_another_machine_is_found_by_path_suffix(tmp_path):
    """Paths printed on a TPU VM (/home/someone/...) are looked up under the current directory; a
    file of the same name whose line reads differently is not taken for it."""
    text = _text("real/sl005_scalar_loss_to_metric_fn.log")
    text = text.replace(_recorded_root(text) + "/tests/", "/home/someone/proj/tests/")
    assert '"/home/someone/proj/tests/data/explain/programs/sl005_scalar_loss_to_metric_fn.py", line 38' in text
    assert not Path("/home/someone/proj").exists()
    [finding] = explain(text, cwd=str(ROOT)).findings
    assert finding.place.located.path == "tests/data/explain/programs/sl005_scalar_loss_to_metric_fn.py"
    assert [d.code for d in finding.diagnostics] == ["SL005"]
    other = tmp_path / "sl005_scalar_loss_to_metric_fn.py"
    other.write_text("\n" * 50, encoding="utf-8")
    [finding] = explain(text, cwd=str(tmp_path)).findings
    assert finding.place.located is None and finding.check_note.startswith("the files of your frames are not")


def test_a_file_edited_since_the_error_is_not_quoted(tmp_path):
    copy = tmp_path / "tests" / "data" / "explain" / "programs"
    copy.mkdir(parents=True)
    source = (DATA / "programs" / "sl005_scalar_loss_to_metric_fn.py").read_text(encoding="utf-8")
    (copy / "sl005_scalar_loss_to_metric_fn.py").write_text(
        source.replace("result = estimator.evaluate(", "result = estimator.evaluate(  # edited\n    "),
        encoding="utf-8")
    text = _text("real/sl005_scalar_loss_to_metric_fn.log")
    text = text.replace(_recorded_root(text), str(tmp_path))
    [finding] = explain(text, cwd=str(tmp_path)).findings
    assert finding.place.located.stale and finding.place.located.text.endswith("# edited")
    assert not finding.checked  # a changed file is not checked as if it were the one that failed
    out = _words(CliRunner().invoke(cli, ["explain", "-"], input=text).output)
    assert "(the file here has changed since: line 38 now reads `result = estimator.evaluate( # edited`)" in out
    assert "speclint check not run: your files changed since the error" in out


# -- the command ---------------------------------------------------------------------------------------
def _cli(*args, input=None):
    result = CliRunner().invoke(cli, ["explain", *args], input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_text_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out = _cli("tests/data/explain/real/sl005_scalar_loss_to_metric_fn.log")
    out = _words(out)
    assert code == 0
    assert "Explained by SL005 [outfeed-scalar-tensor] (error, TPU only)" in out
    assert "Your code (innermost frame of your code on the traceback): " \
           "tests/data/explain/programs/sl005_scalar_loss_to_metric_fn.py:38, in main" in out
    assert "result = estimator.evaluate(input_fn=input_fn, steps=1)" in out
    assert "speclint check (SL005) on tests/data/explain/programs/sl005_scalar_loss_to_metric_fn.py:" in out
    assert "sl005_scalar_loss_to_metric_fn.py:25:33: SL005 [outfeed-scalar-tensor] `eval_metrics` tensor[0] `loss`" in out
    assert "More: speclint rule SL005" in out


def test_cli_stdin_and_not_explained():
    code, out = _cli("-", input="ValueError: Dimensions must be equal, but are 4 and 5 for '{{node MatMul}}'\n")
    assert code == 0 and "Not explained: no speclint rule covers this error." in _words(out)
    code, out = _cli(input="AttributeError: 'dict' object has no attribute 'dtype'\n")
    assert code == 0 and "Not explained from this text alone" in _words(out) and "SL004" in out
    code, out = _cli(input="\n\n")
    assert code == 0 and "the input is empty" in out


def test_cli_json_output_fields(monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out = _cli("--output-format", "json", "tests/data/explain/real/sl037_mode_compared_to_predict_string.log")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"version", "explained", "errors"} and data["version"] == 1 and data["explained"]
    [error] = data["errors"]
    assert set(error) == {"type", "message", "input_line", "source", "explained", "candidates", "needs_traceback",
                          "frame", "op_frames", "checked_files", "diagnostics", "check_note"}
    assert error["type"] == "ValueError" and error["message"] == "Missing predictions." and error["source"] == "traceback"
    assert [c["code"] for c in error["candidates"]] == ["SL037", "SL019"]
    c = error["candidates"][0]
    assert set(c) == {"rank", "code", "name", "has_rule", "severity", "tpu_only", "summary", "why", "look_for",
                      "evidence", "via", "confirmed", "url", "checked_by", "stage"}
    assert c["rank"] == 1 and c["confirmed"] and c["has_rule"] and c["url"].endswith("SL037-mode-compared-to-string.md")
    assert error["frame"]["local_path"] == "tests/data/explain/programs/sl037_mode_compared_to_predict_string.py"
    assert error["frame"]["line"] == 21 and not error["frame"]["changed"]
    assert error["checked_files"] == ["tests/data/explain/programs/sl037_mode_compared_to_predict_string.py"]
    [d] = error["diagnostics"]
    assert d["code"] == "SL037" and d["line"] == 16 and d["engine"] == "static"
    code, out = _cli("--output-format", "json", input="nothing to see here\n")
    data = json.loads(out)
    assert code == 0 and data["explained"] is False and data["errors"][0]["candidates"] == []


def test_cli_bad_input_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["explain", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2 and "cannot read" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["explain", str(tmp_path)])
    assert result.exit_code == 2 and "is a directory" in result.output


def test_cli_help_says_what_it_reads():
    out = _words(CliRunner().invoke(cli, ["explain", "--help"]).output)
    for words in ("a whole traceback", "the last error line", "training log", "Colab", "--output-format",
                  "Exit 0", "2 when FILE"):
        assert words in out, words


def test_no_check_skips_the_static_engine(monkeypatch):
    monkeypatch.chdir(ROOT)
    _, out = _cli("--no-check", "tests/data/explain/real/sl005_scalar_loss_to_metric_fn.log")
    assert "SL005" in out and "speclint check (" not in out


# -- the table -------------------------------------------------------------------------------------
# Rules whose misuse TF never reports with a message of its own: silently wrong, static-only style,
# or speclint's own meta rules. Every other rule must have its TF messages in the table.
NO_TF_MESSAGE = {
    "SL000": "speclint could not parse the file",
    "SL006": "silently wrong: per-core vectors are concatenated",
    "SL017": "silently wrong: TF's only warning fires for every EstimatorSpec, misuse or not",
    "SL036": "silently wrong: the spec's mode is accepted as it is",
    "SL042": "silently wrong: the host function sees the concatenated batch",
    "SL100": "speclint meta rule", "SL101": "speclint meta rule", "SL102": "the simulation's unmapped failure",
}


def test_every_rule_tf_reports_has_its_messages_in_the_table():
    book = rulebook.load()
    covered = {e.code for e in tpu_failures.FAILURES if e.code}
    assert covered == {r.code for r in book} - set(NO_TF_MESSAGE)


def test_table_entries_are_well_formed():
    book = rulebook.load()
    for e in tpu_failures.FAILURES:
        re.compile(e.pattern)
        if e.clue:
            re.compile(e.clue)
        assert e.stage in tpu_failures.STAGES and e.why and e.look_for and e.source, e
        assert e.alone or e.within, e  # a message that needs a traceback names where it is raised
        if e.code:
            assert book[e.code].name == e.name, e
        else:  # issue 7's provisional keys: not rule names, so a code can be attached later
            assert book.lookup(e.name) is None and re.fullmatch(r"[a-z0-9-]+", e.name), e
            if e.checked_by:
                assert book[e.checked_by[0]].name == e.checked_by[1]


def test_every_table_entry_is_hit_by_a_real_text():
    hit = set()
    for f in MANIFEST:
        parts = ("all", "traceback", "last") if f in TRACEBACK_RUNS else ("all",)
        for part in parts:
            for finding in _explained(f["file"], part, check=False).considered:
                hit |= {id(e.entry) for e in finding.explanations}
    missing = [(e.key, e.pattern[:60]) for e in tpu_failures.FAILURES if id(e) not in hit]
    # TF1 control flow fails a hook's fetch only when the step runs on a TPU (research note): no run here
    allowed = {"SL031"}
    assert all(key in allowed for key, _ in missing), missing


def test_messages_are_tf_messages():
    """Each entry's `source` literal is in the installed TensorFlow / Estimator (TF 2.15.1)."""
    pytest.importorskip("tensorflow_estimator")
    import tensorflow_estimator

    site = Path(tensorflow_estimator.__file__).resolve().parent.parent
    checked = 0
    for e in tpu_failures.FAILURES:
        for s in e.source:
            if s == "python":
                continue
            path, literal = s.split("::", 1)
            text = (site / path).read_text(encoding="utf-8")
            assert literal in text, (e.key, path, literal)
            checked += 1
    assert checked >= 40


def test_the_simulation_reads_the_same_table(monkeypatch):
    """One table, both directions: an entry added to it is what explain ranks and what the TPU
    simulation maps a failure to; neither holds TF messages of its own."""
    pytest.importorskip("tensorflow_estimator")
    from speclint.runtime import simulate

    assert simulate.tpu_failures is tpu_failures
    probe = tpu_failures.TPUFailure("SL005", "outfeed-scalar-tensor", ("RuntimeError",),
                                    r"speclint table probe \d+", anchor="model_fn", why="w", look_for="l",
                                    source=("python",))
    monkeypatch.setattr(tpu_failures, "FAILURES", (probe,) + tpu_failures.FAILURES)
    monkeypatch.setattr(tpu_failures, "TPU_BUILD_FAILURES", (probe,) + tpu_failures.TPU_BUILD_FAILURES)
    [finding] = explain("RuntimeError: speclint table probe 42", check=False).findings
    assert [e.entry for e in finding.explanations] == [probe]

    def model_fn(features, labels, mode, params):
        return None

    diag = simulate.classify(RuntimeError("speclint table probe 7"), "train", simulate._Recorder(), model_fn, None)
    assert diag.code == "SL005" and "speclint table probe 7" in diag.message
    for package in ("runtime", "explain"):
        for path in (ROOT / "speclint" / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for e in tpu_failures.FAILURES:
                for s in e.source:
                    literal = s.split("::", 1)[-1]
                    longest = max(re.split(r"\{[^}]*\}|%[srd]", literal), key=len).strip()
                    if len(longest) >= 18:
                        assert longest not in text, (path, longest)


def test_simulation_keeps_reserved_params_keys_under_sl040():
    entry = tpu_failures.match(["ValueError", "Exception"],
                               "['batch_size', 'context'] are reserved keys but existed in params {'batch_size': 8}.", [])
    assert (entry.code, entry.name) == ("SL040", "model-fn-signature")
    assert all(e.code for e in tpu_failures.TPU_BUILD_FAILURES)


def test_the_readme_example_is_real_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "speclint explain tests/data/explain/real/sl012_summary_in_model_fn_tf1.log"
    block = readme.split(f"$ {command}\n", 1)[1].split("```", 1)[0]
    code, out = _cli(command.split()[-1])
    assert code == 0 and out == block


def test_reading_the_formats():
    """What the reader takes from each form (all real texts)."""
    # Colab / IPython, Markdown-quoted, collapsed frames, the TPUEstimator error record before it
    parsed = read(_text("issues/bert-1135.txt"))
    recorded, traceback = [e for e in parsed.events if e.kind in ("recorded", "traceback")]
    assert recorded.message.startswith("module 'tensorflow_estimator.python.estimator.api._v1.estimator.tpu'")
    assert traceback.partial and traceback.exc_type is None  # the issue quotes it cut off
    assert [(f.path, f.line, f.function) for f in traceback.frames][:2] == [
        ("<ipython-input-23-5adfa9741e65>", 5, "<module>"), ("<ipython-input-22-85dd70a98293>", 95, "main")]
    assert traceback.frames[1].source.startswith("estimator.train(input_fn=train_input_fn")
    # IPython 8 frames pasted without their header
    [event] = read(_text("issues/tensorflow-74926.txt")).events
    assert [f.qualified for f in event.frames] == [
        "traceback_utils.py:filter_traceback.<locals>.error_handler",
        "packed_distributed_variable.py:PackedDistributedVariable.get_var_on_device"]
    assert event.type_name == "ValueError" and event.frames[1].line == 91
    # a chained exception (a real run): both parts, one chain; the op-creation stack in the message
    parsed = read(_text("real/sl020_per_example_loss_dynamic_batch.log"))
    first, second = [e for e in parsed.events if e.kind == "traceback"]
    assert first.chain == second.chain and first.type_name == second.type_name == "InvalidArgumentError"
    assert "Input to reshape is a tensor with 16 values" in first.message and "Graph execution error" in second.message
    names = [f.function for f in parsed.op_stacks["Reshape"]]  # "Detected at node 'Reshape' defined at"
    assert "model_fn" in names and names[-1] == "_validate_estimator_spec_loss"
    # absl and TF's own logging prefixes, TF's C++ log lines: stripped; the records read as messages
    logs = [e for e in read(_text("real/sl003_metric_fn_wrong_key.log")).events if e.kind == "log"]
    warnings = [e.message for e in logs if e.message.startswith("Exception while calling eval_metrics")]
    assert len(warnings) == 2  # once per logging format
    assert any(e.message.startswith("oneDNN custom operations are on") for e in logs)


def test_within_functions_are_tf_functions():
    """Each `within` function ("file.py:func") is defined in a file of that name in the installed TF,
    Estimator or Keras (TF 2.15.1): the traceback evidence names real TF code."""
    pytest.importorskip("tensorflow_estimator")
    import keras
    import tensorflow
    import tensorflow_estimator

    wanted = {w for e in tpu_failures.FAILURES for w in e.within}
    assert all(":" in w for w in wanted), [w for w in wanted if ":" not in w]
    names = {w.split(":")[0] for w in wanted}
    defined = {}
    for package in (tensorflow, tensorflow_estimator, keras):
        for path in Path(package.__file__).resolve().parent.rglob("*.py"):
            if path.name in names:
                text = path.read_text(encoding="utf-8", errors="replace")
                for name in re.findall(r"^\s*def (\w+)\(", text, re.M):
                    defined.setdefault(path.name, set()).add(name)
    missing = [w for w in wanted if w.split(":")[1] not in defined.get(w.split(":")[0], ())]
    assert not missing, missing
