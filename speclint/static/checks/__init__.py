"""Rule checks over the facts the analyzer recorded.  A check never prints and never walks the
tree: it reads SpecFacts and returns Findings (code, node, message variant, parameters)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import libcst as cst


@dataclass
class Finding:
    code: str
    node: cst.CSTNode
    variant: str = "default"
    params: Dict[str, object] = field(default_factory=dict)
    replacement: Optional[str] = None  # a safe fix: the text that replaces `node`


@dataclass
class CheckContext:
    target: str  # "auto" | "tpu" | "cpu"
    module_run: object  # the module-level FunctionRun

    def on_tpu(self, fact) -> bool:
        """Whether TPU-only rules apply to this spec construction."""
        if self.target == "cpu" or fact.converted:
            return False
        if self.target == "tpu":
            return True
        return fact.tpu is not False


_CHECKS: List[tuple] = []


def check(*codes: str):
    """Register a check function `fn(fact, ctx) -> Iterable[Finding]` for these rule codes."""
    def deco(fn):
        _CHECKS.append((codes, fn))
        return fn
    return deco


def registered_codes() -> set:
    _load()
    return {c for codes, _ in _CHECKS for c in codes}


def _load() -> None:
    from speclint.static.checks import fields, host_calls, scaffold  # noqa: F401


def run(facts, ctx: CheckContext, selected: Optional[set] = None) -> List[Finding]:
    _load()
    out: List[Finding] = []
    active = [(codes, fn) for codes, fn in _CHECKS if selected is None or set(codes) & selected]
    for fact in facts:
        for _, fn in active:
            out.extend(fn(fact, ctx))
    return out


def source(node: cst.CSTNode) -> str:
    text = " ".join(cst.Module([]).code_for_node(node).split())
    return text if len(text) <= 60 else text[:57] + "..."
