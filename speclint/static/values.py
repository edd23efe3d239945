"""Abstract values for names inside a function.

A value says what an expression is known to be: a Tensor with a known shape class, a Variable, an
Operation, a Scaffold, a spec, a callable resolved to its definition, a container of values, a
Python constant, the model_fn's mode, or Unknown.  Unknown never produces a diagnostic.
Containers remember the expression node of each element, so a check can point at the element
even when the container was built in a variable first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, FrozenSet, Optional, Tuple

import libcst as cst

# Tensor shape classes.
SCALAR = "scalar"  # rank 0
ONE = "one"  # exactly one element of rank 1 (the `tf.reshape(x, [1])` batch-1 idiom)
BATCH = "batch"  # rank >= 1 with the batch as dimension 0 (per-example values)
GE1 = "ge1"  # rank >= 1, dimension 0 unknown
UNKNOWN_SHAPE = "unknown"
# Dimension 0 is certainly not the batch: a batch-major tensor reduced over dimension 0 (which may
# leave rank 0).  Not ranked: the rank itself is not certain.  (Same name and meaning as the
# host-call family's class for SL006; SL025 reports it in predictions.)
NOT_BATCH = "not_batch"
# (field contracts) rank >= 1 with a dimension 0 unknown until run time: `tf.boolean_mask`, `tf.where(c)`
DYNAMIC = "dynamic"
_RANKED = (ONE, BATCH, GE1)


class Value:
    __slots__ = ()

    def describe(self) -> str:
        return "a value"


@dataclass(frozen=True)
class Unknown(Value):
    def describe(self) -> str:
        return "an unknown value"


UNKNOWN = Unknown()


@dataclass(frozen=True)
class Derived(Unknown):
    """Unknown, except that it was computed from the model's tensors (a call speclint cannot see
    into, given `features`, `labels` or another model tensor; an attribute, item or unpacked part
    of such a value).  It may be a tensor, a structure of tensors or an object holding them: the
    capture rules (a host function, scaffold_fn or hook reading it) treat it as a model tensor;
    every other rule sees an unknown value."""

    def describe(self) -> str:
        return "a value computed from the model's tensors"


DERIVED = Derived()


@dataclass(frozen=True)
class Const(Value):
    value: Any

    def describe(self) -> str:
        if self.value is None:
            return "None"
        if isinstance(self.value, bool):
            return "a bool"
        if isinstance(self.value, (int, float)):
            return f"the number {self.value!r}"
        if isinstance(self.value, str):
            return "a string"
        return "a constant"


NONE = Const(None)


@dataclass(frozen=True)
class PyValue(Value):
    """A Python configuration value of unknown content (`FLAGS.x`, `params["x"]`): never a tensor."""

    def describe(self) -> str:
        return "a Python value"


@dataclass(frozen=True)
class BatchSize(PyValue):
    """`params["batch_size"]` of a model_fn: under TPUEstimator the per-core batch size (SL042)."""

    def describe(self) -> str:
        return "the per-core batch size"


@dataclass(frozen=True)
class KerasMetric(Value):
    """A `tf.keras.metrics.*` object (its call and `.result()` give tensors)."""

    def describe(self) -> str:
        return "a Keras metric object"


@dataclass(frozen=True)
class Config(Value):
    """A configuration object whose items are Python values: absl `FLAGS`, the model_fn's `params`."""

    def describe(self) -> str:
        return "a configuration object"


@dataclass(frozen=True)
class Tensor(Value):
    shape: str = UNKNOWN_SHAPE
    variable: bool = False  # a tf.Variable (global step, get_variable): fine to capture
    dtype: Optional[str] = None  # "float32", "bfloat16", "int64", "string"...: only when certain

    def describe(self) -> str:
        what = "a variable" if self.variable else "a tensor"
        if self.shape == SCALAR:
            return f"a scalar {what[2:]}" if self.variable else "a scalar tensor"
        return what


@dataclass(frozen=True)
class Operation(Value):
    # For `opt.minimize(...)` / `opt.apply_gradients(...)` on an identified optimizer: whether the op
    # increments the global step (None: not known).  `node` is the call, `kind` the optimizer's.
    step: Optional[bool] = None
    kind: Optional[str] = field(default=None, compare=False)
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        return "an operation"


# --- field contracts (SL021-SL032) ------------------------------------------------------------
# (optimizers, hooks and Keras callbacks are `Object`s of the pairing family's section)
@dataclass(frozen=True)
class ExportOutput(Value):
    """`tf.estimator.export.{Predict,Classification,Regression}Output(...)`.  `problems` holds
    (variant, dtype, argument node) for arguments of a certainly wrong dtype."""

    kind: str
    problems: tuple = field(default=(), compare=False, repr=False)

    def describe(self) -> str:
        return f"a {self.kind}"


@dataclass(frozen=True)
class Scaffold(Value):
    def describe(self) -> str:
        return "a Scaffold instance"


@dataclass(frozen=True)
class Spec(Value):
    cls: str
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        return f"a {self.cls}"


@dataclass(frozen=True)
class Mode(Value):
    """The model_fn's `mode` (modes it may hold here) or a ModeKeys constant."""

    modes: FrozenSet[str]
    exact: bool  # False: we do not know which modes reach here (a helper's own parameter)
    constant: bool = False

    def describe(self) -> str:
        return "the mode"


@dataclass(frozen=True)
class ModeTest(Value):
    """A boolean that is true exactly when the mode is in `modes` (e.g. `mode == TRAIN`)."""

    modes: FrozenSet[str]
    exact: bool


@dataclass(frozen=True)
class Callable(Value):
    """A function value: a def, a lambda, a functools.partial of one, or a known class."""

    node: Optional[cst.CSTNode] = field(repr=False)  # FunctionDef | Lambda, or None for an API class
    name: str
    run: Any = field(default=None, compare=False, repr=False)  # the FunctionRun it was defined in
    bound_positional: int = 0
    bound_keywords: FrozenSet[str] = frozenset()
    drops_first: bool = False  # a method bound to self
    api: Optional[str] = None  # e.g. "Scaffold" for the class tf.train.Scaffold
    decorated: bool = False
    # the object a method is bound to (an Instance): its `self` inside the method
    receiver: Optional["Value"] = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        if self.api:
            return f"the class {self.api}"
        return f"the function `{self.name}`"


@dataclass(frozen=True)
class ClassRef(Value):
    """A class of the linted code (not a hook class): calling it gives an `Instance`.  `fields`:
    a dataclass's or namedtuple's fields in order (None: a plain class, whose `__init__` runs);
    `defaults`: their literal defaults."""

    node: Any = field(repr=False)  # the ClassDef (or the namedtuple(...) call)
    name: str
    run: Any = field(default=None, compare=False, repr=False)  # the FunctionRun it was defined in
    fields: Optional[Tuple[str, ...]] = None
    defaults: Tuple[Tuple[str, Value], ...] = ()
    tuple_like: bool = False  # a namedtuple: also unpacks and indexes like its fields

    def describe(self) -> str:
        return f"the class `{self.name}`"


@dataclass(frozen=True)
class Instance(Value):
    """An object of a class of the linted code: the attributes its constructor sets (a
    dataclass's or namedtuple's fields, `self.x = ...` in `__init__` when only `__init__` writes
    them).  `derived`: built from the model's tensors (an attribute not known is Derived)."""

    cls: ClassRef
    attrs: Tuple[Tuple[str, Value], ...] = ()
    derived: bool = False

    def get(self, name: str) -> Optional[Value]:
        for k, v in self.attrs:
            if k == name:
                return v
        return None

    def with_attr(self, name: str, value: Value) -> "Instance":
        attrs = tuple((k, value if k == name else v) for k, v in self.attrs)
        return Instance(self.cls, attrs, self.derived)

    def describe(self) -> str:
        return f"a `{self.cls.name}` object"


@dataclass(frozen=True)
class Item:
    value: Value
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Seq(Value):
    kind: str  # "tuple" | "list"
    items: Tuple[Item, ...]
    complete: bool = True  # False: starred elements or mutation we could not follow
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)
    element: Optional[Value] = None  # a comprehension's element value (items unknown)

    def describe(self) -> str:
        if not self.complete:
            return f"a {self.kind}"
        return f"a {len(self.items)}-element {self.kind}"


@dataclass(frozen=True)
class DictEntry:
    key: Any  # the literal key (str/int), or None when not a literal
    value: Value
    key_node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Dict(Value):
    entries: Tuple[DictEntry, ...]
    complete: bool = True  # False: non-literal keys, ** splats, updates we could not follow
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        return "a dict"

    def literal_keys(self) -> Optional[list]:
        if not self.complete or any(not isinstance(e.key, str) for e in self.entries):
            return None
        return [e.key for e in self.entries]


@dataclass(frozen=True)
class ApiRef(Value):
    """A reference to a TF module, function or class, by its canonical dotted path."""

    path: str

    def describe(self) -> str:
        return f"`{self.path}`"


@dataclass(frozen=True)
class Union(Value):
    """One of several values, from different paths we could not tell apart."""

    members: FrozenSet[Value]


def _py(v: Value) -> bool:
    return isinstance(v, PyValue) or (isinstance(v, Const) and v.value is not None)


def members(v: Value) -> tuple:
    return tuple(v.members) if isinstance(v, Union) else (v,)


def join(a: Value, b: Value) -> Value:
    if a is b or a == b:
        return a
    if isinstance(a, Derived) or isinstance(b, Derived):
        other = b if isinstance(a, Derived) else a
        if isinstance(other, Derived) or is_model_tensor(other):
            return DERIVED  # computed from the model's tensors on every path
        if other == NONE:
            return Union(frozenset((DERIVED, NONE)))  # an optional value (`x = None` on a path)
        return UNKNOWN
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return UNKNOWN
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        shape = a.shape if a.shape == b.shape else (GE1 if a.shape in _RANKED and b.shape in _RANKED else UNKNOWN_SHAPE)
        return Tensor(shape, a.variable and b.variable, a.dtype if a.dtype == b.dtype else None)
    if isinstance(a, Mode) and isinstance(b, Mode):
        return Mode(a.modes | b.modes, a.exact and b.exact, a.constant and b.constant)
    if _py(a) and _py(b):
        return PyValue()
    if (isinstance(a, Seq) and isinstance(b, Seq) and a.kind == b.kind and a.complete and b.complete
            and len(a.items) == len(b.items)):
        return Seq(a.kind, tuple(Item(join(x.value, y.value), x.node if x.node is y.node else None)
                                 for x, y in zip(a.items, b.items)))
    if isinstance(a, Dict) and isinstance(b, Dict) and a.node is b.node and a.node is not None:
        return _join_dicts(a, b)
    if isinstance(a, Instance) and isinstance(b, Instance) and a.cls == b.cls \
            and [k for k, _ in a.attrs] == [k for k, _ in b.attrs]:
        return Instance(a.cls, tuple((k, join(v, w)) for (k, v), (_, w) in zip(a.attrs, b.attrs)),
                        a.derived or b.derived)
    ms = set(members(a)) | set(members(b))
    if len(ms) > 6:
        return UNKNOWN
    return Union(frozenset(ms))


def _join_dicts(a: "Dict", b: "Dict") -> "Dict":
    """The same dict built differently on two paths (a loop that adds keys, a branch): the
    entries both have, with either value; any other key makes the result incomplete."""
    keys_b = {e.key: e for e in b.entries if e.key is not None}
    entries = []
    for e in a.entries:
        f = keys_b.get(e.key) if e.key is not None else None
        if f is None:
            continue
        entries.append(DictEntry(e.key, join(e.value, f.value), e.key_node if e.key_node is f.key_node else None,
                                 e.node if e.node is f.node else None))
    complete = a.complete and b.complete and len(entries) == len(a.entries) == len(b.entries)
    return Dict(tuple(entries), complete, a.node)


def all_members(v: Value, pred) -> bool:
    """True when every value `v` may be satisfies `pred` (and none is Unknown)."""
    ms = members(v)
    return all(_judged(m) and pred(m) for m in ms)


def _judged(m: Value) -> bool:
    # Unknown is never judged; a Derived value is unknown to every predicate but the capture
    # rules' `is_model_tensor`
    return not isinstance(m, Unknown) or isinstance(m, Derived)


def none_or_all(v: Value, pred) -> bool:
    """True when `v` is None on some paths and satisfies `pred` on every other path.

    The classic latent bug: a field that is None by default and becomes wrong when a flag is
    set (`scaffold_fn = None; if FLAGS.x: scaffold_fn = fn; EstimatorSpec(scaffold=scaffold_fn)`).
    Paths are told apart by mode and by TPU flags before this point, so a None that only reaches
    the construction on other paths never mixes in here.
    """
    ms = [m for m in members(v) if m != NONE]
    return bool(ms) and all(_judged(m) and pred(m) for m in ms)


def is_model_tensor(v: Value) -> bool:
    """A non-variable tensor, a value computed from the model's tensors, or a container holding
    one (what a host fn must not capture)."""
    if isinstance(v, Tensor):
        return not v.variable
    if isinstance(v, Derived):
        return True
    if isinstance(v, Instance) and v.cls.tuple_like:
        return any(is_model_tensor(x) for _, x in v.attrs)
    if isinstance(v, Seq):
        return any(is_model_tensor(i.value) for i in v.items)
    if isinstance(v, Dict):
        return any(is_model_tensor(e.value) for e in v.entries)
    return False


# ---- mode handling / model_fn signature (SL036-SL041, SL044) ------------------------------------
@dataclass(frozen=True)
class Labels(Tensor):
    """The model_fn's `labels` parameter itself: a batch tensor, but None in PREDICT mode."""


@dataclass(frozen=True)
class Params(Config):
    """The model_fn's (or input_fn's) `params` parameter: the dict the Estimator passes."""


@dataclass(frozen=True)
class EstimatorRef(Value):
    """An Estimator/TPUEstimator built in this module: index into the analyzer's estimator facts."""

    index: int
    node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)  # the constructor call

    def describe(self) -> str:
        return "an Estimator"


@dataclass(frozen=True)
class RunSpec(Value):
    """`tf.estimator.TrainSpec(input_fn=...)` / `EvalSpec(...)`: which method runs which input_fn."""

    method: str  # "train" | "evaluate"
    input_fn: Value = field(default=None, compare=False)

    def describe(self) -> str:
        return "a TrainSpec" if self.method == "train" else "an EvalSpec"


# --- pairing family (SL014, SL031, SL043): instances of known TF classes --------------------------
@dataclass(frozen=True)
class Object(Value):
    """An instance of a known TF class that is none of the values above.

    kind: "saver" (tf.compat.v1.train.Saver), "hook" (a SessionRunHook from TF), "optimizer" (a
    tf.compat.v1.train optimizer; `cross_shard` when wrapped in CrossShardOptimizer),
    "keras_optimizer", "keras_callback" (a tf.keras.callbacks.* object: not a hook, SL030).  `captured` holds, for a hook, the model tensors among its arguments.
    """

    kind: str
    cls: str
    cross_shard: bool = False
    captured: Tuple[Item, ...] = ()

    def describe(self) -> str:
        return f"a {self.cls} instance"


@dataclass(frozen=True)
class BoundAsEstimatorSpec(Value):
    """`spec.as_estimator_spec` of a TPUEstimatorSpec, not called."""

    spec_node: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        return "the bound method as_estimator_spec"


@dataclass(frozen=True)
class HookClass(Callable):
    """A class of the linted code that subclasses SessionRunHook; calling it gives a hook."""

    def describe(self) -> str:
        return f"the hook class `{self.name}`"
