"""Names a function reads from enclosing scopes (its free variables), without ScopeProvider."""
from __future__ import annotations

from typing import Dict, Set

import libcst as cst
from speclint.static.walk import Walker, walk


def _target_names(node, out: Set[str], loads: list) -> None:
    """Names bound by an assignment target; Attribute/Subscript targets read their base."""
    if isinstance(node, cst.Name):
        out.add(node.value)
    elif isinstance(node, (cst.Tuple, cst.List)):
        for el in node.elements:
            _target_names(el.value, out, loads)
    elif isinstance(node, cst.StarredElement):
        _target_names(node.value, out, loads)
    elif isinstance(node, (cst.Attribute, cst.Subscript)):
        loads.append(node)


def param_names(params: cst.Parameters) -> list:
    names = [p.name.value for p in params.posonly_params]
    names += [p.name.value for p in params.params]
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    names += [p.name.value for p in params.kwonly_params]
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return names


class _Collector(Walker):
    def __init__(self) -> None:
        self.stores: Set[str] = set()
        self.globals: Set[str] = set()
        self.loads: Dict[str, cst.Name] = {}
        self.extra_loads: list = []

    def _load(self, node) -> None:
        if node is not None:
            walk(node, self)

    def visit_Name(self, node: cst.Name) -> bool:
        self.loads.setdefault(node.value, node)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        walk(node.value, self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        walk(node.value, self)
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        _target_names(node.target, self.stores, self.extra_loads)
        return False

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        _target_names(node.target, self.stores, self.extra_loads)
        if isinstance(node.target, cst.Name):
            self.loads.setdefault(node.target.value, node.target)
        walk(node.value, self)
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        _target_names(node.target, self.stores, self.extra_loads)
        self._load(node.value)
        return False

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        _target_names(node.target, self.stores, self.extra_loads)
        walk(node.value, self)
        return False

    def visit_For(self, node: cst.For) -> bool:
        _target_names(node.target, self.stores, self.extra_loads)
        walk(node.iter, self)
        walk(node.body, self)
        if node.orelse:
            walk(node.orelse, self)
        return False

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        _target_names(node.target, self.stores, self.extra_loads)
        walk(node.iter, self)
        for cond in node.ifs:
            walk(cond, self)
        if node.inner_for_in:
            walk(node.inner_for_in, self)
        return False

    def visit_AsName(self, node: cst.AsName) -> bool:
        _target_names(node.name, self.stores, self.extra_loads)
        return False

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        if node.asname is not None:
            _target_names(node.asname.name, self.stores, self.extra_loads)
        else:
            n = node.name
            while isinstance(n, cst.Attribute):
                n = n.value
            if isinstance(n, cst.Name):
                self.stores.add(n.value)
        return False

    def visit_Global(self, node: cst.Global) -> bool:
        self.globals.update(n.name.value for n in node.names)
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.stores.add(node.name.value)
        for d in node.decorators:
            walk(d.decorator, self)
        for p in _all_params(node.params):
            self._load(p.default)
        for name, use in free_names(node).items():
            self.loads.setdefault(name, use)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        for p in _all_params(node.params):
            self._load(p.default)
        for name, use in free_names(node).items():
            self.loads.setdefault(name, use)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.stores.add(node.name.value)
        for b in node.bases:
            walk(b, self)
        return False


def _all_params(params: cst.Parameters) -> list:
    out = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    if isinstance(params.star_arg, cst.Param):
        out.append(params.star_arg)
    if params.star_kwarg is not None:
        out.append(params.star_kwarg)
    return out


_CACHE: Dict[int, tuple] = {}


def free_names(fn) -> Dict[str, cst.Name]:
    """{name: its first use} for names a def or lambda reads but does not bind itself."""
    cached = _CACHE.get(id(fn))
    if cached is not None and cached[0] is fn:
        return cached[1]
    c = _Collector()
    if isinstance(fn, cst.FunctionDef):
        walk(fn.body, c)
    else:
        walk(fn.body, c)
    for extra in c.extra_loads:
        walk(extra, c)
    bound = set(param_names(fn.params)) | c.stores
    result = {n: use for n, use in c.loads.items() if n not in bound and n not in c.globals}
    if len(_CACHE) > 4096:
        _CACHE.clear()
    _CACHE[id(fn)] = (fn, result)
    return result
