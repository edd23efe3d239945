"""Installing the shim: patched spec constructors, wrapped model_fns, `install()` / `uninstall()`.

The shim patches methods on the class objects themselves (`Estimator.__init__`,
`TPUEstimator.__init__`, `EstimatorSpec.__new__`, `TPUEstimatorSpec.__new__`,
`TPUEstimatorSpec.as_estimator_spec`), so every import path of those classes and every subclass
(`tf.estimator.Estimator` is `EstimatorV2`, a subclass) is covered, including classes imported
before `install()` ran.  Patches are reference counted: `install()` and each `check_model_fn` call
hold them; the last release restores the originals exactly.
"""
from __future__ import annotations

import contextlib
import sys
import functools
import threading
from typing import Optional

from speclint import apis
from speclint.runtime import calls, locate, signature, tfapi, tpupath
from speclint.runtime import context as ctx
from speclint.runtime.errors import SpecLintError

_LOCK = threading.RLock()
_SPEC_REFS = 0
_ESTIMATOR_REFS = 0
_SAVED = {}  # (class, attribute) -> original __dict__ entry (or _ABSENT)
_ABSENT = object()
_WRAPPED_ATTR = "__speclint_original__"
_OUTER_SETTINGS = []  # the settings each install() replaced, restored by its uninstall()

def _patch(cls, attr, value) -> None:
    """Replace `attr` on a class or module, remembering the exact original entry."""
    _SAVED[(cls, attr)] = vars(cls).get(attr, _ABSENT)
    setattr(cls, attr, value)


def _restore(cls, attr) -> None:
    original = _SAVED.pop((cls, attr), _ABSENT)
    if original is _ABSENT:
        try:
            delattr(cls, attr)
        except AttributeError:
            pass
    else:
        setattr(cls, attr, original)


# ----------------------------------------------------------------------------------------------
# Spec constructors
def _fold_args(cls_name: str, args: tuple, kwargs: dict) -> dict:
    fields = apis.SPEC_FIELDS[cls_name]
    out = dict(zip(fields, args))
    for k, v in kwargs.items():
        if k in fields:
            out[k] = v
    return out


def _unknown_keywords(cls_name: str, kwargs: dict) -> list:
    return [k for k in kwargs if k not in apis.SPEC_FIELDS[cls_name]]


def _make_new(cls_name: str, original_new):
    from speclint.runtime.checks import dispatch

    def __new__(cls, *args, **kwargs):
        if ctx.disabled():
            return original_new(cls, *args, **kwargs)
        findings = []
        construction = None
        call = calls.current()
        try:
            frame = locate.caller_frame(1)
            direct = sys._getframe(1)
            construction = calls.Construction(
                cls=cls_name, args=_fold_args(cls_name, args, kwargs),
                location=locate.frame_location(frame),
                abs_path=locate.abs_path_of(frame) if frame is not None else None,
                by_framework=not locate.is_user_file(direct.f_code.co_filename),
                unknown=_unknown_keywords(cls_name, kwargs))
            if not construction.by_framework:
                findings = dispatch.on_construction(construction, call)
        except Exception as exc:  # noqa: BLE001 - never break the user's job
            ctx.internal(f"while recording a {cls_name}: {type(exc).__name__}: {exc}")
        try:
            spec = original_new(cls, *args, **kwargs)
        except Exception as exc:
            _report(findings, call, exc)
            raise
        if construction is not None:
            construction.spec = spec
            if call is not None:
                call.constructions.append(construction)
            calls.remember(spec, construction)
        _report(findings, call, None)
        return spec

    __new__.__speclint_patch__ = True
    return __new__


def _report(findings, call, exc) -> None:
    if not findings:
        return
    if call is not None:
        call.findings.extend(findings)  # reported when the model_fn call ends
    else:
        ctx.emit(findings, exc)


def _make_as_estimator_spec(original):
    from speclint.runtime.checks import dispatch

    @functools.wraps(original)
    def as_estimator_spec(self):
        if ctx.disabled() or not getattr(self, "scaffold_fn", None):
            return original(self)
        try:
            checked = dispatch.checking_scaffold_fn(self, calls.construction_of(self))
            target = self._replace(scaffold_fn=checked)
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"as_estimator_spec: {type(exc).__name__}: {exc}")
            return original(self)
        return original(target)

    as_estimator_spec.__speclint_patch__ = True
    return as_estimator_spec


def _acquire_specs(tf) -> None:
    global _SPEC_REFS
    with _LOCK:
        _SPEC_REFS += 1
        if _SPEC_REFS > 1:
            return
        for name, cls in ((apis.ESTIMATOR_SPEC, tf.EstimatorSpec), (apis.TPU_ESTIMATOR_SPEC, tf.TPUEstimatorSpec)):
            _patch(cls, "__new__", _make_new(name, cls.__new__))
        _patch(tf.TPUEstimatorSpec, "as_estimator_spec",
               _make_as_estimator_spec(tf.TPUEstimatorSpec.as_estimator_spec))
        try:
            from speclint.runtime.checks import dispatch
            module, attr, wrapper = dispatch.wrap_build_all_signature_defs(tf)
            _patch(module, attr, wrapper)
        except (ImportError, AttributeError) as exc:  # another Estimator layout: no SL029
            ctx.internal(f"SL029 unavailable: {exc}")
        try:
            from speclint.runtime.checks import dispatch
            _patch(*dispatch.wrap_keras_applications())
        except ImportError:  # no Keras applications: nothing to check for SL047
            pass


def _release_specs(tf) -> None:
    global _SPEC_REFS
    with _LOCK:
        if _SPEC_REFS == 0:
            return
        _SPEC_REFS -= 1
        if _SPEC_REFS == 0:
            _restore(tf.EstimatorSpec, "__new__")
            _restore(tf.TPUEstimatorSpec, "__new__")
            _restore(tf.TPUEstimatorSpec, "as_estimator_spec")
            for key in [k for k in _SAVED if k[1] in ("build_all_signature_defs", "obtain_input_shape")]:
                _restore(*key)


# ----------------------------------------------------------------------------------------------
# model_fn wrapping
def is_wrapped(fn) -> bool:
    return getattr(fn, _WRAPPED_ATTR, None) is not None


def _is_framework_fn(fn) -> bool:
    target = fn.func if isinstance(fn, functools.partial) else fn
    module = getattr(target, "__module__", None) or ""
    return any(module.startswith(p) for p in apis.FRAMEWORK_MODULE_PREFIXES)


def wrap_model_fn(model_fn, estimator: Optional[str] = None, settings: Optional[dict] = None):
    """`model_fn` with every call checked; the same Estimator-visible signature. `settings`: the
    estimator's arguments the checks need (TPUEstimator's use_tpu, eval_on_tpu, export_to_tpu)."""
    if model_fn is None or not callable(model_fn) or is_wrapped(model_fn):
        return model_fn
    tf = tfapi.load()
    settings = dict(settings or {})

    def call(named, varargs):
        return _checked_call(model_fn, estimator, named, varargs, tf, settings)

    wrapper = signature.make_wrapper(model_fn, call)
    setattr(wrapper, _WRAPPED_ATTR, model_fn)
    return wrapper


def _checked_call(model_fn, estimator, named, varargs, tf, settings=None):
    from speclint.runtime.checks import dispatch

    if ctx.disabled():
        return signature.forward(model_fn, named, varargs)
    _acquire_specs(tf)
    try:
        call = calls.ModelFnCall(model_fn=model_fn, estimator=estimator, named=named,
                                 settings=dict(settings or {}))
        try:
            dispatch.before_call(call, tf)
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"before model_fn: {type(exc).__name__}: {exc}")
        calls.stack().append(call)
        try:
            result = signature.forward(model_fn, named, varargs)
        except BaseException as exc:
            calls.stack().pop()
            ctx.COLLECTOR.model_fn_calls += 1
            try:
                call.findings.extend(dispatch.on_error(exc, call, tf))
            except Exception as inner:  # noqa: BLE001
                ctx.internal(f"after a model_fn error: {type(inner).__name__}: {inner}")
            ctx.emit(call.findings, exc)
            raise
        calls.stack().pop()
        ctx.COLLECTOR.model_fn_calls += 1
        try:
            call.findings.extend(dispatch.on_return(result, call, tf))
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"after model_fn: {type(exc).__name__}: {exc}")
        try:
            if tpupath.wanted(model_fn, call, result, tf):
                call.findings.extend(tpupath.shadow_findings(model_fn, call, tf))
        except Exception as exc:  # noqa: BLE001
            ctx.internal(f"the TPU path: {type(exc).__name__}: {exc}")
        try:
            dispatch.remember_return(result, call)
        except Exception:  # noqa: BLE001
            pass
        ctx.emit(call.findings)
        return result
    finally:
        _release_specs(tf)


def check_model_fn(fn=None, *, estimator: Optional[str] = None):
    """Decorator: check every call of this model_fn (usable with or without parentheses)."""
    if fn is None:
        return lambda f: check_model_fn(f, estimator=estimator)
    if ctx.disabled():
        return fn
    return wrap_model_fn(fn, estimator)


def _make_estimator_init(original, kind: str, tf):
    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        if not ctx.disabled():
            try:
                args, kwargs = _wrap_in_args(self, kind, args, kwargs, tf)
            except SpecLintError:
                raise
            except Exception as exc:  # noqa: BLE001
                ctx.internal(f"{kind}.__init__: {type(exc).__name__}: {exc}")
        return original(self, *args, **kwargs)

    __init__.__speclint_patch__ = True
    return __init__


# TPUEstimator.__init__'s parameters, in order (TF 1.15 to 2.15)
_TPU_ESTIMATOR_ARGS = ("model_fn", "model_dir", "config", "params", "use_tpu", "train_batch_size",
                       "eval_batch_size", "predict_batch_size", "batch_axis", "eval_on_tpu",
                       "export_to_tpu")
_TPU_DEFAULTS = dict(use_tpu=True, eval_on_tpu=True, export_to_tpu=True)


def estimator_arguments(kind, args, kwargs) -> dict:
    """The estimator constructor's arguments by name (positional ones folded in)."""
    names = _TPU_ESTIMATOR_ARGS if kind == apis.TPU_ESTIMATOR else ("model_fn", "model_dir", "config", "params")
    out = dict(zip(names, args))
    out.update(kwargs)
    return out


def _wrap_in_args(self, kind, args, kwargs, tf):
    if kind == apis.ESTIMATOR and isinstance(self, tf.TPUEstimator):
        return args, kwargs  # TPUEstimator passes its own internal wrapper up; the user's is wrapped
    given = estimator_arguments(kind, args, kwargs)
    settings = {k: given.get(k, d) for k, d in _TPU_DEFAULTS.items()} if kind == apis.TPU_ESTIMATOR else {}
    _check_constructor(kind, given, tf)
    if "model_fn" in kwargs:
        fn = kwargs["model_fn"]
        if fn is not None and not _is_framework_fn(fn):
            _check_signature(fn, kind, tf)
            kwargs = dict(kwargs, model_fn=wrap_model_fn(fn, kind, settings))
    elif args:
        fn = args[0]
        if fn is not None and not _is_framework_fn(fn):
            _check_signature(fn, kind, tf)
            args = (wrap_model_fn(fn, kind, settings),) + tuple(args[1:])
    return args, kwargs


def _check_constructor(kind, given, tf) -> None:
    """The estimator constructor's own rules (SL040's reserved params keys; issue 7's new rules
    hook in through `dispatch.estimator_constructor`), before TF raises at construction."""
    from speclint.runtime.checks import dispatch
    ctx.emit(dispatch.estimator_constructor(kind, given, tf))


def _check_signature(fn, kind, tf) -> None:
    """SL040, as TF's _verify_model_fn_args decides it, before TF raises at construction."""
    from speclint.runtime.checks import dispatch
    if is_wrapped(fn):
        return
    ctx.emit(dispatch.model_fn_signature(fn, kind, tf))


# ----------------------------------------------------------------------------------------------
# input_fn: what it raises before any model_fn call (SL041: params['batch_size'] that the
# estimator does not set for this mode)
def _make_call_input_fn(original, kind: str):
    @functools.wraps(original)
    def _call_input_fn(self, input_fn, mode, *args, **kwargs):
        try:
            return original(self, input_fn, mode, *args, **kwargs)
        except KeyError as exc:
            if not ctx.disabled() and not calls.stack():
                _explain_input_fn_error(exc, self, input_fn, mode, kind)
            raise

    _call_input_fn.__speclint_patch__ = True
    return _call_input_fn


def _explain_input_fn_error(exc, estimator, input_fn, mode, kind) -> None:
    from speclint.runtime.checks import explain
    try:
        params = dict(getattr(estimator, "params", None) or {})
        params.pop(apis.PARAMS_BATCH_SIZE, None)  # what this mode's input_fn got had none
        call = calls.ModelFnCall(model_fn=input_fn, estimator=kind, named={"mode": mode, "params": params})
        findings = list(explain.explain_error(exc, call, tfapi.load()))
    except Exception as inner:  # noqa: BLE001
        ctx.internal(f"SL041 on an input_fn: {type(inner).__name__}: {inner}")
        return
    ctx.emit(findings, exc)


# ----------------------------------------------------------------------------------------------
# TF's deprecation messages ("From FILE:LINE: ... is deprecated") name the frame a fixed number of
# levels above the deprecated function: with the shim, that is the shim's own wrapper. This
# version skips speclint's frames, so the message names the user's line, as without the shim.
def _make_call_location():
    def _call_location(outer=False):
        f = sys._getframe(2)
        parent = f and f.f_back
        if outer and parent is not None:
            f = parent
        while f is not None and f.f_back is not None and (
                locate.is_speclint_file(f.f_code.co_filename) or f.f_code.co_filename.startswith("<speclint")):
            f = f.f_back
        return "{}:{}".format(f.f_code.co_filename, f.f_lineno)

    _call_location.__speclint_patch__ = True
    return _call_location


def _patch_deprecation_location() -> None:
    try:
        from tensorflow.python.util import deprecation
    except ImportError:
        return
    if hasattr(deprecation, "_call_location"):
        _patch(deprecation, "_call_location", _make_call_location())


def _restore_deprecation_location() -> None:
    for key in [k for k in _SAVED if k[1] == "_call_location"]:
        _restore(*key)


# ----------------------------------------------------------------------------------------------
# install / uninstall
def install(mode: Optional[str] = None, *, target: str = "auto", select=None) -> bool:
    """Check every model_fn given to an Estimator or TPUEstimator from now on.

    mode: "raise" (SpecLintError, the default) or "warn" (SpecLintWarning); when omitted,
    $SPECLINT_RUNTIME decides.  SPECLINT_RUNTIME=off disables the shim whatever the arguments.
    Returns False (and patches nothing) when disabled.  Raises TensorFlowUnavailable when no
    Estimator API can be imported.
    """
    global _ESTIMATOR_REFS
    env = ctx.env_mode()
    if env == "off":
        return False
    if mode is not None and mode not in ("raise", "warn", "collect"):
        raise ValueError(f"mode must be 'raise' or 'warn', not {mode!r}")
    if target not in ("auto", "tpu", "cpu"):
        raise ValueError(f"target must be 'auto', 'tpu' or 'cpu', not {target!r}")
    tf = tfapi.load()
    with _LOCK:
        s = ctx.SETTINGS
        _OUTER_SETTINGS.append((s.mode, s.target, s.select))
        s.mode = mode
        s.target = target
        s.select = frozenset(select) if select is not None else None
        _ESTIMATOR_REFS += 1
        if _ESTIMATOR_REFS == 1:
            _acquire_specs(tf)
            _patch(tf.Estimator, "__init__", _make_estimator_init(tf.Estimator.__init__, apis.ESTIMATOR, tf))
            _patch(tf.TPUEstimator, "__init__",
                   _make_estimator_init(tf.TPUEstimator.__init__, apis.TPU_ESTIMATOR, tf))
            _patch_deprecation_location()
            for cls, kind in ((tf.Estimator, apis.ESTIMATOR), (tf.TPUEstimator, apis.TPU_ESTIMATOR)):
                if "_call_input_fn" in vars(cls):
                    _patch(cls, "_call_input_fn", _make_call_input_fn(vars(cls)["_call_input_fn"], kind))
    return True


def uninstall() -> None:
    """Undo `install()` (one level when installed several times)."""
    global _ESTIMATOR_REFS
    if not tfapi.available():
        return
    tf = tfapi.load()
    with _LOCK:
        if _ESTIMATOR_REFS == 0:
            return
        _ESTIMATOR_REFS -= 1
        if _OUTER_SETTINGS:  # an inner install()'s settings end with it: the outer ones are back
            ctx.SETTINGS.mode, ctx.SETTINGS.target, ctx.SETTINGS.select = _OUTER_SETTINGS.pop()
        if _ESTIMATOR_REFS == 0:
            _restore(tf.Estimator, "__init__")
            _restore(tf.TPUEstimator, "__init__")
            _restore_deprecation_location()
            for cls in (tf.Estimator, tf.TPUEstimator):
                if (cls, "_call_input_fn") in _SAVED:
                    _restore(cls, "_call_input_fn")
            _release_specs(tf)
            ctx.SETTINGS.mode, ctx.SETTINGS.target, ctx.SETTINGS.select = None, "auto", None
            _OUTER_SETTINGS.clear()
            calls.forget_recent()  # the specs (and their graphs) the last checks needed


def installed() -> bool:
    return _ESTIMATOR_REFS > 0


@contextlib.contextmanager
def shim(mode: Optional[str] = None, *, target: str = "auto", select=None):
    """`with speclint.runtime.shim("warn"): ...` installs the shim for the block."""
    active = install(mode, target=target, select=select)
    try:
        yield ctx.COLLECTOR
    finally:
        if active:
            uninstall()
