"""Checks on real objects (the runtime engine's rule checks).

Layers (issue 15): they read the runtime model (`calls`, `objects`, `locate`, `probe`, `context`)
and the core (`speclint.apis`, `speclint.families`); the shim (`patching.py`, `simulate.py`) calls
them through `dispatch`, never the reverse.  `registry` holds the two registries the check modules
fill; this package's `__init__` imports nothing, so a check module never depends on the dispatcher.
"""
