"""Issue 13, the CLI habits of ruff users: missing paths reported without aborting, misspelt
commands, hidden options never suggested, `clean` of a missing directory, --version/-V/version,
--show-settings, --show-files, extend-select/extend-ignore, speclint.toml found without --config,
progress on a terminal only."""
import os
import subprocess
import sys

import pytest

from integrations_support import clean_env
from samples import runner
from speclint import __version__
from speclint.cli import cli
from test_cli import BAD, GOOD, write


@pytest.fixture
def cli_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def _run(*args, input=None):
        result = runner().invoke(cli, list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr
    return _run


def test_a_missing_path_is_reported_and_the_others_are_checked(cli_run, tmp_path):
    write(tmp_path, "bad.py", BAD)
    code, out, err = cli_run("--no-cache", "--output-format", "concise", "nope.py", "bad.py", "gone/")
    assert code == 2
    assert err == ("speclint: error: no such file or directory: nope.py\n"
                   "speclint: error: no such file or directory: gone/\n")
    assert out.startswith("bad.py:8:") and "Found 1 diagnostic" in out


@pytest.mark.parametrize("typo, command", [("chek", "check"), ("srever", "server"), ("clen", "clean"), ("verison", "version")])
def test_a_misspelt_command_is_named(cli_run, typo, command):
    code, out, err = cli_run(typo)
    assert code == 2
    assert err == (f"speclint: error: unknown command '{typo}', and no file or directory of that name: "
                   f"did you mean `speclint {command}`?\n")


def test_a_file_named_like_a_command_is_still_checked(cli_run, tmp_path):
    write(tmp_path, "chek", GOOD)
    assert cli_run("--no-cache", "chek")[0] == 0


def test_hidden_options_are_not_suggested(cli_run):
    code, out, err = cli_run("--no-prefix", ".")
    assert code == 2 and "No such option '--no-prefix'" in err
    assert "--no-prefilter" not in err


def test_clean_of_a_missing_directory_is_an_error(cli_run, tmp_path):
    code, out, err = cli_run("clean", "nope")
    assert (code, out, err) == (2, "", "speclint: error: no such directory: nope\n")


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["version"], ["check", "--version"], ["src", "-V"]])
def test_version(cli_run, args):
    code, out, err = cli_run(*args)
    assert (code, out) == (0, f"speclint {__version__}\n")


def test_show_settings(cli_run, tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nselect = ["SL00"]\nextend-select = ["SL042"]\n'
                                      'ignore = ["SL001"]\nbaseline = "b.json"\n')
    write(tmp_path, "src/m.py", BAD)
    code, out, err = cli_run("--show-settings", "--extend-ignore", "SL002", "--target", "tpu", "src/m.py")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[:4] == ["Settings for: src/m.py", f"Configuration file: {tmp_path / 'pyproject.toml'}",
                         f"Project root: {tmp_path}", ""]
    assert lines[4:8] == ['select = ["SL00"]', 'extend-select = ["SL042"]', 'ignore = ["SL001"]',
                          'extend-ignore = ["SL002"]']
    assert 'target = "tpu"' in lines and f'baseline = "{tmp_path / "b.json"}"' in lines
    i = lines.index("Enabled rules for this file (9):")
    assert lines[i + 1:] == ["  SL000  syntax-error"] + [f"  SL00{n}  {name}" for n, name in [
        (3, "host-call-kwargs-mismatch"), (4, "host-call-tensors-not-flat"), (5, "outfeed-scalar-tensor"),
        (6, "outfeed-non-batch-major"), (7, "host-fn-captures-model-tensor"), (8, "metric-fn-return-contract"),
        (9, "reserved-metric-name")]] + ["  SL042  host-fn-assumes-per-core-batch"]


def test_show_files(cli_run, tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nextend-exclude = ["gen"]\n')
    for name in ("pkg/b.py", "pkg/a.py", "pkg/util.pyi", "gen/x.py", "notes.txt", ".venv/lib.py"):
        write(tmp_path, name, "")
    code, out, err = cli_run("--show-files", ".")
    assert (code, out) == (0, "pkg/a.py\npkg/b.py\npkg/util.pyi\n")


SL042_AND_SL005 = """\
import tensorflow.compat.v1 as tf


def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], params["num_classes"])
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)

    def metric_fn(labels, logits, loss):
        batch_size = params["batch_size"]
        flat = tf.reshape(logits, [batch_size, -1])
        return {"accuracy": tf.metrics.accuracy(labels, tf.argmax(flat, 1))}

    return tf.estimator.tpu.TPUEstimatorSpec(
        mode, loss=loss, eval_metrics=(metric_fn, [labels, logits, loss]))
"""  # SL042 (off by default) in metric_fn, SL005 for `loss`


def test_extend_select_and_extend_ignore(cli_run, tmp_path):
    write(tmp_path, "m.py", SL042_AND_SL005)

    def codes(*args):
        import json
        return sorted({d["code"] for d in json.loads(cli_run("--no-cache", "--output-format", "json", *args, "m.py")[1])})

    assert codes() == ["SL005"]  # SL042 is off by default
    assert codes("--extend-select", "SL042") == ["SL005", "SL042"]
    assert codes("--extend-select", "SL042", "--extend-ignore", "SL005") == ["SL042"]
    write(tmp_path, "pyproject.toml", '[tool.speclint]\nextend-select = ["host-fn-assumes-per-core-batch"]\n')
    assert codes() == ["SL005", "SL042"]
    assert codes("--select", "SL005") == ["SL005", "SL042"]  # the file's extend-select still adds
    assert codes("--extend-ignore", "SL042") == ["SL005"]


def test_speclint_toml_is_found_without_config(cli_run, tmp_path):
    write(tmp_path, "proj/pyproject.toml", '[tool.speclint]\nignore = ["SL001"]\n')
    write(tmp_path, "proj/speclint.toml", 'ignore = ["SL005"]\n')
    write(tmp_path, "proj/src/m.py", BAD)
    assert cli_run("--no-cache", "proj/src/m.py")[0] == 0  # speclint.toml wins over pyproject.toml
    write(tmp_path, "proj/.speclint.toml", 'select = ["SL005"]\n')
    assert cli_run("--no-cache", "proj/src/m.py")[0] == 1  # .speclint.toml wins over both
    write(tmp_path, "proj/.speclint.toml", 'select = "SL005"\n')
    code, out, err = cli_run("--no-cache", "proj/src/m.py")
    assert code == 2 and err == (f"speclint: error: {tmp_path / 'proj' / '.speclint.toml'} select must be a "
                                 'list of strings, not a string: write ["SL005"]\n')


# ---- progress --------------------------------------------------------------------------------------
def _tree(tmp_path, n=6):
    for i in range(n):
        write(tmp_path, f"src/m{i}.py", BAD)


def test_no_progress_when_stderr_is_a_pipe(tmp_path):
    _tree(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "speclint", "--no-cache", "src"], cwd=tmp_path,
                          capture_output=True, text=True, env=clean_env(SPECLINT_PROGRESS_DELAY="0"))
    assert proc.returncode == 1 and proc.stderr == ""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_on_a_terminal_is_erased_before_the_report(tmp_path):
    _tree(tmp_path)
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "speclint", "--no-cache", "-j", "1", "src"], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=slave, env=clean_env(SPECLINT_PROGRESS_DELAY="0"))
        os.close(slave)
        stdout = proc.communicate(timeout=120)[0].decode()
        err = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(master)
    assert proc.returncode == 1 and "Found 6 diagnostics" in stdout
    text = err.decode()
    assert "\r\x1b[2Kspeclint: checking 1/6 files (16%)" in text
    assert "speclint: checking 6/6 files (100%)" in text
    assert text.endswith("\r\x1b[2K")  # erased: the terminal shows only the report


def test_progress_updates_at_most_ten_times_a_second():
    import io

    from speclint.progress import Progress

    now = [0.0]
    out = io.StringIO()
    p = Progress(out, delay=1.0, clock=lambda: now[0])
    p(1, 100)
    assert out.getvalue() == ""  # before the delay: nothing
    now[0] = 1.0
    p(2, 100)
    now[0] = 1.05
    p(3, 100)  # too soon
    now[0] = 1.2
    p(4, 100)
    p(100, 100)  # the last one is always shown
    p.close()
    assert out.getvalue() == ("\r\x1b[2Kspeclint: checking 2/100 files (2%)"
                              "\r\x1b[2Kspeclint: checking 4/100 files (4%)"
                              "\r\x1b[2Kspeclint: checking 100/100 files (100%)\r\x1b[2K")
