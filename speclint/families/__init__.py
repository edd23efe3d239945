"""Rule decisions shared by both engines, one module per rule family (issue 15).

A family function is pure: it takes neutral facts (names, counts, kinds of value, texts an engine
already has such as a source snippet) and returns `(variant, params)` -- the message variant of the
rule's TOML `[messages]` table and its parameters -- or None when there is nothing to report.  The
engine that calls it decides only what is certain about the value and where the finding points;
it never words a message.

    host_calls.py   SL001-SL007  eval_metrics / host_call form, arguments, tensors
    metrics.py      SL008-SL012, SL027, SL042  metric dicts
    fields.py       SL018-SL032  field contracts of both spec classes
    model_fn.py     SL036-SL041, SL044  the model_fn's mode handling and signature

Texts both engines use and TF does not dictate (e.g. SL004's and SL030's fix sentences) are named
texts of the rule's `[messages]` table (`fix_*`), read with `rule_text`.
"""
from __future__ import annotations

from speclint import rulebook


def rule_text(code: str, name: str) -> str:
    """A named text of a rule's `[messages]` table (no parameters)."""
    return rulebook.load()[code].message(name)
