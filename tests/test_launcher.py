"""The console script's plain path (speclint.launcher): a command line of the shape
`speclint [check] [FLAG...] [PATH...]` runs check_command.run_check without importing click.
Click's reading of the same command line must give the same options, and the two paths the same
output and exit code; anything else goes to click."""
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from speclint import check_command, cli, launcher
from speclint.report.style import COLORS, style

from samples import BAD as TPU, NOT_TF  # tests/ is on sys.path (conftest)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def click_reading(args, monkeypatch):
    """(paths, options) as speclint.cli's click command passes them to run_check."""
    seen = {}

    def record(paths, echo, **options):
        seen.update(paths=paths, echo=echo, options=options)
        return 0

    monkeypatch.setattr(check_command, "run_check", record)
    with pytest.raises(SystemExit) as exc:
        cli.cli.main(list(args), prog_name="speclint")
    assert exc.value.code == 0
    assert seen["echo"] is click.echo
    return seen["paths"], seen["options"]


# ---- the two readings of a command line agree --------------------------------------------
def test_commands_are_clis():
    assert launcher.COMMANDS == frozenset(cli.cli.commands)


def test_every_flag_is_an_on_off_option_of_check():
    by_opt = {}
    for p in cli.check.params:
        if isinstance(p, click.Option) and p.is_flag and p.name != "version":
            for o in p.opts:
                by_opt[o] = (p.name, True)
            for o in p.secondary_opts:
                by_opt[o] = (p.name, False)
    assert launcher.FLAGS.items() <= by_opt.items()
    assert set(by_opt) - set(launcher.FLAGS) == {"--no-prefilter"}  # hidden (robustness testing): click reads it


def test_defaults_are_clicks(monkeypatch):
    paths, options = click_reading(["check"], monkeypatch)
    assert paths == ()
    assert options == check_command.CHECK_DEFAULTS


@pytest.mark.parametrize("args", [
    [], ["x.py"], ["check"], ["check", "x.py", "y.py"], ["-q", "x.py"], ["x.py", "-q"], ["--quiet", "--exit-zero", "a", "b"],
    ["--no-cache", "--force-exclude", "x.py"], ["--fix", "--unsafe-fixes", "--show-fixes", "src"],
    ["--diff", "x.py"], ["--statistics", "-q", "x.py"], ["--no-baseline", "x.py"],
    ["--respect-gitignore", "."], ["--no-respect-gitignore", "."], ["--respect-gitignore", "--no-respect-gitignore", "."],
    ["--show-settings", "x.py"], ["--show-files", "src"], ["-"], ["check", "-", "x.py"], ["-q", "-q", "x.py"],
    ["check", "check"],  # a file named check
    ["fixtures"],  # an identifier that exists: a path
])
def test_plain_reading_is_clicks(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    plain = launcher.plain_command_line(args)
    assert plain is not None, args
    paths, given = plain
    assert click_reading(args, monkeypatch) == (tuple(paths), dict(check_command.CHECK_DEFAULTS, **given))


@pytest.mark.parametrize("args", [
    ["rules"], ["rule", "SL005"], ["explain", "x.py"], ["clean"], ["version"], ["server"], ["run", "x.py"],
    ["chek", "x.py"],  # perhaps a misspelt command: click suggests `check`
    ["-h"], ["--help"], ["check", "--help"], ["--version"], ["-V"],
    ["--select", "SL005", "x.py"], ["--select=SL005", "x.py"], ["-j", "2", "x.py"], ["-j2", "x.py"],
    ["-qj2", "x.py"], ["--output-format", "json", "x.py"], ["-o", "out.txt", "x.py"], ["--config", "c.toml"],
    ["--", "-x.py"], ["--no-prefilter", "x.py"], ["--colour", "x.py"], ["-x.py"], ["x.py", "--bogus"],
])
def test_everything_else_goes_to_click(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert launcher.plain_command_line(args) is None


# ---- the same output -----------------------------------------------------------------------
def run(args, cwd, via, env_extra=None):
    """Run the console entry point (`launcher`) or speclint.cli's click main (`click`)."""
    code = {"launcher": "from speclint.launcher import main",
            "click": "from speclint.cli import main"}[via]
    probe = ("import sys, atexit\n"
             "atexit.register(lambda: sys.__stderr__.write('[click loaded]' if 'click' in sys.modules else ''))\n"
             f"{code}\nsys.argv = ['speclint'] + sys.argv[1:]\nmain()\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    env.pop("FORCE_COLOR", None)
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, "-c", probe, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)
    loaded = proc.stderr.endswith("[click loaded]")
    return proc.returncode, proc.stdout, proc.stderr.removesuffix("[click loaded]"), loaded


@pytest.fixture
def project(tmp_path):
    (tmp_path / "tpu.py").write_text(TPU, encoding="utf-8")
    (tmp_path / "plain.py").write_text(NOT_TF, encoding="utf-8")
    (tmp_path / "broken.py").write_text("def f(:\n    Estimator\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("args", [
    ["plain.py"], ["-q", "plain.py"], ["tpu.py"], ["check", "-q", "--exit-zero", "tpu.py", "plain.py"],
    ["--statistics", "tpu.py"], ["tpu.py", "missing.py"], ["broken.py"], ["--diff", "tpu.py"],
    ["--show-files", "."], ["--show-settings", "tpu.py"], ["."], ["--no-cache", "."],
])
def test_same_output_as_click(args, project):
    plain = run(args, project, "launcher")
    clicked = run(args, project, "click")
    assert plain[:3] == clicked[:3]
    assert not plain[3] and clicked[3]  # the plain path never imports click


def test_same_output_on_the_fixtures(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    plain = run(["--no-cache", "fixtures"], tmp_path, "launcher")
    clicked = run(["--no-cache", "fixtures"], tmp_path, "click")
    assert plain[0] == 1 and plain[:3] == clicked[:3]
    assert "Found " in plain[1]
    assert not plain[3]


def test_a_config_error_is_the_same(project):
    (project / "pyproject.toml").write_text("[tool.speclint]\nselect = ['SL999']\n", encoding="utf-8")
    plain = run(["tpu.py"], project, "launcher")
    assert plain[0] == 2 and "SL999" in plain[2]
    assert plain[:3] == run(["tpu.py"], project, "click")[:3]


def test_fix_is_the_same(project):
    other = project.parent / (project.name + "-copy")
    shutil.copytree(project, other)
    plain = run(["--fix", "--unsafe-fixes", "--show-fixes", "tpu.py"], project, "launcher")
    clicked = run(["--fix", "--unsafe-fixes", "--show-fixes", "tpu.py"], other, "click")
    assert plain[:3] == clicked[:3]
    assert (project / "tpu.py").read_text() == (other / "tpu.py").read_text() != TPU


def test_a_command_line_click_reads_still_works(project):
    code, out, err, loaded = run(["--select", "SL005", "--output-format", "concise", "tpu.py"], project, "launcher")
    assert loaded and code == 1 and "SL005" in out
    code, out, err, loaded = run(["chek", "tpu.py"], project, "launcher")
    assert loaded and code == 2 and "did you mean `speclint check`" in err


def test_streams_that_are_not_utf8_go_to_click(project):
    code, out, err, loaded = run(["plain.py"], project, "launcher", {"PYTHONIOENCODING": "latin-1"})
    assert loaded and code == 0 and "All checks passed" in out


def test_shell_completion_goes_to_click(project):
    code, out, err, loaded = run([], project, "launcher", {"_SPECLINT_COMPLETE": "bash_source"})
    assert loaded and code == 0 and "complete" in out


def test_a_closed_pipe_exits_1_quietly(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    for entry in ("from speclint.launcher import main", "from speclint.cli import main"):
        proc = subprocess.Popen([sys.executable, "-c", f"import sys\n{entry}\nsys.argv = ['speclint', '--no-cache', 'fixtures']\nmain()"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.read(10)
        proc.stdout.close()  # the reader goes away (`speclint ... | head -c 10`)
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=300) == 1, (entry, err)
        assert "Traceback" not in err, (entry, err)


# ---- plain_echo writes what click.echo writes ----------------------------------------------
class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("message", ["", "plain", "a \033[31m\033[1mred\033[0m word", "tab\tand\nnewline", "é ü 漢"])
@pytest.mark.parametrize("nl", [True, False])
@pytest.mark.parametrize("color", [None, True, False])
@pytest.mark.parametrize("stream", [io.StringIO, Terminal])
def test_plain_echo_is_click_echo(message, nl, color, stream):
    ours, theirs = stream(), stream()
    check_command.plain_echo(message, nl=nl, file=ours, color=color)
    click.echo(message, nl=nl, file=theirs, color=color)
    assert ours.getvalue() == theirs.getvalue()


def test_plain_echo_to_the_standard_streams(capsys):
    check_command.plain_echo("out")
    check_command.plain_echo("err", err=True)
    check_command.plain_echo(err=True)
    assert capsys.readouterr() == ("out\n", "err\n\n")


def test_style_is_clicks():
    for fg in [None, *COLORS]:
        for bold in (None, True, False):
            assert style("text", fg=fg, bold=bold) == click.style("text", fg=fg, bold=bold)
    assert style(3, fg="red") == click.style(3, fg="red")


# ---- what click does besides parsing -------------------------------------------------------
def test_an_unreadable_path_goes_to_click(project, monkeypatch):
    """click.Path(readable=True): an existing path that cannot be read is a usage error."""
    monkeypatch.chdir(project)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: p != "tpu.py" and real(p, mode, **kw))
    assert launcher.plain_command_line(["plain.py", "tpu.py"]) is None
    assert launcher.plain_command_line(["plain.py", "missing.py"]) is not None
    with pytest.raises(SystemExit) as exc:
        cli.cli.main(["plain.py", "tpu.py"], prog_name="speclint")
    assert exc.value.code == 2


def both_ways(monkeypatch, capsys, raised):
    """(exit code, stdout, stderr) of the launcher, then of click, when the check raises `raised`."""
    def boom(paths, echo, **options):
        raise raised

    monkeypatch.setattr(check_command, "run_check", boom)
    monkeypatch.setattr(sys, "argv", ["speclint", "x.py"])
    monkeypatch.setattr(launcher, "_leave", sys.exit)  # (in this process: the real one ends it)
    got = []
    for main in (launcher.main, cli.main):
        with pytest.raises(SystemExit) as exc:
            main()
        got.append((exc.value.code, *capsys.readouterr()))
    return got


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), EOFError("Ran out of input"), RuntimeError("boom,\n  twice"),
                                    OSError(28, "No space left on device")])
def test_interrupts_and_internal_errors_as_click_reports_them(raised, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    plain, clicked = both_ways(monkeypatch, capsys, raised)
    assert plain == clicked
    assert plain[0] == (1 if isinstance(raised, (KeyboardInterrupt, EOFError)) else 2)


def test_a_second_interrupt_while_aborting_exits_quietly(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    real = check_command.plain_echo

    def interrupted(message="", **kw):
        if message == "Aborted!":
            raise KeyboardInterrupt
        real(message, **kw)

    monkeypatch.setattr(check_command, "plain_echo", interrupted)
    plain, _ = both_ways(monkeypatch, capsys, KeyboardInterrupt())
    assert plain == (1, "", "\n")


def test_windows_goes_to_click(monkeypatch):
    """click expands wildcards and variables in the arguments on Windows; the launcher does not."""
    calls = []
    monkeypatch.setattr(cli, "main", lambda: calls.append("click"))
    monkeypatch.setattr(sys, "argv", ["speclint", "x.py"])
    monkeypatch.setattr(launcher.os, "name", "nt")
    launcher.main()
    assert calls == ["click"]


def test_the_same_in_colour(project):
    for args in (["tpu.py"], ["--statistics", "tpu.py", "plain.py"]):
        plain = run(args, project, "launcher", {"FORCE_COLOR": "1"})
        assert plain[:3] == run(args, project, "click", {"FORCE_COLOR": "1"})[:3]
        assert ("\033[31m\033[1mSL005\033[0m" in plain[1]) == (args == ["tpu.py"])


def test_the_same_with_a_baseline(project):
    (project / "pyproject.toml").write_text("[tool.speclint]\nbaseline = 'known.json'\n", encoding="utf-8")
    assert run(["--write-baseline", "known.json", "tpu.py"], project, "click")[0] == 0
    plain = run(["tpu.py"], project, "launcher")
    assert plain[0] == 0 and plain[:3] == run(["tpu.py"], project, "click")[:3]
    (project / "tpu.py").write_text(TPU.replace("[loss]", "[tf.reshape(loss, [1])]"), encoding="utf-8")
    plain = run(["tpu.py"], project, "launcher")
    assert "no longer" in plain[2] and plain[:3] == run(["tpu.py"], project, "click")[:3]


def test_stdin_is_the_same(project):
    for via in ("launcher", "click"):
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
        entry = {"launcher": "speclint.launcher", "click": "speclint.cli"}[via]
        proc = subprocess.run([sys.executable, "-c", f"import sys\nfrom {entry} import main\n"
                               "sys.argv = ['speclint', '-', 'plain.py']\nmain()"],
                              cwd=project, env=env, input=TPU, capture_output=True, text=True, timeout=300)
        if via == "launcher":
            first = (proc.returncode, proc.stdout, proc.stderr)
    assert first == (proc.returncode, proc.stdout, proc.stderr)
    assert first[0] == 1 and "SL005" in first[1]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_standard_output_ends_as_with_click(project):
    """The launcher leaves with os._exit (no interpreter teardown): what the output could not take
    is reported, and the exit code is click's."""
    got = []
    for via in ("launcher", "click"):
        code = {"launcher": "from speclint.launcher import main", "click": "from speclint.cli import main"}[via]
        with open("/dev/full", "w") as full:
            proc = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nsys.argv = ['speclint', 'tpu.py']\nmain()"],
                                  cwd=project, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=full,
                                  stderr=subprocess.PIPE, text=True, timeout=300)
        got.append((proc.returncode, proc.stderr))
    assert got[0] == got[1] and got[0][0] == 2 and "No space left on device" in got[0][1]


def test_under_a_profiler_the_run_exits_as_usual(project):
    """The plain path leaves with os._exit (no teardown), except under a profiler or tracer, which
    report at exit: `python -m cProfile -m speclint` prints its profile."""
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-s", "cumtime", "-m", "speclint", "plain.py"],
                          cwd=project, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "All checks passed" in proc.stdout and "function calls" in proc.stdout


def test_a_failing_atexit_function_does_not_change_the_exit_code(project):
    probe = ("import atexit, sys\nfrom speclint.launcher import main\n"
             "atexit.register(lambda: 1 / 0)\nsys.argv = ['speclint', 'plain.py']\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=project, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr.count("ZeroDivisionError") == 1, proc.stderr


@pytest.mark.skipif(os.name != "posix", reason="closes the standard output before the run")
def test_a_closed_standard_output_is_no_internal_error(project):
    """`speclint x.py >&-`: Python's sys.stdout is None; the findings go nowhere, the exit code says
    they exist (it was "internal error: ... 'NoneType' object has no attribute 'isatty'")."""
    got = []
    for via in ("from speclint.launcher import main", "from speclint.cli import main"):
        proc = subprocess.run([sys.executable, "-c", f"import sys\n{via}\nsys.argv = ['speclint', 'tpu.py']\nmain()"],
                              cwd=project, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, timeout=300, preexec_fn=lambda: os.close(1))
        got.append((proc.returncode, proc.stderr))
    assert got[0] == got[1] == (1, "")
