"""TPU graph-build simulation on CPU: `simulate_tpu(model_fn, input_fn)`.

TPUEstimator with `use_tpu=True` asks the TPU system how many cores it has
(`tpu_system_metadata._query_tpu_system_metadata`) and then builds the whole TPU program: the
replicated computation, the while loops, the infeed/outfeed, the host calls and the scaffold. Faking
that one query (as TF's own `tpu_estimator_test.py` does) lets the real TPU code path build its graph
on a CPU-only machine, so every TPU-only failure TF raises at graph-build time appears here, in a CPU
test, instead of after an hour in the TPU queue.

Each mode runs `train`/`evaluate`/`predict` on a fresh TPUEstimator in a temporary model_dir. The
first `Session.run` of the simulation (variable initialisation, which would be the first thing to
touch the absent TPU) raises a private sentinel instead: reaching it means the graph built. Nothing
is ever executed, no checkpoint is written. An exception before it is a TPU graph-build failure,
mapped to its rule by `speclint.tpu_failures` and to the user's line (the innermost user frame below
the Estimator call, else the spec construction / op creation site the rule names).

Errors TF raises only when the TPU program runs or compiles (XLA) are not observable this way.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from speclint import apis, rulebook, tpu_failures
from speclint.diagnostics import Diagnostic
from speclint.runtime import locate, tfapi
from speclint.runtime.tfapi import TensorFlowUnavailable

MODES = ("train", "eval", "predict")
CONTROL_FLOWS = ("v2", "v1")
UNMAPPED_CODE = "SL102"  # rules/SL102-tpu-build-failed.md
_MODE_KEY = {"train": apis.TRAIN, "eval": apis.EVAL, "predict": apis.PREDICT}
_STATE = threading.local()  # .active: a _Recorder while a simulation runs on this thread


class _GraphBuilt(Exception):
    """Raised by the first Session.run of a simulation: the TPU graph was built."""


@dataclass
class ModeOutcome:
    """What happened when one mode's TPU graph was built."""

    mode: str  # "train" | "eval" | "predict"
    status: str  # "built" (reached Session.run) | "failed" (TF raised while building)
    error: Optional[str] = None  # "ExceptionType: message" when failed
    code: Optional[str] = None  # the rule TF's failure maps to (UNMAPPED_CODE when none)
    seconds: float = 0.0


class SimulationResult(list):
    """The diagnostics (a list), plus `.outcomes` (mode -> ModeOutcome) and `.control_flow`."""

    def __init__(self, diagnostics=(), outcomes=None, control_flow="v2"):
        super().__init__(diagnostics)
        self.outcomes: Dict[str, ModeOutcome] = dict(outcomes or {})
        self.control_flow = control_flow
        self.confirmed: set = set()  # (code, path, line) of shim diagnostics the TPU build confirmed

    @property
    def codes(self) -> set:
        return {d.code for d in self}

    @property
    def built(self) -> bool:
        """Every simulated mode built its graph."""
        return all(o.status == "built" for o in self.outcomes.values())

    def report(self) -> str:
        """The diagnostics, one per line (`path:line:col: CODE [name] message`), then each mode's
        outcome: what `assert result.built, result.report()` prints in a test."""
        lines = [f"{d.path}:{d.line}:{d.column}: {d.code} [{d.name}] {d.message}" for d in self]
        for mode, o in self.outcomes.items():
            lines.append(f"{mode}: {o.status}" + (f" ({o.code}: {o.error})" if o.error else ""))
        return "\n".join(lines) or "nothing simulated"

    def __str__(self) -> str:
        return self.report()


# ------------------------------------------------------------------------------------------------
# TensorFlow, imported lazily.
@functools.lru_cache(maxsize=1)
def _tf():
    """The runtime shim's classes (`tfapi.load()`, the same objects the shim patches) plus the TF
    internals the simulation fakes or toggles."""
    ns = tfapi.load()  # TensorFlowUnavailable (with what to install) when there is no Estimator API
    try:
        from tensorflow.python.client import session as session_lib
        from tensorflow.python.ops import control_flow_util
        from tensorflow.python.tpu import tpu_system_metadata
        from tensorflow_estimator.python.estimator.tpu import tpu_config
    except Exception as exc:  # noqa: BLE001 - any import failure means "cannot simulate"
        raise TensorFlowUnavailable(
            "simulate_tpu needs TensorFlow with the TPUEstimator API (TF 1.15 to 2.15 with "
            f"tensorflow-estimator), but importing it failed: {type(exc).__name__}: {exc}. "
            "Install e.g. `pip install tensorflow-cpu==2.15.1 tensorflow-estimator==2.15.0`.") from None
    return _TF(ns.tf, session_lib, control_flow_util, tpu_system_metadata, tpu_config, ns.EstimatorSpec,
               ns.TPUEstimatorSpec, ns.TPUEstimator)


@dataclass(frozen=True)
class _TF:
    tf: object
    session_lib: object
    control_flow_util: object
    tpu_system_metadata: object
    tpu_config: object
    EstimatorSpec: type
    TPUEstimatorSpec: type
    TPUEstimator: type


# ------------------------------------------------------------------------------------------------
# Where user code is: speclint.runtime.locate (shared with the runtime shim).
Site = locate.Location


def _below_simulation(frames) -> Optional[Site]:
    """The innermost user frame of an op's creation stack, among the frames called from simulate_tpu
    (the stack starts at the interpreter's first frame, above the simulation)."""
    return locate.innermost_user_location(frames, below=__file__)


# ------------------------------------------------------------------------------------------------
# Recording spec constructions (to point at them) while a simulation runs.
@dataclass
class _SpecRecord:
    cls: str
    fields: dict
    site: Optional[Site]
    graph: object


class _Recorder:
    def __init__(self):
        self.specs: List[_SpecRecord] = []
        self.graphs: List[object] = []

    def spec_for(self, fields: Sequence[str]) -> Optional[_SpecRecord]:
        for rec in reversed(self.specs):
            if not fields or any(rec.fields.get(f) is not None for f in fields):
                return rec
        return self.specs[-1] if self.specs else None


def _record_spec(cls_name: str, args, kwargs, graph) -> None:
    rec = getattr(_STATE, "active", None)
    if rec is None:
        return
    caller = sys._getframe(2)
    while caller is not None and locate.is_speclint_file(caller.f_code.co_filename):
        caller = caller.f_back  # the runtime shim's own patched constructor
    if caller is None or not locate.is_user_file(caller.f_code.co_filename):
        return  # built by TF itself (as_estimator_spec, TPUEstimator's own specs)
    names = apis.SPEC_FIELDS[cls_name]
    fields = dict(zip(names, args))
    fields.update(kwargs)
    rec.specs.append(_SpecRecord(cls_name, fields, locate.frame_location(caller), graph))
    if graph not in rec.graphs:
        rec.graphs.append(graph)


@contextlib.contextmanager
def _patched(tfm: _TF, num_shards: int, control_flow: str):
    """Fake the TPU system, stop at the first Session.run, record spec constructions."""
    tsm = tfm.tpu_system_metadata
    hosts = num_shards // 8 if num_shards > 8 and num_shards % 8 == 0 else 1

    def fake_query(master_address, cluster_def=None, query_topology=False):
        del master_address, cluster_def, query_topology
        return tsm.TPUSystemMetadata(num_cores=num_shards, num_hosts=hosts,
                                     num_of_cores_per_host=num_shards // hosts, topology=None, devices=[])

    base = tfm.session_lib.BaseSession
    orig_run = base.run

    def run(self, *args, **kwargs):
        if getattr(_STATE, "active", None) is not None:
            raise _GraphBuilt()
        return orig_run(self, *args, **kwargs)

    spec_classes = (("EstimatorSpec", tfm.EstimatorSpec), ("TPUEstimatorSpec", tfm.TPUEstimatorSpec))
    orig_new = {name: cls.__dict__["__new__"] for name, cls in spec_classes}

    def make_new(name, cls):
        original = orig_new[name]

        def __new__(klass, *args, **kwargs):
            if klass is cls:
                _record_spec(name, args, kwargs, tfm.tf.compat.v1.get_default_graph())
            return original(klass, *args, **kwargs)
        return __new__

    cfu = tfm.control_flow_util
    orig_cf = cfu.ENABLE_CONTROL_FLOW_V2
    orig_query = tsm._query_tpu_system_metadata
    tf_logger = logging.getLogger("tensorflow")
    orig_level = tf_logger.level
    try:
        tsm._query_tpu_system_metadata = fake_query
        base.run = run
        for name, cls in spec_classes:
            cls.__new__ = make_new(name, cls)
        cfu.ENABLE_CONTROL_FLOW_V2 = control_flow == "v2"
        tf_logger.setLevel(logging.ERROR)
        yield
    finally:
        tf_logger.setLevel(orig_level)
        cfu.ENABLE_CONTROL_FLOW_V2 = orig_cf
        for name, cls in spec_classes:
            cls.__new__ = orig_new[name]
        base.run = orig_run
        tsm._query_tpu_system_metadata = orig_query


# ------------------------------------------------------------------------------------------------
# Classifying a failure.
def _exc_chain(exc: BaseException) -> List[BaseException]:
    out = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or (exc.__context__ if not exc.__suppress_context__ else None)
    return out


def _error_text(exc: BaseException, limit: Optional[int] = None) -> str:
    """`Type: message` on one line: an op error's first line (the rest is TF's traceback), other
    messages whole, with their line breaks folded (TF prints NodeDefs over several lines; an
    autograph error gives its cause last)."""
    msg = str(exc).strip()
    if isinstance(exc, _op_error_types()):
        msg = next((ln.strip() for ln in msg.splitlines() if ln.strip()), msg)
    msg = " ".join(msg.split())
    if limit is not None and len(msg) > limit:
        msg = msg[: limit - 3] + "..."
    return f"{type(exc).__name__}: {msg}"


def _op_error_types() -> tuple:
    try:
        return (_tf().tf.errors.OpError,)
    except TensorFlowUnavailable:
        return ()


def _op_site(rec: _Recorder, names: Iterable[str]) -> Optional[Site]:
    """Where user code built the first named op found in the graphs the model_fn used."""
    graphs = []
    for g in rec.graphs:
        while g is not None and g not in graphs:
            graphs.append(g)
            g = getattr(g, "outer_graph", None)
    for name in names:
        for g in graphs:
            try:
                op = g.get_operation_by_name(name)
            except (KeyError, ValueError, TypeError):
                continue
            try:
                site = _below_simulation(op.traceback)
            except Exception:  # noqa: BLE001 - a missing traceback only loses precision
                site = None
            if site is not None:
                return site
    return None


def _field_op_site(spec: Optional[_SpecRecord], field: str) -> Optional[Site]:
    value = spec.fields.get(field) if spec else None
    op = getattr(value, "op", value)
    tb = getattr(op, "traceback", None)
    if tb is None:
        return None
    try:
        return _below_simulation(tb)
    except Exception:  # noqa: BLE001
        return None


def _anchor_site(anchor: str, rec: _Recorder, message: str, model_fn, input_fn) -> Optional[Site]:
    if anchor.startswith("spec"):
        spec = rec.spec_for(tpu_failures.anchor_fields(anchor))
        return spec.site if spec else None
    if anchor == "op":
        return _op_site(rec, tpu_failures.op_names(message))
    if anchor in ("train_op", "loss"):
        spec = rec.spec_for((anchor,))
        return _field_op_site(spec, anchor) or (spec.site if spec else None)
    if anchor == "input_fn":
        return locate.function_location(input_fn)
    if anchor == "model_fn":
        return locate.function_location(model_fn)
    return None


def _message(code: str, name: str, mode: str, error: str, detail: str = "") -> Tuple[str, str, str]:
    """(name, severity, message) from the rule's `tpu_build` variant, else SL102's `mapped` one."""
    book = rulebook.load()
    rule = book.by_code.get(code)
    params = dict(mode=apis.MODE_DISPLAY[_MODE_KEY[mode]], error=error, detail=detail, code=code,
                  name=rule.name if rule else name)
    if rule is not None and "tpu_build" in rule.messages:
        return rule.name, rule.severity, rule.message("tpu_build", **params)
    fallback = book[UNMAPPED_CODE]
    variant = "default" if code == UNMAPPED_CODE else "mapped"
    return params["name"], rule.severity if rule else "error", fallback.message(variant, **params)


def _detail(entry, exc: BaseException, rec: _Recorder) -> str:
    """A short extra fact TF's message lacks, for the rules where it is cheap to get."""
    if entry is not None and entry.code == "SL005":
        spec = rec.spec_for(("eval_metrics", "host_call"))
        found = []
        for field in ("eval_metrics", "host_call"):
            value = spec.fields.get(field) if spec else None
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                continue
            tensors = value[1]
            items = tensors.items() if isinstance(tensors, dict) else enumerate(tensors or ())
            for key, t in items:
                shape = getattr(t, "shape", None)
                if shape is not None and getattr(shape, "rank", None) == 0:
                    found.append(f"`{field}` tensor[{key!r}] `{getattr(t, 'name', '?')}`")
        return f" (the scalar: {', '.join(found)})" if found else ""
    return ""


def classify(exc: BaseException, mode: str, rec: _Recorder, model_fn, input_fn) -> Diagnostic:
    """The diagnostic for an exception TF raised while building one mode's TPU graph."""
    chain = _exc_chain(exc)
    frames = [fs for e in chain for fs in traceback.extract_tb(e.__traceback__)]
    functions = {fs.name for fs in frames}
    entry = None
    for e in chain:
        names = [k.__name__ for k in type(e).__mro__]
        entry = tpu_failures.match(names, str(e), functions)
        if entry is not None:
            exc = e
            break
    error = _error_text(exc)
    code = entry.code if entry else UNMAPPED_CODE
    site = None
    for e in chain:  # the user's frame TF names in converted (autograph) code, innermost first
        site = locate.user_code_location(str(e))
        if site is not None:
            break
    for e in chain if site is None else ():  # innermost user frame below the Estimator call
        site = locate.innermost_user_location(traceback.extract_tb(e.__traceback__))
        if site is not None:
            break
    if site is None and entry is not None:
        site = _anchor_site(entry.anchor, rec, str(exc), model_fn, input_fn)
    if site is None:
        spec = rec.spec_for(())
        site = (spec.site if spec else None) or locate.function_location(model_fn) or Site("<unknown>", 1)
    name, severity, message = _message(code, entry.name if entry else "", mode, error, _detail(entry, exc, rec))
    site = site.normalized()
    return Diagnostic(site.path, site.line, site.column, site.end_line, site.end_column, code, name,
                      severity, message, "runtime")


# ------------------------------------------------------------------------------------------------
# The runtime shim, when this speclint has it (speclint.runtime.patching / context): its own checks
# on the real objects of every model_fn call, collected per mode, never raised.
class _Shim:
    def __init__(self):
        from speclint.runtime import context, patching  # ImportError: no shim in this build

        self.context, self.patching = context, patching
        self.saved = None

    def __enter__(self):
        s = self.context.SETTINGS
        self.saved = (s.mode, s.target, self.context.COLLECTOR)
        s.mode, s.target = "collect", "tpu"
        return self

    def __exit__(self, *exc):
        s = self.context.SETTINGS
        s.mode, s.target, self.context.COLLECTOR = self.saved
        return False

    def wrap(self, model_fn):
        self.context.COLLECTOR = self.context.Collector()  # this mode's findings only
        return self.patching.wrap_model_fn(model_fn, apis.TPU_ESTIMATOR)

    def collected(self) -> List[Diagnostic]:
        return self.context.COLLECTOR.diagnostics()


def _shim_or_none(enabled: bool):
    if not enabled:
        return contextlib.nullcontext(None)
    try:
        return _Shim()
    except ImportError:
        return contextlib.nullcontext(None)


def _close_summary_writers(tfm: _TF, model_dir: str) -> None:
    """Close and forget the FileWriters TF cached for `model_dir` and below (each owns a logging
    thread and an open events file, which would outlive the removed directory)."""
    try:
        cache = tfm.tf.compat.v1.summary.FileWriterCache
        lock, writers = cache._lock, cache._cache
    except AttributeError:
        return
    base = os.path.normpath(model_dir)
    with lock:
        mine = [k for k in list(writers) if os.path.normpath(str(k)) == base
                or os.path.normpath(str(k)).startswith(base + os.sep)]
        closing = [writers.pop(k) for k in mine]
    for writer in closing:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - cleanup must not mask the simulation's outcome
            pass


# ------------------------------------------------------------------------------------------------
def _simulate_mode(tfm: _TF, mode: str, model_fn, input_fn, checker, *, params, num_shards, steps, batch,
                   per_host_input=None, use_tpu=True):
    """Build one mode's TPU graph: (outcome, TF's failure as a diagnostic or None, shim diagnostics).
    `use_tpu=False`: the same estimator's CPU graph instead (`builds_off_tpu`)."""
    cfg = tfm.tpu_config
    rec = _Recorder()
    fn = checker.wrap(model_fn) if checker is not None else model_fn
    model_dir = tempfile.mkdtemp(prefix="speclint-tpusim-")
    start = time.perf_counter()
    outcome, tf_diag = ModeOutcome(mode, "built"), None
    _STATE.active = rec
    tpu_kwargs = {} if per_host_input is None else dict(per_host_input_for_training=per_host_input)
    try:
        config = cfg.RunConfig(model_dir=model_dir, tpu_config=cfg.TPUConfig(
            iterations_per_loop=steps, num_shards=num_shards, **tpu_kwargs))
        est = tfm.TPUEstimator(
            model_fn=fn, config=config, use_tpu=use_tpu, params=dict(params or {}),
            train_batch_size=batch, eval_batch_size=batch, predict_batch_size=batch)
        if mode == "train":
            est.train(input_fn, steps=steps)
        elif mode == "eval":
            est.evaluate(input_fn, steps=steps)
        else:
            for _ in zip(range(steps), est.predict(input_fn)):
                pass
    except _GraphBuilt:
        pass
    except Exception as exc:  # noqa: BLE001 - every failure is a finding
        tf_diag = classify(exc, mode, rec, model_fn, input_fn)
        outcome = ModeOutcome(mode, "failed", _error_text(exc), tf_diag.code)
    finally:
        _STATE.active = None
        _close_summary_writers(tfm, model_dir)
        shutil.rmtree(model_dir, ignore_errors=True)
    outcome.seconds = time.perf_counter() - start
    return outcome, tf_diag, (checker.collected() if checker is not None else [])


# ------------------------------------------------------------------------------------------------
# One diagnostic per misuse. The shim's (it checked the real objects) points at the offending
# expression and names it; TF's failure in the same mode with the same code is the same misuse, so
# it is not reported again but confirms the shim's: the shim's message gets SL102's `confirmed`
# sentence, which quotes what the TPU build actually raised. A misuse seen in several modes is
# reported once (the first mode's).
def _key(d: Diagnostic) -> tuple:
    return (d.code, d.path, d.line)


def _confirmed(d: Diagnostic, mode: str, outcome: ModeOutcome) -> Diagnostic:
    text = rulebook.load()[UNMAPPED_CODE].message(
        "confirmed", mode=apis.MODE_DISPLAY[_MODE_KEY[mode]], error=outcome.error)
    return d.replace(message=f"{d.message} {text}")


def _merge(result: SimulationResult, shim_diags: List[Diagnostic], tf_diag: Optional[Diagnostic],
           mode: str, outcome: ModeOutcome) -> None:
    index = {_key(d): i for i, d in enumerate(result)}
    for d in shim_diags:
        if _key(d) not in index:
            index[_key(d)] = len(result)
            result.append(d)
    if tf_diag is None:
        return
    same = [d for d in shim_diags if d.code == tf_diag.code]
    if not same:
        if _key(tf_diag) not in index:
            result.append(tf_diag)
        return
    # the shim's diagnostic TF's failure points at (same line), else the first one of that code
    target = next((d for d in same if _key(d) == _key(tf_diag)), min(same, key=Diagnostic.sort_key))
    if _key(target) not in result.confirmed:  # by the first mode that failed on it
        result.confirmed.add(_key(target))
        i = index[_key(target)]
        result[i] = _confirmed(result[i], mode, outcome)


def builds_off_tpu(model_fn, input_fn, mode: str, *, params=None, batch_size: int = 16,
                   num_shards: int = 8) -> ModeOutcome:
    """Build `mode`'s graph as the program's own CPU run would (TPUEstimator(use_tpu=False), the
    program's TPU flags as they are), up to the first Session.run: whether the model_fn supports
    `mode` with `input_fn` at all. Nothing is reported; state is restored as in `simulate_tpu`."""
    if getattr(_STATE, "active", None) is not None:
        raise RuntimeError("builds_off_tpu cannot run inside a simulation")
    tfm = _tf()
    from speclint.runtime import tpupath
    with tpupath.preserved_state(), _patched(tfm, num_shards, "v2"), _shim_or_none(True) as checker:
        # the shim's checks run in a collector of their own, discarded: this build only answers
        # "does it build"
        outcome, _, _ = _simulate_mode(tfm, mode, model_fn, input_fn, checker, params=params,
                                       num_shards=num_shards, steps=1, batch=batch_size, use_tpu=False)
    return outcome


# ------------------------------------------------------------------------------------------------
def simulate_tpu(model_fn, input_fn, *, params=None, modes: Sequence[str] = MODES, num_shards: int = 8,
                 steps: int = 1, batch_size: Optional[int] = None, control_flow: str = "v2",
                 shim: bool = True, per_host_input=None) -> SimulationResult:
    """Build `model_fn`'s real TPUEstimator graph (`use_tpu=True`) on CPU for each mode.

    Returns the diagnostics (the runtime shim's own, when installed, plus every TPU graph-build
    failure TF raised, mapped to its rule and to the user's line; failures no rule covers are
    reported as SL102 with TF's message). `.outcomes[mode].status` is "built" when the graph built
    and only running it would have needed a TPU.

    `batch_size` is the global batch (default 2 per core); `input_fn` reads the per-core batch
    from `params["batch_size"]` as usual. `per_host_input`: TPUConfig's per_host_input_for_training
    (TF's default when None). The program's own TPU flags are set for the build (`tpupath`), and
    Python / NumPy / TF random state is restored after it. `control_flow="v1"` builds with TF1-style control flow
    (`tf.compat.v1.disable_control_flow_v2()` for the duration of the call), which is what TF 1.x
    TPU users saw and the only way TF itself checks for a missing CrossShardOptimizer (SL043).
    """
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: use some of {MODES}")
    if control_flow not in CONTROL_FLOWS:
        raise ValueError(f"control_flow must be one of {CONTROL_FLOWS}, not {control_flow!r}")
    if getattr(_STATE, "active", None) is not None:
        raise RuntimeError("simulate_tpu cannot be nested")
    tfm = _tf()
    batch = batch_size or 2 * num_shards
    result = SimulationResult(control_flow=control_flow)
    from speclint.runtime import simulate_inputs, tpupath
    # the program's own TPU flags (FLAGS.use_tpu, a use_tpu closure variable, config.use_tpu) are
    # True while TF builds the TPU graph, as on a TPU, and so are the batches' drop_remainder the
    # program derived from them earlier (simulate_inputs); the random state the build consumes is
    # given back, so the program's own initialisers draw what they would have drawn
    with tpupath.preserved_state(), tpupath.tpu_flags(model_fn, input_fn), simulate_inputs.tpu_batches(), \
            _patched(tfm, num_shards, control_flow), _shim_or_none(shim) as checker:
        for mode in modes:
            outcome, tf_diag, shim_diags = _simulate_mode(
                tfm, mode, model_fn, input_fn, checker, params=params, num_shards=num_shards,
                steps=steps, batch=batch, per_host_input=per_host_input)
            result.outcomes[mode] = outcome
            _merge(result, shim_diags, tf_diag, mode, outcome)
    result.sort(key=Diagnostic.sort_key)
    return result
