"""flake8 plugin: `flake8 --select SL` reports speclint's diagnostics in flake8's format.

Registered as the `SL` entry in the `flake8.extension` entry-point group.  Each file flake8 checks
goes through the same engine as `speclint check` (prefilter, parse, analysis, speclint's own
suppressions), with the `[tool.speclint]` configuration found from the file upwards (its
`select`/`ignore`/`per-file-ignores`/`target` apply; flake8's `--select`/`--extend-ignore`/`# noqa`
then filter as for any plugin).  flake8's `exclude` decides which files are checked.  Findings in
the configuration's `baseline` (speclint.baseline) are not reported.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Iterator, Sequence, Tuple

from speclint import __version__


@functools.lru_cache(maxsize=1)
def _resolver():
    from speclint.config import Resolver

    return Resolver()


class SpeclintChecker:
    name = "speclint"
    version = __version__

    def __init__(self, tree, filename: str, lines: Sequence[str]):
        # `tree` (flake8's ast, unused) is what makes flake8 treat this as a per-file plugin
        self.filename = filename
        self.lines = lines

    def _source(self) -> bytes:
        # the bytes on disk, so that an encoding declaration is honoured exactly as by speclint;
        # flake8's decoded lines for stdin
        if self.filename not in ("-", "stdin") and os.path.isfile(self.filename):
            with open(self.filename, "rb") as fh:
                return fh.read()
        return "".join(self.lines).encode("utf-8")

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        from speclint import baseline, engine
        from speclint.ondisk import OnDiskIndex

        on_disk = self.filename not in ("-", "stdin")
        path = Path(self.filename if on_disk else os.getcwd())
        config = _resolver().for_path(path)
        source = self._source()
        result = engine.check_source(source, self.filename, config, config.relative(path) if on_disk else None,
                                     file=self.filename if on_disk else None,
                                     index=OnDiskIndex() if on_disk else None,
                                     users=engine.users_for(self.filename, config) if on_disk else ())
        # placed by the engine in an imported module: flake8 reports it there
        diags = [d for d in result.diagnostics if d.path == self.filename]
        diags = baseline.filter_document(config, self.filename, source.decode("utf-8", errors="replace"), diags)
        for d in diags:
            # flake8 wants a 0-based column for AST plugins (it prints column + 1)
            yield d.line, d.column - 1, f"{d.code} [{d.name}] {d.message}", type(self)
