"""Library semantics: what the interpreter's events mean for the rules, and what some calls return.

The interpreter (`interpret.py`, `evaluate.py`, `calls.py`) calls the `on_*` functions below at
the few places where something the rules care about happens: a TF API call, a method call, a
subscript, a comparison with the mode, a class statement, a spec construction.  They record typed
facts in the module's `FactLog` (`facts.py`, the one replay guard) and, where stated, return the
value the call evaluates to (`optimizer_value`, `class_value`, `narrow_labels`, `api_call`).
The tables at the top map canonical TF names to the kinds of call the rules watch (TorchFix-style
data tables: adding an API is a line here, not a new hook).  Nothing here reads the log.
"""
from __future__ import annotations

from typing import Iterable, Optional

import libcst as cst

from speclint import apis
from speclint.static.facts import (
    ApiCalled, Batched, EstimatorCalled, GlobalTensorUsed, LabelsUsed, ModeCompared, ModeKeysAttribute,
    PairingCall, ParamRead, Site, StepAdvanced, SummariesCleared, TensorMade,
)
from speclint.static.syntax import literal_value
from speclint.static.values import (
    BATCH, NONE, NOT_BATCH, UNKNOWN, ApiRef, ClassRef, EstimatorRef, HookClass, Labels, Object, Operation, Params,
    RunSpec, Spec, Tensor, Unknown, Value, all_members, members,
)

# ---- tables: canonical TF name -> kind -------------------------------------------------------------
INIT_FROM_CHECKPOINT = "init_from_checkpoint"
CROSS_SHARD = "CrossShardOptimizer"
CROSS_REPLICA_SUM = "cross_replica_sum"
MINIMIZE = "minimize"
REPLACE = "_replace"
PAIRING_APIS = {}
for _p in apis.INIT_FROM_CHECKPOINT_PATHS:
    PAIRING_APIS[_p] = INIT_FROM_CHECKPOINT
for _p in apis.CROSS_SHARD_OPTIMIZER_PATHS:
    PAIRING_APIS[_p] = CROSS_SHARD
for _p in apis.CROSS_REPLICA_SUM_PATHS:
    PAIRING_APIS[_p] = CROSS_REPLICA_SUM

# TF functions that may advance the global step: tf.compat.v1.assign(_add), state_ops.assign(_add),
# and TF's own training_util._increment_global_step (used by canned estimators).
ASSIGN_FUNCTIONS = ("assign", "assign_add", "_increment_global_step")
ASSIGN_METHODS = ("assign", "assign_add")
OPTIMIZER_METHODS = apis.OPTIMIZER_STEP_METHODS
# Object kinds of optimizers -> the kind SL023 reports.
OPTIMIZER_KINDS = {"optimizer": "v1", "keras_optimizer": "keras"}

RUN_SPECS = {"tf.estimator.TrainSpec": "train", "tf.estimator.EvalSpec": "evaluate"}
ESTIMATOR_METHODS = tuple(apis.METHOD_MODE)  # train, evaluate, predict
EXPORT_METHODS = apis.EXPORT_METHODS

# Calls that accept `labels` being None (PREDICT) vs. calls that need a tensor (SL039).
NONE_TOLERANT = ("tf.nest.", "tf.logging.", "tf.estimator.", "tf.contrib.estimator.",
                 "tf.contrib.framework.nest.", "tf.print", "tf.data.", "tf.py_function",
                 "tf.debugging.", "tf.get_logger")
TENSOR_CONSUMERS = ("tf.losses.", "tf.metrics.", "tf.keras.losses.", "tf.keras.metrics.",
                    "tf.nn.", "tf.math.", "tf.summary.", "tf.contrib.metrics.",
                    "tf.contrib.losses.")

LAST_TPU_SPEC = "<last TPUEstimatorSpec>"  # a per-path marker in the model_fn run's state (SL035)


def _emit(run, fact) -> None:
    run.an.log.emit(fact)


def _recording(run) -> bool:
    return run.an.log.recording


# ---- the pre-pass (module text, before any run; its facts belong to no run) -----------------------------
def prepass_call(log, node: cst.Call) -> None:
    """Every call of the module: tensor2tensor's `remove_summaries()`, `get_collection_ref(
    tf.GraphKeys.SUMMARIES)` and `clear_collection`."""
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    cleared = False
    if name == "remove_summaries":
        cleared = True
    elif name in _CLEARING and node.args:
        key = node.args[0].value
        if isinstance(key, cst.Name) or (isinstance(key, cst.Attribute) and key.attr.value == "SUMMARIES") \
                or (isinstance(key, cst.SimpleString) and "summaries" in key.value):
            cleared = True
    if cleared:
        log.emit(SummariesCleared(Site(node, None, apis.ALL_MODES, False, None)))


_CLEARING = frozenset(("remove_summaries", "get_collection_ref", "clear_collection"))


def prepass_needs_body(called: frozenset, attributes: frozenset) -> bool:
    """Whether the pre-pass could record a fact inside a function body that calls `called` and
    reads `attributes` ((holder's last name, attribute) pairs): such a body is walked, not
    summarised (`lazydefs.py`).  The conditions of `prepass_call` and `prepass_attribute`."""
    return bool(called & _CLEARING) or any(
        holder == "ModeKeys" and not attr.startswith("_") and attr not in apis.MODE_CONSTANTS
        for holder, attr in attributes)


def prepass_attribute(log, node: cst.Attribute) -> None:
    """`<...>.ModeKeys.<NAME>` with a name ModeKeys does not have (SL037)."""
    attr = node.attr.value
    if attr.startswith("_") or attr in apis.MODE_CONSTANTS:
        return
    base = node.value
    last = base.attr.value if isinstance(base, cst.Attribute) else base.value if isinstance(base, cst.Name) else None
    if last == "ModeKeys":
        log.emit(ModeKeysAttribute(Site(node, None, apis.ALL_MODES, False, None)))


# ---- TF API calls ----------------------------------------------------------------------------------
def tf_call(run, path: str, node: cst.Call, s) -> None:
    """Any call of the TF function `path` but estimator constructors and `partial` (before its
    value is known): assigns, and module-level tensors passed to it."""
    canon = apis.canonical_path(path)
    if canon.rsplit(".", 1)[-1] in ASSIGN_FUNCTIONS:
        step_advanced(run, node, s)
    if canon.startswith("tf."):
        module_tensor_uses(run, [a.value for a in node.args], s)


def api_called(run, path: str, node: cst.Call, args, kwargs, s) -> None:
    """A call of a TF API (or `range`), splatted arguments included."""
    _emit(run, ApiCalled(Site.of(node, run, s), path, tuple(args), dict(kwargs)))


def api_call(run, node: cst.Call, path: str, args, kwargs, result: Value, s) -> Optional[Value]:
    """A call of a TF function with known arguments, after its value (`result`) is known.
    Returns a value to use instead of `result`, or None."""
    canon = apis.canonical_path(path)
    kind = PAIRING_APIS.get(canon)
    if kind is not None:
        receiver = UNKNOWN
        if kind == CROSS_SHARD:
            a = kwargs.get("opt") or (args[0] if args else None)
            receiver = a[0] if a else UNKNOWN
        _emit(run, PairingCall(Site.of(node, run, s), kind, receiver))
    if isinstance(result, Tensor) and result.shape == NOT_BATCH:
        _emit(run, TensorMade(Site.of(node, run, s), result, canon))
    if not _recording(run):
        return RunSpec(RUN_SPECS[canon], UNKNOWN) if canon in RUN_SPECS else None
    if canon in RUN_SPECS:
        fn = kwargs.get("input_fn") or (args[0] if args else None)
        return RunSpec(RUN_SPECS[canon], fn[0] if fn else UNKNOWN)
    if canon == "tf.estimator.train_and_evaluate":
        est = kwargs.get("estimator") or (args[0] if args else None)
        specs = [kwargs.get("train_spec") or (args[1] if len(args) > 1 else None),
                 kwargs.get("eval_spec") or (args[2] if len(args) > 2 else None)]
        if est is not None and isinstance(est[0], EstimatorRef) and _live(run.an, est[0]):
            for spec in specs:
                if spec is not None and isinstance(spec[0], RunSpec):
                    _emit(run, EstimatorCalled(Site(node, run, s.modes, s.exact, None), est[0].index,
                                               spec[0].method, spec[0].input_fn))
        return None
    if canon.endswith(".map_and_batch") and canon.startswith(("tf.data.", "tf.contrib.data.")):
        drop = kwargs.get("drop_remainder")
        value = drop[0] if drop else (args[3][0] if len(args) > 3 else None)
        _emit(run, Batched(Site.of(node, run, s), value))
    if canon.startswith(NONE_TOLERANT):
        return None
    if isinstance(result, Unknown) and not canon.startswith(TENSOR_CONSUMERS):
        return None
    arg = _labels_arg(args, kwargs)
    if arg is not None:
        labels_used(run, arg, s)
    return None


# ---- method calls ----------------------------------------------------------------------------------
def optimizer_value(run, node: cst.Call, method: str, recv: Value, args, kwargs, s) -> Value:
    """`recv.minimize(...)` / `recv.apply_gradients(...)`: a PairingCall, and its value (an
    Operation that does or does not advance the global step)."""
    _emit(run, PairingCall(Site.of(node, run, s), MINIMIZE, recv))
    if any(a.star for a in node.args):
        step_advanced(run, node, s)  # `minimize(loss, **kwargs)`: global_step may be among them
        return Operation()
    gs = kwargs.get("global_step") or (args[1] if len(args) > 1 else None)
    given = gs is not None and gs[0] != NONE
    opt = members(recv)[0] if len(members(recv)) == 1 else None
    kind = OPTIMIZER_KINDS.get(opt.kind) if isinstance(opt, Object) else None
    if kind and opt.cls == "CrossShardOptimizer":
        kind = None  # wrapping an optimizer we do not know, which may advance the step itself
    if kind == "keras":
        # Keras optimizers advance their own `iterations`, never the Estimator's global step;
        # their minimize() of a tensor loss fails in graph mode for another reason.
        if method == "apply_gradients" and not given:
            return Operation(step=False, kind="keras", node=node)
        return Operation()
    if given:
        step_advanced(run, node, s)
        return Operation(step=True) if kind else Operation()
    if kind:
        return Operation(step=False, kind=kind, node=node)
    return Operation()


def spec_replaced(run, node: cst.Call, recv: Value, keywords, s) -> None:
    """`spec._replace(...)` (keywords: name -> (value, value node, arg))."""
    if isinstance(recv, Spec) and recv.cls == apis.TPU_ESTIMATOR_SPEC:
        _emit(run, PairingCall(Site.of(node, run, s), REPLACE, recv, keywords))


def method_call(run, node: cst.Call, func: cst.Attribute, args, kwargs, s) -> None:
    """`recv.name(...)` after its arguments were evaluated (`args`: [(value, node)]): estimator
    train/evaluate/predict/export calls, and `batch` / `padded_batch`."""
    if not _recording(run):
        return
    name = func.attr.value
    if name in EXPORT_METHODS and isinstance(func.value, cst.Name):
        recv, _ = run.lookup(func.value.value, s)
        if isinstance(recv, EstimatorRef) and _live(run.an, recv):
            _emit(run, EstimatorCalled(Site.of(node, run, s), recv.index, name, UNKNOWN, export=True))
    elif name in ESTIMATOR_METHODS and isinstance(func.value, cst.Name):
        recv, _ = run.lookup(func.value.value, s)
        if isinstance(recv, EstimatorRef) and _live(run.an, recv):
            fn = kwargs.get("input_fn") or (args[0] if args else None)
            _emit(run, EstimatorCalled(Site.of(node, run, s), recv.index, name, fn[0] if fn else UNKNOWN))
    elif name in ("batch", "padded_batch"):
        drop = kwargs.get("drop_remainder")
        index = 1 if name == "batch" else 3  # padded_batch(batch_size, padded_shapes, padding_values, drop_remainder)
        if drop is None and len(args) > index:
            drop = args[index]
        value = drop[0] if drop else None
        if any(a.star for a in node.args):
            value = UNKNOWN
        _emit(run, Batched(Site.of(node, run, s), value))


def _live(an, ref: EstimatorRef) -> bool:
    """The reference points at an Estimator construction recorded by this analyzer."""
    facts_list = an.estimator_facts
    return ref.index < len(facts_list) and facts_list[ref.index].node is ref.node


# ---- the global step (SL023) -----------------------------------------------------------------------
def step_advanced(run, node, s) -> None:
    """The function `run` belongs to may advance the global step."""
    _emit(run, StepAdvanced(Site.of(node, run, s)))


# ---- tensors from another graph (SL032) ---------------------------------------------------------------
def module_tensor_uses(run, nodes: Iterable[cst.CSTNode], s) -> None:
    """Each Name among `nodes` (and the elements of list/tuple/dict literals among them) that
    refers to a tensor assigned at module level, and each `self.x` that refers to a tensor the
    model_fn's own object set in `__init__`, when `run` is part of a model_fn."""
    if run.root.ctx is None or not _recording(run):
        return
    for n in _expand(nodes):
        if isinstance(n, cst.Name):
            value, owner = run.lookup(n.value, s)
            if owner is None or owner.parent is not None:  # not a module-level name
                continue
        elif isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name):
            value = _init_attribute(run, n, s)
        else:
            continue
        if value is not None and all_members(value, lambda m: isinstance(m, Tensor)):
            _emit(run, GlobalTensorUsed(Site.of(n, run, s)))


def _init_attribute(run, node: cst.Attribute, s):
    """`self.x` where `self` is the object whose method is the model_fn (or encloses it): the
    object was built before the Estimator called model_fn, so its tensors are in another graph.
    (Objects built inside model_fn, such as a BERT model whose methods return attributes set in
    its `__init__`, are not this case.)"""
    _, owner = run.lookup(node.value.value, s)
    if owner is None or owner.self_name != node.value.value:
        return None
    r = run.root
    while r is not None and r is not owner:
        r = r.parent
    if r is None:
        return None
    return owner.mod.instance_attr(owner.method_of, node.attr.value)


def _expand(nodes):
    for n in nodes:
        if isinstance(n, (cst.List, cst.Tuple)):
            for el in n.elements:
                yield el.value
        elif isinstance(n, cst.Dict):
            for el in n.elements:
                yield el.value
        else:
            yield n


# ---- mode comparisons (SL037) ------------------------------------------------------------------------
def mode_compared(run, test: cst.Comparison, comp, other_node, other: Value, s) -> None:
    """`mode <op> other` where `mode` is the model_fn's (non-constant) mode."""
    if not _recording(run):
        return
    op = comp.operator
    if isinstance(op, (cst.Equal, cst.NotEqual)):
        opname = "==" if isinstance(op, cst.Equal) else "!="
        items = [(other, other_node)]
    elif isinstance(op, (cst.In, cst.NotIn)):
        opname = "in" if isinstance(op, cst.In) else "not in"
        elements = getattr(other_node, "elements", None)
        if elements is None:
            return
        items = [(None, el.value) for el in elements if isinstance(el, cst.Element)]
    else:
        return
    for value, node in items:
        if not isinstance(node, cst.SimpleString):
            continue
        try:
            text = literal_value(node)
        except Exception:  # noqa: BLE001 - bytes and odd prefixes are not modes either
            continue
        if isinstance(text, str) and text not in apis.MODE_DISPLAY:
            _emit(run, ModeCompared(Site.of(node, run, s), text, opname, test))


# ---- labels (SL039) and params (SL041) ---------------------------------------------------------------
def _labels_arg(args, kwargs) -> Optional[cst.CSTNode]:
    for v, node in list(args) + list(kwargs.values()):
        if isinstance(v, Labels):
            return node
    return None


def labels_used(run, node: cst.CSTNode, s) -> None:
    if _recording(run):
        _emit(run, LabelsUsed(Site.of(node, run, s)))


def callable_call(run, args, kwargs, s) -> None:
    """Calling a Keras loss object (`loss_obj(labels, logits)`)."""
    arg = _labels_arg(args, kwargs)
    if arg is not None:
        labels_used(run, arg, s)


def subscript(run, node: cst.Subscript, base: Value, key, s) -> None:
    if not _recording(run):
        return
    if isinstance(base, Labels):
        labels_used(run, node.value, s)
    elif isinstance(base, Params) and key == "batch_size":
        _emit(run, ParamRead(Site.of(node, run, s), key))


def narrow_labels(run, test, s):
    """`labels is None` / `labels is not None` / `labels` (truthiness): (true states, false
    states), or None.  On the side where it is not None, `labels` becomes a plain batch tensor."""
    if isinstance(test, cst.Name):
        split = _split_on_labels(run, test.value, s)
        return None if split is None else ([split[1]], [split[0]])
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    comp = test.comparisons[0]
    if not isinstance(comp.operator, (cst.Is, cst.IsNot)):
        return None
    left, right = test.left, comp.comparator
    if isinstance(left, cst.Name) and left.value == "None":
        left, right = right, left
    if not (isinstance(left, cst.Name) and isinstance(right, cst.Name) and right.value == "None"):
        return None
    split = _split_on_labels(run, left.value, s)
    if split is None:
        return None
    none_side, tensor_side = split
    if isinstance(comp.operator, cst.Is):
        return [none_side], [tensor_side]
    return [tensor_side], [none_side]


def _split_on_labels(run, name: str, s):
    """(state where `name` is None, state where it is a tensor) when `name` holds the labels."""
    value, _ = run.lookup(name, s)
    if not isinstance(value, Labels):
        return None
    none_side, tensor_side = s.copy(), s
    none_side.bind(name, NONE)
    tensor_side.bind(name, Tensor(BATCH))
    return none_side, tensor_side


# ---- classes and specs -----------------------------------------------------------------------------
def class_value(run, node: cst.ClassDef, s) -> Value:
    """The value a `class` statement binds: a HookClass when a base is SessionRunHook (from TF, or
    a hook class of the linted code), so that `MyHook(loss)` is seen as a hook (SL031)."""
    for base in node.bases:
        if base.keyword is not None:
            continue
        v = run.eval(base.value, s)
        if isinstance(v, HookClass) or (
                isinstance(v, ApiRef) and apis.canonical_path(v.path).endswith(".SessionRunHook")):
            return HookClass(node=None, name=node.name.value, run=run)
    return _class_ref(run, node, s)


_DATACLASS = ("dataclass", "dataclasses.dataclass", "attr.s", "attrs.define", "attr.dataclass",
              "attrs.frozen", "attr.attrs")


def _class_ref(run, node: cst.ClassDef, s) -> Value:
    """A class of the linted code: a dataclass or NamedTuple (its annotated fields in order), a
    subclass of a namedtuple(...) class (its fields), or a plain class (its `__init__` runs when
    it is called).  A class with another base (a Keras layer, a class we do not see) is left
    unknown: its constructor and attributes may come from that base."""
    bases = [b for b in node.bases if b.keyword is None]
    decorators = [_dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
                  for d in node.decorators]
    name = node.name.value
    if any(d in _DATACLASS for d in decorators) or (
            len(bases) == 1 and _dotted(bases[0].value) in ("NamedTuple", "typing.NamedTuple")):
        fields, defaults = _annotated_fields(node)
        return ClassRef(node, name, run, fields, defaults, tuple_like=not decorators)
    if node.decorators:
        return UNKNOWN
    if len(bases) == 1:
        base = run.eval(bases[0].value, s)
        if isinstance(base, ClassRef) and base.tuple_like:  # class X(namedtuple("X", "a b")): ...
            return ClassRef(node, name, run, base.fields, base.defaults, True)
    if bases and not all(_dotted(b.value) == "object" for b in bases):
        return UNKNOWN
    return ClassRef(node, name, run)


def _dotted(expr) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return _dotted(expr.value) + "." + expr.attr.value
    return ""


def _annotated_fields(node: cst.ClassDef):
    fields, defaults = [], []
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                if "ClassVar" in cst.Module([]).code_for_node(small.annotation.annotation):
                    continue
                fields.append(small.target.value)
                if isinstance(small.value, cst.Name) and small.value.value == "None":
                    defaults.append((small.target.value, NONE))
    return tuple(fields), tuple(defaults)


def spec_built(run, fact, s) -> None:
    """After a spec construction: remember, on the model_fn's path, the last TPUEstimatorSpec."""
    if fact.cls != apis.TPU_ESTIMATOR_SPEC or not _recording(run):
        return
    root_state = s if run is run.root else run.root.current
    if root_state is None:
        return
    # a spec built in a helper: its order relative to the model_fn's own specs is not tracked
    root_state.env[LAST_TPU_SPEC] = Spec(fact.cls, fact.node) if run is run.root else UNKNOWN
