"""Checking one file outside a `speclint check` run (the language server, the flake8 plugin).

A run's module index lists the files of the run, so that helpers imported from other linted
modules are followed.  A single file has no run: its index is every Python file on disk, found
the same way (the importer's directory and its package root; library roots never), read from disk
(an editor's unsaved changes to *other* files are not seen).
"""
from __future__ import annotations


from speclint.static.modules import ModuleIndex


class OnDiskIndex(ModuleIndex):
    """No run: every Python file on disk may be imported; none is part of a run."""

    def __init__(self):
        super().__init__((), disk=True)
