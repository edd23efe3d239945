"""Field contracts of both spec classes: SL018, SL019, SL020."""
from __future__ import annotations

from speclint import apis
from speclint.families import fields as F
from speclint.finding import Finding
from speclint.static.checks.base import check
from speclint.static.syntax import source
from speclint.static.checks.common import when_built
from speclint.static.values import BATCH, NONE, Tensor, all_members


@check("SL018")
def keywords(fact, ctx):
    when = when_built(fact)
    intended = [apis.keyword_fix(fact.cls, a.keyword.value)[0] for a in fact.bad_keywords]
    for arg, replacement in zip(fact.bad_keywords, intended):
        kw = arg.keyword.value
        fix = apis.keyword_fix(fact.cls, kw)[1]
        # Renaming a misspelt keyword is a safe fix when the value stays right (not a cross-class
        # mix-up such as scaffold_fn= -> scaffold=) and the new keyword cannot collide.
        safe = (replacement is not None and (fact.cls, kw) not in apis.CROSS_CLASS_FIXES
                and replacement not in fact.fields and not fact.splat
                and intended.count(replacement) == 1)
        yield Finding("SL018", arg.keyword, "unexpected", dict(cls=fact.cls, kw=kw, fix=fix, when=when),
                      replacement=replacement if safe else None)
    if fact.extra_positional:
        yield Finding("SL018", fact.extra_positional[0].value, "too_many_positional", dict(
            cls=fact.cls, max=len(apis.SPEC_FIELDS[fact.cls]), max1=len(apis.SPEC_FIELDS[fact.cls]) + 1,
            n=len(apis.SPEC_FIELDS[fact.cls]) + len(fact.extra_positional), when=when))
    for arg in fact.duplicates:
        yield Finding("SL018", arg.keyword, "duplicate", dict(cls=fact.cls, kw=arg.keyword.value, when=when))


@check("SL019")
def required_fields(fact, ctx):
    modes = fact.reaching_modes()
    if not modes or fact.splat:
        return
    intended = {apis.keyword_fix(fact.cls, a.keyword.value)[0] for a in fact.bad_keywords}
    none = [n for n, fa in fact.fields.items() if all_members(fa.value, lambda m: m == NONE)]
    for mode in sorted(modes):
        if mode == apis.PREDICT and not _predict_intended(fact):
            continue
        decision = F.required_field(fact.cls, mode, given=fact.fields, none=none, intended=intended)
        if decision is not None:
            yield Finding("SL019", fact.node, *decision)


def _predict_intended(fact) -> bool:
    """Whether the model_fn is meant to serve PREDICT at all: a train/eval-only model_fn (one that
    never names PREDICT and exports nothing) fails only if someone calls predict(), with TF's own
    clear "Missing predictions." -- not a certain bug, so not reported."""
    v = fact.fields["mode"].value if "mode" in fact.fields else None
    return (getattr(v, "constant", False) or apis.PREDICT in fact.root.modes_named
            or "export_outputs" in fact.fields)


@check("SL020")
def scalar_loss(fact, ctx):
    fa = fact.fields.get("loss")
    if fa is not None and all_members(fa.value, lambda m: isinstance(m, Tensor) and m.shape == BATCH):
        yield Finding("SL020", fa.node, "default", dict(expr=source(fa.node)))
