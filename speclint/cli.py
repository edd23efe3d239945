"""Command line: `speclint PATH...` (== `speclint check PATH...`), `speclint rules`, `speclint rule`.

Exit codes: 0 nothing found, 1 diagnostics found, 2 usage, configuration or internal error (a
missing path is reported and the other paths are still checked; the exit code is then 2).
"""
from __future__ import annotations

import json
import os
import sys

import click

from speclint import __version__, check_command, rulebook
from speclint.check_command import EXIT_ERROR, EXIT_FOUND, OUTPUT_FORMATS, TEXT_FORMATS
from speclint.check_command import parse_selectors as _selectors
from speclint.check_command import use_color as _use_color
from speclint.check_command import width as _width
from speclint.config import MODES, TARGETS, ConfigError, Resolver, validate_selectors


class _DefaultToCheck(click.Group):
    """`speclint ARGS` means `speclint check ARGS` unless ARGS starts with a command name.  A first
    argument that is neither a command nor an existing path but looks like a misspelt command is
    an error that names the command (`speclint chek` -> did you mean `check`?)."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version", "-V")):
            if args and args[0].isidentifier() and not os.path.lexists(args[0]):  # not `x.py`, `src/`
                import difflib

                close = difflib.get_close_matches(args[0], sorted(self.commands), n=1, cutoff=0.6)
                if close:
                    _fail(f"unknown command {args[0]!r}, and no file or directory of that name: "
                          f"did you mean `speclint {close[0]}`?")
            args = ["check"] + list(args)
        return super().parse_args(ctx, args)


class _Command(click.Command):
    """A command whose "did you mean" suggestions for an unknown option leave out hidden options."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            hidden = {o for p in self.params if getattr(p, "hidden", False) for o in p.opts + p.secondary_opts}
            exc.possibilities = [o for o in (exc.possibilities or ()) if o not in hidden]
            raise


def _fail(message: str) -> None:
    click.echo(f"speclint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


_version = click.version_option(__version__, "--version", "-V", prog_name="speclint", message="%(prog)s %(version)s")


@click.group(cls=_DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@_version
def cli():
    """Find misuse of tf.estimator.EstimatorSpec / TPUEstimatorSpec in model_fn code.

    `speclint PATH...` is short for `speclint check PATH...`.
    """


@cli.command(cls=_Command)
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=True, file_okay=True, allow_dash=True))
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules: codes (SL005), prefixes (SL0), rule names, or ALL; comma-separated. Overrides the config file.")
@click.option("--extend-select", multiple=True, metavar="CODES",
              help="Enable these rules as well as the selected ones (same forms as --select).")
@click.option("--ignore", multiple=True, metavar="CODES",
              help="Skip these rules (same forms as --select). Overrides the config file.")
@click.option("--extend-ignore", multiple=True, metavar="CODES",
              help="Skip these rules as well as the ignored ones (same forms as --select).")
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default="full", show_default=True,
              help="full: each diagnostic with its source lines and help; concise: one line per diagnostic "
                   "(`text` is its old name); json; github (Actions annotations); sarif (SARIF 2.1.0).")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
              help="Write the report to FILE instead of stdout.")
@click.option("--target", type=click.Choice(TARGETS), default=None,
              help="Where the model runs: tpu (every TPU-only rule applies), cpu (none do), auto (decide per model_fn). Overrides the config file.")
@click.option("--modes", type=click.Choice(MODES), default=None,
              help="Which modes of a model_fn to check: invoked (default: when every use of its estimators is in sight, only the modes they are trained/evaluated/predicted/exported in), all (every mode). Overrides the config file.")
@click.option("--config", "config_file", type=click.Path(), default=None,
              help="Use this pyproject.toml / speclint.toml instead of searching upwards from each file.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Report only findings that are not in this baseline (overrides the config's `baseline`).")
@click.option("--write-baseline", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Record the findings of this run in FILE (a baseline) instead of reporting them.")
@click.option("--no-baseline", is_flag=True, help="Ignore the baseline of the config file: report every finding.")
@click.option("--stdin-filename", default=None, metavar="PATH",
              help="The path to report (and to match config against) for code read from stdin (`-`).")
@click.option("--force-exclude", is_flag=True,
              help="Apply exclude / extend-exclude to files named on the command line too (as pre-commit passes them).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when diagnostics are found.")
@click.option("--quiet", "-q", is_flag=True, help="Print diagnostics only, no summary line (and no progress).")
@click.option("--statistics", is_flag=True, help="Print the number of diagnostics per rule instead of the diagnostics.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text output (auto: only on a terminal).")
@click.option("--show-settings", is_flag=True, help="Print the configuration that applies to the first PATH, and exit.")
@click.option("--show-files", is_flag=True, help="List the files a run over PATHS would read, and exit.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, metavar="N",
              help="Worker processes for analysing files (default 0: one per CPU core; 1: none). Small runs stay in one process.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.speclint_cache/).")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Where to keep the cache (default: .speclint_cache/ in the project root; also $SPECLINT_CACHE_DIR).")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip files ignored by .gitignore when walking directories (default: on; config key respect-gitignore).")
@click.option("--fix", "fix", is_flag=True,
              help="Apply the safe fixes (rules whose doc has a `Fix safety` section) to the files, then report "
                   "what is left. A fix keeps your code's spelling (your `tf` alias) and formatting; files "
                   "are re-checked and fixed again until nothing is left to fix.")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix or --diff, apply the unsafe fixes too (they may change what the program computes: "
                   "each rule's doc says why). Also marks them `[*]` in the report.")
@click.option("--diff", "diff", is_flag=True,
              help="Print the fixes as a unified diff instead of applying them; change nothing. Exit 1 when "
                   "there would be fixes, else 0.")
@click.option("--show-fixes", is_flag=True,
              help="With --fix, list each diagnostic that was fixed (path:line:col: CODE [name] what was done).")
@click.option("--no-prefilter", is_flag=True, hidden=True,
              help="Analyse every file, even those that never mention the spec API (robustness testing).")
@_version
def check(paths, **options):
    """Check files and directories (recursively, *.py). `-` reads from stdin.

    \b
    Fixes: diagnostics marked `[*]` have a fix.
        speclint check --fix src/            apply the safe fixes, report what is left
        speclint check --fix --unsafe-fixes  apply the unsafe ones too
        speclint check --diff src/           show the fixes as a diff, change nothing
    Suppressed and baselined findings are never fixed.
    """
    sys.exit(check_command.run_check(paths, click.echo, **options))


@cli.command("clean")
@click.argument("paths", nargs=-1, type=click.Path(file_okay=False))
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Also remove this cache directory (as given to `check --cache-dir`).")
def clean(paths, cache_dir):
    """Remove the result cache (.speclint_cache/) of the project at PATHS (default: here)."""
    from pathlib import Path

    from speclint import cache

    targets = []
    missing = [p for p in paths if not os.path.isdir(p)]
    for p in missing:
        click.echo(f"speclint: error: no such directory: {p}", err=True)
    paths = [p for p in paths if p not in missing]
    if missing and not paths:
        sys.exit(EXIT_ERROR)
    try:
        resolver = Resolver()
        for p in paths or ["."]:
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
    if missing:
        sys.exit(EXIT_ERROR)


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


@cli.command("version")
def version():
    """Print speclint's version (as `speclint --version`)."""
    click.echo(f"speclint {__version__}")


@cli.command("explain")
@click.argument("source", required=False, default="-", metavar="[FILE | -]")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: {version, explained, errors: [...]} with the fields the README documents.")
@click.option("--no-check", is_flag=True,
              help="Do not run the static engine on the files of your frames (only read the error).")
def explain_cmd(source, output_format, no_check):
    """Explain a TensorFlow / TPUEstimator error: which rule, why TF raised it, your line, the fix.

    Give the error in FILE, or on stdin (`-`, the default): a whole traceback, the last error line
    alone, or a training log (TF and absl logging prefixes, Colab / IPython tracebacks and chained
    exceptions are read as they are).

    \b
        speclint explain error.txt
        python train.py 2>&1 | tail -200 | speclint explain
        speclint explain --output-format json train.log

    It prints the rule that explains the error (or, when several can, the candidates ranked, each
    with what to look for), the innermost frame of your code with its source line, and what
    `speclint check` finds for that rule in the files of your frames: the offending expression and
    the fix. Errors no rule explains are reported as not explained. Exit 0 either way; 2 when FILE
    cannot be read.
    """
    from speclint.explain import ExplainInputError, run

    if source == "-" and sys.stdin.isatty():
        click.echo("speclint explain: paste the error, then press Ctrl-D (Ctrl-Z Enter on Windows).", err=True)
    try:
        out, code = run(source, output_format, check=not no_check)
    except ExplainInputError as exc:
        _fail(str(exc))
    except rulebook.RulebookError as exc:
        _fail(f"speclint's rulebook is broken: {exc}")
    click.echo(out, nl=False)
    sys.exit(code)


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
@click.option("--output-format", type=click.Choice(TEXT_FORMATS + ("json",)), default="full", show_default=True,
              help="How to print diagnostics: full (with source lines and help), concise (one line each; "
                   "`text` is its old name), json.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules (codes, prefixes, names, ALL).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules.")
@click.option("--target", type=click.Choice(TARGETS), default="auto", show_default=True,
              help="Where TPU-only rules apply: auto (TPUEstimatorSpecs under TPUEstimator, and the TPU graph), tpu (every spec), cpu (none).")
@click.option("-m", "module", is_flag=True, help="Run a module (`speclint run -m pkg.train ARGS`), like `python -m`.")
@click.option("--simulate-tpu", "simulate_tpu", is_flag=True,
              help="Also build the TPU graph on CPU for every TPUEstimator the program uses (see simulate_tpu).")
@click.option("--quiet", "-q", is_flag=True, help="Print diagnostics only, no summary line.")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
              help="Write the diagnostics to FILE instead of stdout (the program's own output stays on stdout; "
                   "use it with --output-format json).")
@click.argument("program")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run_cmd(mode, output_format, select, ignore, target, module, simulate_tpu, quiet, output_file, program, args):
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
            from speclint.runtime import simulate_run
            before_run = getattr(simulate_run, "install_for_run")
            after_run = getattr(simulate_run, "uninstall_for_run", None)
        except (ImportError, AttributeError):
            _fail("--simulate-tpu is not available in this build of speclint")
    try:
        outcome = runner.run_program(program, list(args), module=module, mode=mode, target_hw=target,
                                     select=codes, before_run=before_run, after_run=after_run)
    except TensorFlowUnavailable as exc:
        _fail(str(exc))
    _print_runtime(outcome, output_format, quiet, output_file)
    sys.exit(EXIT_FOUND if outcome.diagnostics else outcome.exit_code)


def _print_runtime(outcome, output_format: str, quiet: bool, output_file=None) -> None:
    from speclint.engine import FileResult, RunResult
    from speclint.report import FORMATS

    by_path = {}
    for d in outcome.diagnostics:
        by_path.setdefault(d.path, []).append(d)
    result = RunResult([FileResult(p, ds) for p, ds in sorted(by_path.items())])
    if output_file:
        from speclint.report import FORMATS as _F
        text = _F[output_format](result, color=False, quiet=True, width=100) \
            if output_format in TEXT_FORMATS else _F[output_format](result)
        try:
            with open(output_file, "w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as exc:
            _fail(f"cannot write {output_file}: {exc.strerror or exc}")
        if not quiet:
            n = len(outcome.diagnostics)
            click.echo(f"speclint run: {n} diagnostic{'s' if n != 1 else ''} written to {output_file} "
                       f"(runtime shim; {outcome.model_fn_calls} model_fn calls checked).", err=True)
        return
    if output_format in TEXT_FORMATS:
        out = FORMATS[output_format](result, color=_use_color("auto"), quiet=True, width=_width(sys.stdout))
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
        click.echo(check_command.internal_error(exc), err=True)
        sys.exit(EXIT_ERROR)
