"""TPU targeting: where a model_fn (and each spec or call in it) runs.

`CheckContext.on_tpu` asks this module.  The answer combines:
- the target the user set (`--target` / `[tool.speclint] target`): "cpu" (nothing runs on TPU),
  "tpu" (every model_fn runs on TPU), or "auto";
- in "auto", the estimators the model_fn is given to in the linted module: only plain
  `tf.estimator.Estimator`s, or only `TPUEstimator(use_tpu=False)`, means CPU;
  `TPUEstimator(eval_on_tpu=False)` means EVAL runs on CPU; a TPUEstimator whose `use_tpu` is not a
  literal False means TPU; with no estimator in sight, a model_fn that returns a TPUEstimatorSpec
  (not converted with `as_estimator_spec()`) is taken to be meant for TPUEstimator (a plain
  Estimator would reject it);
- the path: a spec or call under a CPU-only guard (`if not use_tpu:`, `else:` of
  `if params["use_tpu"]:`, a `use_tpu=False` passed down) never runs on TPU, nor does a
  TPUEstimatorSpec converted with `.as_estimator_spec()`.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Optional

import libcst as cst

from speclint import apis
from speclint.static.facts import EstimatorCalled, PairingCall
from speclint.static.values import Callable, Const, Spec, members

_NONE: FrozenSet[str] = frozenset()


def _is_false(v) -> bool:
    return isinstance(v, Const) and v.value is False


class Targeting:
    """Per-module answers, cached per model_fn run."""

    def __init__(self, analyzer, target: str):
        self.an = analyzer
        self.target = target
        self._root_modes: Dict[tuple, Optional[FrozenSet[str]]] = {}

    # ---- per model_fn -------------------------------------------------------------------------
    def estimators_of(self, root) -> list:
        """The EstimatorFacts of this module that receive the function `root` runs."""
        node = getattr(root, "node", None)
        if not isinstance(node, cst.FunctionDef) or self.an is None:
            return []
        out = []
        for fact in self.an.estimator_facts:
            if any(isinstance(m, Callable) and m.node is node for m in members(fact.model_fn)):
                out.append(fact)
        return out

    @staticmethod
    def returns_tpu_spec(root) -> bool:
        """The function returns a TPUEstimatorSpec (not converted) on some path."""
        return any(isinstance(m, Spec) and m.cls == apis.TPU_ESTIMATOR_SPEC
                   for v, _, _ in getattr(root, "returns", ()) for m in members(v))

    def has_tpu_path(self, root) -> bool:
        """Some spec or recorded call of the function runs under a true TPU flag (`if use_tpu:`):
        its author expects it to run on TPU."""
        if self.an is None:
            return False
        return any(f.root is root and f.tpu is True for f in list(self.an.spec_facts) + list(self.an.log.of(PairingCall)))

    def root_tpu_modes(self, root, strict: bool = False) -> Optional[FrozenSet[str]]:
        """Modes in which the model_fn of `root` may run on TPU ("auto" target); None when there
        is no evidence either way.  Without an estimator in sight, the evidence is a returned
        TPUEstimatorSpec; `strict` asks for a TPU-flag branch (`if use_tpu:`) as well, for rules
        about code that is not TPU-specific by itself (optimizers, hooks, checkpoint loading),
        since TPUEstimatorSpec is also used with TPUEstimator(use_tpu=False) on CPU/GPU."""
        key = (id(root), strict)
        if key in self._root_modes:
            return self._root_modes[key]
        result = self._compute(root, strict)
        self._root_modes[key] = result
        return result

    def export_only_predict(self, root) -> bool:
        """Every TPUEstimator that receives the model_fn has export_to_tpu=False: the idiom of
        models (tensorflow/tpu ResNet) whose PREDICT mode only serves a CPU export."""
        facts = [f for f in self.estimators_of(root) if f.kind == apis.TPU_ESTIMATOR]
        if not facts:
            return False
        if all(_is_false(f.kwargs.get("export_to_tpu")) for f in facts):
            return True
        # Older tensorflow/tpu ResNet (before export_to_tpu existed): the local estimator is
        # trained, evaluated and exported, never predict()ed.  Exporting accepts a plain
        # EstimatorSpec also for the TPU graph (model_fn_inference_on_tpu reads its fields).
        calls = self.an.log.of(EstimatorCalled)
        nodes = {id(f.node) for f in facts}
        est = self.an.estimator_facts
        called = {id(est[c.index].node) for c in calls if not c.export and c.method == "predict"}
        exported = {id(est[c.index].node) for c in calls if c.export}
        return not (nodes & called) and nodes <= exported

    def _compute(self, root, strict: bool) -> Optional[FrozenSet[str]]:
        ctx = getattr(root, "ctx", None)
        facts = self.estimators_of(root)
        tpu_facts = [f for f in facts if f.kind == apis.TPU_ESTIMATOR]
        if tpu_facts:
            modes = set()
            for f in tpu_facts:
                if _is_false(f.kwargs.get("use_tpu")):
                    continue
                fm = set(apis.ALL_MODES)
                if _is_false(f.kwargs.get("eval_on_tpu")):
                    fm.discard(apis.EVAL)
                modes |= fm
            return frozenset(modes)
        if ctx is not None and ctx.tpu_estimator:  # given to a TPUEstimator we cannot see
            return apis.ALL_MODES
        if facts or (ctx is not None and ctx.plain_estimator):
            return _NONE  # only plain Estimators
        if self.returns_tpu_spec(root) and (not strict or self.has_tpu_path(root)):
            return self._unresolved_estimator_modes()
        return None

    def _unresolved_estimator_modes(self) -> FrozenSet[str]:
        """TPU modes for a model_fn no estimator in sight receives: all of them, except EVAL when
        every TPUEstimator of the module whose model_fn speclint cannot resolve has
        `eval_on_tpu=False` (the OD API passes `model_fn_creator(...)` to
        `TPUEstimator(..., eval_on_tpu=False)` and returns a plain EstimatorSpec in EVAL)."""
        unresolved = [f for f in getattr(self.an, "estimator_facts", ())
                      if f.kind == apis.TPU_ESTIMATOR
                      and not any(isinstance(m, Callable) for m in members(f.model_fn))]
        if unresolved and all(_is_false(f.kwargs.get("eval_on_tpu")) for f in unresolved):
            return apis.ALL_MODES - {apis.EVAL}
        return apis.ALL_MODES

    def plain_only(self, root) -> bool:
        """The model_fn is given to plain Estimators only (in the linted module)."""
        ctx = getattr(root, "ctx", None)
        if ctx is None or ctx.tpu_estimator or not ctx.plain_estimator:
            return False
        return not any(f.kind == apis.TPU_ESTIMATOR for f in self.estimators_of(root))

    # ---- per spec construction or call --------------------------------------------------------
    def tpu_modes(self, fact, strict: bool = False) -> FrozenSet[str]:
        """The modes in which this spec construction (or call) runs on TPU."""
        if self.target == "cpu" or getattr(fact, "converted", False) or fact.tpu is False:
            return _NONE
        if self.target == "tpu":
            return fact.modes
        modes = self.root_tpu_modes(fact.root, strict)
        if modes is None:
            return _NONE
        return fact.modes & modes

    def off_tpu(self, fact) -> bool:
        """This spec construction (or call) certainly never runs on TPU."""
        if fact.tpu is False or getattr(fact, "converted", False):
            return True
        if fact.tpu is True:
            return False
        if self.target == "cpu":
            return True
        if self.target == "tpu":
            return False
        return self.root_tpu_modes(fact.root) == _NONE
