"""The fixes the static checks attach to their findings (`speclint.finding.Fix`).

Every edit replaces one node of the user's tree by a new node built around the user's own nodes;
the pipeline has libcst generate its code in place (the statement's indentation, the module's
line ending), so their spelling, comments and line breaks are kept (the code is never re-typed
from the message).  TensorFlow names a fix adds (`tf.reduce_mean`, `tf.group`,
`tf.estimator.ModeKeys`) are spelt with the module's own import of TensorFlow (`tf_name`); when
that cannot be determined (no import, several, or one bound to something else), the builder
returns None and the finding has no fix: never a wrong one.

Whether a fix is safe (applied by `--fix`) or unsafe (`--unsafe-fixes`) is decided here and
explained in each rule's doc under "## Fix safety".
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from speclint.finding import SAFE, UNSAFE, Fix
from speclint.static import lazydefs
from speclint.static.walk import Walker, walk, walk_header

_TF_MODULES = ("tensorflow", "tensorflow.compat.v1")


def code(node: cst.CSTNode) -> str:
    """The exact code libcst generates for `node` (comments and line breaks kept)."""
    return cst.Module([]).code_for_node(node)


def short(node: cst.CSTNode) -> str:
    """`node`'s code on one line, shortened, for a fix's message."""
    text = " ".join(code(node).split())
    return text if len(text) <= 40 else text[:37] + "..."


def tf_name(an) -> Optional[tuple]:
    """(local name, module) of the one import of TensorFlow the module spells TF APIs with:
    `import tensorflow as tf` -> ("tf", "tensorflow"), `import tensorflow.compat.v1 as tf` ->
    ("tf", "tensorflow.compat.v1").  A plain `tensorflow` import wins over a compat.v1 one; None
    when there is none, or more than one of the same kind (which to use is a guess), or when the
    name is also bound to something else."""
    imports = getattr(an, "imports", None)
    if imports is None:
        return None
    for module in _TF_MODULES:
        names = [n for n, targets in imports.bindings.items() if targets == {module}]
        if len(names) == 1:
            return (names[0], module) if names[0] not in _rebound(an) else None
        if len(names) > 1:
            return None
    return None


class _Bindings(Walker):
    """Names the module binds other than by import: parameters, assignment, loop and `with`
    targets, functions and classes (a `tf` parameter shadows the import where it is)."""

    def __init__(self) -> None:
        self.names = set()

    def visit_Param(self, node: cst.Param) -> None:
        self.names.add(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        if not isinstance(node.name, cst.Name) or not isinstance(self._parent, (cst.Import, cst.ImportFrom)):
            self._target(node.name)

    def visit_Import(self, node) -> None:
        self._parent = node

    def visit_ImportFrom(self, node) -> None:
        self._parent = node

    def leave_Import(self, node) -> None:
        self._parent = None

    def leave_ImportFrom(self, node) -> None:
        self._parent = None

    _parent = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> Optional[bool]:
        self.names.add(node.name.value)
        lazy = lazydefs.unread(node)
        if lazy is None:
            return True
        walk_header(node, self)
        self.names.update(lazy.bound)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.names.add(node.name.value)

    def _target(self, node) -> None:
        if isinstance(node, cst.Name):
            self.names.add(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for el in node.elements:
                self._target(el.value)
        elif isinstance(node, cst.StarredElement):
            self._target(node.value)


def _rebound(an) -> set:
    """Names bound in the module other than by import (computed once per analysis)."""
    cache = getattr(an, "_fix_rebound", None)
    if cache is None:
        visitor = _Bindings()
        module = getattr(an, "module", None)
        if module is not None:
            walk(module, visitor)
        cache = visitor.names
        try:
            an._fix_rebound = cache
        except AttributeError:
            pass
    return cache


def api(an, path: str) -> Optional[str]:
    """How the module spells `tf.<path>` (a name that exists in both `tensorflow` and
    `tensorflow.compat.v1`), or None."""
    found = tf_name(an)
    return f"{found[0]}.{path}" if found else None


def v1_api(an, path: str) -> Optional[str]:
    """How the module spells the TF 1 API `tf.compat.v1.<path>`: `tf.<path>` under a compat.v1
    import (or a module that is certainly TF 1 code), else `tf.compat.v1.<path>`."""
    found = tf_name(an)
    if found is None:
        return None
    name, module = found
    if module == "tensorflow.compat.v1":
        return f"{name}.{path}"
    from speclint.static.tfversion import is_tf1_module

    return f"{name}.{path}" if is_tf1_module(an) else f"{name}.compat.v1.{path}"


def attribute_of(node: cst.BaseExpression, name: str) -> Optional[cst.Attribute]:
    """`node.name`, when `node` needs no parentheses for it (a name, attribute, call, subscript or
    display), else None."""
    if not isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Dict, cst.List, cst.Tuple)):
        return None
    return cst.Attribute(node, cst.Name(name))


def every_path(ctx, fact, ok) -> bool:
    """Whether `ok(f)` holds for every spec construction fact `f` of `fact`'s construction node:
    a construction reached on several paths (flags, modes) is one node of code, and a fix of it
    must be right on each path, not only on the one a finding came from (`scaffold=scaffold_fn`
    where `scaffold_fn` is None unless a flag is set: `scaffold_fn()` would fail there)."""
    an = getattr(ctx.module_run, "an", None)
    facts = [f for f in getattr(an, "spec_facts", ()) if f.node is fact.node] or [fact]
    return all(ok(f) for f in facts)


def bare(node: cst.BaseExpression) -> cst.BaseExpression:
    """`node` without its own parentheses, where it stands alone as a call argument, a list
    element or a lambda's body (an edit replaces the code inside the parentheses, which stay):
    `(loss)` -> `loss`.  Kept for a tuple, a generator, `yield` and `:=`, which need them."""
    if getattr(node, "lpar", None) and not isinstance(
            node, (cst.Tuple, cst.GeneratorExp, cst.Yield, cst.NamedExpr, cst.Await)):
        return node.with_changes(lpar=[], rpar=[])
    return node


def replace(node: cst.CSTNode, new: cst.CSTNode, message: str, applicability: str = SAFE) -> Fix:
    """A fix that replaces `node` by `new` (the pipeline generates its code where `node` is, so
    that continuation lines keep the indentation of the statement)."""
    return Fix(message, ((node, new),), applicability)


def call(func: str, *args: cst.BaseExpression) -> cst.Call:
    """`func(arg, ...)` around the user's nodes."""
    return cst.Call(cst.parse_expression(func), [
        cst.Arg(a, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if i < len(args) - 1
                else cst.MaybeSentinel.DEFAULT) for i, a in enumerate(args)])


def wrap_call(an, node: cst.BaseExpression, path: str, message: str, applicability: str,
              *extra: str) -> Optional[Fix]:
    """`tf.<path>(node, *extra)`, spelt with the module's TF import."""
    func = api(an, path)
    if func is None:
        return None
    new = call(func, bare(node), *[cst.parse_expression(e) for e in extra])
    return replace(node, new, message.format(new=short(new)), applicability)


def add_keyword(call_node: cst.Call, keyword: str, value: str, message: str,
                applicability: str = SAFE) -> Optional[Fix]:
    """The call with `keyword=value` appended to its arguments (None when the call already has
    that keyword, `*args`/`**kwargs`, or no arguments to append after)."""
    args = list(call_node.args)
    if not args or any(a.star for a in args) or any(
            a.keyword is not None and a.keyword.value == keyword for a in args):
        return None
    last = args[-1]
    trailing = last.comma if isinstance(last.comma, cst.Comma) else cst.MaybeSentinel.DEFAULT
    args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(cst.Arg(cst.parse_expression(value), keyword=cst.Name(keyword),
                        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                              whitespace_after=cst.SimpleWhitespace("")),
                        comma=trailing))
    return replace(call_node, call_node.with_changes(args=args), message, applicability)


def as_call_args(func: str, seq: cst.BaseExpression) -> cst.Call:
    """`func(a, b)` from a list or tuple display `[a, b]` (its elements and layout kept), else
    `func(*seq)`."""
    if isinstance(seq, (cst.List, cst.Tuple)) and seq.elements:
        args = []
        for el in seq.elements:
            star = "*" if isinstance(el, cst.StarredElement) else ""
            args.append(cst.Arg(el.value, star=star, comma=el.comma))
        if isinstance(seq, cst.List):
            opening, closing = seq.lbracket.whitespace_after, seq.rbracket.whitespace_before
        elif seq.lpar:
            opening, closing = seq.lpar[0].whitespace_after, seq.rpar[-1].whitespace_before
        else:
            opening = closing = cst.SimpleWhitespace("")
        args[-1] = args[-1].with_changes(whitespace_after_arg=closing)  # the layout of `]` / `)`
        return cst.Call(cst.parse_expression(func), args, whitespace_before_args=opening)
    return cst.Call(cst.parse_expression(func), [cst.Arg(seq, star="*")])


# ---- the fixes of single rules (the checks call these with what they found) ---------------------
def sl001_tensors(fa, field: str, fact, ctx) -> Optional[Fix]:
    """`(fn, tensor)` -> `(fn, [tensor])`: the second element of a written pair is one tensor (on
    every path that builds the spec)."""
    from speclint.static.values import NONE, Seq, Tensor, all_members, members

    node = fa.node
    if not isinstance(node, (cst.Tuple, cst.List)) or len(node.elements) != 2 \
            or isinstance(node.elements[1], cst.StarredElement):
        return None

    def one_tensor(f) -> bool:
        other = f.fields.get(field)
        if other is None or other.node is not node:
            return True  # the written pair is not this path's value
        pairs = [m for m in members(other.value) if m != NONE]
        return bool(pairs) and all(isinstance(p, Seq) and len(p.items) == 2 and all_members(
            p.items[1].value, lambda t: isinstance(t, Tensor)) for p in pairs)
    if not every_path(ctx, fact, one_tensor):
        return None
    second = node.elements[1].value
    return replace(second, cst.List([cst.Element(bare(second))]), f"Wrap `{short(second)}` in a list")


def sl005_reshape(an, node) -> Optional[Fix]:
    return wrap_call(an, node, "reshape", "Give it a batch dimension: `{new}`", UNSAFE, "[1]")


def sl013_call(fa, fact, ctx) -> Optional[Fix]:
    """`scaffold=scaffold_fn` -> `scaffold=scaffold_fn()` when the function takes no argument and
    nothing says the spec runs on TPU (under TPUEstimator on TPU an EstimatorSpec's scaffold is
    ignored and the function's init_from_checkpoint would run in the TPU model_fn: SL016, SL017;
    there a TPUEstimatorSpec with `scaffold_fn=` is the fix)."""
    from speclint.static.values import Callable, members

    if ctx.tpu_modes(fact) or not isinstance(fa.node, (cst.Name, cst.Attribute)):
        return None

    def no_arg_function(f) -> bool:
        other = f.fields.get("scaffold")
        if other is None or other.node is not fa.node:
            return True
        ms = members(other.value)
        return bool(ms) and all(isinstance(m, Callable) and _no_required_params(m) for m in ms)
    if not every_path(ctx, fact, no_arg_function):
        return None
    new = cst.Call(bare(fa.node))
    return replace(fa.node, new, f"Call it: `{short(new)}`")


def _no_required_params(fn) -> bool:
    node = fn.node
    if not isinstance(node, (cst.FunctionDef, cst.Lambda)) or fn.decorated or fn.drops_first \
            or fn.bound_positional or fn.bound_keywords:
        return False
    p = node.params
    return all(x.default is not None for x in list(p.posonly_params) + list(p.params) + list(p.kwonly_params))


def sl013_lambda(fa, fact, ctx) -> Optional[Fix]:
    """`scaffold_fn=<Scaffold>` -> `scaffold_fn=lambda: <Scaffold>` (a Scaffold on every path)."""
    from speclint.static.values import Scaffold, all_members

    def scaffold(f) -> bool:
        other = f.fields.get("scaffold_fn")
        return other is None or other.node is not fa.node or all_members(
            other.value, lambda m: isinstance(m, Scaffold))
    if not every_path(ctx, fact, scaffold):
        return None
    new = cst.Lambda(cst.Parameters(), bare(fa.node))
    return replace(fa.node, new, f"Pass a function: `{short(new)}`", UNSAFE)


def sl033_call(node) -> Optional[Fix]:
    """`return spec.as_estimator_spec` -> `return spec.as_estimator_spec()` (written so: a name
    holding the method may hold something else on another path)."""
    if not (isinstance(node, cst.Attribute) and node.attr.value == "as_estimator_spec"):
        return None
    new = cst.Call(bare(node))
    return replace(node, new, f"Call it: `{short(new)}`")


def sl033_convert(node) -> Optional[Fix]:
    """A TPUEstimatorSpec construction returned to a plain Estimator -> `.as_estimator_spec()`."""
    attr = attribute_of(node, "as_estimator_spec")
    if attr is None:
        return None
    return replace(node, cst.Call(attr), "Convert it: `.as_estimator_spec()`", UNSAFE)


def sl037_constant(an, literal, constant: str) -> Optional[Fix]:
    """`mode == "training"` -> `mode == tf.estimator.ModeKeys.TRAIN` (the constant meant)."""
    from speclint import apis

    path = api(an, f"estimator.ModeKeys.{constant}") if constant in apis.MODE_CONSTANTS else None
    if path is None:
        return None
    return replace(literal, cst.parse_expression(path), f"Compare with `{path}`", UNSAFE)


def sl037_attribute(node: cst.Attribute, constant: str) -> Optional[Fix]:
    """`tf.estimator.ModeKeys.INFER` -> `tf.estimator.ModeKeys.PREDICT` (only the name changes)."""
    from speclint import apis

    if constant not in apis.MODE_CONSTANTS:
        return None
    return replace(node.attr, cst.Name(constant), f"Use `{constant}`")


def sl018_cross_class(fact, arg: cst.Arg, ctx) -> Optional[Fix]:
    """A TPUEstimatorSpec keyword on an EstimatorSpec, rewritten to EstimatorSpec's own field with
    the value in its form: `scaffold_fn=fn` -> `scaffold=fn()` (a function taking no argument),
    `eval_metrics=(metric_fn, [a, b])` -> `eval_metric_ops=metric_fn(a, b)` (what
    `TPUEstimatorSpec.as_estimator_spec()` does); only for values written in place."""
    from speclint import apis
    from speclint.static.values import Callable, members

    kw = arg.keyword.value
    if fact.cls != apis.ESTIMATOR_SPEC or fact.splat or arg.star or ctx.tpu_modes(fact):
        return None  # (an EstimatorSpec that runs on TPU needs a TPUEstimatorSpec instead)
    value = arg.value
    if kw == "scaffold_fn" and "scaffold" not in fact.fields and isinstance(value, cst.Name):
        def no_arg_function(f) -> bool:
            ms = members(f.env[value.value]) if value.value in f.env else []
            return bool(ms) and all(isinstance(m, Callable) and _no_required_params(m) for m in ms)
        if every_path(ctx, fact, no_arg_function):
            new = arg.with_changes(keyword=cst.Name("scaffold"), value=cst.Call(bare(value)))
            return Fix(f"Pass `scaffold={value.value}()`", ((arg, new),))
    if kw == "eval_metrics" and "eval_metric_ops" not in fact.fields and isinstance(value, (cst.Tuple, cst.List)) \
            and len(value.elements) == 2 and not any(isinstance(e, cst.StarredElement) for e in value.elements):
        fn, tensors = value.elements[0].value, value.elements[1].value
        if not isinstance(fn, (cst.Name, cst.Attribute)) or isinstance(tensors, cst.Dict):
            return None
        new = as_call_args(code(bare(fn)), tensors)
        return Fix(f"Pass `eval_metric_ops={short(new)}`",
                   ((arg, arg.with_changes(keyword=cst.Name("eval_metric_ops"), value=new)),))
    return None
