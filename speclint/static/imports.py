"""The import alias table: which local names denote which modules and APIs.

Built in one pass over every import of the module (including imports inside functions and both
branches of try/except), instead of libcst's QualifiedNameProvider, which costs several parses.
A name bound to different things resolves only when every binding means the same API.
"""
from __future__ import annotations

from typing import Dict, Optional, Set

import libcst as cst

from speclint import apis

# Functions of well-known libraries that return a TF module (tensor2tensor's lazy contrib).
MODULE_FACTORIES = {
    "tensor2tensor.utils.contrib.tpu": "tensorflow.contrib.tpu",
    "tensor2tensor.utils.contrib.summary": "tensorflow.contrib.summary",
}


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _module_name(node) -> str:
    return dotted(node) or ""


class ImportTable:
    def __init__(self) -> None:
        self.bindings: Dict[str, Set[str]] = {}

    def _bind(self, name: str, target: str) -> None:
        self.bindings.setdefault(name, set()).add(target)

    def add(self, node) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _module_name(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._bind(alias.asname.name.value, full)
                else:
                    root = full.split(".")[0]
                    self._bind(root, root)
        elif isinstance(node, cst.ImportFrom):
            module = _module_name(node.module) if node.module is not None else ""
            if isinstance(node.names, cst.ImportStar):
                return
            if node.relative:  # kept with its dots; only the module index resolves these
                module = "." * len(node.relative) + module
            for alias in node.names:
                name = _module_name(alias.name)
                local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
                self._bind(local, f"{module}.{name}" if module and not module.endswith(".") else module + name)

    def resolve_expr(self, node: cst.BaseExpression) -> Optional[str]:
        """The fully qualified dotted name an expression denotes, when every binding agrees.

        The result keeps the import path as written (e.g. `tensorflow.compat.v1.losses.x`), so
        callers can tell v1 from v2 spellings; fold it with `apis.canonical_path` to compare.
        """
        parts = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        parts.reverse()
        if isinstance(node, cst.Call) and not node.args:
            inner = self.resolve_expr(node.func)
            base = MODULE_FACTORIES.get(inner or "")
            if base is None:
                return None
            candidates = {base}
        elif isinstance(node, cst.Name):
            candidates = self.bindings.get(node.value)
            if not candidates:
                return None
        else:
            return None
        return _agreed(candidates, parts)

    def resolve_dotted(self, name: str) -> Optional[str]:
        """`resolve_expr` of the Name/Attribute chain spelt `name` (`tf.estimator.EstimatorSpec`)."""
        root, *parts = name.split(".")
        candidates = self.bindings.get(root)
        return _agreed(candidates, parts) if candidates else None


def _agreed(candidates, parts) -> Optional[str]:
    fulls = {".".join([c] + parts) for c in candidates}
    if len(fulls) == 1:
        return next(iter(fulls))
    canon = {apis.canonical_path(f) for f in fulls}
    named = {apis.api_name(f) for f in fulls}
    if len(canon) == 1 or (len(named) == 1 and None not in named):
        # Same API under different import paths (try/except imports): keep one spelling
        # deterministically, preferring an explicit compat.v1 path.
        return sorted(fulls, key=lambda f: ("compat.v1" not in f, f))[0]
    return None
