"""The fact log: what the abstract interpreter saw happen, as typed, frozen records.

Every fact has one `Site`: the node, the function run it happened in (`run.root` is the model_fn
or standalone function being analysed, `run.mod` the analyzer of the module the code is written
in), and the path state (the modes it can run in, whether that set is exact, the TPU flag of the
path: True on a TPU branch, False on a CPU-only branch, None when unknown).  Facts are recorded
through `FactLog.emit` only, which is the one replay guard: while the analysis re-runs a function
body for a question of its own (a scaffold_fn's returns, a host function's calls) nothing reaches
the log, except into an open `window()`, which collects exactly the facts of that re-run.

The interpreter never reads facts; the semantics layer (`semantics.py`) emits them and the checks
query them with `of(FactType)`.  Facts hold abstract values (`values.py`) and libcst nodes; they
import nothing of the interpreter.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Tuple

import libcst as cst

from speclint import apis


@dataclass(frozen=True)
class Site:
    node: cst.CSTNode
    run: Any  # the FunctionRun the fact happened in
    modes: FrozenSet[str]
    exact: bool
    tpu: Optional[bool]

    @staticmethod
    def of(node, run, state) -> "Site":
        return Site(node, run, state.modes, state.exact, state.tpu)


class Fact:
    """A fact at a site; `node`, `run`, `root`, `mod`, `modes`, `exact` and `tpu` read the site."""

    site: Site

    @property
    def node(self):
        return self.site.node

    @property
    def run(self):
        return self.site.run

    @property
    def root(self):
        return self.site.run.root

    @property
    def mod(self):
        return self.site.run.mod

    @property
    def modes(self) -> FrozenSet[str]:
        return self.site.modes

    @property
    def exact(self) -> bool:
        return self.site.exact

    @property
    def tpu(self) -> Optional[bool]:
        return self.site.tpu

    converted = False  # (targeting reads it of spec constructions too: a call is never converted)


# ---- calls ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ApiCalled(Fact):
    """A call of a TF API (`path` as imported) or of the builtin `range`."""

    site: Site
    path: str
    args: Tuple[Tuple[Any, Any], ...]  # (value, node) of each positional argument
    kwargs: Dict[str, Tuple[Any, Any]]

    @property
    def canonical(self) -> str:
        return apis.canonical_path(self.path)


@dataclass(frozen=True, eq=False)
class PairingCall(Fact):
    """A call the spec/estimator pairing rules watch (SL016, SL017, SL035, SL043): `kind` is
    init_from_checkpoint, CrossShardOptimizer (`receiver`: the wrapped optimizer),
    cross_replica_sum, minimize (`receiver`: the optimizer) or _replace (`receiver`: the spec,
    `keywords`: name -> (value, value node, arg))."""

    site: Site
    kind: str
    receiver: Any
    keywords: Dict[str, tuple] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class StepAdvanced(Fact):
    """The run may advance the global step (an assign, `global_step=` given to minimize)."""

    site: Site


@dataclass(frozen=True, eq=False)
class GlobalTensorUsed(Fact):
    """A model_fn uses a tensor made outside it: a module-level one, or one its object set in
    `__init__` (SL032)."""

    site: Site


@dataclass(frozen=True, eq=False)
class TensorMade(Fact):
    """A call made a tensor that is certainly not batch-major (`value`), so SL006 can name the
    call when the tensor reaches a host call through a variable."""

    site: Site
    value: Any
    canonical: str


@dataclass(frozen=True, eq=False)
class SummariesCleared(Fact):
    """The module clears the summaries collection (tensor2tensor's `remove_summaries()`)."""

    site: Site


# ---- modes, labels, params, estimators (SL036-SL041, SL044) ---------------------------------------
@dataclass(frozen=True, eq=False)
class ModeCompared(Fact):
    """The model_fn's mode compared with a string that is no mode value (SL037); `site.node` is
    the string literal."""

    site: Site
    value: str
    op: str  # "==", "!=", "in", "not in"
    test: cst.CSTNode

    @property
    def literal(self):
        return self.site.node


@dataclass(frozen=True, eq=False)
class ModeKeysAttribute(Fact):
    """`<...>.ModeKeys.<NAME>` with a name ModeKeys does not have (seen by the pre-pass)."""

    site: Site


@dataclass(frozen=True, eq=False)
class LabelsUsed(Fact):
    site: Site


@dataclass(frozen=True, eq=False)
class ParamRead(Fact):
    """`params[key]` read in a model_fn or input_fn (today: "batch_size", SL041)."""

    site: Site
    key: str


@dataclass(frozen=True, eq=False)
class EstimatorCalled(Fact):
    """`est.train/evaluate/predict(input_fn=...)` (or `train_and_evaluate`), and
    `est.export_saved_model(...)` (`export`), on an Estimator built in this module."""

    site: Site
    index: int  # into analyzer.estimator_facts
    method: str
    input_fn: Any
    export: bool = False


@dataclass(frozen=True, eq=False)
class Batched(Fact):
    """`ds.batch(...)` / `padded_batch` / `map_and_batch(...)` and its `drop_remainder` value
    (None: not given)."""

    site: Site
    drop: Any


# ---- the log --------------------------------------------------------------------------------------
class FactLog:
    def __init__(self) -> None:
        self._by_type: Dict[type, List[Fact]] = {}
        self._window: Optional[List[Fact]] = None
        self.replaying = False

    def emit(self, fact: Fact) -> None:
        if self._window is not None:
            self._window.append(fact)
        elif not self.replaying:
            self._by_type.setdefault(type(fact), []).append(fact)

    def of(self, *types: type) -> List[Fact]:
        """The facts of these types, each type in the order recorded."""
        if len(types) == 1:
            return self._by_type.get(types[0], [])
        return [f for t in types for f in self._by_type.get(t, [])]

    def drop(self, fact_type: type) -> None:
        """Forget the facts of one type (the module body's pairing calls belong to no model_fn)."""
        self._by_type.pop(fact_type, None)

    @property
    def recording(self) -> bool:
        return not self.replaying

    @property
    def observing(self) -> bool:
        return self._window is not None

    @contextmanager
    def replay(self) -> Iterator[None]:
        replaying, self.replaying = self.replaying, True
        try:
            yield
        finally:
            self.replaying = replaying

    @contextmanager
    def window(self) -> Iterator[List[Fact]]:
        """Collect every fact emitted inside the block (and keep them out of the log)."""
        saved, self._window = self._window, []
        try:
            yield self._window
        finally:
            self._window = saved
