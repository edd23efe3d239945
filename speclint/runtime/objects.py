"""Describing and classifying real runtime values for the checks (TF objects via `tf`, the
namespace from tfapi.load())."""
from __future__ import annotations

import functools
import numbers
from typing import Iterator, Optional, Tuple

from speclint import apis


def is_tensor(x, tf) -> bool:
    return isinstance(x, tf.Tensor) and not isinstance(x, tf.Variable)


def is_spec_tensor(x, tf) -> bool:
    """What EstimatorSpec's own validators accept as a Tensor (`_check_is_tensor`)."""
    return isinstance(x, tf.CoreTensor) and not isinstance(x, tf.SparseTensor)


def is_variable(x, tf) -> bool:
    if isinstance(x, tf.Variable):
        return True
    op = getattr(x, "op", None)
    return isinstance(x, tf.Tensor) and op is not None and op.type in apis.VARIABLE_OP_TYPES


def describe(x, tf) -> str:
    if x is None:
        return "None"
    if isinstance(x, tf.Variable):
        return "a variable"
    if isinstance(x, tf.SparseTensor):
        return "a SparseTensor"
    if isinstance(x, tf.Tensor):
        rank = x.shape.rank
        return "a scalar tensor" if rank == 0 else "a tensor"
    if isinstance(x, tf.Operation):
        return "an operation"
    if isinstance(x, tf.Scaffold):
        return "a Scaffold instance"
    if isinstance(x, dict):
        return "a dict"
    if isinstance(x, (list, tuple)):
        kind = "list" if isinstance(x, list) else "tuple"
        return f"a {len(x)}-element {kind}"
    if isinstance(x, bool):
        return "a bool"
    if isinstance(x, numbers.Number):
        return f"the number {x!r}"
    if isinstance(x, str):
        return "a string"
    if type(x).__module__.startswith("numpy"):
        return "a numpy value"
    if isinstance(x, type):
        return f"the class {x.__name__}"
    if callable(x):
        return f"the function `{fn_name(x)}`"
    return f"a {type(x).__name__} object"


def metric_value_facts(v, tf) -> dict:
    """The neutral description of a metric value (`families.metrics.metric_value`)."""
    if isinstance(v, tuple) and len(v) == 2:
        return dict(kind="pair")
    if tf.KerasMetric and isinstance(v, tf.KerasMetric):
        return dict(kind="keras")
    if isinstance(v, (list, tuple)):
        return dict(kind="sequence", length=len(v), seq_kind="list" if isinstance(v, list) else "tuple")
    if isinstance(v, tf.Tensor) and not isinstance(v, tf.Variable):
        return dict(kind="tensor", scalar=v.shape.rank == 0)
    if isinstance(v, tf.Operation):
        return dict(kind="operation")
    return dict(kind="other", got=describe(v, tf))


def fn_name(fn) -> str:
    if isinstance(fn, functools.partial):
        return fn_name(fn.func)
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return "the lambda" if name == "<lambda>" else name


def tensor_name(t) -> str:
    name = getattr(t, "name", None)
    if isinstance(name, str) and name:
        return name[:-2] if name.endswith(":0") else name
    return "?"


def tensor_entries(tensors) -> Iterator[Tuple[str, object, object]]:
    """(where, key-or-index, value) of a host call's tensors list/tuple/dict."""
    if isinstance(tensors, dict):
        for k, v in tensors.items():
            yield f"[{k!r}]", k, v
    elif isinstance(tensors, (list, tuple)):
        for i, v in enumerate(tensors):
            yield f"[{i}]", i, v


def created_in_call(t, call) -> bool:
    """The tensor/op was created by this model_fn call, in its graph."""
    op = getattr(t, "op", t)
    graph = getattr(op, "graph", None)
    if graph is None or graph is not call.graph:
        return False
    op_id = getattr(op, "_id", None)
    if op_id is None:
        return True
    return op_id > call.first_op


def is_model_tensor(x, call, tf) -> bool:
    """A tensor or op made by the model_fn (not a variable, not from another graph)."""
    if isinstance(x, tf.Variable):
        return False
    if isinstance(x, tf.Tensor):
        if x.op.type in apis.VARIABLE_OP_TYPES:
            return False
        # the features/labels the call received: on TPU they are dequeued inside the loop too
        return id(x) in call.input_ids or created_in_call(x, call)
    if isinstance(x, tf.Operation):
        if x.type in apis.VARIABLE_OP_TYPES:
            return False
        return created_in_call(x, call)
    return False


def flatten(x, depth: int = 0, limit: int = 4):
    """Tensors/ops inside nested dicts, lists, tuples (and Scaffold-like simple containers)."""
    if depth > limit:
        return
    if isinstance(x, dict):
        for v in x.values():
            yield from flatten(v, depth + 1, limit)
    elif isinstance(x, (list, tuple, set, frozenset)):
        for v in x:
            yield from flatten(v, depth + 1, limit)
    else:
        yield x


def dim(shape, i: int = 0) -> Optional[int]:
    """`shape[i]` as an int or None, for TF2 shapes (int) and TF1 ones (`Dimension`, which is
    unhashable and never `is None`: disable_v2_behavior(), disable_v2_tensorshape(), TF 1.x)."""
    d = shape[i]
    if d is None or isinstance(d, int):
        return d
    return getattr(d, "value", None)


def batch_size(call) -> Optional[int]:
    if call is None:
        return None
    b = call.param(apis.PARAMS_BATCH_SIZE)
    return b if isinstance(b, int) and not isinstance(b, bool) and b > 0 else None


def mode_value(mode) -> Optional[str]:
    return mode if mode in apis.ALL_MODES else None


def _code_names(code, out: set) -> set:
    out.update(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            _code_names(const, out)
    return out


def captured_model_tensors(fn, call, tf, depth: int = 0):
    """(name, value) for each model_fn tensor `fn` can read without being passed it: closure
    cells, defaults, `functools.partial` arguments, module globals its code names, and (one
    level) the same for plain functions it closes over.  Variables are never reported."""
    seen = set()

    def hit(value):
        return any(is_model_tensor(t, call, tf) for t in flatten(value))

    if isinstance(fn, functools.partial):
        for i, a in enumerate(fn.args):
            if hit(a):
                yield f"argument {i} bound by functools.partial", a
        for k, a in (fn.keywords or {}).items():
            if hit(a):
                yield k, a
        fn = fn.func
    fn = getattr(fn, "__func__", fn)  # bound method -> function
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if hit(value):
            seen.add(name)
            yield name, value
        elif depth < 1 and callable(value) and hasattr(value, "__code__") and value is not fn:
            for inner, v in captured_model_tensors(value, call, tf, depth + 1):
                if inner not in seen:
                    seen.add(inner)
                    yield inner, v
    argnames = code.co_varnames[: code.co_argcount]
    for name, value in zip(argnames[len(argnames) - len(fn.__defaults__ or ()):], fn.__defaults__ or ()):
        if hit(value):
            yield name, value
    for name, value in (fn.__kwdefaults__ or {}).items():
        if hit(value):
            yield name, value
    g = getattr(fn, "__globals__", {})
    for name in sorted(_code_names(code, set())):
        if name in g and name not in seen and hit(g[name]):
            seen.add(name)
            yield name, g[name]
