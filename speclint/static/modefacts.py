"""Facts for the mode-handling and model_fn-signature rules (SL036-SL041, SL044).

The interpreter calls the small `note_*` hooks below while it runs; they record what the
checks in `checks/modes.py` need and never change the abstract values, except where stated
(`narrow_labels`).  After the model_fns are interpreted, `run_input_fns` interprets the
input_fns given to `Estimator.train/evaluate/predict` calls of this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

import libcst as cst

from speclint import apis
from speclint.static.values import (
    BATCH, NONE, UNKNOWN, Callable, EstimatorRef, Labels, Params, RunSpec, Tensor, Unknown,
    Value, members,
)

if TYPE_CHECKING:  # pragma: no cover
    from speclint.static.analyzer import ModuleAnalyzer
    from speclint.static.interpret import FunctionRun, State


@dataclass
class ModeCompare:
    """The model_fn's mode compared with a string that is no mode value (SL037)."""

    literal: cst.CSTNode
    value: str
    op: str  # "==", "!=", "in", "not in"
    test: cst.CSTNode
    root: "FunctionRun"


@dataclass
class Use:
    """A use of the labels parameter, or a `params["batch_size"]` read, on a path."""

    node: cst.CSTNode
    modes: frozenset
    exact: bool
    run: "FunctionRun"

    @property
    def root(self) -> "FunctionRun":
        return self.run.root


@dataclass
class EstimatorCall:
    """`est.train/evaluate/predict(input_fn=...)` on an Estimator built in this module."""

    index: int  # into analyzer.estimator_facts
    method: str
    input_fn: Value
    node: cst.Call
    tpu: Optional[bool] = None  # the path's TPU flag (`if FLAGS.use_tpu`) at the call, when known


@dataclass
class BatchCall:
    """`ds.batch(...)`/`padded_batch`/`map_and_batch(...)` and its `drop_remainder` value."""

    node: cst.Call
    drop: Optional[Value]  # None: not given
    run: "FunctionRun"


@dataclass
class ModeFacts:
    compares: List[ModeCompare] = field(default_factory=list)
    attr_candidates: List[cst.Attribute] = field(default_factory=list)
    labels_uses: List[Use] = field(default_factory=list)
    batch_size_reads: List[Use] = field(default_factory=list)
    estimator_calls: List[EstimatorCall] = field(default_factory=list)
    # `est.export_savedmodel(...)` / `est.export_saved_model(...)` (input_fn = UNKNOWN)
    export_calls: List[EstimatorCall] = field(default_factory=list)
    batch_calls: List[BatchCall] = field(default_factory=list)
    # input_fn runs: (estimator call, root run of the input_fn)
    input_fn_runs: List[Tuple[EstimatorCall, "FunctionRun"]] = field(default_factory=list)


def facts(an) -> ModeFacts:
    mf = getattr(an, "mode_facts", None)
    if mf is None:
        mf = an.mode_facts = ModeFacts()
    return mf


def _recording(run) -> bool:
    """False while a check replays a function body (pairing's SL014): record nothing then."""
    return not getattr(run.an, "replaying", False)


# ---- SL037 ------------------------------------------------------------------------------------
def note_mode_compare(run, test: cst.Comparison, comp, other_node, other: Value) -> None:
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
            text = node.evaluated_value
        except Exception:  # noqa: BLE001 - bytes and odd prefixes are not modes either
            continue
        if isinstance(text, str) and text not in apis.MODE_DISPLAY:
            facts(run.an).compares.append(ModeCompare(node, text, opname, test, run.root))


def note_attribute_candidate(an, node: cst.Attribute) -> None:
    """Prepass: `<...>.ModeKeys.<NAME>` with a name ModeKeys does not have."""
    attr = node.attr.value
    if attr.startswith("_") or attr in apis.MODE_CONSTANTS:
        return
    base = node.value
    last = base.attr.value if isinstance(base, cst.Attribute) else base.value if isinstance(base, cst.Name) else None
    if last == "ModeKeys":
        facts(an).attr_candidates.append(node)


# ---- SL039 ------------------------------------------------------------------------------------
_NONE_TOLERANT = ("tf.nest.", "tf.logging.", "tf.estimator.", "tf.contrib.estimator.",
                  "tf.contrib.framework.nest.", "tf.print", "tf.data.", "tf.py_function",
                  "tf.debugging.", "tf.get_logger")
_TENSOR_CONSUMERS = ("tf.losses.", "tf.metrics.", "tf.keras.losses.", "tf.keras.metrics.",
                     "tf.nn.", "tf.math.", "tf.summary.", "tf.contrib.metrics.",
                     "tf.contrib.losses.")


def _labels_arg(args, kwargs) -> Optional[cst.CSTNode]:
    for v, node in list(args) + list(kwargs.values()):
        if isinstance(v, Labels):
            return node
    return None


def note_labels_use(run, node: cst.CSTNode, s: "State") -> None:
    if not _recording(run):
        return
    facts(run.an).labels_uses.append(Use(node, s.modes, s.exact, run))


_RUN_SPECS = {"tf.estimator.TrainSpec": "train", "tf.estimator.EvalSpec": "evaluate"}


def note_api_call(run, node: cst.Call, path: str, args, kwargs, result: Value, s: "State") -> Optional[Value]:
    """A call of a TF function: labels passed to an op; map_and_batch; TrainSpec/EvalSpec and
    train_and_evaluate.  Returns a value to use instead of `result`, or None."""
    canon = apis.canonical_path(path)
    if not _recording(run):
        return RunSpec(_RUN_SPECS[canon], UNKNOWN) if canon in _RUN_SPECS else None
    if canon in _RUN_SPECS:
        fn = kwargs.get("input_fn") or (args[0] if args else None)
        return RunSpec(_RUN_SPECS[canon], fn[0] if fn else UNKNOWN)
    if canon == "tf.estimator.train_and_evaluate":
        est = kwargs.get("estimator") or (args[0] if args else None)
        specs = [kwargs.get("train_spec") or (args[1] if len(args) > 1 else None),
                 kwargs.get("eval_spec") or (args[2] if len(args) > 2 else None)]
        if est is not None and isinstance(est[0], EstimatorRef) and _live(run.an, est[0]):
            for spec in specs:
                if spec is not None and isinstance(spec[0], RunSpec):
                    facts(run.an).estimator_calls.append(
                        EstimatorCall(est[0].index, spec[0].method, spec[0].input_fn, node))
        return None
    if canon.endswith(".map_and_batch") and canon.startswith(("tf.data.", "tf.contrib.data.")):
        drop = kwargs.get("drop_remainder")
        value = drop[0] if drop else (args[3][0] if len(args) > 3 else None)
        facts(run.an).batch_calls.append(BatchCall(node, value, run))
    if canon.startswith(_NONE_TOLERANT):
        return
    if isinstance(result, Unknown) and not canon.startswith(_TENSOR_CONSUMERS):
        return
    arg = _labels_arg(args, kwargs)
    if arg is not None:
        note_labels_use(run, arg, s)


def note_callable_call(run, args, kwargs, s: "State") -> None:
    """Calling a Keras loss object (`loss_obj(labels, logits)`)."""
    arg = _labels_arg(args, kwargs)
    if arg is not None:
        note_labels_use(run, arg, s)


def narrow_labels(run, test, s: "State"):
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


def _split_on_labels(run, name: str, s: "State"):
    """(state where `name` is None, state where it is a tensor) when `name` holds the labels."""
    value, _ = run.lookup(name, s)
    if not isinstance(value, Labels):
        return None
    none_side, tensor_side = s.copy(), s
    none_side.bind(name, NONE)
    tensor_side.bind(name, Tensor(BATCH))
    return none_side, tensor_side


# ---- SL041 ------------------------------------------------------------------------------------
def note_subscript(run, node: cst.Subscript, base: Value, key, s: "State") -> None:
    if not _recording(run):
        return
    if isinstance(base, Labels):
        note_labels_use(run, node.value, s)
    elif isinstance(base, Params) and key == "batch_size":
        facts(run.an).batch_size_reads.append(Use(node, s.modes, s.exact, run))


# ---- SL041 / SL044: estimators, their calls, input_fns ------------------------------------------
ESTIMATOR_METHODS = ("train", "evaluate", "predict")
EXPORT_METHODS = ("export_savedmodel", "export_saved_model")


def note_method_call(run, node: cst.Call, func: cst.Attribute, args, kwargs, s: "State") -> None:
    """`recv.name(...)` after its arguments were evaluated (`args`: [(value, node)])."""
    if not _recording(run):
        return
    name = func.attr.value
    if name in EXPORT_METHODS and isinstance(func.value, cst.Name):
        recv, _ = run.lookup(func.value.value, s)
        if isinstance(recv, EstimatorRef) and _live(run.an, recv):
            facts(run.an).export_calls.append(EstimatorCall(recv.index, name, UNKNOWN, node, s.tpu))
    elif name in ESTIMATOR_METHODS and isinstance(func.value, cst.Name):
        recv, _ = run.lookup(func.value.value, s)
        if isinstance(recv, EstimatorRef) and _live(run.an, recv):
            fn = kwargs.get("input_fn") or (args[0] if args else None)
            facts(run.an).estimator_calls.append(
                EstimatorCall(recv.index, name, fn[0] if fn else UNKNOWN, node, s.tpu))
    elif name in ("batch", "padded_batch"):
        drop = kwargs.get("drop_remainder")
        index = 1 if name == "batch" else 3  # padded_batch(batch_size, padded_shapes, padding_values, drop_remainder)
        if drop is None and len(args) > index:
            drop = args[index]
        value = drop[0] if drop else None
        if any(a.star for a in node.args):
            value = UNKNOWN
        facts(run.an).batch_calls.append(BatchCall(node, value, run))


def _live(an, ref: EstimatorRef) -> bool:
    """The reference points at an Estimator construction recorded by this analyzer."""
    facts_list = an.estimator_facts
    return ref.index < len(facts_list) and facts_list[ref.index].node is ref.node


def run_input_fns(an: "ModuleAnalyzer") -> None:
    """Interpret each input_fn given to an estimator call, with `params` as the Estimator's."""
    from speclint.static.interpret import FunctionRun, State
    from speclint.static.scopes import param_names

    mf = facts(an)
    done: Dict[object, "FunctionRun"] = {}
    for call in list(mf.estimator_calls):
        for m in members(call.input_fn):
            if not isinstance(m, Callable) or m.decorated or not isinstance(m.node, (cst.FunctionDef, cst.Lambda)):
                continue
            key = (m.node, id(m.run), m.bound_positional, m.bound_keywords)
            run = done.get(key)
            if run is None:
                run = FunctionRun(an, m.node, m.run)
                env = {n: UNKNOWN for n in param_names(m.node.params)}
                positional = [p.name.value for p in list(m.node.params.posonly_params) + list(m.node.params.params)]
                bound = set(positional[:m.bound_positional]) | set(m.bound_keywords)
                if "params" in env and "params" not in bound:
                    env["params"] = Params()  # the Estimator passes its params (TPUEstimator: with batch_size)
                state = State(env, apis.ALL_MODES, False)
                an.active.add(m.node)
                try:
                    if isinstance(m.node, cst.Lambda):
                        run.current = state
                        run.returns.append((run.eval(m.node.body, state), m.node.body, state))
                        run.finished = True
                    else:
                        run.execute(list(m.node.body.body) if isinstance(
                            m.node.body, cst.IndentedBlock) else list(m.node.body.body), [state])
                finally:
                    an.active.discard(m.node)
                done[key] = run
            mf.input_fn_runs.append((call, run))
