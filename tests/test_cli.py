"""The command-line contract: exit codes, output formats, stdin, selection, suppression, config,
unreadable input.  Runs the real console entry point in-process (click) and, where the process
matters (python -m, imports), in a subprocess."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from speclint.cli import cli

BAD = textwrap.dedent("""\
    import tensorflow.compat.v1 as tf

    def model_fn(features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        def host_fn(loss):
            return []
        return tf.estimator.tpu.TPUEstimatorSpec(
            mode, loss=loss, train_op=tf.no_op(), host_call=(host_fn, [loss]))
    """)
BAD_LINE = 8
BAD_COL = BAD.splitlines()[BAD_LINE - 1].index("[loss]") + 2  # 1-based column of `loss` in [loss]
GOOD = BAD.replace("[loss]", "[tf.reshape(loss, [1])]")
NOT_TF = "import os\n\nprint(os.getcwd())\n"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def _run(*args, input=None):
        result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.output
    return _run


def write(tmp_path, name, text):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


# ---- exit codes and text output ------------------------------------------------------------
def test_clean_file_exits_0(run, tmp_path):
    write(tmp_path, "good.py", GOOD)
    code, out = run("good.py")
    assert code == 0, out
    assert "All checks passed: 1 file (1 analysed, 0 skipped" in out


def test_diagnostic_exits_1_with_location_code_and_name(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    code, out = run("bad.py")
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith(f"bad.py:{BAD_LINE}:{BAD_COL}: SL005 [outfeed-scalar-tensor] ")
    assert "Found 1 diagnostic (1 error, 0 warnings) in 1 file" in out


def test_check_subcommand_is_the_default(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    assert run("check", "bad.py")[1] == run("bad.py")[1]


def test_exit_zero(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    code, out = run("--exit-zero", "bad.py")
    assert code == 0 and "SL005" in out


def test_directory_walk_sorted_and_skips_non_tf_files(run, tmp_path):
    write(tmp_path, "pkg/b.py", BAD)
    write(tmp_path, "pkg/a.py", BAD)
    write(tmp_path, "pkg/util.py", NOT_TF)
    write(tmp_path, "pkg/.venv/lib.py", BAD)  # excluded by default
    code, out = run("--output-format", "concise", "pkg")
    lines = [l for l in out.splitlines() if "SL005" in l]
    assert [l.split(":")[0] for l in lines] == ["pkg/a.py", "pkg/b.py"]
    assert "3 files (2 analysed, 1 skipped" in out


def test_empty_directory_exits_0_with_clear_summary(run, tmp_path):
    (tmp_path / "empty").mkdir()
    code, out = run("empty")
    assert code == 0 and "No Python files found." in out


def test_missing_path_is_a_usage_error(run):
    code, out = run("nope.py")
    assert code == 2 and "no such file or directory: nope.py" in out
    assert "Traceback" not in out


def test_bad_option_is_a_usage_error(run):
    code, out = run("--no-such-option", ".")
    assert code == 2 and "No such option" in out


def test_quiet_and_statistics(run, tmp_path):
    write(tmp_path, "bad.py", BAD.replace("[loss]", "[loss, loss]").replace("def host_fn(loss)", "def host_fn(a, b)"))
    code, out = run("-q", "--statistics", "bad.py")
    assert code == 1
    assert "Found" not in out
    assert out.strip().splitlines()[-1].split() == ["2", "SL005", "outfeed-scalar-tensor"]


def test_no_colour_when_not_a_terminal(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    assert "\x1b[" not in run("bad.py")[1]
    assert "\x1b[" in run("--color", "always", "bad.py")[1]


# ---- JSON ------------------------------------------------------------------------------------
def test_json_output_keys_and_values(run, tmp_path):
    write(tmp_path, "sub/bad.py", BAD)
    code, out = run("--output-format", "json", "sub")
    assert code == 1
    (item,) = json.loads(out)
    for key in ("code", "name", "severity", "message", "path", "line", "column", "end_line",
                "end_column", "engine"):
        assert key in item
    assert item["code"] == "SL005" and item["name"] == "outfeed-scalar-tensor"
    assert item["severity"] == "error" and item["engine"] == "static"
    assert item["path"] == "sub/bad.py"
    assert (item["line"], item["column"], item["end_line"], item["end_column"]) == (BAD_LINE, BAD_COL, BAD_LINE, BAD_COL + 4)


def test_json_empty_list_when_clean(run, tmp_path):
    write(tmp_path, "good.py", GOOD)
    code, out = run("--output-format", "json", "good.py")
    assert code == 0 and json.loads(out) == []


# ---- stdin -------------------------------------------------------------------------------------
def test_stdin_with_filename(run):
    code, out = run("-", "--stdin-filename", "models/train.py", "--output-format", "json", input=BAD)
    assert code == 1
    assert json.loads(out)[0]["path"] == "models/train.py"


def test_stdin_without_filename(run):
    code, out = run("-", input=BAD)
    assert code == 1 and out.startswith(f"-:{BAD_LINE}:")


# ---- selection ---------------------------------------------------------------------------------
@pytest.mark.parametrize("selector", ["SL005", "SL0", "outfeed-scalar-tensor", "ALL", "sl005"])
def test_select_forms(run, tmp_path, selector):
    write(tmp_path, "bad.py", BAD)
    assert run("--select", selector, "bad.py")[0] == 1


@pytest.mark.parametrize("selector", ["SL005", "SL00", "outfeed-scalar-tensor", "SL001,SL005"])
def test_ignore_forms(run, tmp_path, selector):
    write(tmp_path, "bad.py", BAD)
    assert run("--ignore", selector, "bad.py")[0] == 0


def test_select_excludes_other_rules(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    assert run("--select", "SL001", "bad.py")[0] == 0


@pytest.mark.parametrize("selector", ["SL999", "no-such-rule", "XY1"])
def test_unknown_selector_is_a_usage_error(run, tmp_path, selector):
    write(tmp_path, "bad.py", BAD)
    code, out = run("--select", selector, "bad.py")
    assert code == 2 and f"unknown rule selector {selector!r}" in out and "Traceback" not in out


# ---- suppressions ------------------------------------------------------------------------------
@pytest.mark.parametrize("comment", [
    "# noqa: SL005", "# noqa:SL005,SL001", "# NOQA: SL005", "# noqa", "# speclint: ignore[SL005]",
    "# speclint: ignore[outfeed-scalar-tensor]",
])
def test_suppression_on_the_reported_line(run, tmp_path, comment):
    write(tmp_path, "bad.py", BAD.replace("[loss]))", f"[loss]))  {comment}"))
    code, out = run("bad.py")
    assert code == 0, out


def test_suppression_on_the_first_line_of_the_statement(run, tmp_path):
    src = BAD.replace("return tf.estimator.tpu.TPUEstimatorSpec(", "return tf.estimator.tpu.TPUEstimatorSpec(  # noqa: SL005")
    write(tmp_path, "bad.py", src)
    assert run("bad.py")[0] == 0


@pytest.mark.parametrize("comment", ["# noqa: SL001", "# speclint: ignore[SL007]", "x = '# noqa'"])
def test_suppression_of_another_code_or_in_a_string_does_not_apply(run, tmp_path, comment):
    src = BAD.replace("[loss]))", f"[loss]))  {comment}" if comment.startswith("#") else "[loss]))")
    if not comment.startswith("#"):
        src = src.replace("        def host_fn", f"        {comment}\n        def host_fn")
    write(tmp_path, "bad.py", src)
    assert run("bad.py")[0] == 1


# ---- configuration -------------------------------------------------------------------------------
def test_pyproject_is_found_from_the_linted_path_upwards(run, tmp_path):
    write(tmp_path, "proj/pyproject.toml", '[tool.speclint]\nignore = ["SL005"]\n')
    write(tmp_path, "proj/src/model.py", BAD)
    write(tmp_path, "other/model.py", BAD)
    assert run("proj/src/model.py")[0] == 0
    assert run("other/model.py")[0] == 1


def test_cli_flags_override_the_config(run, tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nignore = ["SL005"]\n')
    write(tmp_path, "bad.py", BAD)
    assert run("bad.py")[0] == 0
    assert run("--ignore", "SL001", "bad.py")[0] == 1


def test_per_file_ignores_and_target(run, tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nper-file-ignores = { "legacy/*.py" = ["SL005"] }\n')
    write(tmp_path, "legacy/old.py", BAD)
    write(tmp_path, "new.py", BAD)
    assert run("legacy/old.py")[0] == 0
    assert run("new.py")[0] == 1
    write(tmp_path, "pyproject.toml", '[tool.speclint]\ntarget = "cpu"\n')
    assert run("new.py")[0] == 0
    assert run("--target", "tpu", "new.py")[0] == 1


def test_exclude_and_extend_exclude(run, tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nextend-exclude = ["generated", "scripts/old_*.py"]\n')
    write(tmp_path, "generated/a.py", BAD)
    write(tmp_path, "scripts/old_train.py", BAD)
    write(tmp_path, "scripts/train.py", GOOD)
    code, out = run(".")
    assert code == 0, out
    # a file named explicitly is checked even when excluded
    assert run("generated/a.py")[0] == 1


def test_config_option_with_a_speclint_toml(run, tmp_path):
    write(tmp_path, "conf/speclint.toml", 'select = ["SL001"]\n')
    write(tmp_path, "bad.py", BAD)
    assert run("--config", "conf/speclint.toml", "bad.py")[0] == 0


@pytest.mark.parametrize("body,needle", [
    ('[tool.speclint]\nselekt = ["SL005"]\n', "unknown key 'selekt'"),
    ('[tool.speclint]\nselect = ["SL005", "SL999"]\n', "unknown rule selector"),
    ('[tool.speclint]\nselect = "SL005"\n', 'select must be a list of strings, not a string: write ["SL005"]'),
    ('[tool.speclint]\nignore = [5]\n', "ignore must be a list of strings"),
    ('[tool.speclint]\ntarget = "gpu"\n', "target must be one of"),
    ('[tool.speclint\n', "invalid TOML"),
])
def test_bad_config_is_a_one_line_error(run, tmp_path, body, needle):
    write(tmp_path, "pyproject.toml", body)
    write(tmp_path, "bad.py", BAD)
    code, out = run("bad.py")
    assert code == 2, out
    assert needle in out and "pyproject.toml" in out and "Traceback" not in out


def test_missing_config_file(run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    code, out = run("--config", "nope.toml", "bad.py")
    assert code == 2 and "config file not found" in out


# ---- input that cannot be checked -------------------------------------------------------------
def test_syntax_error_is_sl000_and_the_run_goes_on(run, tmp_path):
    write(tmp_path, "a_broken.py", "import tensorflow as tf\ntf.estimator.EstimatorSpec(\n")
    write(tmp_path, "b_bad.py", BAD)
    code, out = run("--output-format", "json", ".")
    items = json.loads(out)
    assert code == 1
    assert [i["code"] for i in items] == ["SL000", "SL005"]
    assert "syntax error" in items[0]["message"]


def test_undecodable_file_is_sl000(run, tmp_path):
    (tmp_path / "latin.py").write_bytes(b"# EstimatorSpec\nx = '\xff\xfe'\n")
    code, out = run("latin.py")
    assert code == 1 and "SL000" in out and "cannot decode" in out


def test_coding_cookie_is_honoured(run, tmp_path):
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\n# EstimatorSpec\nx = '\xe9'\n")
    assert run("latin.py")[0] == 0


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file_is_reported(run, tmp_path):
    p = write(tmp_path, "secret.py", BAD)
    p.chmod(0)
    code, out = run(".")
    assert code == 1 and "SL000" in out and "cannot read file" in out


def test_broken_symlink_is_reported(run, tmp_path):
    (tmp_path / "link.py").symlink_to(tmp_path / "gone.py")
    code, out = run(".")
    assert code == 1 and "SL000" in out and "broken symbolic link" in out


def test_sl000_can_be_ignored(run, tmp_path):
    write(tmp_path, "broken.py", "import tensorflow as tf\ntf.estimator.EstimatorSpec(\n")
    assert run("--ignore", "SL000", "broken.py")[0] == 0


# ---- rules and rule --------------------------------------------------------------------------
def test_rules_lists_every_rule(run):
    code, out = run("rules")
    assert code == 0
    assert any(l.startswith("SL005  outfeed-scalar-tensor") and "error" in l for l in out.splitlines())
    items = json.loads(run("rules", "--output-format", "json")[1])
    assert {"code", "name", "severity", "summary", "engines"} <= set(items[0])


@pytest.mark.parametrize("key", ["SL005", "outfeed-scalar-tensor", "sl005"])
def test_rule_prints_the_doc(run, key):
    code, out = run("rule", key)
    assert code == 0
    assert out.startswith("SL005 outfeed-scalar-tensor (error") and "## What it does" in out


def test_unknown_rule(run):
    code, out = run("rule", "SL999")
    assert code == 2 and "unknown rule 'SL999'" in out


# ---- the process ---------------------------------------------------------------------------
def test_python_dash_m_and_static_path_imports_neither_tf_nor_libcst_needlessly(tmp_path):
    write(tmp_path, "bad.py", BAD)
    write(tmp_path, "plain.py", NOT_TF)
    # (atexit: the launcher ends the process with os._exit after the atexit functions, no SystemExit)
    probe = ("import sys, runpy, atexit\n"
             "sys.argv = ['speclint'] + sys.argv[1:]\n"
             "atexit.register(lambda: print('TF' if any(m.split('.')[0] == 'tensorflow' for m in sys.modules)"
             " else 'noTF', 'CST' if 'libcst' in sys.modules else 'noCST'))\n"
             "runpy.run_module('speclint', run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", probe, "-q", "plain.py"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.stdout.split() + [proc.returncode] == ["noTF", "noCST", 0]
    proc = subprocess.run([sys.executable, "-c", probe, "-q", "bad.py"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.stdout.splitlines()[-1].split() + [proc.returncode] == ["noTF", "CST", 1]


def test_version(run):
    code, out = run("--version")
    assert code == 0 and "speclint" in out
