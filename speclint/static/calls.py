"""Calls: TF APIs, methods, spec and Estimator constructions, and followed helper calls (a mixin
of FunctionRun)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from speclint import apis
from speclint.static import semantics, tfops
from speclint.static.scopes import param_names
from speclint.static.syntax import literal_value
from speclint.static.state import EstimatorFact, FieldArg, SpecFact, State
from speclint.static.values import (
    ApiRef, BATCH, DERIVED, NONE, UNKNOWN, BatchSize, Config, KerasMetric, PyValue, Callable, Const,
    Derived, Dict as DictV, DictEntry, Item, Scaffold, Seq, Spec, Tensor, Unknown, Value, is_model_tensor, join,
    none_or_all,
)
from speclint.static.values import ClassRef, EstimatorRef, Instance
from speclint.static.values import HookClass, Object

MAX_DEPTH = 3
MAX_CALLS_PER_ROOT = 200  # helper calls followed per model_fn (or standalone) analysis
# Container methods followed on a local list or dict, and those that remove items.
_MUTATORS = frozenset(("append", "extend", "update", "insert", "pop", "setdefault", "remove", "clear",
                       "popitem"))
_REMOVERS = frozenset(("pop", "remove", "clear", "popitem"))
# Builtins whose result holds what their arguments hold (tensors in, tensors out); every other
# builtin (`len`, `isinstance`, `int`, `sorted` of a dict's keys, `print`...) gives no tensor.
_BUILTINS_KEEPING = frozenset(("list", "tuple", "zip", "reversed", "sum", "iter", "next", "enumerate",
                               "map", "filter", "max", "min"))
# Libraries (by import root) and TF namespaces whose calls never return the model's tensors, even
# when given them (logging, summaries, control flow contexts, input pipelines, the Estimator API).
_NO_TENSOR_LIBS = frozenset(("logging", "absl", "os", "sys", "json", "re", "time", "datetime", "pickle",
                             "numpy", "np", "six", "warnings", "pprint", "inspect", "typing", "tensorflow_hub"))
_NO_TENSOR_TF = ("tf.logging.", "tf.print", "tf.summary.", "tf.contrib.summary.", "tf.estimator.",
                 "tf.contrib.estimator.", "tf.data.", "tf.contrib.data.", "tf.debugging.", "tf.get_logger",
                 "tf.io.gfile.", "tf.gfile.", "tf.train.", "tf.control_dependencies", "tf.name_scope",
                 "tf.variable_scope", "tf.device", "tf.get_collection", "tf.add_to_collection",
                 "tf.saved_model.", "tf.keras.callbacks.", "tf.compat.v2.summary.", "tf.Assert",
                 "tf.assert_", "tf.tpu.experimental.", "tf.distribute.", "tf.config.", "tf.io.write_file",
                 "tf.contrib.training.", "tf.contrib.tpu.TPU", "tf.tpu.TPU", "tf.contrib.framework.get_",
                 "tf.is_tensor", "tf.executing_eagerly", "tf.get_default_graph", "tf.Graph")


def from_model(args, kwargs) -> bool:
    """Some argument is computed from the model's tensors (None on some paths allowed)."""
    return any(none_or_all(v, is_model_tensor) for v, _ in list(args) + list(kwargs.values()))


def _derived_api(path: str) -> bool:
    """An API call whose unknown result, given model tensors, is computed from them."""
    canon = apis.canonical_path(path)
    if canon.startswith("tf."):
        return not canon.startswith(_NO_TENSOR_TF)
    return path.split(".", 1)[0] not in _NO_TENSOR_LIBS


class Calls:
    def e_Call(self, node: cst.Call, s: State) -> Value:
        func = node.func
        if isinstance(func, cst.Attribute):
            special = self._method_call(node, func, s)
            if special is not None:
                return special
        fv = self.eval(func, s)
        args: List[Tuple[Value, Any]] = []
        kwargs: Dict[str, Tuple[Value, Any]] = {}
        splat = False
        for a in node.args:
            v = self.eval(a.value, s)
            if a.star:
                splat = True
            elif a.keyword is not None:
                kwargs[a.keyword.value] = (v, a.value)
            else:
                args.append((v, a.value))
        if isinstance(fv, ClassRef):
            return self._instance(fv, args, kwargs, splat, s)
        if isinstance(fv, ApiRef) and fv.path in _NAMEDTUPLE:
            return _namedtuple_class(node, args, kwargs, self)
        if isinstance(fv, ApiRef):
            api = apis.api_name(fv.path)
            if api not in apis.ESTIMATOR_CLASSES and api != apis.PARTIAL:
                semantics.tf_call(self, fv.path, node, s)
            if api in apis.SPEC_CLASSES:
                return self._spec(node, api, s)
            if api in apis.ESTIMATOR_CLASSES:
                mf = kwargs.get("model_fn") or (args[0] if args else None)
                self.an.estimator_facts.append(EstimatorFact(node, api, mf[0] if mf else UNKNOWN,
                                                             {k: v[0] for k, v in kwargs.items()},
                                                             args, {k: v[1] for k, v in kwargs.items()},
                                                             splat, s.tpu, s.tpu_condition()))
                return EstimatorRef(len(self.an.estimator_facts) - 1, node)
            if api == apis.PARTIAL:
                if not args or splat:
                    return UNKNOWN
                inner = args[0][0]
                if isinstance(inner, Callable):
                    return Callable(inner.node, inner.name, inner.run,
                                    inner.bound_positional + len(args) - 1,
                                    inner.bound_keywords | frozenset(kwargs), inner.drops_first,
                                    inner.api, inner.decorated, inner.receiver)
                return UNKNOWN
            semantics.api_called(self, fv.path, node, args, kwargs, s)
            if splat:
                return UNKNOWN
            result = tfops.batch_shape(fv.path, tfops.call(fv.path, args, kwargs), args, kwargs)
            replaced = semantics.api_call(self, node, fv.path, args, kwargs, result, s)
            result = result if replaced is None else replaced
            if type(result) is Unknown and from_model(args, kwargs) and _derived_api(fv.path):
                return DERIVED  # `resnet_model.resnet(...)` of a module not linted, `tf.contrib.layers.x(features)`
            return result
        if isinstance(func, cst.Attribute):
            semantics.method_call(self, node, func, args, kwargs, s)
        if isinstance(fv, tfops.PerExampleLoss):
            semantics.callable_call(self, args, kwargs, s)
            return Tensor(BATCH)
        if isinstance(fv, HookClass):
            return tfops.hook_instance(fv.name, args, kwargs)
        if isinstance(fv, KerasMetric):
            return Tensor()  # calling a Keras metric updates it and returns its result
        if isinstance(fv, Unknown) and isinstance(func, cst.Name) and func.value == "range":
            semantics.api_called(self, "range", node, args, kwargs, s)
        if isinstance(fv, Callable):
            if fv.api == apis.SCAFFOLD:
                return Scaffold()
            if fv.node is not None and not splat:
                return self.call_def(fv, args, kwargs, s)
            return DERIVED if fv.node is not None and from_model(args, kwargs) else UNKNOWN
        if type(fv) is Unknown or isinstance(fv, Derived):
            return self._unknown_call(node, func, fv, args, kwargs, s)
        return UNKNOWN

    def _instance(self, cls: ClassRef, args, kwargs, splat: bool, s: State) -> Value:
        """Calling a class of the linted code: its fields (dataclass, namedtuple) or what its
        `__init__` sets on `self`."""
        derived = from_model(args, kwargs)
        if splat:
            return Instance(cls, (), derived)
        if cls.fields is not None:
            values = dict(cls.defaults)
            for name, (v, _) in zip(cls.fields, args):
                values[name] = v
            for k, (v, _) in kwargs.items():
                if k in cls.fields:
                    values[k] = v
            return Instance(cls, tuple((f, values.get(f, UNKNOWN)) for f in cls.fields), derived)
        mod = cls.run.mod if cls.run is not None else self.mod
        init = mod.method(cls.node, "__init__") if isinstance(cls.node, cst.ClassDef) else None
        budget = self.an.call_budget.get(self.root, MAX_CALLS_PER_ROOT)
        # `__init__` runs only for objects built from the model's tensors (a model, its outputs):
        # the attributes of the others (a tokenizer, a config) are no model tensors either way
        if not derived or init is None or init.decorated or self.depth >= MAX_DEPTH \
                or init.node in self.active or budget <= 0:
            return Instance(cls, (), derived)
        try:
            key = ("instance", init.node, tuple(a[0] for a in args), tuple(sorted((k, v[0]) for k, v in kwargs.items())),
                   s.modes, s.exact, s.tpu, id(self.root))
            hash(key)
        except TypeError:
            key = None
        cache = self.an.call_cache
        if key is not None and key in cache and not self.an.log.observing:
            return cache[key]
        self.an.call_budget[self.root] = budget - 1
        child = self.run_child(init, args, kwargs, s)
        attrs = tuple((k, v) for k, v in child.attr_values.items()
                      if k not in mod.foreign_attr_writes and mod.attr_writers.get((cls.node, k)) == {"__init__"})
        result = Instance(cls, attrs, derived)
        if key is not None:
            cache[key] = result
        return result

    def _unknown_call(self, node: cst.Call, func, fv: Value, args, kwargs, s: State) -> Value:
        """A call of something unknown: a builtin, a function of a module not linted, a method of
        an object we know nothing of.  Given the model's tensors (or called on a value computed
        from them: `model.get_pooled_output()`), its result is computed from them."""
        if isinstance(func, cst.Name) and self.lookup(func.value, s)[0] is None \
                and self.mod.imports.resolve_expr(func) is None:  # a builtin
            if func.value == "dict":
                return _dict_call(node, args, kwargs)
            if func.value not in _BUILTINS_KEEPING:
                return UNKNOWN
        if isinstance(fv, Derived) or from_model(args, kwargs):
            return DERIVED
        return UNKNOWN

    def _method_call(self, node: cst.Call, func: cst.Attribute, s: State) -> Optional[Value]:
        name = func.attr.value
        if name == "get" and isinstance(func.value, cst.Name):
            recv, _ = self.lookup(func.value.value, s)
            if isinstance(recv, Config):
                keys = [self.eval(a.value, s) for a in node.args]
                return BatchSize() if keys and keys[0] == Const("batch_size") else PyValue()
        if name in tfops.KERAS_METRIC_METHODS and isinstance(func.value, cst.Name):
            recv, _ = self.lookup(func.value.value, s)
            if isinstance(recv, KerasMetric):
                for a in node.args:
                    self.eval(a.value, s)
                return tfops.KERAS_METRIC_METHODS[name]
        if name in semantics.OPTIMIZER_METHODS:
            recv = self.eval(func.value, s)
            args, kwargs = [], {}
            for a in node.args:
                v = self.eval(a.value, s)
                if a.keyword is not None:
                    kwargs[a.keyword.value] = (v, a.value)
                elif not a.star:
                    args.append((v, a.value))
            return semantics.optimizer_value(self, node, name, recv, args, kwargs, s)
        if name in semantics.ASSIGN_METHODS:
            semantics.step_advanced(self, node, s)  # `global_step.assign(global_step + 1)`
        if name == "_replace":
            recv = self.eval(func.value, s)
            if isinstance(recv, Instance) and recv.cls.tuple_like:
                out = recv
                for a in node.args:
                    v = self.eval(a.value, s)
                    if a.keyword is None or out.get(a.keyword.value) is None:
                        return Instance(recv.cls, (), recv.derived)
                    out = out.with_attr(a.keyword.value, v)
                return out
            keywords = {}
            for a in node.args:
                v = self.eval(a.value, s)
                if a.keyword is not None:
                    keywords[a.keyword.value] = (v, a.value, a)
            semantics.spec_replaced(self, node, recv, keywords, s)
            return Spec(recv.cls, node) if isinstance(recv, Spec) else UNKNOWN
        if name == "create_estimator_spec" and isinstance(func.value, (cst.Name, cst.Attribute)):
            recv = self.eval(func.value, s)
            if isinstance(recv, Object) and recv.kind == "head":
                for a in node.args:
                    self.eval(a.value, s)
                return Spec(apis.ESTIMATOR_SPEC, node)  # a canned head's spec (tfops.CANNED_HEADS)
        if name == "as_estimator_spec":
            before = len(self.an.spec_facts)
            recv = self.eval(func.value, s)
            if isinstance(recv, Spec) and recv.cls == apis.TPU_ESTIMATOR_SPEC:
                if isinstance(func.value, cst.Call):
                    # converted where it is built: this spec never reaches the TPU
                    for fact in self.an.spec_facts[before:]:
                        if fact.node is func.value:
                            fact.converted = True
                return Spec(apis.ESTIMATOR_SPEC, node)
            return UNKNOWN
        if isinstance(func.value, cst.Name) and name in _MUTATORS:
            target = func.value.value
            recv = s.env.get(target)
            if isinstance(recv, Seq) and recv.kind == "list":
                args = [self.eval(a.value, s) for a in node.args]
                if name == "append" and len(node.args) == 1 and not node.args[0].star:
                    s.env[target] = Seq("list", recv.items + (Item(args[0], node.args[0].value),),
                                        recv.complete, recv.node)
                elif name == "extend" and len(args) == 1 and isinstance(args[0], Seq) and args[0].complete:
                    s.env[target] = Seq("list", recv.items + args[0].items, recv.complete, recv.node)
                elif name in _REMOVERS:  # some item is gone: none is known to be there any more
                    s.env[target] = Seq("list", (), False, recv.node)
                else:
                    s.env[target] = Seq("list", recv.items, False, recv.node)
                return NONE if name != "pop" else UNKNOWN
            if isinstance(recv, DictV):
                args = [self.eval(a.value, s) for a in node.args]
                key = args[0].value if args and isinstance(args[0], Const) else None
                if name == "pop" and isinstance(key, (str, int)) and not isinstance(key, bool):
                    s.env[target] = DictV(tuple(e for e in recv.entries if e.key != key), recv.complete, recv.node)
                elif name == "clear":
                    s.env[target] = DictV((), True, recv.node)
                elif name == "update" and len(args) == 1 and not node.args[0].star and isinstance(args[0], DictV) \
                        and not node.args[0].keyword:
                    new = args[0]
                    added = {e.key for e in new.entries}
                    kept = tuple(e for e in recv.entries if e.key is None or e.key not in added)
                    s.env[target] = DictV(kept + new.entries, recv.complete and new.complete, recv.node)
                elif name in _REMOVERS:  # a key we cannot name is gone
                    s.env[target] = DictV((), False, recv.node)
                else:  # update / setdefault: keys are added, none removed
                    s.env[target] = DictV(recv.entries, False, recv.node)
                return UNKNOWN
        return None

    def _spec(self, node: cst.Call, cls: str, s: State) -> Value:
        names = apis.SPEC_FIELDS[cls]
        fields: Dict[str, FieldArg] = {}
        bad, extra, dup = [], [], []
        splat = False
        pos = 0
        for a in node.args:
            if a.star:
                splat = True
                self.eval(a.value, s)
                continue
            v = self.eval(a.value, s)
            if a.keyword is None:
                if pos < len(names):
                    fields[names[pos]] = FieldArg(v, a.value, a)
                else:
                    extra.append(a)
                pos += 1
            else:
                kw = a.keyword.value
                if kw not in names:
                    bad.append(a)
                elif kw in fields:
                    dup.append(a)
                else:
                    fields[kw] = FieldArg(v, a.value, a)
        fact = SpecFact(node, cls, fields, bad, extra, dup, splat, s.modes, s.exact, s.tpu,
                        dict(s.env), self, self.root, tpu_condition=s.tpu_condition())
        self.an.spec_facts.append(fact)
        semantics.spec_built(self, fact, s)
        return Spec(cls, node)

    def call_def(self, fn: Callable, args, kwargs, s: State) -> Value:
        node = fn.node
        if self.depth >= MAX_DEPTH or node in self.active:
            return DERIVED if from_model(args, kwargs) else UNKNOWN
        try:
            key = (node, fn.bound_positional, fn.bound_keywords, fn.drops_first, fn.receiver,
                   tuple(a[0] for a in args), tuple(sorted((k, v[0]) for k, v in kwargs.items())),
                   s.modes, s.exact, s.tpu, id(fn.run), id(self.root))
            hash(key)
        except TypeError:
            key = None
        cache = self.an.call_cache
        if self.an.log.observing:
            key = None  # a host function being observed: see every call its helpers make
        if key is not None and key in cache:
            return cache[key]
        budget = self.an.call_budget.get(self.root, MAX_CALLS_PER_ROOT)
        if budget <= 0:
            return DERIVED if from_model(args, kwargs) else UNKNOWN
        self.an.call_budget[self.root] = budget - 1
        result = self._run_call(fn, args, kwargs, s)
        if key is not None:
            cache[key] = result
        return result

    def _run_call(self, fn: Callable, args, kwargs, s: State) -> Value:
        child = self.run_child(fn, args, kwargs, s)
        if fn.decorated:
            return DERIVED if from_model(args, kwargs) else UNKNOWN
        return child.result()

    def result(self) -> Value:
        """The joined value of every return (None where the body falls off its end)."""
        result: Optional[Value] = None
        for v, _, _ in self.returns:
            result = v if result is None else join(result, v)
        if self.fallthrough:
            result = NONE if result is None else join(result, NONE)
        return result if result is not None else UNKNOWN

    def run_child(self, fn: Callable, args, kwargs, s: State) -> "Calls":
        """Run the def or lambda `fn` with these (value, node) arguments; the finished run."""
        node = fn.node
        child = type(self)(self.an, node, fn.run, self.depth + 1, self.root, self.ctx,
                           self.defining_class(fn, self.mod))
        env: Dict[str, Value] = {}
        params = _positional_params(node.params)
        receiver = fn.receiver if fn.receiver is not None else UNKNOWN
        values = [receiver] * fn.drops_first + [UNKNOWN] * fn.bound_positional + [a[0] for a in args]
        for p, v in zip(params, values):
            env[p] = v
        defaults = _literal_defaults(node.params)
        for p in params[len(values):]:
            env.setdefault(p, defaults.get(p, UNKNOWN))
        for name in param_names(node.params):
            env.setdefault(name, defaults.get(name, UNKNOWN))
        for k, (v, _) in kwargs.items():
            if k in env:
                env[k] = v
        start = State(env, s.modes, s.exact, {}, s.tpu)
        self.active.add(node)
        try:
            child.run_body(start)
        finally:
            self.active.discard(node)
            self.current = s
        return child

    def run_body(self, start: State) -> None:
        """Execute this run's def or lambda from `start` (returns land in `self.returns`)."""
        node = self.node
        if isinstance(node, cst.Lambda):
            self.current = start
            self.returns.append((self.eval(node.body, start), node.body, start))
            self.finished = True
        else:
            self.execute(self.body_of(node.body), [start])

    @staticmethod
    def defining_class(fn: Callable, default_mod) -> Optional[cst.ClassDef]:
        """The class `fn` is a method of, looked up in the module that defines it."""
        mod = fn.run.mod if fn.run is not None else default_mod
        return mod.class_of_method(fn.node) if isinstance(fn.node, cst.FunctionDef) else None


_NAMEDTUPLE = frozenset(("collections.namedtuple", "typing.NamedTuple"))


def _namedtuple_class(node: cst.Call, args, kwargs, run) -> Value:
    """`collections.namedtuple("Outputs", ["loss", "logits"])` / `"loss logits"`."""
    names = kwargs.get("field_names") or (args[1] if len(args) > 1 else None)
    title = args[0][0] if args else UNKNOWN
    fields = None
    v = names[0] if names else None
    if isinstance(v, Const) and isinstance(v.value, str):
        fields = tuple(v.value.replace(",", " ").split())
    elif isinstance(v, Seq) and v.complete and all(
            isinstance(i.value, Const) and isinstance(i.value.value, str) for i in v.items):
        fields = tuple(i.value.value for i in v.items)
        if fields and isinstance(v.items[0].value.value, str) and any(not f.isidentifier() for f in fields):
            fields = None  # typing.NamedTuple("X", [("a", int)]) and odd forms
    if fields is None:
        return UNKNOWN
    name = title.value if isinstance(title, Const) and isinstance(title.value, str) else "namedtuple"
    return ClassRef(node, name, run, fields, (), True)


def _dict_call(node: cst.Call, args, kwargs) -> Value:
    """`dict(a=x, b=y)` / `dict(other, a=x)`."""
    entries, complete = [], True
    for a in node.args:
        if a.star:
            complete = False
    if args:
        first = args[0][0]
        if len(args) == 1 and isinstance(first, DictV):
            entries.extend(first.entries)
            complete = complete and first.complete
        else:
            complete = False
    for a in node.args:
        if a.keyword is not None and not a.star:
            entries = [e for e in entries if e.key != a.keyword.value]
            entries.append(DictEntry(a.keyword.value, kwargs[a.keyword.value][0], a.keyword, a.value))
    return DictV(tuple(entries), complete, node)


def _literal_defaults(params: cst.Parameters) -> Dict[str, Value]:
    out: Dict[str, Value] = {}
    for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
        d = p.default
        if isinstance(d, cst.Name) and d.value in ("None", "True", "False"):
            out[p.name.value] = NONE if d.value == "None" else Const(d.value == "True")
        elif isinstance(d, (cst.Integer, cst.Float, cst.SimpleString)):
            out[p.name.value] = Const(literal_value(d))
    return out


def _positional_params(params: cst.Parameters) -> list:
    return [p.name.value for p in params.posonly_params] + [p.name.value for p in params.params]
