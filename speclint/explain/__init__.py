"""`speclint explain`: from TensorFlow's error to the rule, your line and the fix.

    from speclint.explain import explain
    report = explain(open("train.log").read())   # speclint.explain.core.Report

The TF messages and the rules they belong to are `speclint.tpu_failures` (shared with the TPU
simulation); this package reads pasted text (`reading`), finds the user's frames and files
(`frames`), ranks the rules and runs the static engine on those files (`core`), and prints the result
(`render`).
"""
from __future__ import annotations

import os
import sys
from typing import Optional, Tuple

from speclint.explain.core import Explanation, ErrorReading, Report, explain

__all__ = ["Explanation", "ErrorReading", "Report", "explain", "ExplainInputError", "run"]

MAX_INPUT_BYTES = 32 * 1024 * 1024  # a longer log is read from its end, where the error is


class ExplainInputError(Exception):
    """The input could not be read (exit 2)."""


def _read(source: str) -> str:
    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            with open(source, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > MAX_INPUT_BYTES:
                    fh.seek(size - MAX_INPUT_BYTES)
                data = fh.read()
        except IsADirectoryError:
            raise ExplainInputError(f"{source} is a directory; give the file that holds the error") from None
        except OSError as exc:
            raise ExplainInputError(f"cannot read {source}: {exc.strerror or exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        data = data[-MAX_INPUT_BYTES:]
    return data.decode("utf-8", errors="replace")


def run(source: str, output_format: str = "text", *, check: bool = True, cwd: Optional[str] = None) -> Tuple[str, int]:
    """What `speclint explain SOURCE` prints, and its exit code (0 whether or not it explained)."""
    from speclint.explain import render

    report = explain(_read(source), cwd=cwd, check=check)
    out = render.as_json(report) if output_format == "json" else render.text(report)
    return out, 0
