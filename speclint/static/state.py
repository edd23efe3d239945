"""The interpreter's path state and the records of what it builds.

A `State` holds the abstract value of each name on one path, the modes that can reach it, whether
that set is exact (the model_fn's own `mode`), facts about flag-like conditions and the path's TPU
flag; `merge` joins states that agree on those.  `SpecFact` / `EstimatorFact` are the spec and
Estimator constructions a run saw; `ModelFnContext` what is known of the estimator a model_fn is
given to.  Nothing here runs code or records facts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional, Protocol, Tuple

import libcst as cst

from speclint import apis
from speclint.static.facts import FactLog
from speclint.static.imports import ImportTable
from speclint.static.values import UNKNOWN, Const, Mode, Value, join

MAX_STATES = 24
_COMPARISONS = ("==", "!=", "<", ">", " is ", " in ")


def is_tpu_flag_text(text: str) -> bool:
    """A condition on a TPU flag (`if FLAGS.use_tpu:`, `params["use_tpu"]`, `self._on_tpu`)."""
    text = text.lower()
    return any(w in text for w in apis.TPU_FLAG_WORDS)


class Analysis(Protocol):
    """What a FunctionRun needs of the module analysis it runs in (`analyzer.ModuleAnalyzer`).
    A run's `an` is the analysis that records (the model_fn's module); its `mod` is the analysis
    of the module that defines the code being run (its imports, classes, module-level names)."""

    imports: ImportTable
    log: FactLog  # where the semantics layer records facts
    spec_facts: list  # SpecFact, in construction order
    estimator_facts: list  # EstimatorFact; an EstimatorRef's index points into it
    active: set  # defs being executed (recursion guard)
    call_cache: dict  # (def, arguments, path state) -> return value
    call_budget: dict  # root run -> helper calls still allowed

    def api_value(self, full: str) -> Value: ...  # a dotted name that resolves through the imports

    def method(self, cls: cst.ClassDef, name: str): ...  # a class's method as a Callable

    def instance_attr(self, cls, attr: str) -> Optional[Value]: ...  # what __init__ gives self.attr

    def repeated_conditions(self, fn) -> frozenset: ...  # conditions tested more than once in fn

    def class_of_method(self, fn) -> Optional[cst.ClassDef]: ...


class State:
    __slots__ = ("env", "modes", "exact", "facts", "tpu")

    def __init__(self, env, modes, exact, facts=None, tpu=None):
        self.env: Dict[str, Value] = env
        self.modes: FrozenSet[str] = modes
        self.exact: bool = exact
        self.facts: Dict[str, Tuple[bool, FrozenSet[str]]] = facts if facts is not None else {}
        self.tpu: Optional[bool] = tpu

    def copy(self) -> "State":
        return State(dict(self.env), self.modes, self.exact, dict(self.facts), self.tpu)

    def bind(self, name: str, value: Value) -> None:
        self.env[name] = value
        if self.facts:
            stale = [k for k, (_, names) in self.facts.items() if name in names]
            for k in stale:
                del self.facts[k]

    def tpu_condition(self) -> Optional[str]:
        """The flag test that decided this path's TPU flag (`FLAGS.use_tpu`), when one did."""
        if self.tpu is None:
            return None
        found = [text for text, (value, _) in self.facts.items()
                 if value == self.tpu and is_tpu_flag_text(text)
                 and not any(op in text for op in _COMPARISONS)]
        return found[-1] if found else None  # the latest test: the branch this code is on

    def key(self):
        # A name rebound from the model_fn's mode to a string (`mode = "score"`, mesh
        # tensorflow) keeps its states apart, so later `mode == ...` tests stay decidable.
        rebound = frozenset(n for n, v in self.env.items() if isinstance(v, Const) and isinstance(
            v.value, str) and v.value not in apis.MODE_DISPLAY and n == "mode")
        if not self.facts:
            return (self.modes, self.exact, rebound) if rebound else (self.modes, self.exact)
        return (self.modes, self.exact, frozenset((k, v[0]) for k, v in self.facts.items()), rebound)


def join_states(a: State, b: State, keep_facts: bool = True) -> State:
    env = {}
    for name in a.env.keys() | b.env.keys():
        if name in a.env and name in b.env:
            env[name] = join(a.env[name], b.env[name])
        elif name.startswith("<"):  # the interpreter's own markers: unknown where not set
            env[name] = UNKNOWN
        else:
            # a name bound on one path only: reading it on the other raises NameError
            # (UnboundLocalError), so every use that runs sees the bound value
            env[name] = a.env[name] if name in a.env else b.env[name]
    facts = {k: v for k, v in a.facts.items() if b.facts.get(k) == v} if keep_facts else {}
    tpu = a.tpu if a.tpu == b.tpu else None
    return State(env, a.modes | b.modes, a.exact and b.exact, facts, tpu)


def merge(states: List[State]) -> List[State]:
    if len(states) <= 1:
        return states
    groups: Dict[Any, State] = {}
    for s in states:
        k = s.key()
        groups[k] = join_states(groups[k], s) if k in groups else s
    out = list(groups.values())
    if len(out) > MAX_STATES:
        coarse: Dict[Any, State] = {}
        for s in out:
            k = (s.modes, s.exact)
            coarse[k] = join_states(coarse[k], s) if k in coarse else s
        out = list(coarse.values())
    return out


@dataclass
class FieldArg:
    value: Value
    node: cst.BaseExpression  # the value expression
    arg: cst.Arg  # the whole argument (keyword included)


@dataclass
class ModelFnContext:
    """What is known about the model_fn a run belongs to."""

    name: str
    tpu_estimator: bool = False  # given to a TPUEstimator
    plain_estimator: bool = False  # given to a tf.estimator.Estimator
    estimators: List[Any] = field(default_factory=list)  # the EstimatorFacts it is given to
    invoked: Optional[FrozenSet[str]] = None  # the modes it is called in, when known (else: any)
    # what its estimators are used for when every use is visible ("predict" vs "export": both run
    # PREDICT, only predict() splits the predictions per example)
    uses: Optional[FrozenSet[str]] = None


@dataclass
class SpecFact:
    node: cst.Call
    cls: str
    fields: Dict[str, FieldArg]
    bad_keywords: List[cst.Arg]
    extra_positional: List[cst.Arg]
    duplicates: List[cst.Arg]
    splat: bool
    modes: FrozenSet[str]
    exact: bool
    tpu: Optional[bool]
    env: Dict[str, Value]
    run: Any  # the FunctionRun that built it
    root: Any  # the model_fn (or standalone) run
    converted: bool = False  # `.as_estimator_spec()` called on the construction itself
    tpu_condition: Optional[str] = None  # the flag test that decided `tpu` (`FLAGS.use_tpu`)

    def reaching_modes(self) -> Optional[FrozenSet[str]]:
        """The modes this spec is built in, when certain."""
        fa = self.fields.get("mode")
        if fa is None:
            return None
        v = fa.value
        if isinstance(v, Mode):
            if v.constant:
                return v.modes
            # a model_fn that never looks at its mode (train-only scripts) is not held to the
            # other modes' requirements: only paths of a model_fn that handles modes are checked
            if not (self.exact and v.exact and self.root.mode_tested):
                return None
            return self.modes
        if isinstance(v, Const) and v.value in apis.MODE_DISPLAY:
            return frozenset((v.value,))
        return None


@dataclass
class EstimatorFact:
    node: cst.Call
    kind: str
    model_fn: Value
    kwargs: Dict[str, Value] = field(default_factory=dict)  # e.g. use_tpu, eval_on_tpu
    args: list = field(default_factory=list)  # [(value, node)] positional arguments
    kwarg_nodes: Dict[str, cst.BaseExpression] = field(default_factory=dict)  # keyword -> value node
    splat: bool = False  # `*args` / `**kwargs` in the call
    tpu: Optional[bool] = None  # the TPU flag of the path it is built on (`if FLAGS.use_tpu:`)
    tpu_condition: Optional[str] = None  # the flag test that decided `tpu`, as written
