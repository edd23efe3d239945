"""Running the static checks: every check module is loaded here (and only here), and each
registered check is run over a module's facts."""
from __future__ import annotations

from typing import List, Optional

from speclint.finding import Finding
from speclint.static.checks import base
from speclint.static.checks import (  # noqa: F401 - registering their checks
    estimators, fields, host_calls, metrics, model_fn, scaffold,
)


def registered_codes() -> set:
    return {c for codes, _ in base.CHECKS + base.MODULE_CHECKS for c in codes}


def run(facts, ctx: base.CheckContext, selected: Optional[set] = None) -> List[Finding]:
    out: List[Finding] = []
    active = [(codes, fn) for codes, fn in base.CHECKS if selected is None or set(codes) & selected]
    for fact in facts:
        for _, fn in active:
            out.extend(fn(fact, ctx))
    analyzer = getattr(ctx.module_run, "an", None)
    if analyzer is not None:
        for codes, fn in base.MODULE_CHECKS:
            if selected is None or set(codes) & selected:
                out.extend(fn(analyzer, ctx))
    return out
