"""Issue 13, fixes on the command line: `check --fix`, `--unsafe-fixes`, `--diff`, `--show-fixes`,
the `[*]` marker and the fixable summary line; a fix keeps the user's spelling and formatting,
never touches a file it does not fix, never clobbers a file edited meanwhile, leaves suppressed
and baselined findings alone, and runs in passes until nothing is left to fix."""
import json
import os
import textwrap

import pytest
from click.testing import CliRunner

from speclint.cli import cli
from speclint.diagnostics import Diagnostic
from speclint.fixes import edits

HOOK = textwrap.dedent("""\
    import tensorflow.compat.v1 as tf


    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        hook = tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)
        train_op = tf.train.AdamOptimizer(1e-3).minimize(
            tf.reduce_mean(loss), global_step=tf.train.get_global_step())
        return tf.estimator.EstimatorSpec(
            mode, loss=loss, train_op=train_op, training_hooks=hook)
    """)  # SL030 (safe fix: [hook]) and SL020 (unsafe fix: tf.reduce_mean(loss))
SAFE_FIXED = HOOK.replace("training_hooks=hook", "training_hooks=[hook]")
ALL_FIXED = SAFE_FIXED.replace("loss=loss,", "loss=tf.reduce_mean(loss),")
CLEAN = textwrap.dedent("""\
    import tensorflow.compat.v1 as tf


    def model_fn(features, labels, mode, params):
        return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(features["x"]), train_op=tf.no_op())
    """)


@pytest.fixture
def sl(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def _run(*args):
        result = CliRunner().invoke(cli, ["check", "--no-cache", *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr
    return _run


def write(tmp_path, name, text, newline=None):
    p = tmp_path / name
    with open(p, "w", encoding="utf-8", newline=newline) as fh:
        fh.write(text)
    return p


def test_fixable_diagnostics_are_marked_and_counted(sl, tmp_path):
    write(tmp_path, "m.py", HOOK)
    code, out, _ = sl("--output-format", "concise", "m.py")
    assert code == 1
    lines = out.splitlines()
    assert [line.split(": ", 1)[1].split(" ", 3)[:3] for line in lines[:2]] == [
        ["SL020", "[loss-not-scalar]", "loss"], ["SL030", "[*]", "[hooks-not-sessionrunhook-iterable]"]]
    assert lines[-1] == "[*] 1 fixable with `--fix` (1 hidden fix can be enabled with `--unsafe-fixes`)."
    code, out, _ = sl("--output-format", "concise", "--unsafe-fixes", "m.py")
    assert out.count(" [*] ") == 2 and out.splitlines()[-1] == "[*] 2 fixable with `--fix --unsafe-fixes`."
    code, out, _ = sl("m.py")  # full: the fix is a line of its own
    assert "= fix: Wrap `hook` in a list (safe fix: `--fix`)" in out
    assert "= fix: Reduce the loss: `tf.reduce_mean(loss)` (unsafe fix: `--fix --unsafe-fixes`)" in out


def test_diff_changes_nothing_and_exits_1_when_there_are_fixes(sl, tmp_path):
    p = write(tmp_path, "m.py", HOOK)
    before = os.stat(p).st_mtime_ns
    code, out, err = sl("--diff", "m.py")
    assert code == 1
    assert out == ("--- a/m.py\n+++ b/m.py\n@@ -8,4 +8,4 @@\n"
                   "     train_op = tf.train.AdamOptimizer(1e-3).minimize(\n"
                   "         tf.reduce_mean(loss), global_step=tf.train.get_global_step())\n"
                   "     return tf.estimator.EstimatorSpec(\n"
                   "-        mode, loss=loss, train_op=train_op, training_hooks=hook)\n"
                   "+        mode, loss=loss, train_op=train_op, training_hooks=[hook])\n")
    assert err == "Would fix 1 diagnostic in 1 file.\n"
    assert p.read_text(encoding="utf-8") == HOOK and os.stat(p).st_mtime_ns == before
    code, out, _ = sl("--diff", "--unsafe-fixes", "m.py")
    assert code == 1 and "+        mode, loss=tf.reduce_mean(loss), train_op=train_op, training_hooks=[hook])\n" in out
    write(tmp_path, "clean.py", CLEAN)
    assert sl("--diff", "clean.py") == (0, "", "Would fix 0 diagnostics in 0 files (nothing to fix).\n")


def test_fix_applies_the_safe_fixes_and_a_second_run_is_a_no_op(sl, tmp_path):
    p = write(tmp_path, "m.py", HOOK)
    c = write(tmp_path, "clean.py", CLEAN)
    clean_stat = os.stat(c).st_mtime_ns
    code, out, _ = sl("--fix", "--show-fixes", "--output-format", "concise", ".")
    assert p.read_text(encoding="utf-8") == SAFE_FIXED
    assert os.stat(c).st_mtime_ns == clean_stat  # a file without fixes is never written
    assert code == 1  # SL020 is left (its fix is unsafe)
    lines = out.splitlines()
    assert lines[0].startswith("m.py:11:20: SL020 [loss-not-scalar]")
    assert "Fixed 1 diagnostic:" in lines and "  m.py:11:60: SL030 [hooks-not-sessionrunhook-iterable] Wrap `hook` in a list" in lines
    assert lines[-1] == "Fixed 1 diagnostic in 1 file."
    code, out, _ = sl("--fix", "--output-format", "concise", ".")
    assert p.read_text(encoding="utf-8") == SAFE_FIXED and "Fixed" not in out
    code, out, _ = sl("--fix", "--unsafe-fixes", ".")
    assert code == 0 and p.read_text(encoding="utf-8") == ALL_FIXED
    assert "All checks passed" in out and "Fixed 1 diagnostic in 1 file." in out


def test_fixes_use_the_modules_own_spelling_of_tensorflow(sl, tmp_path):
    v2 = HOOK.replace("import tensorflow.compat.v1 as tf", "import tensorflow.compat.v1 as tf1").replace("tf.", "tf1.")
    write(tmp_path, "alias.py", v2)
    sl("--fix", "--unsafe-fixes", "alias.py")
    assert "loss=tf1.reduce_mean(loss), train_op=train_op, training_hooks=[hook])" in (tmp_path / "alias.py").read_text()
    # TF 2 spelling of a TF 1 API: `tf.compat.v1.train...` under `import tensorflow as tf`
    step = textwrap.dedent("""\
        import tensorflow as tf


        def model_fn(features, labels, mode, params):
            loss = tf.reduce_mean(features["x"])
            train_op = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """)
    write(tmp_path, "step.py", step)
    sl("--fix", "step.py")
    assert "minimize(loss, global_step=tf.compat.v1.train.get_or_create_global_step())" in (tmp_path / "step.py").read_text()
    # two imports of TensorFlow of the same kind: which to use is a guess, so no fix
    ambiguous = HOOK.replace("import tensorflow.compat.v1 as tf\n", "import tensorflow.compat.v1 as tf\nimport tensorflow.compat.v1 as tfv1\n")
    write(tmp_path, "two.py", ambiguous)
    code, out, _ = sl("--diff", "--unsafe-fixes", "two.py")
    assert "reduce_mean(loss), train_op" not in out and "training_hooks=[hook]" in out  # [hook] needs no TF name


def test_suppressed_and_baselined_findings_are_not_fixed(sl, tmp_path):
    p = write(tmp_path, "m.py", HOOK.replace("training_hooks=hook)", "training_hooks=hook)  # noqa: SL030"))
    sl("--fix", "m.py")
    assert "training_hooks=hook)  # noqa: SL030" in p.read_text(encoding="utf-8")
    q = write(tmp_path, "b.py", HOOK)
    sl("--write-baseline", "base.json", "b.py")
    code, out, _ = sl("--fix", "--unsafe-fixes", "--baseline", "base.json", "b.py")
    assert q.read_text(encoding="utf-8") == HOOK and code == 0


def test_line_endings_and_formatting_are_kept(sl, tmp_path):
    multi = HOOK.replace("training_hooks=hook)", "training_hooks=hook,  # the hooks\n    )")
    p = write(tmp_path, "crlf.py", multi, newline="\r\n")
    sl("--fix", "crlf.py")
    data = p.read_bytes()
    assert b"training_hooks=[hook],  # the hooks\r\n    )" in data and b"\n" not in data.replace(b"\r\n", b"")


OVERLAP = textwrap.dedent("""\
    import tensorflow.compat.v1 as tf


    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        train_op = tf.train.AdamOptimizer(1e-3).minimize(
            tf.reduce_mean(loss), global_step=tf.train.get_global_step())
        return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op)


    estimator = tf.estimator.Estimator(model_fn=model_fn)
    """)  # SL033 (the whole construction -> .as_estimator_spec()) holds SL020 (loss=): they overlap


def test_overlapping_fixes_are_applied_in_passes(sl, tmp_path):
    from speclint.config import Resolver
    from speclint.fixes import run as fix_run

    write(tmp_path, "o.py", OVERLAP)
    ff = fix_run.fix_file("o.py", Resolver(), unsafe=True, write=False)
    assert ff.passes == 2 and [d.code for d in ff.fixed] == ["SL033", "SL020"] and ff.stable
    assert ff.after == OVERLAP.replace(
        "TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op)",
        "TPUEstimatorSpec(mode=mode, loss=tf.reduce_mean(loss), train_op=train_op).as_estimator_spec()")
    assert ff.result.diagnostics == []
    code, out, _ = sl("--fix", "--unsafe-fixes", "o.py")
    assert code == 0 and (tmp_path / "o.py").read_text(encoding="utf-8") == ff.after
    assert "Fixed 2 diagnostics in 1 file." in out


GROUP = textwrap.dedent("""\
    import tensorflow as tf


    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        opt = tf.compat.v1.train.AdamOptimizer(1e-3)
        update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=[
            opt.minimize(loss, global_step=tf.compat.v1.train.get_global_step()),  # the step
            update_ops,
        ])
    """)


def test_a_multi_line_fix_keeps_the_layout_and_comments(sl, tmp_path):
    p = write(tmp_path, "g.py", GROUP)
    sl("--fix", "g.py")
    assert p.read_text(encoding="utf-8") == GROUP.replace("train_op=[\n", "train_op=tf.group(\n").replace(
        "    ])\n", "    ))\n")


def test_a_file_changed_while_it_is_fixed_is_not_clobbered(tmp_path, monkeypatch):
    from speclint import engine
    from speclint.config import Resolver
    from speclint.fixes import run as fix_run

    monkeypatch.chdir(tmp_path)
    p = write(tmp_path, "m.py", HOOK)
    real = engine.check_source

    def check_then_edit(*args, **kwargs):
        result = real(*args, **kwargs)
        p.write_text(HOOK + "# edited in the editor\n", encoding="utf-8")
        return result
    monkeypatch.setattr(engine, "check_source", check_then_edit)
    ff = fix_run.fix_file("m.py", Resolver())
    assert ff.error == "it changed on disk while it was being fixed; not written"
    assert p.read_text(encoding="utf-8") == HOOK + "# edited in the editor\n"


def test_fix_and_diff_refuse_stdin_and_write_baseline(sl, tmp_path):
    code, _, err = sl("--fix", "-")
    assert code == 2 and "not on stdin" in err
    write(tmp_path, "m.py", HOOK)
    code, _, err = sl("--diff", "--write-baseline", "b.json", "m.py")
    assert code == 2 and "do not go together" in err


def test_json_and_sarif_keep_their_fields_and_add_the_fix(sl, tmp_path):
    write(tmp_path, "m.py", HOOK)
    _, out, _ = sl("--output-format", "json", "m.py")
    diags = json.loads(out)
    assert set(diags[0]) == {"path", "line", "column", "end_line", "end_column", "code", "name", "severity",
                             "message", "engine", "url", "fix"}
    hook = [d for d in diags if d["code"] == "SL030"][0]
    assert hook["fix"] == {"applicability": "safe", "message": "Wrap `hook` in a list", "edits": [
        {"line": 11, "column": 60, "end_line": 11, "end_column": 64, "content": "[hook]"}]}
    _, out, _ = sl("--output-format", "sarif", "m.py")
    results = json.loads(out)["runs"][0]["results"]
    assert all(r["fixes"] for r in results)
    assert {r["fixes"][0]["properties"]["applicability"] for r in results} == {"safe", "unsafe"}


def test_help_explains_the_fix_flags(sl):
    result = CliRunner().invoke(cli, ["check", "--help"])
    for flag in ("--fix", "--unsafe-fixes", "--diff", "--show-fixes"):
        assert flag in result.output


def _d(line, col, end_col, content, applicability="safe"):
    return Diagnostic("m.py", line, col, line, end_col, "SL030", "x", "error", "m", fix={
        "applicability": applicability, "message": "m",
        "edits": [{"line": line, "column": col, "end_line": line, "end_column": end_col, "content": content}]})


def test_edits_skip_overlaps_and_unsafe_fixes_unless_asked():
    text = "abcdef\nxyz\n"
    new, applied = edits.apply(text, [_d(1, 2, 5, "B"), _d(1, 3, 4, "C"), _d(2, 1, 2, "X", "unsafe")])
    assert new == "aBef\nxyz\n" and len(applied) == 1
    new, applied = edits.apply(text, [_d(1, 3, 4, "C"), _d(2, 1, 2, "X", "unsafe")], unsafe=True)
    assert new == "abCdef\nXyz\n" and len(applied) == 2
    bom = "\ufeffabc\n"
    assert edits.apply(bom, [_d(1, 1, 2, "Z")])[0] == "\ufeffZbc\n"


def test_parenthesised_values_are_wrapped_once(sl, tmp_path):
    p = write(tmp_path, "p.py", HOOK.replace("loss=loss, train_op=train_op, training_hooks=hook)",
                                             "loss=(loss), train_op=train_op, training_hooks=(hook))"))
    sl("--fix", "--unsafe-fixes", "p.py")
    assert "loss=(tf.reduce_mean(loss)), train_op=train_op, training_hooks=([hook]))" in p.read_text(encoding="utf-8")


def test_no_fix_where_tensorflow_is_not_imported_under_one_name(tmp_path):
    import libcst as cst

    from speclint.static.checks import fixes
    from speclint.static.imports import ImportTable

    def table(src):
        t = ImportTable()
        for stmt in cst.parse_module(src).body:
            for node in getattr(stmt, "body", []):
                if isinstance(node, (cst.Import, cst.ImportFrom)):
                    t.add(node)

        class An:
            imports = t
        return An()
    assert fixes.tf_name(table("import tensorflow as tf\n")) == ("tf", "tensorflow")
    assert fixes.tf_name(table("import tensorflow.compat.v1 as tf1\n")) == ("tf1", "tensorflow.compat.v1")
    # a plain import wins over a compat.v1 one (both spell tf.reduce_mean)
    assert fixes.tf_name(table("import tensorflow as tf\nimport tensorflow.compat.v1 as v1\n"))[0] == "tf"
    assert fixes.tf_name(table("import tensorflow as tf\nimport tensorflow as tensorflow_\n")) is None
    assert fixes.tf_name(table("from tensorflow import estimator\n")) is None
    assert fixes.v1_api(table("import tensorflow.compat.v1 as tf\n"), "train.x()") == "tf.train.x()"


PATHS = textwrap.dedent("""\
    import tensorflow.compat.v1 as tf


    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        scaffold_fn = None
        if params["init_checkpoint"]:
            def scaffold_fn():
                tf.train.init_from_checkpoint(params["init_checkpoint"], {"/": "/"})
                return tf.train.Scaffold()
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(), scaffold=scaffold_fn)


    def model_fn2(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])

        def scaffold_fn():
            return tf.train.Scaffold()
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(), scaffold=scaffold_fn)


    estimator = tf.estimator.Estimator(model_fn)
    estimator2 = tf.estimator.Estimator(model_fn2)
    """)


def test_a_fix_must_be_right_on_every_path_that_reaches_the_code(sl, tmp_path):
    # model_fn: `scaffold_fn` is None unless the flag is set, so `scaffold_fn()` would fail on the
    # other path: reported, no fix.  model_fn2: always the function: fixed.
    p = write(tmp_path, "m.py", PATHS)
    code, out, _ = sl("--fix", "--output-format", "concise", "m.py")
    assert p.read_text(encoding="utf-8") == PATHS.replace(
        "train_op=tf.no_op(), scaffold=scaffold_fn)\n\n\nestimator",
        "train_op=tf.no_op(), scaffold=scaffold_fn())\n\n\nestimator")
    assert code == 1 and out.startswith("m.py:11:77: SL013 [scaffold-kwarg-confusion]")


def test_no_scaffold_call_fix_when_the_spec_runs_on_tpu(sl, tmp_path):
    write(tmp_path, "m.py", PATHS)
    code, out, _ = sl("--target", "tpu", "--diff", "m.py")  # on TPU the scaffold is ignored: no fix
    assert code == 0 and out == ""


def test_no_fix_when_the_tensorflow_name_is_also_bound_in_the_module(sl, tmp_path):
    shadowed = HOOK + "\n\ndef helper(tf):\n    return tf\n"
    write(tmp_path, "s.py", shadowed)
    code, out, _ = sl("--diff", "--unsafe-fixes", "s.py")
    assert "loss=tf.reduce_mean(loss)" not in out and "training_hooks=[hook]" in out  # [hook] spells no TF name


def test_a_fix_that_would_break_the_syntax_is_not_applied():
    from speclint.fixes.run import fix_text

    class R:
        diagnostics = [_d(1, 5, 6, "(")]  # a (hypothetical) fix that leaves a bracket open
    text = "x = 1\n"
    out, fixed, _, passes, stable = fix_text(text, lambda t: R())
    assert out == text and not fixed and passes == 1 and not stable
