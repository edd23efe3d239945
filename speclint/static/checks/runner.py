"""Running the static checks: every check module is loaded here (and only here), and each
registered check is run over a module's facts."""
from __future__ import annotations

from typing import List, Optional

from speclint.finding import Finding
from speclint.static.checks import base
from speclint.static.extra_runs import seen_in_model_fn
from speclint.static.checks import (  # noqa: F401 - registering their checks
    estimators, fields, host_calls, metrics, model_fn, scaffold,
)


def registered_codes() -> set:
    return {c for codes, _ in base.CHECKS + base.MODULE_CHECKS for c in codes}


def run(facts, ctx: base.CheckContext, selected: Optional[set] = None) -> List[Finding]:
    out: List[Finding] = []
    active = [(codes, fn) for codes, fn in base.CHECKS if selected is None or set(codes) & selected]
    for fact in facts:
        # A spec built by a helper, run on its own (unknown arguments) and also from a model_fn: the
        # model_fn's view, with its values and modes, is the one reported (one finding per misuse).
        if seen_in_model_fn(fact, fact.run.an):
            continue
        for _, fn in active:
            out.extend(fn(fact, ctx))
    analyzer = getattr(ctx.module_run, "an", None)
    if analyzer is not None:
        for codes, fn in base.MODULE_CHECKS:
            if selected is None or set(codes) & selected:
                out.extend(fn(analyzer, ctx))
    return _one_per_misuse(out)


def _one_per_misuse(findings: List[Finding]) -> List[Finding]:
    """One finding per rule, node and message variant: a spec built on several paths (or by a helper
    run from two model_fns) is one misuse.  When the copies differ only in `when` (the modes the
    spec is known to be built in), the unqualified one is kept: the spec is not built only then."""
    kept: dict = {}
    order: List[tuple] = []
    for f in findings:
        when = f.params.get("when")
        qualifier = isinstance(when, str) and (when == "" or when.startswith(" ("))  # common.when_built
        key = (f.code, id(f.at), f.variant, f.replacement,
               tuple(sorted((k, repr(v)) for k, v in f.params.items()
                            if (k != "when" or not qualifier) and k not in _PATH_QUALIFIERS)))
        if key not in kept:
            kept[key] = f
            order.append(key)
            continue
        params = dict(kept[key].params)
        if params.get("when") != when:
            params["when"] = ""
        for k, general in _PATH_QUALIFIERS.items():
            if k in params and params[k] != f.params.get(k):
                params[k] = general
        if params != kept[key].params:
            kept[key] = Finding(f.code, f.at, f.variant, params, f.replacement, kept[key].fix)
    return [kept[k] for k in order]


# Parameters that describe the path a copy was found on, and their wording for all paths.
_PATH_QUALIFIERS = {"off_tpu": "when not on TPU"}
