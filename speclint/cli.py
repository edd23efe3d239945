"""Command line: `speclint PATH...` (== `speclint check PATH...`), `speclint rules`, `speclint rule`.

Exit codes: 0 nothing found, 1 diagnostics found, 2 usage, configuration or internal error.
"""
from __future__ import annotations

import json
import os
import sys
from typing import List, Optional

import click

from speclint import __version__, rulebook
from speclint.config import TARGETS, ConfigError, Resolver, validate_selectors

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


class _DefaultToCheck(click.Group):
    """`speclint ARGS` means `speclint check ARGS` unless ARGS starts with a command name."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            args = ["check"] + list(args)
        return super().parse_args(ctx, args)


def _fail(message: str) -> None:
    click.echo(f"speclint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _selectors(values, option: str = "") -> Optional[List[str]]:
    """The selectors given to an option (None: not given).  `--select ''` (an unset variable in a CI
    script, say) would turn every rule off: a usage error, not "All checks passed"."""
    if not values:
        return None
    out: List[str] = []
    for v in values:
        out.extend(s for s in v.split(",") if s.strip())
    if not out and option == "--select":
        given = " ".join(f"--select {v!r}" for v in values)
        raise ConfigError(f"{given} selects no rule (an empty value: an unset variable?); "
                          "give codes (SL005), prefixes (SL0), rule names or ALL")
    return out


def _excluded(resolver: Resolver, path: str) -> bool:
    """Whether the configuration that applies to `path` excludes it (or a directory above it)."""
    from pathlib import Path

    config = resolver.for_path(Path(path))
    rel = config.relative(Path(path))
    return rel is not None and config.is_excluded(rel)


def _use_color(mode: str) -> bool:
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


@click.group(cls=_DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="speclint")
def cli():
    """Find misuse of tf.estimator.EstimatorSpec / TPUEstimatorSpec in model_fn code.

    `speclint PATH...` is short for `speclint check PATH...`.
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=True, file_okay=True, allow_dash=True))
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules: codes (SL005), prefixes (SL0), rule names, or ALL; comma-separated. Overrides the config file.")
@click.option("--ignore", multiple=True, metavar="CODES",
              help="Skip these rules (same forms as --select). Overrides the config file.")
@click.option("--output-format", type=click.Choice(["text", "json", "github", "sarif"]), default="text",
              show_default=True,
              help="How to print diagnostics: text, json, github (Actions annotations), sarif (SARIF 2.1.0).")
@click.option("--target", type=click.Choice(TARGETS), default=None,
              help="Where the model runs: tpu (every TPU-only rule applies), cpu (none do), auto (decide per model_fn). Overrides the config file.")
@click.option("--config", "config_file", type=click.Path(), default=None,
              help="Use this pyproject.toml / speclint.toml instead of searching upwards from each file.")
@click.option("--stdin-filename", default=None, metavar="PATH",
              help="The path to report (and to match config against) for code read from stdin (`-`).")
@click.option("--force-exclude", is_flag=True,
              help="Apply exclude / extend-exclude to files named on the command line too (as pre-commit passes them).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when diagnostics are found.")
@click.option("--quiet", "-q", is_flag=True, help="Print diagnostics only, no summary line.")
@click.option("--statistics", is_flag=True, help="Also print the number of diagnostics per rule.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text output (auto: only on a terminal).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, metavar="N",
              help="Worker processes for analysing files (default 0: one per CPU core; 1: none). Small runs stay in one process.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.speclint_cache/).")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Where to keep the cache (default: .speclint_cache/ in the project root; also $SPECLINT_CACHE_DIR).")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip files ignored by .gitignore when walking directories (default: on; config key respect-gitignore).")
@click.option("--no-prefilter", is_flag=True, hidden=True,
              help="Analyse every file, even those that never mention the spec API (robustness testing).")
def check(paths, select, ignore, output_format, target, config_file, stdin_filename, exit_zero,
          quiet, statistics, color, jobs=0, no_cache=False, cache_dir=None, respect_gitignore=None,
          no_prefilter=False, force_exclude=False):
    """Check files and directories (recursively, *.py). `-` reads from stdin."""
    from speclint import engine
    from speclint.report import FORMATS
    from speclint.report.text import render as render_text

    paths = list(paths) or ["."]
    try:
        overrides = {}
        sel = _selectors(select, "--select")
        ign = _selectors(ignore)
        if sel is not None:
            overrides["select"] = validate_selectors(sel, "--select")
        if ign is not None:
            overrides["ignore"] = validate_selectors(ign, "--ignore")
        if target is not None:
            overrides["target"] = target
        if respect_gitignore is not None:
            overrides["respect_gitignore"] = respect_gitignore
        resolver = Resolver(config_file, overrides)
        missing = [p for p in paths if p != "-" and not os.path.lexists(p)]
        if missing:
            _fail(f"no such file or directory: {missing[0]}")
        result = engine.RunResult()
        file_paths = [p for p in paths if p != "-"]
        if force_exclude:
            file_paths = [p for p in file_paths if not _excluded(resolver, p)]
        if file_paths:
            from speclint.cache import Caches
            result = engine.check_paths(file_paths, resolver, jobs=jobs or engine.default_jobs(),
                                        caches=None if no_cache else Caches(cache_dir),
                                        prefilter=not no_prefilter)
        if "-" in paths:
            result.files.extend(engine.check_stdin(sys.stdin.buffer, stdin_filename, resolver,
                                                   prefilter=not no_prefilter).files)
    except ConfigError as exc:
        _fail(str(exc))
    except rulebook.RulebookError as exc:
        _fail(f"speclint's rulebook is broken: {exc}")

    if output_format == "text":
        out = render_text(result, color=_use_color(color), quiet=quiet, statistics=statistics)
    else:
        out = FORMATS[output_format](result)
    if out:
        click.echo(out, nl=False, color=True)
    for f in result.internal_errors:
        click.echo(f"speclint: internal error while checking {f.path}: {f.internal_error} "
                   "(please report this; other files were checked)", err=True)
    if result.internal_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FOUND if result.diagnostics and not exit_zero else EXIT_CLEAN)


@cli.command("clean")
@click.argument("paths", nargs=-1, type=click.Path(file_okay=False))
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Also remove this cache directory (as given to `check --cache-dir`).")
def clean(paths, cache_dir):
    """Remove the result cache (.speclint_cache/) of the project at PATHS (default: here)."""
    from pathlib import Path

    from speclint import cache

    targets = []
    try:
        resolver = Resolver()
        for p in list(paths) or ["."]:
            targets.append(cache.cache_root(resolver.for_path(Path(p)).root))
            targets.append(Path(p) / cache.CACHE_DIR_NAME)
    except ConfigError as exc:
        _fail(str(exc))
    if cache_dir or os.environ.get(cache.ENV_CACHE_DIR):
        targets.append(Path(cache_dir or os.environ[cache.ENV_CACHE_DIR]))
    done = set()
    for t in targets:
        key = os.path.abspath(t)
        if key in done:
            continue
        done.add(key)
        try:
            removed = cache.clean(t)
        except OSError as exc:
            _fail(f"cannot remove the cache at {t}: {exc.strerror or exc}")
        if removed is not None:
            click.echo(f"Removed cache at: {t}" + (f" ({removed})" if removed else ""))


@cli.command("rules")
@click.option("--output-format", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="markdown: the table the README shows.")
def list_rules(output_format):
    """List every rule: code, name, severity, engines, summary."""
    book = rulebook.load()
    if output_format == "markdown":
        click.echo(rulebook.markdown_table(book), nl=False)
        return
    if output_format == "json":
        click.echo(json.dumps([
            {"code": r.code, "name": r.name, "severity": r.severity, "engines": list(r.engines),
             "tpu_only": r.tpu_only, "default_enabled": r.default_enabled, "summary": r.summary}
            for r in book], indent=2))
        return
    width = max(len(r.name) for r in book)
    for r in book:
        flags = "/".join(r.engines) + (", tpu-only" if r.tpu_only else "")
        off = "" if r.default_enabled else " (off by default)"
        click.echo(f"{r.code}  {r.name:<{width}}  {r.severity:<7}  {flags:<24}  {r.summary}{off}")


@cli.command("rule")
@click.argument("code_or_name")
def show_rule(code_or_name):
    """Print a rule's documentation (by code, e.g. SL005, or name, e.g. outfeed-scalar-tensor)."""
    rule = rulebook.load().lookup(code_or_name)
    if rule is None:
        _fail(f"unknown rule {code_or_name!r} (see `speclint rules`)")
    click.echo(f"{rule.code} {rule.name} ({rule.severity}; engines: {', '.join(rule.engines)}"
               f"{'; TPU only' if rule.tpu_only else ''})\n")
    click.echo(rule.doc, nl=False)


@cli.command("server")
def server():
    """Run the language server on stdin/stdout (for editors; needs `pip install 'speclint[lsp]'`)."""
    try:
        from speclint import lsp
    except ImportError as exc:
        _fail(f"the language server needs pygls >= 2.1: pip install 'speclint[lsp]' ({exc})")
    lsp.main()


@cli.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--mode", type=click.Choice(["raise", "warn"]), default="warn", show_default=True,
              help="raise: stop the program at the first model_fn that violates a rule; warn: let it run and report everything at the end.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="How to print diagnostics.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules (codes, prefixes, names, ALL).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules.")
@click.option("--target", type=click.Choice(TARGETS), default="auto", show_default=True,
              help="Where TPU-only rules apply: auto (TPUEstimatorSpecs under TPUEstimator, and the TPU graph), tpu (every spec), cpu (none).")
@click.option("-m", "module", is_flag=True, help="Run a module (`speclint run -m pkg.train ARGS`), like `python -m`.")
@click.option("--simulate-tpu", "simulate_tpu", is_flag=True,
              help="Also build the TPU graph on CPU for every TPUEstimator the program uses (see simulate_tpu).")
@click.option("--quiet", "-q", is_flag=True, help="Print diagnostics only, no summary line.")
@click.argument("program")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run_cmd(mode, output_format, select, ignore, target, module, simulate_tpu, quiet, program, args):
    """Run a Python program (SCRIPT or -m MODULE) with the runtime shim installed.

    Every model_fn given to an Estimator or TPUEstimator is checked on the real objects while the
    graph is built. Exit 1 if anything was found, else the program's own exit code.
    """
    from speclint.runtime import runner
    from speclint.runtime.tfapi import TensorFlowUnavailable

    codes = None
    try:
        sel, ign = _selectors(select, "--select"), _selectors(ignore)
        book = rulebook.load()
        if sel is not None or ign is not None:
            chosen = {c for s in validate_selectors(sel or ["ALL"], "--select") for c in book.expand(s)}
            dropped = {c for s in validate_selectors(ign or [], "--ignore") for c in book.expand(s)}
            codes = chosen - dropped
    except ConfigError as exc:
        _fail(str(exc))
    if not module and not os.path.isfile(program):
        _fail(f"no such file: {program}")
    before_run = after_run = None
    if simulate_tpu:
        try:
            from speclint.runtime import simulate
            before_run = getattr(simulate, "install_for_run")
            after_run = getattr(simulate, "uninstall_for_run", None)
        except (ImportError, AttributeError):
            _fail("--simulate-tpu is not available in this build of speclint")
    try:
        outcome = runner.run_program(program, list(args), module=module, mode=mode, target_hw=target,
                                     select=codes, before_run=before_run, after_run=after_run)
    except TensorFlowUnavailable as exc:
        _fail(str(exc))
    _print_runtime(outcome, output_format, quiet)
    sys.exit(EXIT_FOUND if outcome.diagnostics else outcome.exit_code)


def _print_runtime(outcome, output_format: str, quiet: bool) -> None:
    from speclint.engine import FileResult, RunResult
    from speclint.report import FORMATS
    from speclint.report.text import render as render_text

    by_path = {}
    for d in outcome.diagnostics:
        by_path.setdefault(d.path, []).append(d)
    result = RunResult([FileResult(p, ds) for p, ds in sorted(by_path.items())])
    if output_format == "text":
        out = render_text(result, color=_use_color("auto"), quiet=True)
        if out:
            click.echo(out, nl=False, color=True)
        if not quiet:
            n = len(outcome.diagnostics)
            calls = outcome.model_fn_calls
            head = f"Found {n} diagnostic{'s' if n != 1 else ''}" if n else "All checks passed"
            click.echo(f"speclint run: {head} (runtime shim; {calls} model_fn call{'s' if calls != 1 else ''} checked).",
                       err=True)
    else:
        click.echo(FORMATS[output_format](result), nl=False)


def main() -> None:
    try:
        cli(prog_name="speclint")
    except Exception as exc:  # noqa: BLE001 - a bug in speclint: exit 2 (1 means "diagnostics found")
        detail = " ".join(str(exc).split())
        click.echo(f"speclint: internal error: {type(exc).__name__}{': ' + detail if detail else ''} "
                   "(please report this)", err=True)
        sys.exit(EXIT_ERROR)
