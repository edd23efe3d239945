"""Checking one file outside a `speclint check` run (the language server, the flake8 plugin).

A run's module index lists the files of the run, so that helpers imported from other linted
modules are followed.  A single file has no run: its index is every Python file on disk, found
the same way (the importer's directory and its package root; library roots never), read from disk
(an editor's unsaved changes to *other* files are not seen).
"""
from __future__ import annotations

import os

from speclint.static.modules import ModuleIndex


class _PythonFilesOnDisk:
    """Set-like: a path is a member when it is an existing `.py` file."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path.endswith(".py") and os.path.isfile(path)


class OnDiskIndex(ModuleIndex):
    def __init__(self):
        super().__init__(())
        self.paths = _PythonFilesOnDisk()

    def __setstate__(self, state):
        super().__setstate__(state)
        self.paths = _PythonFilesOnDisk()
