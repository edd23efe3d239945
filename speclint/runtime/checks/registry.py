"""The two registries of runtime checks.  Two phases:

- construction checks `fn(construction, call, tf)`: the raw arguments of a spec constructor, before
  TF validates them (so the shim reports what TF would reject, and what TF silently accepts, with
  the user's line);
- return checks `fn(result, construction, call, tf)`: the spec a model_fn returned, with the call's
  mode and params, the graph it built, and scratch-graph probes of its host functions.

A check returns `Iterable[Finding]`; it never prints and never raises into the user's job (an
exception inside a check becomes a SpecLintWarning and the other checks still run).
"""
from __future__ import annotations

from typing import List

CONSTRUCTION: List[tuple] = []  # (codes, fn) in registration order
RETURN: List[tuple] = []
CONSTRUCTOR: List[tuple] = []  # fn(kind, given, tf): an estimator's constructor arguments


def construction_check(*codes):
    def deco(fn):
        CONSTRUCTION.append((codes, fn))
        return fn
    return deco


def return_check(*codes):
    def deco(fn):
        RETURN.append((codes, fn))
        return fn
    return deco


def constructor_check(*codes):
    def deco(fn):
        CONSTRUCTOR.append((codes, fn))
        return fn
    return deco


# Rules checked outside the two registries: SL014 when TF calls scaffold_fn (scaffold.py), SL040
# when an estimator is constructed (pairing.py), SL041 when the model_fn raises (explain.py),
# SL029 when Estimator's export builds the signatures (export.py), SL046 when the model_fn raises
# and SL047 when a Keras application is built (tpu_api.py).
OTHER_CODES = frozenset(("SL014", "SL029", "SL040", "SL041", "SL046", "SL047"))
