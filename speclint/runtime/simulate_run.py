"""`speclint run --simulate-tpu`: simulate the TPU graph of every TPUEstimator a program uses.

`install_for_run()` patches `TPUEstimator`: the constructor remembers the user's model_fn, params,
batch sizes and number of shards; the first `train` / `evaluate` / `predict` call of each estimator
and mode first runs `simulate_tpu` for that mode with that call's `input_fn` (on a separate
`TPUEstimator(use_tpu=True)` in a temporary model_dir), then goes on with the program's own call
unchanged. The program can run with `use_tpu=False` on a CPU machine: the simulation still shows
what the TPU build would raise.

Every mode the model_fn supports is simulated, not only those the program reaches: when the program
ends (`uninstall_for_run`), each model_fn whose estimator ran some modes gets the others built on
the TPU path too (`_unreached`), with the estimator's own batch size for that mode (the reached
mode's when unset) and the input_fn of the mode it reached (train's first). A mode the model_fn
does not support is not a finding: when the TPU build of an unreached mode fails, the same mode is
built on the CPU path (`simulate.builds_off_tpu`); if that fails too, the mode is skipped, with the
reason in `UNREACHED`. Findings about the input pipeline (SL041, SL044) and TF failures no rule
explains (SL102) are not reported for an unreached mode: its input_fn is borrowed. `eval_on_tpu=False`
evaluates on CPU, so EVAL is not simulated then. This runs after the program's last line, so the
program's own outputs cannot change.

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
_RUNS: List[dict] = []  # the settings of every estimator that reached a mode (strong refs: until the end)
UNREACHED: List[tuple] = []  # (model_fn name, mode, "built" | "reported" | "skipped", reason) of the last run
_BORROWED_INPUT_CODES = frozenset(("SL041", "SL044", simulate.UNMAPPED_CODE))


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
                                      per_host_input=getattr(tpu_config, "per_host_input_for_training", None),
                                      eval_on_tpu=kwargs.get("eval_on_tpu", True), reached={}))


def _report(diags: List[Diagnostic], may_raise: bool = True) -> None:
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
    if may_raise and (context.SETTINGS.mode or context.env_mode() or "raise") == "raise":
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
    if not settings["reached"]:
        _RUNS.append(settings)
    settings["reached"].setdefault(mode, input_fn)
    if mode == "eval" and settings.get("eval_on_tpu") is False:
        return  # TPUEstimator(eval_on_tpu=False) evaluates on CPU, on a TPU too
    shards = settings["num_shards"]
    batch = _batch(settings, mode)
    try:
        result = simulate.simulate_tpu(settings["model_fn"], input_fn, params=settings["params"],
                                       modes=(mode,), num_shards=shards, batch_size=batch,
                                       per_host_input=settings.get("per_host_input"))
    except Exception as exc:  # noqa: BLE001 - never break the program over a simulation problem
        warnings.warn(f"speclint: the TPU simulation of {method}() could not run: "
                      f"{type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=3)
        return
    _report(list(result))


def _batch(settings, mode):
    batch = settings["batches"].get(mode)
    return batch if isinstance(batch, int) and batch > 0 and batch % settings["num_shards"] == 0 else None


def _fn_name(fn) -> str:
    fn = getattr(fn, "func", fn)
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


def _unreached() -> None:
    """Build, on the TPU path, every mode no estimator of a model_fn reached (module docstring)."""
    UNREACHED.clear()
    try:
        from speclint.runtime import context, patching
        if patching.installed() and (context.SETTINGS.mode or context.env_mode() or "raise") == "raise" \
                and context.COLLECTOR.diagnostics():
            return  # the program was stopped at its first finding (--mode raise)
    except ImportError:
        pass
    by_fn = {}
    for settings in _RUNS:
        entry = by_fn.setdefault(id(settings["model_fn"]), [settings, set()])
        entry[1].update(settings["reached"])
    for settings, reached in by_fn.values():
        model_fn, name = settings["model_fn"], _fn_name(settings["model_fn"])
        # the input_fn the program gave for training (the pipeline a TPU run feeds), else the first
        source = "train" if "train" in settings["reached"] else next(iter(settings["reached"]))
        input_fn = settings["reached"][source]
        for mode in simulate.MODES:
            if mode in reached:
                continue
            if mode == "eval" and settings.get("eval_on_tpu") is False:
                UNREACHED.append((name, mode, "skipped", "eval_on_tpu=False: evaluation runs on CPU"))
                continue
            batch = _batch(settings, mode) or _batch(settings, source)
            _unreached_mode(settings, model_fn, name, mode, input_fn, source, batch)


def _unreached_mode(settings, model_fn, name, mode, input_fn, source, batch) -> None:
    kwargs = dict(params=settings["params"], num_shards=settings["num_shards"])
    try:
        result = simulate.simulate_tpu(model_fn, input_fn, modes=(mode,), batch_size=batch,
                                       per_host_input=settings.get("per_host_input"), **kwargs)
        outcome = result.outcomes[mode]
        if outcome.status == "failed":
            cpu = simulate.builds_off_tpu(model_fn, input_fn, mode, batch_size=batch or 16, **kwargs)
            if cpu.status == "failed":
                UNREACHED.append((name, mode, "skipped", f"the model_fn does not build {mode} with the "
                                  f"{source} input_fn on CPU either ({cpu.error})"))
                return
    except Exception as exc:  # noqa: BLE001 - never break the program over a simulation problem
        UNREACHED.append((name, mode, "skipped", f"the simulation could not run: {type(exc).__name__}: {exc}"))
        return
    diags = [d for d in result if d.code not in _BORROWED_INPUT_CODES]
    UNREACHED.append((name, mode, "reported" if diags else "built",
                      f"with the {source} input_fn" + (f", batch {batch}" if batch else "")
                      + (f"; TPU build: {outcome.error}" if outcome.error else "")))
    _report(diags, may_raise=False)



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


def uninstall_for_run(finish: bool = True) -> None:
    """Undo the patches; first (`finish`) simulate the modes the program did not reach."""
    cls = simulate._tf().TPUEstimator
    if finish and _SAVED:
        _BUSY.on = True
        try:
            _unreached()
        finally:
            _BUSY.on = False
    _RUNS.clear()
    with _LOCK:
        for attr, original in _SAVED.items():
            if original is None:
                delattr(cls, attr)
            else:
                setattr(cls, attr, original)
        _SAVED.clear()
        _SEEN.clear()
