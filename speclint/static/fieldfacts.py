"""Facts the field-contract rules (SL021-SL032) need beyond abstract values, recorded while a
function is interpreted: which model_fns advance the global step (SL023), what `minimize` /
`apply_gradients` calls return, and which module-level tensors a model_fn uses (SL032).

The interpreter calls these functions at the few places where the facts appear; the checks read
`ModuleAnalyzer.step_roots` and `ModuleAnalyzer.graph_uses`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import libcst as cst

from speclint import apis
from speclint.static.values import NONE, Object, Operation, Tensor, Value, all_members, members

# TF functions that may advance the global step: tf.compat.v1.assign(_add), state_ops.assign(_add),
# and TF's own training_util._increment_global_step (used by canned estimators).
_ASSIGN_FUNCTIONS = ("assign", "assign_add", "_increment_global_step")
ASSIGN_METHODS = ("assign", "assign_add")
OPTIMIZER_METHODS = apis.OPTIMIZER_STEP_METHODS


@dataclass
class GraphUse:
    """A model_fn's use of a module-level tensor (SL032)."""

    root: object  # the model_fn's FunctionRun
    node: cst.Name


# Object kinds (pairing family's values) of optimizers -> the kind SL023 reports.
OPTIMIZER_KINDS = {"optimizer": "v1", "keras_optimizer": "keras"}


def note_increment(run) -> None:
    """The function `run` belongs to may advance the global step (an assign, a global_step=...)."""
    run.an.step_roots.add(run.root)


def optimizer_op(run, node: cst.Call, method: str, recv: Value, args, kwargs) -> Value:
    """The value of `recv.minimize(...)` / `recv.apply_gradients(...)`, noting a global_step."""
    if any(a.star for a in node.args):
        note_increment(run)  # `minimize(loss, **kwargs)`: global_step may be among them
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
        note_increment(run)
        return Operation(step=True) if kind else Operation()
    if kind:
        return Operation(step=False, kind=kind, node=node)
    return Operation()


def tf_call(run, path: str, node: cst.Call, s) -> None:
    """A call of the TF function `path` inside `run`: assigns and module-level tensor uses."""
    canon = apis.canonical_path(path)
    if canon.rsplit(".", 1)[-1] in _ASSIGN_FUNCTIONS:
        note_increment(run)
    if canon.startswith("tf."):
        module_tensor_uses(run, [a.value for a in node.args], s)


def module_tensor_uses(run, nodes: Iterable[cst.CSTNode], s) -> None:
    """Record each Name among `nodes` (and the elements of list/tuple/dict literals among them)
    that refers to a tensor assigned at module level, and each `self.x` that refers to a tensor
    the model_fn's own object set in `__init__`, when `run` is part of a model_fn."""
    if run.root.ctx is None or run.an.replaying:
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
            run.an.graph_uses.append(GraphUse(run.root, n))


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
