"""The TPU path of a model_fn on a CPU run: the program's own TPU flags, and a shadow TPU call.

Real TPU model_fns decide TPU-ness from a flag of their own: `params["use_tpu"]` (TPUEstimator
sets it), an absl flag (`FLAGS.use_tpu`), a closure variable (BERT's `model_fn_builder(...,
use_tpu)`), an attribute of a config object (ELECTRA's `config.use_tpu`, `self.use_tpu`). On a CPU
run every one of them is False, so the model_fn builds its CPU branch, and holding that branch to
the TPU contract would be a false alarm (`if use_tpu: ... else: <CPU-only code>`).

So the shim checks what the TPU path builds by building it: after the program's own model_fn call
returns, `shadow_findings` calls the same model_fn once more per mode, in a scratch graph, with
features/labels mirrored as placeholders of the TPU's per-core shapes, `params["use_tpu"]` True,
`params["batch_size"]` per core, and the program's own TPU flags set to True for the duration of
that call only (`tpu_flags`); the shim's TPU-only checks run on what it returns. The program's
graph, flags, and Python / NumPy / TF random state are exactly as before (`preserved_state`). The
TPU simulation (`simulate.py`) sets the same flags while it builds TF's real TPU graph, so neither
ever reports a CPU branch as TPU code.

Two kinds of CPU call get no shadow call (`SKIPPED` says which), because a TPU run never makes
that call: SparseTensor features (TPUEstimator's infeed takes dense tensors only; sparse features
reach a TPU model_fn only through `embedding_config_spec`, which replaces them with embedding
activations before the model_fn runs — tpu_estimator.py documents "this does not support features
which are SparseTensors"), and params that are not a dict (an HParams object): TPUEstimator sets
`params["batch_size"]` and `params["use_tpu"]` on the TPU path by item assignment, so its
model_fns get a dict. A shadow built from either would be a TPU call that cannot happen.
"""
from __future__ import annotations

import contextlib
import functools
import random
import sys
import threading
import weakref
from typing import List, Optional

from speclint import apis
from speclint.runtime import calls, signature
from speclint.runtime import context as ctx
from speclint.runtime.objects import mode_value

FLAG_NAMES = frozenset(apis.TPU_FLAG_WORDS)
_DONE_LOCK = threading.Lock()
_DONE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model_fn -> modes shadowed
_LOCAL = threading.local()
SKIPPED: List[str] = []  # why shadow calls could not run (for `speclint run -v` / debugging)


def is_flag_name(name) -> bool:
    return isinstance(name, str) and name.lstrip("_").lower() in FLAG_NAMES


# ----------------------------------------------------------------------------------------------
# Where a function's TPU flags live
def _function(fn):
    """(plain function, bound self or None) behind a model_fn / input_fn."""
    seen = 0
    self_obj = None
    while seen < 8:
        seen += 1
        if isinstance(fn, functools.partial):
            fn = fn.func
            continue
        if hasattr(fn, "__func__"):  # bound method
            self_obj = getattr(fn, "__self__", None)
            fn = fn.__func__
            continue
        if not hasattr(fn, "__code__") and callable(fn) and hasattr(type(fn), "__call__"):
            call = getattr(type(fn), "__call__", None)
            if hasattr(call, "__code__"):
                self_obj, fn = fn, call
                continue
        break
    return (fn if hasattr(fn, "__code__") else None), self_obj


def _names(code, out: set, depth: int = 0) -> set:
    out.update(code.co_names)
    out.update(code.co_freevars)
    out.update(k for k in code.co_consts if isinstance(k, str) and k.isidentifier())
    if depth < 8:
        for const in code.co_consts:
            if hasattr(const, "co_code"):
                _names(const, out, depth + 1)
    return out


def _is_false(value) -> bool:
    return value is False


class _Setter:
    """The flags found, each with a way to set it True and to put it back exactly."""

    def __init__(self):
        self._undo = []
        self._seen = set()

    def cell(self, cell) -> None:
        if id(cell) in self._seen:
            return
        self._seen.add(id(cell))
        old = cell.cell_contents
        cell.cell_contents = True
        self._undo.append(lambda: setattr(cell, "cell_contents", old))

    def mapping(self, d: dict, key) -> None:
        if (id(d), key) in self._seen:
            return
        self._seen.add((id(d), key))
        old = d[key]
        d[key] = True
        self._undo.append(lambda: d.__setitem__(key, old))

    def attribute(self, obj, name: str) -> None:
        if (id(obj), name) in self._seen:
            return
        self._seen.add((id(obj), name))
        flag = _absl_flag(obj, name)
        if flag is not None:  # absl: restore value and the "was it given" bookkeeping exactly
            old_value = flag.value
            saved = {k: flag.__dict__[k] for k in ("present", "using_default_value") if k in flag.__dict__}

            def undo():
                flag.value = old_value
                flag.__dict__.update(saved)
            flag.value = True
            self._undo.append(undo)
            return
        had = name in getattr(obj, "__dict__", {})
        old = getattr(obj, name)
        try:
            setattr(obj, name, True)
        except (AttributeError, TypeError):
            return  # read-only (a property, a frozen dataclass): leave it
        if had:
            self._undo.append(lambda: setattr(obj, name, old))
        else:
            self._undo.append(lambda: _del_or_set(obj, name, old))

    def restore(self) -> None:
        while self._undo:
            try:
                self._undo.pop()()
            except Exception:  # noqa: BLE001 - restore what can be restored
                pass

    @property
    def count(self) -> int:
        return len(self._undo)


def _del_or_set(obj, name, old) -> None:
    try:
        delattr(obj, name)
    except AttributeError:
        setattr(obj, name, old)
    if getattr(obj, name, old) is not old:
        setattr(obj, name, old)


def _absl_flag(obj, name: str):
    """The absl Flag object when `obj` is absl's FlagValues (FLAGS) holding flag `name`."""
    if type(obj).__name__ != "FlagValues":
        return None
    try:
        flags = obj._flags()  # noqa: SLF001 - absl's own accessor
    except Exception:  # noqa: BLE001
        return None
    return flags.get(name)


def _flag_attributes(obj, setter: _Setter, names: set, depth: int) -> None:
    """Set obj.<flag> for every flag attribute `names` mentions (and absl flags by their name)."""
    if obj is None or isinstance(obj, (int, float, str, bytes, bool, type(None))) or depth > 1:
        return
    if type(obj).__name__ == "FlagValues":
        try:
            flag_names = [n for n in obj._flags() if is_flag_name(n)]  # noqa: SLF001
        except Exception:  # noqa: BLE001
            flag_names = []
        for n in flag_names:
            try:
                if _is_false(getattr(obj, n)):
                    setter.attribute(obj, n)
            except Exception:  # noqa: BLE001 - unparsed flags etc.
                continue
        return
    if isinstance(obj, dict):
        for key in [k for k in obj if is_flag_name(k) and _is_false(obj[k])]:
            setter.mapping(obj, key)
        return
    if callable(obj) and not hasattr(obj, "__dict__"):
        return
    for n in names:
        if not is_flag_name(n):
            continue
        try:
            value = getattr(obj, n)
        except Exception:  # noqa: BLE001
            continue
        if _is_false(value):
            setter.attribute(obj, n)
    # one level down: self.config.use_tpu, hparams.model.use_tpu
    for n in names:
        if is_flag_name(n) or n.startswith("__"):
            continue
        try:
            inner = vars(obj).get(n)
        except TypeError:
            continue
        if inner is not None and not callable(inner) and hasattr(inner, "__dict__"):
            _flag_attributes(inner, setter, names, depth + 1)


def _collect(fn, setter: _Setter) -> None:
    plain, self_obj = _function(fn)
    if plain is None:
        return
    names = _names(plain.__code__, set())
    if not any(is_flag_name(n) for n in names):
        return
    # closure cells: use_tpu itself, or an object/dict holding it
    for name, cell in zip(plain.__code__.co_freevars, plain.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if is_flag_name(name) and _is_false(value):
            setter.cell(cell)
        elif not callable(value) or type(value).__name__ == "FlagValues":
            _flag_attributes(value, setter, names, 0)
    # module globals the code names: USE_TPU = False, FLAGS, a config object
    glb = getattr(plain, "__globals__", {})
    for name in names:
        if name not in glb:
            continue
        value = glb[name]
        if is_flag_name(name) and _is_false(value):
            setter.mapping(glb, name)
        elif type(value).__name__ == "FlagValues" or (
                not callable(value) and not isinstance(value, type(sys)) and hasattr(value, "__dict__")):
            _flag_attributes(value, setter, names, 0)
    # partial keyword arguments and self
    if isinstance(fn, functools.partial):
        for key in [k for k in (fn.keywords or {}) if is_flag_name(k) and _is_false(fn.keywords[k])]:
            setter.mapping(fn.keywords, key)
    if self_obj is not None:
        _flag_attributes(self_obj, setter, names, 0)


def _absl_flags(setter: _Setter) -> None:
    """The program's absl flags named use_tpu (helpers in other modules read them too)."""
    flags_mod = sys.modules.get("absl.flags")
    if flags_mod is not None and getattr(flags_mod, "FLAGS", None) is not None:
        _flag_attributes(flags_mod.FLAGS, setter, set(), 0)


@contextlib.contextmanager
def tpu_flags(*fns):
    """The program's own TPU flags reachable from `fns` (closure cells, module globals, absl FLAGS,
    config / self attributes, partial keywords) set to True for the block; restored exactly."""
    setter = _Setter()
    fns = [getattr(fn, "__speclint_original__", None) or fn for fn in fns]  # the shim's wrapper
    try:
        for fn in fns:
            if fn is not None:
                _collect(fn, setter)
        if any(fn is not None and calls.mentions_tpu_flag(fn) for fn in fns):
            _absl_flags(setter)
    except Exception as exc:  # noqa: BLE001 - never break the user's job
        ctx.internal(f"TPU flags: {type(exc).__name__}: {exc}")
    try:
        yield setter
    finally:
        setter.restore()


# ----------------------------------------------------------------------------------------------
# Global state a model_fn build may consume
@contextlib.contextmanager
def preserved_state():
    """Python, NumPy and TF (eager) random state, restored after the block: a shadow call or a
    simulated build must not change what the program's own initialisers draw."""
    py_state = random.getstate()
    np_mod = sys.modules.get("numpy")
    np_state = np_mod.random.get_state() if np_mod is not None else None
    tf_ctx, tf_rng, tf_seed = None, None, None
    try:
        from tensorflow.python.eager import context as eager_context
        tf_ctx = eager_context.context()
        tf_seed = getattr(tf_ctx, "_seed", None)
        rng = getattr(tf_ctx, "_rng", None)
        tf_rng = rng.getstate() if rng is not None else None
    except Exception:  # noqa: BLE001
        tf_ctx = None
    try:
        yield
    finally:
        random.setstate(py_state)
        if np_state is not None:
            np_mod.random.set_state(np_state)
        if tf_ctx is not None:
            try:
                if getattr(tf_ctx, "_seed", None) != tf_seed:
                    tf_ctx._set_global_seed(tf_seed)  # noqa: SLF001
                rng = getattr(tf_ctx, "_rng", None)
                if rng is not None and tf_rng is not None:
                    rng.setstate(tf_rng)
            except Exception:  # noqa: BLE001
                pass


# ----------------------------------------------------------------------------------------------
# The shadow TPU call
def wanted(model_fn, call, result, tf) -> bool:
    """Build the TPU path too: a CPU call (params["use_tpu"] not True) of a model_fn that names a
    TPU flag, given to a TPUEstimator or to an Estimator, once per model_fn and mode."""
    if ctx.SETTINGS.target == "cpu" or call.on_tpu or getattr(_LOCAL, "active", False):
        return False
    if call.estimator not in (apis.TPU_ESTIMATOR, apis.ESTIMATOR):
        return False
    mode = mode_value(call.mode)
    if mode is None or not calls.mentions_tpu_flag(model_fn):
        return False
    if mode == apis.EVAL and call.settings.get("eval_on_tpu") is False:
        return False  # TPUEstimator(eval_on_tpu=False) evaluates on CPU, on a TPU too
    if call.estimator == apis.TPU_ESTIMATOR and call.param(apis.PARAMS_BATCH_SIZE) is None:
        return False  # export (no batch size): TPUEstimator's export path, not a TPU step
    params = call.params
    if params is not None and not isinstance(params, dict):
        SKIPPED.append(f"{getattr(model_fn, '__name__', 'model_fn')}: params is a {type(params).__name__}, "
                       "not a dict: TPUEstimator's TPU path gives its model_fn a dict")
        return False
    with _DONE_LOCK:
        try:
            modes = _DONE.setdefault(model_fn, set())
        except TypeError:  # not weak-referenceable: shadow every call
            return True
        if call.mode in modes:
            return False
        modes.add(call.mode)
    return True


def forget() -> None:
    """Shadow every model_fn again (tests; a new `speclint run`)."""
    with _DONE_LOCK:
        _DONE.clear()


def _num_shards(call) -> int:
    config = call.named.get("config")
    shards = getattr(getattr(config, "tpu_config", None), "num_shards", None)
    return shards if isinstance(shards, int) and shards > 0 else 8


def _mirror(x, tf, per_core: Optional[int], batch: Optional[int]):
    """Placeholders in the current (scratch) graph with x's dtypes and the TPU's static shapes."""
    if x is None:
        return None
    if isinstance(x, dict):
        return type(x)((k, _mirror(v, tf, per_core, batch)) for k, v in x.items()) \
            if type(x) is not dict else {k: _mirror(v, tf, per_core, batch) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return type(x)(_mirror(v, tf, per_core, batch) for v in x)
    if isinstance(x, tf.SparseTensor):  # the TPU infeed has dense tensors only (module docstring)
        raise _Unmirrorable("a SparseTensor feature: a TPU model_fn never gets one")
    if isinstance(x, (tf.Tensor, tf.Variable)) or hasattr(x, "dtype") and hasattr(x, "shape"):
        shape = x.shape
        dims = None if shape.rank is None else [d if d is None else int(d) for d in shape.as_list()]
        if dims and per_core is not None and (dims[0] is None or dims[0] == batch):
            dims[0] = per_core
        return tf.v1.placeholder(x.dtype, dims)
    raise _Unmirrorable(type(x).__name__)


_MISSING = object()


class _Unmirrorable(Exception):
    pass


def shadow_findings(model_fn, call, tf) -> list:
    """Findings of the shim's checks on the TPU path of `call` (built in a scratch graph)."""
    from speclint.runtime.checks import dispatch

    named = dict(call.named)
    params = dict(call.params or {})
    shards = _num_shards(call)
    batch = params.get(apis.PARAMS_BATCH_SIZE)
    per_core = None
    if isinstance(batch, int) and not isinstance(batch, bool) and batch > 0:
        per_core = batch // shards if batch % shards == 0 else batch
        params[apis.PARAMS_BATCH_SIZE] = per_core
    for key in [k for k in params if is_flag_name(k) and _is_false(params[k])]:
        params[key] = True
    params[apis.PARAMS_USE_TPU] = True
    _LOCAL.active = True
    # TF keeps the host calls of the last TPUEstimatorSpec built in a class attribute
    # (`cls._host_calls`), which as_estimator_spec() then reads: the shadow's spec must not win
    spec_cls = tf.TPUEstimatorSpec
    saved_host_calls = spec_cls.__dict__.get("_host_calls", _MISSING)
    try:
        with preserved_state(), tf.tf.Graph().as_default() as graph, tpu_flags(model_fn):
            try:
                named["features"] = _mirror(call.named.get("features"), tf, per_core, batch)
                named["labels"] = _mirror(call.named.get("labels"), tf, per_core, batch)
            except _Unmirrorable as exc:
                SKIPPED.append(f"{getattr(model_fn, '__name__', 'model_fn')}: {exc}")
                return []
            if "params" in named or call.params is not None:
                named["params"] = params
            if call.graph is not None and tf.v1.train.get_global_step(call.graph) is not None:
                tf.v1.train.get_or_create_global_step(graph)
            sub = calls.ModelFnCall(model_fn=model_fn, estimator=call.estimator, named=named, tpu_path=True)
            sub.estimator_obj = call.estimator_obj
            dispatch.before_call(sub, tf)
            calls.stack().append(sub)
            try:
                with _shard_context(shards):
                    result = signature.forward(model_fn, named, ())
            except Exception as exc:  # noqa: BLE001 - the TPU path needs what a CPU run lacks
                SKIPPED.append(f"{getattr(model_fn, '__name__', 'model_fn')}: {type(exc).__name__}: {exc}")
                # what the TPU path did before it stopped was checked (SL047 at a Keras
                # application), and a TPU name the TPU module lacks is the TPU run's own failure
                return list(sub.findings) + dispatch.explain_tpu_path_error(exc, sub, tf)
            finally:
                calls.stack().pop()
            if call.estimator == apis.ESTIMATOR and type(result).__name__ != apis.TPU_ESTIMATOR_SPEC:
                return []  # an Estimator's model_fn whose TPU branch builds no TPUEstimatorSpec
            findings = list(sub.findings)
            findings.extend(dispatch.on_return(result, sub, tf))
            return findings
    finally:
        _LOCAL.active = False
        if saved_host_calls is _MISSING:
            if "_host_calls" in spec_cls.__dict__:
                delattr(spec_cls, "_host_calls")
        else:
            spec_cls._host_calls = saved_host_calls


@contextlib.contextmanager
def _shard_context(shards: int):
    """TPU's shard context (CrossShardOptimizer asks it for the number of shards)."""
    try:
        from tensorflow.python.tpu import tpu_function
        cm = tpu_function.tpu_shard_context(shards)
    except Exception:  # noqa: BLE001
        cm = contextlib.nullcontext()
    with cm:
        yield
