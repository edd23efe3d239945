"""The `speclint` console script (and `python -m speclint`): a plain check run without click.

`import click` and the command tree built on it cost about 15 ms, a quarter of what a run over a
file with no Estimator code costs in all (a pre-commit hook over such files, an editor's save
hook).  So the entry point reads the common shape of a command line itself:

    speclint [check] [FLAG...] [PATH...]

where every FLAG is one of check's on/off options (FLAGS) and no PATH starts with `-` (except `-`
itself, stdin), and runs `check_command.run_check` with the same options click would pass; an
interrupt, a broken pipe or a bug ends it as click and speclint.cli end theirs.  Any other command
line (a command, an option with a value, `--help`, a misspelt command, a `--`, a path that exists
but cannot be read: click's usage error, shell completion) goes to `speclint.cli`, unchanged; so
does a run on Windows (click expands wildcards and variables in the arguments there) and one whose
standard streams are not UTF-8 (click.echo re-encodes those; `check_command.plain_echo` writes the
same bytes only to UTF-8 streams).  tests/test_launcher.py holds the two readings together: for
every command line this module accepts, click's parse gives the same options, and the output and
exit code are the same.
"""
from __future__ import annotations

import errno
import os
import sys

# speclint.cli's commands (a first argument naming one but `check` goes to click).
COMMANDS = frozenset({"check", "clean", "explain", "rule", "rules", "run", "server", "version"})

# check's on/off options: the flag, the option's name and the value it sets.
FLAGS = {
    "-q": ("quiet", True), "--quiet": ("quiet", True),
    "--exit-zero": ("exit_zero", True),
    "--no-cache": ("no_cache", True),
    "--force-exclude": ("force_exclude", True),
    "--statistics": ("statistics", True),
    "--no-baseline": ("no_baseline", True),
    "--respect-gitignore": ("respect_gitignore", True), "--no-respect-gitignore": ("respect_gitignore", False),
    "--fix": ("fix", True), "--unsafe-fixes": ("unsafe_fixes", True),
    "--diff": ("diff", True), "--show-fixes": ("show_fixes", True),
    "--show-settings": ("show_settings", True), "--show-files": ("show_files", True),
}

COMPLETION_VARIABLE = "_SPECLINT_COMPLETE"  # click's shell completion for prog_name "speclint"


def plain_command_line(args: list[str]) -> tuple[list[str], dict] | None:
    """(paths, the options given) when `args` has the plain shape this module runs itself, else
    None (speclint.cli reads it)."""
    if args and args[0] == "check":
        args = args[1:]
    elif args and (args[0] in COMMANDS or (args[0].isidentifier() and not os.path.lexists(args[0]))):
        return None  # a command, or perhaps a misspelt one (speclint.cli suggests the right one)
    paths: list[str] = []
    given: dict = {}
    for arg in args:
        if arg in FLAGS:
            name, value = FLAGS[arg]
            given[name] = value
        elif arg.startswith("-") and arg != "-":
            return None  # an option with a value, -h, --version, `--`, a bundle of short flags, ...
        elif arg != "-" and not _readable_or_absent(arg):
            return None  # click's usage error: "Path '...' is not readable"
        else:
            paths.append(arg)
    return paths, given


def _readable_or_absent(path: str) -> bool:
    """click.Path(readable=True)'s test: a path that exists (following links) must be readable."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return True  # missing (or a broken link): check_command reports it
    return os.access(path, os.R_OK)


def _utf8(stream) -> bool:
    import codecs

    try:
        return codecs.lookup(stream.encoding).name == "utf-8"
    except (AttributeError, LookupError, TypeError):
        return False


def main() -> None:
    plain = None
    if (os.name != "nt"  # (click expands wildcards and variables in the arguments on Windows)
            and COMPLETION_VARIABLE not in os.environ and _utf8(sys.stdout) and _utf8(sys.stderr)):
        plain = plain_command_line(sys.argv[1:])
    if plain is None:
        from speclint.cli import main as click_main

        click_main()
        return
    paths, given = plain
    from speclint import check_command
    options = dict(check_command.CHECK_DEFAULTS, **given)
    echo = check_command.plain_echo
    try:
        code = check_command.run_check(tuple(paths), echo, **options)
    except (KeyboardInterrupt, EOFError):  # as click: a blank line closes the terminal's ^C, then "Aborted!"
        try:
            echo(err=True)
            echo("Aborted!", err=True)
        except (KeyboardInterrupt, EOFError):  # (a second ^C meanwhile: exit quietly, as click does)
            pass
        code = 1
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            echo(check_command.internal_error(exc), err=True)
            code = check_command.EXIT_ERROR
        else:  # as click: the reader of the output went away; exit 1, without a traceback at exit
            sys.stdout, sys.stderr = _Pacified(sys.stdout), _Pacified(sys.stderr)
            code = 1
    except Exception as exc:  # noqa: BLE001 - a bug in speclint, told as speclint.cli.main tells it
        echo(check_command.internal_error(exc), err=True)
        code = check_command.EXIT_ERROR
    _leave(code)


def _leave(code: int) -> None:
    """Exit with `code` as `sys.exit` would, less the interpreter's teardown.

    After an analysis the interpreter frees the modules and objects one by one as it exits: ~45 ms
    of a 1,150-line TPU script's ~300 ms (issue 12's 250 ms target), for nothing the user sees.
    What an exit must still do is done here: the `atexit` functions run (multiprocessing's among
    them; one that fails has printed its error, as at any exit), then the standard streams are
    flushed as the interpreter flushes them (a broken pipe is quiet, as after `_Pacified`; another
    failure is exit code 120, as CPython's), then `os._exit`.  Every file speclint writes (a fix,
    the cache, a baseline) is closed by then: each is written and closed where it is made.

    Under a profiler or a tracer (`python -m cProfile -m speclint`, coverage, a debugger), which
    report when the interpreter exits, it is `sys.exit`."""
    if _observed():
        sys.exit(code)
    import atexit

    try:
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - (Python 3.9 raises the last failure again: printed already)
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                code = 120
        except ValueError:  # (closed)
            pass
    os._exit(code)


def _observed() -> bool:
    """Whether a profiler or a tracer watches this process."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return True
    monitoring = getattr(sys, "monitoring", None)  # (3.12: cProfile, coverage's sysmon core)
    return monitoring is not None and any(monitoring.get_tool(i) is not None for i in range(6))


class _Pacified:
    """click's stand-in for a standard stream after a broken pipe: the stream, except that a flush
    failing with EPIPE is quiet (the interpreter's last flush would print a traceback)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name):
        return getattr(self.wrapped, name)
