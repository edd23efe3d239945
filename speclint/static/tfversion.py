"""Which `tf.summary.*` calls are the TF 1 summary API (SL010, SL012).

`tf.compat.v1.summary.scalar` is TF 1 however it is imported.  A plain `tf.summary.scalar` is TF 1
only under `import tensorflow.compat.v1 as tf`, or under `import tensorflow as tf` in a module that
is certainly TF 1 code (it uses an attribute TF 2 removed, such as `tf.contrib` or `tf.Session`).
Otherwise it is TF 2's summary op, and speclint stays silent.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from speclint import apis
from speclint.static import lazydefs
from speclint.static.walk import Walker, walk, walk_header


def v1_summary_op(raw_path: str, an, keywords=()) -> Optional[str]:
    """The op name (`scalar`) when the call `raw_path` (with these keyword arguments) is a TF 1
    summary op, else None.  A `step=` argument is TF 2's signature: TF 1's ops have none."""
    canon = apis.canonical_path(raw_path)
    module, _, op = canon.rpartition(".")
    if module != "tf.summary" or op not in apis.V1_SUMMARY_OPS or "step" in keywords:
        return None
    v1, v2 = raw_path.rfind("compat.v1."), raw_path.rfind("compat.v2.")
    if v1 > v2:  # the innermost compat module decides: `tf.compat.v2.summary` under a v1 alias is v2
        return op
    if v2 < 0 and raw_path.startswith("tensorflow.summary.") and is_tf1_module(an):
        return op
    return None


def is_tf1_module(an) -> bool:
    """The module uses a TF 1-only attribute of the plain `tensorflow` module (computed once)."""
    cached = getattr(an, "_tf1_module", None)
    if cached is None:
        cached = _scan(an)
        an._tf1_module = cached
    return cached


def _scan(an) -> bool:
    if any(t.startswith("tensorflow.contrib") for ts in an.imports.bindings.values() for t in ts):
        return True
    plain = {name for name, ts in an.imports.bindings.items() if ts == {"tensorflow"}}
    if not plain:
        return False
    found = False

    class V(Walker):
        def visit_Attribute(self, node: cst.Attribute) -> Optional[bool]:
            nonlocal found
            parts = []
            n = node
            while isinstance(n, cst.Attribute):
                parts.append(n.attr.value)
                n = n.value
            if not isinstance(n, cst.Name):
                return True  # `f(x).y`: look inside the call
            if n.value in plain:
                parts.reverse()
                if parts[0] in apis.TF1_ONLY_ATTRIBUTES or ".".join(parts[:2]) in apis.TF1_ONLY_ATTRIBUTES:
                    found = True
            return False  # the outermost attribute of a chain holds the whole chain

        def visit_Call(self, node: cst.Call) -> Optional[bool]:
            return not found

        def visit_FunctionDef(self, node: cst.FunctionDef) -> Optional[bool]:
            nonlocal found
            lazy = lazydefs.unread(node)
            if lazy is None:
                return True
            walk_header(node, self)
            if any(root in plain and (
                a in apis.TF1_ONLY_ATTRIBUTES or (b is not None and f"{a}.{b}" in apis.TF1_ONLY_ATTRIBUTES))
                   for root, a, b in lazy.chains):
                found = True
            return False

    walk(an.module, V())
    return found
