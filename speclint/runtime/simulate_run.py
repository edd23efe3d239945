"""`speclint run --simulate-tpu`: simulate the TPU graph of every TPUEstimator a program uses.

`install_for_run()` patches `TPUEstimator`: the constructor remembers the user's model_fn, params,
batch sizes and number of shards; the first `train` / `evaluate` / `predict` call of each estimator
and mode first runs `simulate_tpu` for that mode with that call's `input_fn` (on a separate
`TPUEstimator(use_tpu=True)` in a temporary model_dir), then goes on with the program's own call
unchanged. The program can run with `use_tpu=False` on a CPU machine: the simulation still shows
what the TPU build would raise.

The diagnostics go to the runtime shim's collector when the shim is installed (`speclint run`) (and, in its `raise`
mode, stop the program with SpecLintError like the shim's own findings); otherwise they are kept
here (`diagnostics()`). `uninstall_for_run()` undoes the patches.
"""
from __future__ import annotations

import functools
import threading
import warnings
import weakref
from typing import List

from speclint.diagnostics import Diagnostic
from speclint.runtime import simulate

_LOCK = threading.Lock()
_SAVED = {}  # attribute -> original function
_SEEN: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # estimator -> {modes simulated}
_FALLBACK: List[Diagnostic] = []  # when the runtime shim is not part of this build
_BUSY = threading.local()
_SETTINGS_ATTR = "_speclint_simulation_settings"
_MODE_OF = {"train": "train", "evaluate": "eval", "predict": "predict"}


def installed() -> bool:
    return bool(_SAVED)


def diagnostics() -> List[Diagnostic]:
    """What the simulations found so far (when the runtime shim's collector is not available)."""
    return sorted(_FALLBACK, key=Diagnostic.sort_key)


def _remember(est, args, kwargs) -> None:
    model_fn = kwargs.get("model_fn", args[0] if args else None)
    config = kwargs.get("config")
    tpu_config = getattr(config, "tpu_config", None)
    shards = getattr(tpu_config, "num_shards", None) or 8
    batches = {mode: kwargs.get(f"{mode}_batch_size") for mode in ("train", "eval", "predict")}
    setattr(est, _SETTINGS_ATTR, dict(model_fn=model_fn, params=kwargs.get("params"),
                                      num_shards=shards, batches=batches,
                                      per_host_input=getattr(tpu_config, "per_host_input_for_training", None)))


def _report(diags: List[Diagnostic]) -> None:
    if not diags:
        return
    try:
        from speclint.runtime import context, patching
        from speclint.runtime.errors import SpecLintError
    except ImportError:
        patching = None
    if patching is None or not patching.installed():
        _FALLBACK.extend(d for d in diags if d not in _FALLBACK)
        return
    context.COLLECTOR.add(diags)
    if (context.SETTINGS.mode or context.env_mode() or "raise") == "raise":
        raise SpecLintError(diags)


def _simulate_for(est, method: str, args, kwargs) -> None:
    settings = getattr(est, _SETTINGS_ATTR, None)
    mode = _MODE_OF[method]
    if settings is None or settings["model_fn"] is None:
        return
    done = _SEEN.setdefault(est, set())
    if mode in done:
        return
    done.add(mode)
    input_fn = kwargs.get("input_fn", args[0] if args else None)
    if input_fn is None:
        return
    shards = settings["num_shards"]
    batch = settings["batches"].get(mode)
    batch = batch if batch and batch % shards == 0 else None
    try:
        result = simulate.simulate_tpu(settings["model_fn"], input_fn, params=settings["params"],
                                       modes=(mode,), num_shards=shards, batch_size=batch,
                                       per_host_input=settings.get("per_host_input"))
    except Exception as exc:  # noqa: BLE001 - never break the program over a simulation problem
        warnings.warn(f"speclint: the TPU simulation of {method}() could not run: "
                      f"{type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=3)
        return
    _report(list(result))


def _make(method: str, original):
    @functools.wraps(original)
    def patched(self, *args, **kwargs):
        if not getattr(_BUSY, "on", False) and getattr(simulate._STATE, "active", None) is None:
            _BUSY.on = True
            try:
                _simulate_for(self, method, args, kwargs)
            finally:
                _BUSY.on = False
        return original(self, *args, **kwargs)

    return patched


def install_for_run() -> None:
    """Patch TPUEstimator so that each estimator's TPU graph is simulated per mode (idempotent)."""
    cls = simulate._tf().TPUEstimator
    with _LOCK:
        if _SAVED:
            return
        init = cls.__dict__["__init__"]

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            if getattr(simulate._STATE, "active", None) is None:
                _remember(self, args, kwargs)
            return init(self, *args, **kwargs)

        _SAVED["__init__"] = init
        cls.__init__ = __init__
        for method in _MODE_OF:
            original = getattr(cls, method)
            _SAVED[method] = cls.__dict__.get(method)
            setattr(cls, method, _make(method, original))


def uninstall_for_run() -> None:
    cls = simulate._tf().TPUEstimator
    with _LOCK:
        for attr, original in _SAVED.items():
            if original is None:
                delattr(cls, attr)
            else:
                setattr(cls, attr, original)
        _SAVED.clear()
        _SEEN.clear()
