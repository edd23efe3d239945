"""Expressions: what each kind of expression evaluates to (a mixin of FunctionRun)."""
from __future__ import annotations

import dataclasses
from typing import FrozenSet, Optional

import libcst as cst

from speclint import apis
from speclint.static import semantics, tfops
from speclint.static.state import State
from speclint.static.syntax import literal_value
from speclint.static.values import (
    ApiRef, BATCH, DERIVED, NONE, UNKNOWN, BatchSize, Derived, Config, PyValue, UNKNOWN_SHAPE, Callable, Const, Dict as DictV,
    DictEntry, Item, Mode, ModeTest, Seq, Spec, Tensor, Unknown, Value, join,
)
from speclint.static.values import ClassRef, Instance, Labels
from speclint.static.values import BoundAsEstimatorSpec


# Attributes of a value computed from the model's tensors that are no tensors (a tensor's static
# shape, dtype, name, graph; an object's configuration).
NOT_TENSOR_ATTRIBUTES = frozenset((
    "shape", "dtype", "name", "op", "graph", "device", "get_shape", "set_shape", "as_list", "numpy",
    "ndim", "value_index", "consumers", "eval", "keys", "config", "params", "hparams", "mode",
    "is_training", "scope", "name_scope", "variable_scope", "trainable_variables", "variables",
    "trainable_weights", "weights", "built", "count_params",
))


class Expressions:
    """`eval(node, state) -> Value` and one `e_<Node>` method per expression kind."""

    def eval(self, node, s: State) -> Value:
        handler = getattr(self, "e_" + type(node).__name__, None)
        if handler is None:
            return UNKNOWN
        return handler(node, s)

    def e_Name(self, node: cst.Name, s: State) -> Value:
        name = node.value
        if name == "None":
            return NONE
        if name in ("True", "False"):
            return Const(name == "True")
        v, _ = self.lookup(name, s)
        if v is not None:
            return v
        full = self.mod.imports.resolve_expr(node)
        if full is not None:
            return self.mod.api_value(full)
        if name == "FLAGS":  # absl / tf.flags: every attribute is a Python value
            return Config()
        return UNKNOWN

    def e_Attribute(self, node: cst.Attribute, s: State) -> Value:
        base = self.eval(node.value, s)
        attr = node.attr.value
        if isinstance(base, Labels):
            semantics.labels_used(self, node.value, s)
        if attr == "as_estimator_spec" and isinstance(base, Spec) and base.cls == apis.TPU_ESTIMATOR_SPEC:
            return BoundAsEstimatorSpec(base.node)  # not called: SL033
        if isinstance(base, Config):
            return PyValue()
        if isinstance(base, Derived):
            return UNKNOWN if attr in NOT_TENSOR_ATTRIBUTES else DERIVED  # `model.loss`, `outputs.logits`
        if isinstance(base, Instance):
            return self._instance_attribute(base, attr)
        if isinstance(base, ClassRef):
            method = self._method_of(base, attr)
            return method if method is not None and not method.drops_first else UNKNOWN
        if isinstance(base, ApiRef):
            return self.mod.api_value(base.path + "." + attr)
        if isinstance(base, Unknown):
            # the whole chain may resolve where its prefix is ambiguous (try/except imports of
            # two modules that both hold the API), or go through a call (t2t's contrib.tpu().X)
            root = node.value
            while isinstance(root, cst.Attribute):
                root = root.value
            if not (isinstance(root, cst.Name) and self.lookup(root.value, s)[0] is not None):
                full = self.mod.imports.resolve_expr(node)
                if full is not None:
                    return self.mod.api_value(full)
        if isinstance(node.value, cst.Name):
            # `self.x` in a method, or in a function nested in one (a model_fn closure)
            _, owner = self.lookup(node.value.value, s)
            if owner is not None and owner.self_name == node.value.value:
                method = owner.mod.method(owner.method_of, attr)
                if method is not None:
                    return method
                value = owner.mod.instance_attr(owner.method_of, attr)
                if value is not None:
                    return value
        return UNKNOWN

    def _method_of(self, cls: ClassRef, attr: str):
        if not isinstance(cls.node, cst.ClassDef):
            return None
        mod = cls.run.mod if cls.run is not None else self.mod
        return mod.method(cls.node, attr)

    def _instance_attribute(self, obj: Instance, attr: str) -> Value:
        """`outputs.total_loss` of an object of a class of the linted code."""
        v = obj.get(attr)
        if v is not None:
            return v
        # methods are followed on objects built from the model's tensors (whose methods return
        # them); on the others (a tokenizer, a config) a call is an unknown call, as before
        method = self._method_of(obj.cls, attr) if obj.derived else None
        if method is not None:
            return dataclasses.replace(method, receiver=obj) if method.drops_first else method
        return DERIVED if obj.derived and attr not in NOT_TENSOR_ATTRIBUTES else UNKNOWN

    def e_Integer(self, node, s):
        try:
            return Const(int(node.value.replace("_", ""), 0))
        except ValueError:
            return UNKNOWN

    def e_Float(self, node, s):
        try:
            return Const(float(node.value.replace("_", "")))
        except ValueError:
            return UNKNOWN

    def e_SimpleString(self, node, s):
        try:
            return Const(literal_value(node))
        except Exception:  # noqa: BLE001 - odd literals (bytes prefixes) are just strings
            return PyValue()

    def e_ConcatenatedString(self, node, s):
        return PyValue()

    def e_FormattedString(self, node, s):
        return PyValue()

    def e_Tuple(self, node, s):
        return self._seq("tuple", node, s)

    def e_List(self, node, s):
        return self._seq("list", node, s)

    def _seq(self, kind, node, s) -> Seq:
        items, complete = [], True
        for el in node.elements:
            if isinstance(el, cst.StarredElement):
                v = self.eval(el.value, s)
                if isinstance(v, Seq) and v.complete:
                    items.extend(v.items)
                else:
                    complete = False
            else:
                items.append(Item(self.eval(el.value, s), el.value))
        return Seq(kind, tuple(items), complete, node)

    def e_Dict(self, node: cst.Dict, s) -> DictV:
        entries, complete = [], True
        for el in node.elements:
            if isinstance(el, cst.StarredDictElement):
                v = self.eval(el.value, s)
                if isinstance(v, DictV) and v.complete:
                    entries.extend(v.entries)
                else:
                    complete = False
                continue
            k = self.eval(el.key, s)
            key = k.value if isinstance(k, Const) and isinstance(k.value, (str, int)) else None
            if key is None:
                complete = False
            entries.append(DictEntry(key, self.eval(el.value, s), el.key, el.value))
        return DictV(tuple(entries), complete, node)

    def e_DictComp(self, node, s):
        return DictV((), False, node)

    def e_ListComp(self, node, s):
        inner = s.copy()
        comp = node.for_in
        while comp is not None:
            self.eval(comp.iter, inner)
            self.assign(comp.target, UNKNOWN, None, inner)
            comp = comp.inner_for_in
        element = self.eval(node.elt, inner)
        self.current = s
        return Seq("list", (), False, node, element)

    def e_Lambda(self, node: cst.Lambda, s):
        return Callable(node=node, name="<lambda>", run=self)

    def e_IfExp(self, node: cst.IfExp, s):
        true, false = self.branch(node.test, s.copy())
        vals = []
        if true:
            vals.append(self.eval(node.body, true[0]))
        if false:
            vals.append(self.eval(node.orelse, false[0]))
        self.current = s
        if not vals:
            return UNKNOWN
        v = vals[0]
        for other in vals[1:]:
            v = join(v, other)
        return v

    def e_NamedExpr(self, node: cst.NamedExpr, s):
        v = self.eval(node.value, s)
        self.assign(node.target, v, node.value, s)
        return v

    def e_Subscript(self, node: cst.Subscript, s):
        base = self.eval(node.value, s)
        key = self._index_const(node)
        semantics.subscript(self, node, base, key, s)
        if isinstance(base, Seq) and base.complete and isinstance(key, int):
            if -len(base.items) <= key < len(base.items):
                return base.items[key].value
            return UNKNOWN
        if isinstance(base, DictV) and isinstance(key, (str, int)):
            for e in base.entries:
                if e.key == key:
                    return e.value
            return UNKNOWN
        if isinstance(base, Config) and isinstance(key, str):
            return BatchSize() if key == "batch_size" else PyValue()
        if isinstance(base, Derived):
            return DERIVED
        if isinstance(base, Instance) and base.cls.tuple_like and isinstance(key, int) \
                and len(base.attrs) == len(base.cls.fields or ()):
            if -len(base.attrs) <= key < len(base.attrs):
                return base.attrs[key][1]  # `outputs[0]` of a namedtuple
            return UNKNOWN
        if isinstance(base, Tensor):
            if base.shape == BATCH and isinstance(key, str):
                return Tensor(BATCH)  # features["input_ids"]
            first = node.slice[0].slice if node.slice else None
            if (base.shape == BATCH and len(node.slice) > 1 and isinstance(first, cst.Slice)
                    and first.lower is None and first.upper is None and first.step is None):
                return Tensor(BATCH)  # x[:, 0]
            return Tensor(UNKNOWN_SHAPE)
        return UNKNOWN

    def e_BinaryOperation(self, node: cst.BinaryOperation, s):
        semantics.module_tensor_uses(self, (node.left, node.right), s)
        left, right = self.eval(node.left, s), self.eval(node.right, s)
        if isinstance(left, Labels) or isinstance(right, Labels):
            semantics.labels_used(self, node.left if isinstance(left, Labels) else node.right, s)
        return self.binop(left, right, node.operator)

    def binop(self, a: Value, b: Value, op) -> Value:
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            if isinstance(op, (cst.MatrixMultiply, cst.MatrixMultiplyAssign)):
                return Tensor(BATCH if isinstance(a, Tensor) and a.shape == BATCH else UNKNOWN_SHAPE)
            dtype = tfops.binary_dtype(a, b) if isinstance(
                op, (cst.Add, cst.Subtract, cst.Multiply, cst.AddAssign, cst.SubtractAssign,
                     cst.MultiplyAssign)) else None
            return Tensor(tfops.broadcast(tfops.shape_of(a), tfops.shape_of(b)), dtype=dtype)
        if isinstance(a, Derived) or isinstance(b, Derived):
            other = b if isinstance(a, Derived) else a
            if isinstance(other, (Derived, Const, PyValue)):
                return DERIVED  # arithmetic on values computed from the model's tensors
            return UNKNOWN
        if isinstance(a, Seq) and isinstance(b, Seq) and isinstance(op, (cst.Add, cst.AddAssign)) \
                and a.kind == b.kind:
            return Seq(a.kind, a.items + b.items, a.complete and b.complete)
        if isinstance(a, (Const, PyValue)) and isinstance(b, (Const, PyValue)):
            return PyValue()
        return UNKNOWN

    def e_UnaryOperation(self, node: cst.UnaryOperation, s):
        v = self.eval(node.expression, s)
        if isinstance(node.operator, cst.Not):
            if isinstance(v, ModeTest):
                return ModeTest(apis.ALL_MODES - v.modes, v.exact)
            return UNKNOWN
        if isinstance(v, Tensor):
            return Tensor(v.shape)
        if isinstance(v, Derived):
            return DERIVED
        if isinstance(v, Const) and isinstance(v.value, (int, float)) and isinstance(node.operator, cst.Minus):
            return Const(-v.value)
        return UNKNOWN

    def e_BooleanOperation(self, node: cst.BooleanOperation, s):
        a = self.eval(node.left, s)
        b = self.eval(node.right, s)
        if isinstance(a, ModeTest) and isinstance(b, ModeTest):
            if isinstance(node.operator, cst.And):
                return ModeTest(a.modes & b.modes, a.exact and b.exact)
            return ModeTest(a.modes | b.modes, a.exact and b.exact)
        return UNKNOWN

    def e_Comparison(self, node: cst.Comparison, s):
        if len(node.comparisons) != 1:
            return UNKNOWN
        comp = node.comparisons[0]
        left = self.eval(node.left, s)
        right = self.eval(comp.comparator, s)
        op = comp.operator
        if (isinstance(left, Tensor) or isinstance(right, Tensor)) and isinstance(
                op, (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)):
            return Tensor(tfops.broadcast(tfops.shape_of(left), tfops.shape_of(right)))
        other_node = comp.comparator
        known = _known_string_comparison(left, right, op)
        if known is not None:  # `mode = "score"` earlier, then `mode == ModeKeys.TRAIN`
            return Const(known)
        if isinstance(right, Mode) and not right.constant and isinstance(left, (Mode, Const)):
            left, right = right, left
            other_node = node.left
        if not (isinstance(left, Mode) and not left.constant):
            return UNKNOWN
        if left.exact:  # the model_fn's own mode (not a helper's `mode` parameter of unknown origin)
            semantics.mode_compared(self, node, comp, other_node, right, s)
        if isinstance(op, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)):
            modes = _mode_set(right)
            if modes is None:
                return UNKNOWN
            if isinstance(op, (cst.NotEqual, cst.IsNot)):
                modes = apis.ALL_MODES - modes
            return ModeTest(modes, left.exact)
        if isinstance(op, (cst.In, cst.NotIn)):
            if not (isinstance(right, Seq) and right.complete):
                return UNKNOWN
            modes = frozenset()
            for item in right.items:
                m = _mode_set(item.value)
                if m is None:
                    return UNKNOWN
                modes |= m
            if isinstance(op, cst.NotIn):
                modes = apis.ALL_MODES - modes
            return ModeTest(modes, left.exact)
        return UNKNOWN

    # ---- calls --------------------------------------------------------------------------------


def _string_of(v: Value) -> Optional[str]:
    """A string constant, or the value of a single ModeKeys constant."""
    if isinstance(v, Const) and isinstance(v.value, str):
        return v.value
    if isinstance(v, Mode) and v.constant and len(v.modes) == 1:
        return next(iter(v.modes))
    return None


def _known_string_comparison(left: Value, right: Value, op) -> Optional[bool]:
    """`x == ModeKeys.TRAIN` / `x in ["score", ModeKeys.PREDICT]` where `x` holds a plain string:
    mesh_tensorflow's model_fn rebinds `mode = "score"` and then compares it with ModeKeys."""
    a = _string_of(left)
    if a is None:
        return None
    if isinstance(op, (cst.Equal, cst.NotEqual)):
        b = _string_of(right)
        # one side a plain string, the other a ModeKeys constant: nothing else is decided here
        if b is None or not ((isinstance(left, Const) and isinstance(right, Mode)) or
                             (isinstance(right, Const) and isinstance(left, Mode))):
            return None
        return (a == b) == isinstance(op, cst.Equal)
    if isinstance(op, (cst.In, cst.NotIn)) and isinstance(left, Const) and \
            isinstance(right, Seq) and right.complete and \
            any(isinstance(i.value, Mode) for i in right.items):
        values = [_string_of(i.value) for i in right.items]
        if any(v is None for v in values):
            return None
        return (a in values) == isinstance(op, cst.In)
    return None


def _mode_set(v: Value) -> Optional[FrozenSet[str]]:
    if isinstance(v, Mode) and v.constant:
        return v.modes
    if isinstance(v, Const) and isinstance(v.value, str):
        return frozenset((v.value,)) if v.value in apis.MODE_DISPLAY else frozenset()
    return None
