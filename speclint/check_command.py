"""The work of `speclint check`, without click: what runs once the command line is parsed.

Two front ends parse the command line and call `run_check` with the same keyword arguments:
`speclint.cli` (click: every option, help, completion, errors for bad usage) and
`speclint.launcher` (the console script's first stop: it parses the plain shape
`speclint [check] [FLAG...] PATH...` itself, so that such a run never imports click; anything
else goes to `speclint.cli`).  Output goes through the `echo` the front end passes
(`click.echo`, or `plain_echo`, which writes the same bytes to a UTF-8 stream).

Exit codes: 0 nothing found, 1 diagnostics found, 2 usage, configuration or internal error (a
missing path is reported and the other paths are still checked; the exit code is then 2).
"""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

from speclint import rulebook
from speclint.config import ConfigError, Resolver, validate_selectors

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2

TEXT_FORMATS = ("full", "concise", "text")  # text: the old name of concise
OUTPUT_FORMATS = TEXT_FORMATS + ("json", "github", "sarif")

# The defaults of `run_check`'s options: what `speclint check` does when an option is not given.
# speclint.cli's click options declare the same defaults (tests/test_launcher.py compares them).
CHECK_DEFAULTS = dict(
    select=(), ignore=(), extend_select=(), extend_ignore=(), output_format="full", output_file=None,
    target=None, modes=None, config_file=None, baseline_file=None, write_baseline=None, no_baseline=False,
    stdin_filename=None, force_exclude=False, exit_zero=False, quiet=False, statistics=False, color="auto",
    show_settings=False, show_files=False, jobs=0, no_cache=False, cache_dir=None, respect_gitignore=None,
    fix=False, unsafe_fixes=False, diff=False, show_fixes=False, no_prefilter=False,
)

Echo = Callable[..., None]

# The escapes click.echo strips from a message to a stream that is not a terminal (click 8.5's).
_ANSI = r"\033\[[0-?]*[ -/]*[@-~]"


def plain_echo(message: str = "", nl: bool = True, err: bool = False, file=None, color: bool | None = None) -> None:
    """`click.echo` of a text message to a text stream whose encoding is UTF-8 (the launcher
    checks): colour escapes stripped off a non-terminal unless `color` is given, then written and
    flushed.  No stream (pythonw): nothing."""
    stream = file if file is not None else (sys.stderr if err else sys.stdout)
    if stream is None:
        return
    text = str(message) + ("\n" if nl else "")
    if text:
        if "\033" in text and ((not _isatty(stream)) if color is None else not color):
            text = re.sub(_ANSI, "", text)
        stream.write(text)
    stream.flush()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except Exception:  # noqa: BLE001 - as click: a stream that cannot say is not a terminal
        return False


def internal_error(exc: BaseException) -> str:
    """How a bug in speclint is told (both front ends; exit code 2, as 1 means "found")."""
    detail = " ".join(str(exc).split())
    return f"speclint: internal error: {type(exc).__name__}{': ' + detail if detail else ''} (please report this)"


class Failed(Exception):
    """A usage or configuration error found while checking: the message is printed, exit code 2."""


def _fail(message: str) -> None:
    raise Failed(message)


def parse_selectors(values, option: str = "") -> list[str] | None:
    """The selectors given to an option (None: not given).  `--select ''` (an unset variable in a CI
    script, say) would turn every rule off: a usage error, not "All checks passed"."""
    if not values:
        return None
    out: list[str] = []
    for v in values:
        out.extend(s for s in v.split(",") if s.strip())
    if not out and option == "--select":
        given = " ".join(f"--select {v!r}" for v in values)
        raise ConfigError(f"{given} selects no rule (an empty value: an unset variable?); "
                          "give codes (SL005), prefixes (SL0), rule names or ALL")
    return out


class _KeptStream:
    """A binary stream (stdin) that keeps what was read from it, up to the parse limit, so that the
    code frames of the report can quote code read from stdin."""

    def __init__(self, inner):
        from speclint.static.safeparse import MAX_PARSE_BYTES

        self.inner, self.limit, self.kept, self.over = inner, MAX_PARSE_BYTES, bytearray(), False

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        if not self.over:
            self.kept += data
            self.over = len(self.kept) > self.limit
        return data

    def text(self) -> str | None:
        return None if self.over else bytes(self.kept).decode("utf-8", errors="replace")


def _excluded(resolver: Resolver, path: str) -> bool:
    """Whether the configuration that applies to `path` excludes it (or a directory above it)."""
    from pathlib import Path

    config = resolver.for_path(Path(path))
    rel = config.relative(Path(path))
    return rel is not None and config.is_excluded(rel)


def use_color(mode: str, stream=None) -> bool:
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    if stream is not None and stream is not sys.stdout:
        return False  # --output-file
    if os.environ.get("FORCE_COLOR"):
        return True
    return _isatty(sys.stdout)  # (None when stdout is closed: not a terminal)


def width(stream) -> int:
    """Where the full format wraps its help text: the terminal's width, else 100 columns."""
    from speclint.report.full import DEFAULT_WIDTH

    try:
        if stream is sys.stdout and stream.isatty():
            import shutil

            return max(60, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    except (AttributeError, ValueError):
        pass
    return DEFAULT_WIDTH


def run_check(paths, echo: Echo, **options) -> int:
    """`speclint check PATHS` with `options` (the names and defaults of CHECK_DEFAULTS, every one
    given): the exit code.  Usage and configuration errors are printed (`echo`, to stderr) and give
    EXIT_ERROR."""
    try:
        return _run_check(paths, echo=echo, **options)
    except Failed as exc:
        echo(f"speclint: error: {exc}", err=True)
        return EXIT_ERROR


def _run_check(paths, *, select, ignore, output_format, target, config_file, stdin_filename, exit_zero,
               quiet, statistics, color, jobs, no_cache, cache_dir, respect_gitignore, no_prefilter,
               force_exclude, extend_select, extend_ignore, output_file, baseline_file, write_baseline,
               no_baseline, show_settings, show_files, modes, fix, unsafe_fixes, diff, show_fixes, echo) -> int:
    from speclint import engine

    paths = list(paths) or ["."]
    missing = []
    fixed = []
    stdin_text = None
    try:
        overrides = {}
        for key, values, where in (("select", select, "--select"), ("ignore", ignore, "--ignore"),
                                   ("extend_select", extend_select, "--extend-select"),
                                   ("extend_ignore", extend_ignore, "--extend-ignore")):
            chosen = parse_selectors(values, where)
            if chosen is not None:
                overrides[key] = validate_selectors(chosen, where)
        if target is not None:
            overrides["target"] = target
        if modes is not None:
            overrides["modes"] = modes
        if respect_gitignore is not None:
            overrides["respect_gitignore"] = respect_gitignore
        if no_baseline or baseline_file is not None:
            overrides["baseline"] = "" if no_baseline else baseline_file
        resolver = Resolver(config_file, overrides)
        missing = [p for p in paths if p != "-" and not os.path.lexists(p)]
        for p in missing:  # reported, and the other paths are still checked (exit code 2)
            echo(f"speclint: error: no such file or directory: {p}", err=True)
        file_paths = [p for p in paths if p != "-" and p not in missing]
        if show_settings:
            from speclint.settings import show_settings as settings_text

            echo(settings_text(resolver, (file_paths or [stdin_filename or "."])[0]), nl=False)
            return EXIT_ERROR if missing else EXIT_CLEAN
        if force_exclude:
            file_paths = [p for p in file_paths if not _excluded(resolver, p)]
        if show_files:
            from speclint.settings import show_files as files_list

            for shown in files_list(file_paths, resolver):
                echo(shown)
            return EXIT_ERROR if missing else EXIT_CLEAN
        result = engine.RunResult()
        if file_paths:
            from speclint import progress as progress_mod
            from speclint.cache import Caches

            progress = progress_mod.for_run(quiet)
            try:
                result = engine.check_paths(file_paths, resolver, jobs=jobs or engine.default_jobs(),
                                            caches=None if no_cache else Caches(cache_dir),
                                            prefilter=not no_prefilter, progress=progress)
            finally:
                if progress is not None:
                    progress.close()
        if (fix or diff) and "-" in paths:
            raise ConfigError("--fix and --diff work on files, not on stdin (`-`)")
        if (fix or diff) and write_baseline:
            raise ConfigError("--fix / --diff and --write-baseline do not go together: fix first, then write the baseline")
        if "-" in paths:
            stream = _KeptStream(sys.stdin.buffer)  # read up to the parse limit by the engine
            result.files.extend(engine.check_stdin(stream, stdin_filename, resolver,
                                                   prefilter=not no_prefilter).files)
            stdin_text = stream.text()
        result.unsafe_fixes = unsafe_fixes
        if diff:
            return _diff(result, resolver, file_paths, unsafe_fixes, missing, echo)
        if fix:
            from speclint.fixes import run as fix_run

            fixed = fix_run.fix_run(result, resolver, file_paths, unsafe=unsafe_fixes)
        _report(result, resolver, stdin_text, output_format=output_format, output_file=output_file,
                color=color, quiet=quiet, statistics=statistics, write_baseline=write_baseline, echo=echo)
        if fix:
            _fixed_summary(fixed, output_format, quiet, show_fixes, echo)
    except ConfigError as exc:
        _fail(str(exc))
    except rulebook.RulebookError as exc:
        _fail(f"speclint's rulebook is broken: {exc}")

    for f in result.internal_errors:
        echo(f"speclint: internal error while checking {f.path}: {f.internal_error} "
             "(please report this; other files were checked)", err=True)
    if result.internal_errors or missing or any(ff.error for ff in fixed):
        return EXIT_ERROR
    if write_baseline:
        return EXIT_CLEAN
    return EXIT_FOUND if result.diagnostics and not exit_zero else EXIT_CLEAN


def _diff(result, resolver, file_paths, unsafe: bool, missing, echo: Echo) -> int:
    """`--diff`: print the fixes as a unified diff; the exit code (1: there would be fixes)."""
    from speclint.engine import display_path
    from speclint.fixes import edits
    from speclint.fixes import run as fix_run

    done = fix_run.fix_run(result, resolver, file_paths, unsafe=unsafe, write=False)
    n = 0
    for ff in done:
        if ff.error:
            echo(f"speclint: error: cannot fix {ff.path}: {ff.error}", err=True)
        if ff.changed:
            echo(edits.unified_diff(display_path(ff.path), ff.before, ff.after), nl=False)
            n += len(ff.fixed)
    files = sum(1 for ff in done if ff.changed)
    echo(f"Would fix {n} diagnostic{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}"
               + ("." if n else " (nothing to fix)."), err=True)
    if missing or result.internal_errors or any(ff.error for ff in done):
        return EXIT_ERROR
    return EXIT_FOUND if n else EXIT_CLEAN


def _fixed_summary(done, output_format: str, quiet: bool, show_fixes: bool, echo: Echo) -> None:
    """After `--fix`: what was fixed (to stderr when the report is machine-readable)."""
    to_err = output_format not in TEXT_FORMATS
    for ff in done:
        if ff.error:
            echo(f"speclint: error: {ff.path} was not fixed: {ff.error}", err=True)
        elif not ff.stable:
            echo(f"speclint: warning: {ff.path}: fixing stopped after {ff.passes} pass(es) with fixes "
                       "left (fixes that undo each other, or a fix whose result would not parse: please "
                       "report it); what is left is reported", err=True)
    fixed = [(ff, d) for ff in done if not ff.error for d in ff.fixed]
    if show_fixes and fixed:
        echo(f"Fixed {len(fixed)} diagnostic{'s' if len(fixed) != 1 else ''}:", err=to_err)
        for ff, d in fixed:
            echo(f"  {d.path}:{d.line}:{d.column}: {d.code} [{d.name}] {d.fix['message']}", err=to_err)
    if not quiet and fixed:
        n_files = len({ff.path for ff, _ in fixed})
        echo(f"Fixed {len(fixed)} diagnostic{'s' if len(fixed) != 1 else ''} in {n_files} "
                   f"file{'s' if n_files != 1 else ''}.", err=to_err)


def _report(result, resolver, stdin_text, *, output_format, output_file, color, quiet, statistics,
            write_baseline, echo: Echo) -> None:
    """Apply or write the baseline, then print the report (to --output-file if given)."""
    from speclint.engine import display_path
    from speclint.report import FORMATS
    from speclint.report.sources import Sources

    sources = Sources({f.path: stdin_text for f in result.files[-1:]} if stdin_text is not None else None)

    def enabled_for(path: str) -> frozenset:
        config = resolver.for_file(path)
        return config.enabled_codes(config.relative(path))

    if write_baseline:
        from speclint import baseline

        try:
            written, kept = baseline.write(write_baseline, result, sources, enabled_for)
        except OSError as exc:
            _fail(f"cannot write {write_baseline}: {exc.strerror or exc}")
        kept_note = f" ({kept} kept for files or rules outside this run)" if kept else ""
        echo(f"speclint: recorded {written} finding{'s' if written != 1 else ''} in the baseline "
                   f"{write_baseline}{kept_note}.", err=True)
        return
    stale = []
    if any(resolver.for_file(f.path).baseline for f in result.files):
        from speclint import baseline

        baselines = baseline.Baselines(lambda path: resolver.for_file(path).baseline)
        outcome = baseline.apply(result, baselines, sources, enabled_for)
        result.baselined, stale = outcome.hidden, outcome.stale

    try:
        stream = open(output_file, "w", encoding="utf-8") if output_file else sys.stdout
    except OSError as exc:
        _fail(f"cannot write {output_file}: {exc.strerror or exc}")
    try:
        if output_format in TEXT_FORMATS:
            out = FORMATS[output_format](result, color=use_color(color, stream), quiet=quiet,
                                         statistics=statistics, width=width(stream), sources=sources)
        else:
            out = FORMATS[output_format](result, sources=sources)
        if out:
            echo(out, nl=False, color=True, file=stream)
    finally:
        if output_file:
            stream.close()
    if stale:
        n = len(stale)
        names = sorted({display_path(b.path) for b, _ in stale})
        echo(f"speclint: {n} entr{'ies' if n != 1 else 'y'} of the baseline {', '.join(names)} no longer "
                   f"occur{'' if n != 1 else 's'} (fixed, or the flagged line changed); write the baseline "
                   f"again (--write-baseline) to drop {'them' if n != 1 else 'it'}:", err=True)
        for b, e in sorted(stale, key=lambda be: (be[1].path, be[1].line, be[1].code)):
            where = display_path(os.path.join(b.directory, *e.path.split("/")))
            echo(f"  {where}:{e.line}: {e.code} [{e.name}]", err=True)
