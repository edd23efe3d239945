"""What a static check module imports: the registries (`@check`, `@module_check`), the context a
check receives (`CheckContext`: target and TPU targeting).

A check reads the facts the analysis produced (spec constructions, the module's fact log, host
function and scaffold_fn runs) and yields `speclint.finding.Finding`s; it never prints, never runs
the interpreter and never walks the tree itself (syntactic questions go to `static/syntax.py`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

from speclint.static.targeting import Targeting


@dataclass
class CheckContext:
    target: str  # "auto" | "tpu" | "cpu"
    module_run: object  # the module-level FunctionRun
    _targeting: object = field(default=None, repr=False)
    cache: dict = field(default_factory=dict, repr=False)  # per-module memo for checks

    @property
    def targeting(self):
        if self._targeting is None:
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


CHECKS: List[tuple] = []


def check(*codes: str):
    """Register a check function `fn(fact, ctx) -> Iterable[Finding]` for these rule codes."""
    def deco(fn):
        CHECKS.append((codes, fn))
        return fn
    return deco


MODULE_CHECKS: List[tuple] = []


def module_check(*codes: str):
    """Register a check `fn(analyzer, ctx) -> Iterable[Finding]` run once per module, for rules
    about a model_fn as a whole (its returns, the calls it makes) rather than one spec."""
    def deco(fn):
        MODULE_CHECKS.append((codes, fn))
        return fn
    return deco
