"""Calls the interpreter saw, for rules about what a function *does* rather than what it returns.

The interpreter reports each call of a TF API (and of the builtin `range`) to the module's
Recorder.  Normally only summary calls are kept (SL012: TF 1 summaries in a TPU model_fn).  While
a host function is being run for the host-call rules (`observe()`), every call is kept in a window
of its own, so SL010 (summary ops in host functions) and SL042 (per-core batch sizes) read exactly
the calls of that function and of the helpers it calls.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

import libcst as cst

from speclint import apis
from speclint.static.values import NOT_BATCH, Tensor


@dataclass
class CallEvent:
    path: str  # as imported (`tensorflow.compat.v1.summary.scalar`), or "range"
    node: cst.Call
    args: List[Tuple[Any, Any]]  # (value, node) of each positional argument
    kwargs: Dict[str, Tuple[Any, Any]]
    modes: FrozenSet[str]
    tpu: Optional[bool]  # the TPU flag of the path the call is on (False: a CPU-only branch)
    root: Any  # the FunctionRun of the model_fn (or standalone function) being analysed
    mod: Any = None  # the ModuleAnalyzer of the module the call is written in (its imports)

    @property
    def canonical(self) -> str:
        return apis.canonical_path(self.path)


class Recorder:
    def __init__(self) -> None:
        self.summary_calls: List[CallEvent] = []
        self.window: Optional[List[CallEvent]] = None
        self.host_runs: Dict[Any, Any] = {}  # cache of hostfns.run_host_fn
        self.removes_summaries = False  # the module clears the summaries collection (SL012)
        self.origins: Dict[int, Tuple[Any, str]] = {}  # id(value) -> (value, call path): SL006

    def note_call_site(self, node: cst.Call) -> None:
        """Seen by the analyzer's pre-pass for every call of the module: tensor2tensor's
        `remove_summaries()`, `get_collection_ref(tf.GraphKeys.SUMMARIES)` and `clear_collection`."""
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        if name == "remove_summaries":
            self.removes_summaries = True
        elif name in ("get_collection_ref", "clear_collection") and node.args:
            key = node.args[0].value
            if isinstance(key, cst.Name) or (isinstance(key, cst.Attribute) and key.attr.value == "SUMMARIES") \
                    or (isinstance(key, cst.SimpleString) and "summaries" in key.value):
                self.removes_summaries = True

    def note_result(self, path: str, value) -> None:
        """Remember which call made a tensor that is certainly not batch-major (SL006's message
        names it when the tensor reaches the host call through a variable)."""
        if isinstance(value, Tensor) and value.shape == NOT_BATCH:
            self.origins[id(value)] = (value, apis.canonical_path(path))

    def origin(self, value) -> Optional[str]:
        """The `tf.` path of the call that made `value`, when noted."""
        found = self.origins.get(id(value))
        return found[1] if found is not None and found[0] is value else None

    @property
    def observing(self) -> bool:
        return self.window is not None

    def api_call(self, path: str, node, args, kwargs, state, run) -> None:
        if self.window is not None:
            self.window.append(CallEvent(path, node, list(args), dict(kwargs), state.modes, state.tpu, run.root,
                                         run.mod))
        elif not run.an.replaying and _writes_summaries(apis.canonical_path(path)):
            self.summary_calls.append(CallEvent(path, node, list(args), dict(kwargs), state.modes, state.tpu,
                                                run.root, run.mod))

    @contextmanager
    def observe(self):
        """Collect every call made inside the block (nested windows are not needed)."""
        saved = self.window
        self.window = []
        try:
            yield self.window
        finally:
            self.window = saved


def _writes_summaries(canonical: str) -> bool:
    return canonical.startswith("tf.summary.") or canonical in apis.SUMMARY_WRITING_HELPERS
