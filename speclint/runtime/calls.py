"""The records of a checked model_fn call: each spec construction (`Construction`: raw arguments,
the user's frame) and the call itself (`ModelFnCall`: mode, params, the graph it built, what it
constructed), the stack of active calls, and the specs built recently (for checks that run after
the model_fn returned: TF's as_estimator_spec, an uncalled as_estimator_spec).

The shim (patching.py) creates these records; the checks read them.
"""
from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from speclint import apis
from speclint.finding import Finding
from speclint.runtime import context, locate


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
    tpu_path: bool = False  # the shim's shadow build of the TPU path (tpupath.py)
    settings: Dict[str, object] = field(default_factory=dict)  # TPUEstimator's use_tpu, eval_on_tpu, ...

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
        if context.SETTINGS.target == "cpu":
            return False
        return self.tpu_path or self.param(apis.PARAMS_USE_TPU) is True

    def tpu_rules_apply(self, spec) -> bool:
        """TPU-only rules apply to the fields of this returned spec: on the TPU path; and on the
        CPU path to a TPUEstimatorSpec returned under TPUEstimator (TF would use the same spec on
        TPU), unless the model_fn looks at a TPU flag (then the TPU path may build another one)."""
        if context.SETTINGS.target == "cpu":
            return False
        if context.SETTINGS.target == "tpu" or self.on_tpu:
            return True
        return (type(spec).__name__ == apis.TPU_ESTIMATOR_SPEC and self.under_tpu_estimator
                and not mentions_tpu_flag(self.model_fn))

    def tpu_rules_apply_to_class(self, cls: str) -> bool:
        """`tpu_rules_apply` for a spec of class `cls` being built (before TF validated it)."""
        if context.SETTINGS.target == "cpu":
            return False
        if context.SETTINGS.target == "tpu" or self.on_tpu:
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
    params key or identifier-like string containing use_tpu / on_tpu / is_tpu (a docstring that
    mentions `eval_on_tpu=False` is not a flag)."""
    import functools as _ft
    while isinstance(fn, _ft.partial):
        fn = fn.func
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None) or getattr(getattr(fn, "__call__", None), "__code__", None)
    if code is None:
        return True  # cannot tell: be conservative
    for c in _code_objects(code):
        words = list(c.co_names) + list(c.co_varnames) + list(c.co_freevars) + list(c.co_cellvars) \
            + [k for k in c.co_consts if isinstance(k, str) and k.isidentifier()]  # keys, not docs
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


# ----------------------------------------------------------------------------------------------
# Recently built specs -> their Construction, for checks that run right after the model_fn returned
# (TF's as_estimator_spec, an uncalled as_estimator_spec).  Small: each spec keeps its graph alive.
_RECENT_LOCK = threading.Lock()
_RECENT = collections.OrderedDict()
_RECENT_MAX = 8


def remember(spec, construction) -> None:
    with _RECENT_LOCK:
        _RECENT[id(spec)] = (spec, construction)
        while len(_RECENT) > _RECENT_MAX:
            _RECENT.popitem(last=False)


def forget_recent() -> None:
    """Drop the recently built specs (the shim's final uninstall: they keep their graphs alive)."""
    with _RECENT_LOCK:
        _RECENT.clear()


def construction_of(spec) -> Optional[Construction]:
    """The Construction of a spec built recently (in any call), else None."""
    entry = _RECENT.get(id(spec))
    return entry[1] if entry is not None and entry[0] is spec else None
