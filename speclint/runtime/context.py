"""Settings, the per-call context of a checked model_fn, and where diagnostics go.

Data flow: a patched spec constructor records a `Construction` (raw arguments, the user's frame) in
the innermost active `ModelFnCall`; the checks turn constructions and the returned spec into
`Finding`s; `emit` formats them with the rulebook's templates into `Diagnostic`s (engine
"runtime"), adds them to the session `COLLECTOR`, and raises or warns according to the mode.
"""
from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from speclint import apis, rulebook
from speclint.diagnostics import Diagnostic
from speclint.finding import Finding
from speclint.runtime import locate
from speclint.runtime.errors import SpecLintError, SpecLintWarning


# ----------------------------------------------------------------------------------------------
# Settings
@dataclass
class Settings:
    mode: Optional[str] = None  # "raise" | "warn" | "collect" (record only); None: $SPECLINT_RUNTIME or raise
    target: str = "auto"  # "auto" | "tpu" | "cpu": where TPU-only rules apply
    select: Optional[frozenset] = None  # rule codes to report (None: every rule)


SETTINGS = Settings()


def env_mode() -> Optional[str]:
    value = os.environ.get(apis.RUNTIME_ENV, "").strip().lower()
    if not value:
        return None
    if value not in apis.RUNTIME_MODES:
        warnings.warn(SpecLintWarning(
            f"{apis.RUNTIME_ENV}={value!r} is not one of {', '.join(apis.RUNTIME_MODES)}; ignored"))
        return None
    return value


def disabled() -> bool:
    return env_mode() == "off"


# ----------------------------------------------------------------------------------------------
# Where diagnostics go
class Collector:
    """Every runtime diagnostic reported in this process (for `speclint run` and pytest)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: List[Diagnostic] = []
        self._seen = set()
        self.model_fn_calls = 0

    def add(self, diags) -> List[Diagnostic]:
        """Adds and returns what is new. A finding seen before is not new, nor one whose message
        a finding at the same spot (path, line, column, code) extends: the TPU simulation appends
        what the TPU build raised to the shim's message (`simulate._merge`), and that version
        replaces the plain one."""
        new = []
        with self._lock:
            for d in diags:
                key = (d.path, d.line, d.column, d.code, d.message)
                if key in self._seen:
                    continue
                self._seen.add(key)
                same = [i for i, o in enumerate(self._items) if (o.path, o.line, o.column, o.code) == key[:4]]
                if any(self._items[i].message.startswith(d.message) for i in same):
                    continue  # a fuller version is already there
                for i in reversed(same):
                    if d.message.startswith(self._items[i].message):
                        del self._items[i]  # superseded by this fuller version
                self._items.append(d)
                new.append(d)
        return new

    def diagnostics(self) -> List[Diagnostic]:
        with self._lock:
            return sorted(self._items, key=Diagnostic.sort_key)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._seen.clear()
            self.model_fn_calls = 0


COLLECTOR = Collector()


def to_diagnostic(f: Finding) -> Optional[Diagnostic]:
    book = rulebook.load()
    rule = book.lookup(f.code)
    if rule is None:  # the rule's doc is not part of this build: nothing to report with
        return None
    try:
        message = rule.message(f.variant, **f.params)
    except (KeyError, IndexError, ValueError) as exc:
        internal(f"{f.code} message {f.variant!r}: {exc}")
        return None
    loc = (f.at or locate.Location("<unknown>", 1)).normalized()
    return Diagnostic(loc.path, loc.line, loc.column, loc.end_line, loc.end_column, rule.code,
                      rule.name, rule.severity, message, "runtime")


def internal(message: str) -> None:
    """A problem inside a speclint check: a warning, never an exception in the user's job."""
    warnings.warn(SpecLintWarning(f"speclint internal error (the check was skipped): {message}"),
                  stacklevel=2)


def selected(code: str) -> bool:
    return SETTINGS.select is None or code in SETTINGS.select


def emit(findings: List[Finding], cause: Optional[BaseException] = None) -> None:
    """Report findings per the mode: raise SpecLintError, warn, or only record."""
    diags = [d for d in (to_diagnostic(f) for f in findings if selected(f.code)) if d is not None]
    if not diags:
        return
    COLLECTOR.add(diags)
    mode = SETTINGS.mode or env_mode() or "raise"
    if mode == "raise":
        raise SpecLintError(diags) from cause
    if mode == "warn":
        for d in diags:
            text = f"{d.code} [{d.name}] {d.message}"
            warnings.warn_explicit(SpecLintWarning(text, d), SpecLintWarning,
                                   d.path, d.line, module="speclint.runtime")


# ----------------------------------------------------------------------------------------------
# One spec construction and one model_fn call
@dataclass
class Construction:
    cls: str  # apis.ESTIMATOR_SPEC | apis.TPU_ESTIMATOR_SPEC
    args: Dict[str, object]  # field -> value as passed (positional folded in)
    location: Optional[locate.Location]
    abs_path: Optional[str]
    spec: object = None
    by_framework: bool = False  # built by TF itself (as_estimator_spec), not by user code
    unknown: List[str] = field(default_factory=list)  # keywords the class does not accept
    _call: object = None
    _call_loaded: bool = False

    def call(self):
        """The ast.Call node of this construction, when the source is available."""
        if not self._call_loaded:
            self._call_loaded = True
            if self.location is not None and self.abs_path:
                self._call = locate.call_node(self.location, self.abs_path)
        return self._call

    def field_node(self, field_name: str):
        fields = apis.SPEC_FIELDS[self.cls]
        pos = fields.index(field_name) if field_name in fields else None
        return locate.keyword_arg(self.call(), field_name, pos)

    def field_location(self, field_name: str) -> Optional[locate.Location]:
        node = self.field_node(field_name)
        if node is not None and self.location is not None:
            return locate.node_location(self.location.path, node)
        return self.location

    def keyword_location(self, field_name: str) -> Optional[locate.Location]:
        """The `field=` keyword itself (SL013 points there)."""
        node = self.field_node(field_name)
        if node is not None and self.location is not None:
            loc = locate.node_location(self.location.path, node)
            if hasattr(node, "arg") and node.arg:
                return locate.Location(loc.path, loc.line, loc.column, loc.line, loc.column + len(node.arg))
            return loc
        return self.location

    def expr(self, field_name: str, fallback: str = "?") -> str:
        node = locate.value_of(self.field_node(field_name))
        return locate.source_of(node) if node is not None else fallback


@dataclass
class ModelFnCall:
    model_fn: object
    estimator: Optional[str]  # apis.ESTIMATOR | apis.TPU_ESTIMATOR | None (check_model_fn)
    named: Dict[str, object]
    graph: object = None
    first_op: int = 0
    summaries_before: int = 0
    constructions: List[Construction] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)
    input_ids: frozenset = frozenset()  # ids of the features/labels tensors passed to this call
    estimator_obj: object = None

    @property
    def mode(self):
        return self.named.get("mode")

    @property
    def params(self):
        return self.named.get("params")

    def param(self, key: str, default=None):
        p = self.params
        if isinstance(p, dict):
            return p.get(key, default)
        return getattr(p, key, default) if p is not None else default

    @property
    def under_tpu_estimator(self) -> bool:
        return self.estimator == apis.TPU_ESTIMATOR or self.param(apis.PARAMS_USE_TPU) is not None

    @property
    def on_tpu(self) -> bool:
        """TPUEstimator is building the TPU graph for this call (params['use_tpu'] is True)."""
        if SETTINGS.target == "cpu":
            return False
        return self.param(apis.PARAMS_USE_TPU) is True

    def tpu_rules_apply(self, spec) -> bool:
        """TPU-only rules apply to the fields of this returned spec: on the TPU path; and on the
        CPU path to a TPUEstimatorSpec returned under TPUEstimator (TF would use the same spec on
        TPU), unless the model_fn looks at a TPU flag (then the TPU path may build another one)."""
        if SETTINGS.target == "cpu":
            return False
        if SETTINGS.target == "tpu" or self.on_tpu:
            return True
        return (type(spec).__name__ == apis.TPU_ESTIMATOR_SPEC and self.under_tpu_estimator
                and not mentions_tpu_flag(self.model_fn))

    def tpu_rules_apply_to_class(self, cls: str) -> bool:
        """`tpu_rules_apply` for a spec of class `cls` being built (before TF validated it)."""
        if SETTINGS.target == "cpu":
            return False
        if SETTINGS.target == "tpu" or self.on_tpu:
            return True
        return cls == apis.TPU_ESTIMATOR_SPEC and self.under_tpu_estimator \
            and not mentions_tpu_flag(self.model_fn)

    def construction_of(self, spec) -> Optional[Construction]:
        for c in reversed(self.constructions):
            if c.spec is spec:
                return c
        return None

    def model_fn_location(self) -> Optional[locate.Location]:
        return locate.function_location(self.model_fn)


def _code_objects(code, depth=0):
    yield code
    if depth < 8:
        for const in code.co_consts:
            if hasattr(const, "co_code"):
                yield from _code_objects(const, depth + 1)


def mentions_tpu_flag(fn) -> bool:
    """The model_fn's code (nested functions included) names a TPU flag: a variable, attribute,
    params key or string containing use_tpu / on_tpu / is_tpu."""
    import functools as _ft
    while isinstance(fn, _ft.partial):
        fn = fn.func
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None) or getattr(getattr(fn, "__call__", None), "__code__", None)
    if code is None:
        return True  # cannot tell: be conservative
    for c in _code_objects(code):
        words = list(c.co_names) + list(c.co_varnames) + list(c.co_freevars) + list(c.co_cellvars) \
            + [k for k in c.co_consts if isinstance(k, str)]
        if any(w in str(x) for x in words for w in apis.TPU_FLAG_WORDS):
            return True
    return False


_LOCAL = threading.local()


def stack() -> list:
    s = getattr(_LOCAL, "stack", None)
    if s is None:
        s = _LOCAL.stack = []
    return s


def current() -> Optional[ModelFnCall]:
    s = stack()
    return s[-1] if s else None
