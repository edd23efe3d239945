"""Which frames of a pasted traceback are the user's, and where those files are on this machine.

A traceback pasted from a TPU VM or Colab names paths that may not exist here
(`/content/bert/run_classifier.py`, `/home/me/proj/train.py`). A frame's file is looked up as
printed, then by ever shorter path suffixes under the current directory (`proj/train.py`,
`train.py`); when the traceback printed the source line, the file's line must read the same, so a
different file of the same name is never taken, and a file edited since the error is reported as
changed rather than quoted.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from speclint.explain.reading import Frame

# Code that is never the user's: installed packages, the standard library, TF / Keras / absl (also
# where Colab installs TF outside site-packages: /tensorflow-1.15.2/python3.6/tensorflow_estimator/...).
_LIBRARY = re.compile(r"(^|[/\\])(site-packages|dist-packages)([/\\]|$)|"
                      r"(^|[/\\])lib(64)?[/\\]python\d(\.\d+)?[/\\]|^<frozen |^<(string|stdin|__array_function__ internals)>$")
_FRAMEWORK_DIRS = {"tensorflow", "tensorflow_core", "tensorflow_estimator", "keras", "tf_keras", "absl",
                   "IPython", "ipykernel", "tornado", "six.py", "numpy", "google.protobuf"}
_NOTEBOOK = re.compile(r"^(<ipython-input-[\w-]+>|Cell In\s*\[\d*\])$")


_SPECLINT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # `speclint run`'s shim


def is_user_path(path: str) -> bool:
    if _NOTEBOOK.match(path):
        return True
    if _LIBRARY.search(path) or os.path.abspath(path).startswith(_SPECLINT):
        return False
    parts = [p for p in re.split(r"[/\\]", path) if p]
    return not any(p in _FRAMEWORK_DIRS for p in parts)


def is_notebook(path: str) -> bool:
    return bool(_NOTEBOOK.match(path))


def user_frames(frames: Sequence[Frame]) -> List[Frame]:
    return [f for f in frames if is_user_path(f.path)]


@dataclass(frozen=True)
class Located:
    """A frame's file on this machine."""

    path: str  # as found (relative to the current directory when under it)
    abspath: str
    text: Optional[str]  # the file's line `frame.line`, stripped (None: no such line)
    stale: bool = False  # the traceback printed another text for that line: the file changed since


_CACHE: Dict[str, Optional[List[str]]] = {}


def _lines(path: Path) -> Optional[List[str]]:
    key = str(path)
    if key not in _CACHE:
        try:
            _CACHE[key] = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.is_file() else None
        except OSError:
            _CACHE[key] = None
    return _CACHE[key]


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _display(path: Path, cwd: Path) -> str:
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel.replace(os.sep, "/")


def locate(frame: Frame, cwd: Optional[str] = None) -> Optional[Located]:
    """The frame's file here, or None. The path as printed comes first (stale when its line now reads
    differently); only when it does not exist are suffixes tried, which need two path components or
    the printed source line to agree."""
    if not frame.path or is_notebook(frame.path):
        return None
    here = Path(cwd or os.getcwd())
    parts = [p for p in re.split(r"[/\\]", frame.path) if p and p != "."]
    if not parts:
        return None
    tried = []
    given = Path(frame.path)
    tried.append((given if given.is_absolute() else here / given, True))
    for k in range(1, len(parts)):
        tried.append((here.joinpath(*parts[k:]), False))
    for candidate, exact in tried:
        lines = _lines(candidate)
        if lines is None:
            continue
        text = lines[frame.line - 1].strip() if frame.line and 0 < frame.line <= len(lines) else None
        suffix_parts = len(candidate.relative_to(here).parts) if not exact else len(parts)
        if frame.source is not None and text is not None and _same(text, frame.source):
            return Located(_display(candidate, here), str(candidate.resolve()), text)
        if frame.source is None and (exact or suffix_parts >= 2):
            return Located(_display(candidate, here), str(candidate.resolve()), text)
        if exact:  # the file that ran is here, and its line reads differently now: it was edited
            return Located(_display(candidate, here), str(candidate.resolve()), text, stale=True)
    return None
