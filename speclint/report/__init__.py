"""Reporters: turn diagnostics into text for a consumer.  A reporter never analyses.

Each format's module is imported only when it is used (start-up time of `speclint FILE`).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

_MODULES = {"full": "full", "concise": "text", "text": "text", "json": "json_report", "github": "github",
            "sarif": "sarif"}  # `text`: the old name of `concise`


class _Formats(Mapping):
    def __getitem__(self, name: str) -> Callable:
        return importlib.import_module(f"speclint.report.{_MODULES[name]}").render

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


FORMATS = _Formats()
