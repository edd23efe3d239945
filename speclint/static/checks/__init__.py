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
    _targeting: object = field(default=None, repr=False)
    cache: dict = field(default_factory=dict, repr=False)  # per-module memo for checks

    @property
    def targeting(self):
        if self._targeting is None:
            from speclint.static.targeting import Targeting
            self._targeting = Targeting(getattr(self.module_run, "an", None), self.target)
        return self._targeting

    def on_tpu(self, fact) -> bool:
        """Whether TPU-only rules apply to this spec construction (or recorded call): it may run
        on TPU in some mode.  See speclint/static/targeting.py for what decides."""
        return bool(self.targeting.tpu_modes(fact))

    def tpu_modes(self, fact, strict: bool = False) -> frozenset:
        """The modes in which this spec construction (or call) runs on TPU.  `strict`: without an
        estimator in sight, a returned TPUEstimatorSpec is not enough evidence of TPU (rules about
        code that is not TPU-specific by itself: optimizers, hooks, checkpoint loading)."""
        return self.targeting.tpu_modes(fact, strict)

    def off_tpu(self, fact) -> bool:
        """This spec construction (or call) certainly never runs on TPU."""
        return self.targeting.off_tpu(fact)


_CHECKS: List[tuple] = []


def check(*codes: str):
    """Register a check function `fn(fact, ctx) -> Iterable[Finding]` for these rule codes."""
    def deco(fn):
        _CHECKS.append((codes, fn))
        return fn
    return deco


_MODULE_CHECKS: List[tuple] = []


def module_check(*codes: str):
    """Register a check `fn(analyzer, ctx) -> Iterable[Finding]` run once per module, for rules
    about a model_fn as a whole (its returns, the calls it makes) rather than one spec."""
    def deco(fn):
        _MODULE_CHECKS.append((codes, fn))
        return fn
    return deco


def registered_codes() -> set:
    _load()
    return {c for codes, _ in _CHECKS + _MODULE_CHECKS for c in codes}


def _load() -> None:
    from speclint.static.checks import fields, host_calls, scaffold  # noqa: F401
    from speclint.static.checks import metrics  # noqa: F401
    from speclint.static.checks import summaries  # noqa: F401
    from speclint.static.checks import host_fns  # noqa: F401
    from speclint.static.checks import field_contracts  # noqa: F401
    from speclint.static.checks import modes  # noqa: F401
    from speclint.static.checks import pairing  # noqa: F401


def run(facts, ctx: CheckContext, selected: Optional[set] = None) -> List[Finding]:
    _load()
    out: List[Finding] = []
    active = [(codes, fn) for codes, fn in _CHECKS if selected is None or set(codes) & selected]
    for fact in facts:
        for _, fn in active:
            out.extend(fn(fact, ctx))
    analyzer = getattr(ctx.module_run, "an", None)
    if analyzer is not None:
        for codes, fn in _MODULE_CHECKS:
            if selected is None or set(codes) & selected:
                out.extend(fn(analyzer, ctx))
    return out


class _DropComments(cst.CSTTransformer):
    def leave_Comment(self, original, updated):
        return cst.RemoveFromParent()


def source(node: cst.CSTNode) -> str:
    text = cst.Module([]).code_for_node(node)
    if "#" in text:  # a multi-line expression with comments: quote the code only
        text = cst.Module([]).code_for_node(node.visit(_DropComments()))
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."
