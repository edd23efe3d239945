"""Per-module analysis: find the model_fns and run them, producing facts for the checks.

One pre-pass over the tree collects imports, function nesting, class methods and the calls that
construct specs or estimators.  Then:
1. the module body is interpreted (module-level names, top-level Estimator constructions);
2. functions that construct an Estimator are interpreted, which resolves the model_fn each one
   receives (by name, through variables, `functools.partial`, `*_builder(...)` factories, methods);
3. every model_fn is interpreted with `features`/`labels` as batch tensors and `mode` ranging over
   TRAIN/EVAL/PREDICT: functions given to an Estimator, and functions with `features` and `mode`
   parameters that construct a spec;
4. other functions that construct specs (helpers) are interpreted on their own, with unknown
   arguments, so context-free rules still see them; a helper called from a model_fn was already
   seen there with the model_fn's values.
"""
from __future__ import annotations

import contextlib
import functools
import weakref
from typing import Dict, List, Optional

import libcst as cst

from speclint import apis
from speclint.static import extra_runs, retire, safeparse, semantics, tfops
from speclint.static.facts import FactLog, PairingCall
from speclint.static.imports import MODULE_FACTORIES, ImportTable
from speclint.static.interpret import FunctionRun
from speclint.static.state import ModelFnContext, State
from speclint.static.scopes import param_names
from speclint.static.syntax import estimator_uses, param_uses
from speclint.static.walk import Walker, walk, walk_header
from speclint.static.values import (
    BATCH, UNKNOWN, ApiRef, Callable, Config, Labels, Mode, Params, Tensor, Value, members,
)


class _Prepass(Walker):
    def __init__(self, an: "ModuleAnalyzer"):
        self.an = an
        self.fn_stack: List[cst.FunctionDef] = []
        self.method_stack: List[Optional[tuple]] = []  # (class, method name, self name) or None
        self.class_stack: List[tuple] = []
        self.calls: List[tuple] = []
        self.callees: Dict[cst.FunctionDef, set] = {}  # names a function calls directly
        # functions whose bodies were summarised, not walked (`_lazy_function`), each with the
        # place its calls take in `calls` when its body is walked after all (`ModuleAnalyzer._walk_lazy`)
        self.lazy: List[tuple] = []

    def visit_Import(self, node):
        self.an.imports.add(node)

    def visit_ImportFrom(self, node):
        self.an.imports.add(node)

    def visit_ClassDef(self, node):
        self.class_stack.append((node, len(self.fn_stack)))
        self.an.methods[node] = {}

    def leave_ClassDef(self, node):
        self.class_stack.pop()

    def visit_FunctionDef(self, node):
        self.an.parent_def[node] = self.fn_stack[-1] if self.fn_stack else None
        method = None
        if self.class_stack and self.class_stack[-1][1] == len(self.fn_stack):
            cls = self.class_stack[-1][0]
            self.an.class_def[node] = cls
            self.an.methods[cls].setdefault(node.name.value, node)
            names = param_names(node.params)
            if names:
                method = (cls, node.name.value, names[0])
        self.fn_stack.append(node)
        self.method_stack.append(method)
        lazy = getattr(node, "lazy", None)  # (a LazyFunctionDef: lazydefs.py)
        if lazy is not None and not semantics.prepass_needs_body(lazy.called, lazy.attributes):
            return self._lazy_function(node, lazy, method)

    def leave_FunctionDef(self, node):
        self.fn_stack.pop()
        self.method_stack.pop()

    def _lazy_function(self, node, lazy, method) -> bool:
        """A function whose body is not parsed: its header walked as the body would be, and what
        the body holds taken from CPython's tree (`safeparse.LazyBody`)."""
        walk_header(node, self)
        self.lazy.append((node, len(self.calls)))
        bare = {name for name in lazy.calls if "." not in name}
        if bare:
            self.callees[node] = bare
        for holder, attr in lazy.attr_writes:  # (as `_attribute_writes` meets them)
            self._attribute_write(method, holder, attr)
        return False

    def _attribute_writes(self, targets) -> None:
        method = self.method_stack[-1] if self.method_stack else None
        for t in targets:
            if isinstance(t, (cst.Tuple, cst.List)):
                self._attribute_writes([e.value for e in t.elements])
            elif isinstance(t, cst.Attribute):
                self._attribute_write(method, t.value.value if isinstance(t.value, cst.Name) else None, t.attr.value)

    def _attribute_write(self, method, holder: Optional[str], attr: str) -> None:
        if method is not None and holder == method[2]:
            self.an.attr_writers.setdefault((method[0], attr), set()).add(method[1])
        else:  # written from elsewhere (`model.x = ...`, a nested def): never trusted
            for key in [k for k in self.an.attr_writers if k[1] == attr]:
                self.an.attr_writers[key].add("<elsewhere>")
            self.an.foreign_attr_writes.add(attr)

    def visit_Assign(self, node):
        self._attribute_writes([t.target for t in node.targets])

    def visit_AugAssign(self, node):
        self._attribute_writes([node.target])

    def visit_AnnAssign(self, node):
        self._attribute_writes([node.target])

    def visit_Attribute(self, node):
        semantics.prepass_attribute(self.an.log, node)

    def visit_Call(self, node):
        if isinstance(node.func, (cst.Name, cst.Attribute)):
            fn = self.fn_stack[-1] if self.fn_stack else None
            self.calls.append((node, fn))
            if fn is not None and isinstance(node.func, cst.Name):
                self.callees.setdefault(fn, set()).add(node.func.value)
            semantics.prepass_call(self.an.log, node)


class _Calls(Walker):
    """The calls of a lazy function's body, as the pre-pass records them (`_Prepass.visit_Call`),
    and the functions nested in it, with the function each is defined in (`parents`: the
    pre-pass's `parent_def`).  The body holds nothing else the pre-pass records node by node, or it
    would have been walked (`safeparse._lazy_body`)."""

    def __init__(self, fn: cst.FunctionDef, parents: dict):
        self.stack = [fn]
        self.parents = parents
        self.calls: List[tuple] = []

    def visit_FunctionDef(self, node):
        self.parents.setdefault(node, self.stack[-1])
        self.stack.append(node)

    def leave_FunctionDef(self, node):
        self.stack.pop()

    def visit_Call(self, node):
        if isinstance(node.func, (cst.Name, cst.Attribute)):
            self.calls.append((node, self.stack[-1]))


class ModuleAnalyzer:
    def __init__(self, module: cst.Module, path: Optional[str] = None, index=None, all_modes: bool = False,
                 claimed: frozenset = frozenset()):
        self.module = module
        # qualified names of this module's model_fns that modules using them run with their own
        # estimators (static/project_view.py): not run again here on their own in every mode
        self.claimed = claimed
        self.path = path  # the file, for resolving imports through the module index
        self.index = index  # modules.ModuleIndex of the run, or None
        # True: every model_fn runs in every mode (config `modes = "all"`); False: a model_fn whose
        # estimators are all in sight runs only in the modes they are used for (`invoked_modes`)
        self.all_modes = all_modes
        self.imports = ImportTable()
        self.spec_facts: list = []
        self.estimator_facts: list = []
        self.log = FactLog()  # what the runs saw happen (facts.py), for the checks
        self._scopes: Optional[dict] = None  # id(call) -> enclosing function (invoked modes)
        self._scanned: set = set()  # ids of lazy functions read since the pre-pass, taken in
        self._late_calls: List[tuple] = []  # their calls (`_take_in_read_bodies`)
        self._uses_memo: dict = {}  # id(Estimator construction) -> its uses (invoked modes)
        # retire.py: the runs recording here (while tracked), and the analyses this one loaded
        # (always: an analysis made before a run can be kept by a memo during it)
        self._runs: Optional[list] = [] if retire.active() else None
        self._loaded: Dict[int, object] = {}  # id -> weak reference
        retire.note(self)
        self.seen_in_model_fn: Optional[set] = None  # ids of nodes a model_fn run saw (extra_runs)
        # results of the runs after the model_fns (extra_runs.py), for the checks
        self.input_fn_runs: list = []  # (EstimatorCalled, the input_fn's FunctionRun)
        self.host_fn_runs: dict = {}  # (id(spec fact), field) -> [HostFnRun]
        self.host_fn_cache: dict = {}
        self.scaffold_runs: dict = {}  # (scaffold_fn node, TPU flag) -> its FunctionRun or None
        self.active: set = set()
        self._repeated: dict = {}
        self.call_cache: dict = {}  # (def, arguments, path state) -> return value
        self.call_budget: Dict[object, int] = {}  # root run -> helper calls still allowed
        self.parent_def: Dict[cst.FunctionDef, Optional[cst.FunctionDef]] = {}
        self.class_def: Dict[cst.FunctionDef, cst.ClassDef] = {}
        self.methods: Dict[cst.ClassDef, Dict[str, cst.FunctionDef]] = {}
        self.primary_run: Dict[cst.FunctionDef, FunctionRun] = {}
        self.model_fns: Dict[cst.FunctionDef, ModelFnContext] = {}
        self.module_run: Optional[FunctionRun] = None
        self.attr_writers: Dict[tuple, set] = {}  # (class, attribute) -> methods assigning it
        self.foreign_attr_writes: set = set()  # attributes assigned outside their class's methods

    # ---- services for the interpreter ---------------------------------------------------------
    def api_value(self, full: str) -> Value:
        if self.index is not None and self.path is not None and apis.api_name(full) is None:
            v = self._imported_value(full)
            if v is not None:
                return v
        return _api_value(full)

    def _imported_value(self, full: str) -> Optional[Value]:
        """The value of a name imported from another linted module, if `full` denotes one."""
        found = self.index.find(full, self.path)
        if found is None:
            return None
        path, rest = found
        lib = self.index.load(path)
        if lib is None:
            return UNKNOWN
        edge = self._loaded.get(id(lib))
        if edge is None or edge() is not lib:
            self._loaded[id(lib)] = weakref.ref(lib)
        if not rest:
            return ApiRef(full)  # the module itself: attributes resolve through here again
        value = lib.module_run.final_env().get(rest[0])
        if value is None and rest[0] in lib.imports.bindings:
            # re-exported (`from .modeling import create_model` in a package's __init__.py)
            inner = lib.imports.resolve_expr(cst.Name(rest[0]))
            return lib.api_value(".".join((inner,) + rest[1:])) if inner else UNKNOWN
        if value is None or len(rest) > 1:
            return UNKNOWN
        return value

    def repeated_conditions(self, fn) -> frozenset:
        """Texts of the conditions tested more than once in `fn` (its own body, not nested defs)."""
        found = self._repeated.get(fn)
        if found is None:
            counter = _ConditionCounter()
            body = fn.body if isinstance(fn, cst.FunctionDef) else fn
            if isinstance(body, cst.Module):
                for stmt in body.body:
                    walk(stmt, counter)
            else:
                walk(body, counter)
            found = frozenset(t for t, n in counter.counts.items() if n > 1)
            self._repeated[fn] = found
        return found

    def class_of_method(self, fn) -> Optional[cst.ClassDef]:
        return self.class_def.get(fn)

    def method(self, cls: cst.ClassDef, name: str) -> Optional[Callable]:
        fn = self.methods.get(cls, {}).get(name)
        if fn is None:
            return None
        static = any(
            isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod"
            for d in fn.decorators
        )
        return Callable(node=fn, name=name, run=self.module_run, drops_first=not static,
                        decorated=any(not _is_method_decorator(d) for d in fn.decorators))

    @contextlib.contextmanager
    def replay(self):
        """The analysis re-running a function body for a question of its own (a scaffold_fn's
        returns, a host function's calls): nothing reaches the fact log, and specs built are dropped."""
        n_specs = len(self.spec_facts)
        try:
            with self.log.replay():
                yield
        finally:
            del self.spec_facts[n_specs:]

    def instance_attr(self, cls: Optional[cst.ClassDef], attr: str) -> Optional[Value]:
        """The value `__init__` gives `self.<attr>`, when no other code assigns it."""
        if cls is None or attr in self.foreign_attr_writes \
                or self.attr_writers.get((cls, attr)) != {"__init__"}:
            return None
        init = self.methods.get(cls, {}).get("__init__")
        if init is None or init in self.active:
            return None
        return self.standalone(init).attr_values.get(attr)

    def loaded_analyses(self) -> list:
        """The analyses of the modules this one loaded (retire.py) that still exist."""
        return [a for a in (r() for r in self.__dict__.get("_loaded", {}).values()) if a is not None]

    def retire(self) -> None:
        """Break this analysis's reference cycles (retire.py): it must never be used again."""
        for run in self.__dict__.get("_runs") or ():
            run.__dict__.clear()
        self.__dict__.clear()

    # ---- the analysis -------------------------------------------------------------------------
    def analyze_library(self, keep_estimators: bool = False) -> "ModuleAnalyzer":
        """Only what importers need: the prepass and the module body (its functions, classes and
        module-level values).  Facts recorded here belong to no model_fn and are dropped, except,
        for the module being checked, its module-level Estimator constructions (`estimator =
        TPUEstimator(model_fn=model_fn, use_tpu=False)`), which say where its model_fns run."""
        self._prepass = _Prepass(self)
        walk(self.module, self._prepass)
        self.module_run = FunctionRun(self, self.module, None)
        self.module_run.execute(self.module.body, [State({}, apis.ALL_MODES, False)])
        self.spec_facts = []
        if not keep_estimators:
            self.estimator_facts = []
        self.log.drop(PairingCall)
        return self

    def analyze(self) -> "ModuleAnalyzer":
        self.analyze_library(keep_estimators=True)
        pre = self._prepass

        spec_aliases = set()
        env = self.module_run.final_env()
        for name, v in env.items():
            if isinstance(v, ApiRef) and apis.api_name(v.path) in apis.SPEC_CLASSES + apis.ESTIMATOR_CLASSES:
                spec_aliases.add(name)
        self._walk_lazy(spec_aliases)
        with_spec: List[cst.FunctionDef] = []
        with_estimator: List[cst.FunctionDef] = []
        for call, fn in pre.calls:
            api = None
            full = self.imports.resolve_expr(call.func)
            if full is not None:
                api = apis.api_name(full)
            elif isinstance(call.func, cst.Name) and call.func.value in spec_aliases:
                api = apis.api_name(env[call.func.value].path)
            if fn is None or api is None:
                continue
            if api in apis.SPEC_CLASSES and fn not in with_spec:
                with_spec.append(fn)
            elif api in apis.ESTIMATOR_CLASSES and fn not in with_estimator:
                with_estimator.append(fn)

        for fn in sorted(with_estimator, key=self._depth):
            self.standalone(fn)

        found: Dict[cst.FunctionDef, tuple] = {}
        for fact in self.estimator_facts:
            for m in members(fact.model_fn):
                if isinstance(m, Callable) and isinstance(m.node, cst.FunctionDef):
                    ctx, run = found.get(m.node, (ModelFnContext(m.node.name.value), m.run))
                    if fact.kind == apis.TPU_ESTIMATOR:
                        ctx.tpu_estimator = True
                    else:
                        ctx.plain_estimator = True
                    ctx.estimators.append(fact)
                    found[m.node] = (ctx, run)
        for ctx, _ in found.values():
            ctx.invoked = None if self.all_modes else self.invoked_modes(ctx.estimators)
            ctx.uses = None if ctx.invoked is None else self._estimator_uses(ctx.estimators)
        # functions with model_fn parameters that build a spec, or call a module-level helper
        # that does (`return _build_spec(mode, loss, ...)`)
        builders = {fn.name.value for fn in with_spec if self.parent_def.get(fn) is None}
        for fn in list(self.parent_def):  # (qualified_name may take in bodies read since)
            names = param_names(fn.params)
            if fn in found or not safeparse.MODEL_FN_HEADER <= set(names):
                continue
            if self.claimed and qualified_name(self, fn) in self.claimed:
                continue  # run by the modules that use it, with their estimators (the project view)
            if fn in with_spec or pre.callees.get(fn, set()) & builders:
                found[fn] = (ModelFnContext(fn.name.value), None)
        for fn, (ctx, parent) in sorted(found.items(), key=lambda kv: self._depth(kv[0])):
            self.run_model_fn(fn, ctx, parent)

        for fn in sorted(with_spec, key=self._depth):
            if fn not in self.model_fns:
                self.standalone(fn)
        extra_runs.run_all(self)
        return self

    def _walk_lazy(self, spec_aliases: set) -> None:
        """The calls of the lazy functions (`lazydefs.py`) whose bodies hold a call that the
        analysis (a spec or Estimator construction) or a check (SL046) looks for, put in `calls`
        where the pre-pass would have put them; the other bodies stay unparsed."""
        pre = self._prepass
        if not pre.lazy:
            return
        out, at, walked = [], 0, False
        for fn, index in pre.lazy:
            if not self._calls_matter(fn.lazy, spec_aliases):
                continue
            out.extend(pre.calls[at:index])
            out.extend(_calls_of(fn, self.parent_def))
            self._scanned.add(id(fn))  # (taken in here: `_take_in_read_bodies` need not walk it again)
            at, walked = index, True
        if walked:
            out.extend(pre.calls[at:])
            pre.calls = out
            self._scopes = None

    def _calls_matter(self, lazy, spec_aliases: set) -> bool:
        """Whether a lazy body calls a name that resolves to a spec or Estimator class (or may: an
        alias of one) or to a TPU name in the wrong module (SL046), spelt by name or through a
        module factory (`contrib.tpu().TPUEstimator(...)`: `imports.resolve_expr`)."""
        for name in lazy.calls:
            if name in spec_aliases:
                return True
            full = self.imports.resolve_dotted(name)
            if full is not None and _matters(full, "." in name):
                return True
        for inner, parts in lazy.factory_calls:
            if not inner:
                return True  # (a factory's factory, `f()()`: walked)
            base = MODULE_FACTORIES.get(self.imports.resolve_dotted(inner) or "")
            if base is not None and _matters(".".join((base,) + parts), True):
                return True
        return False

    def invoked_modes(self, estimators) -> Optional[frozenset]:
        """The modes the model_fn given to these Estimator constructions is called in, when every
        use of every one of them is visible here (`syntax.estimator_uses`); None: any mode."""
        uses = self._estimator_uses(estimators)
        return None if uses is None else frozenset(_USE_MODES[u] for u in uses)

    def _estimator_uses(self, estimators) -> Optional[frozenset]:
        """What these Estimator constructions are used for ("train", "evaluate", "predict",
        "export"), when every use of every one is visible here; None: not known."""
        if not estimators:
            return None
        out = set()
        for fact in estimators:
            key = id(fact.node)  # (one construction reached on many paths is judged once)
            if key not in self._uses_memo:
                scope = self._scope_of(fact.node)
                self._uses_memo[key] = estimator_uses(scope if scope is not None else self.module, fact.node,
                                                      follow=functools.partial(self._uses_in_callee, depth=0))
            uses = self._uses_memo[key]
            if uses is None:
                return None
            out |= uses
        return frozenset(out)

    def _uses_in_callee(self, call: cst.Call, arg: cst.Arg, depth: int) -> Optional[frozenset]:
        """What an Estimator passed as `arg` of `call` is used for inside the function called,
        when that function is a plain def of this module or of a followed module
        (`evaluation.evaluate(eval_estimator, ...)` calling `eval_estimator.predict(...)`), at most
        `_MAX_FOLLOW` calls deep; None when not known."""
        if depth >= _MAX_FOLLOW:
            return None
        value = None
        if isinstance(call.func, cst.Name) and self.module_run is not None:
            if call.func.value not in self.imports.bindings:
                value = self.module_run.final_env().get(call.func.value)
        if value is None:
            full = self.imports.resolve_expr(call.func)
            if full is not None:
                value = self.api_value(full)
        if not isinstance(value, Callable) or not isinstance(value.node, cst.FunctionDef) \
                or value.decorated or value.node.decorators or value.bound_positional or value.bound_keywords:
            return None
        fn = value.node
        name = _receiving_param(fn, call, arg, value.drops_first)
        if name is None:
            return None
        owner = value.run.mod if value.run is not None else self
        return param_uses(fn, name, follow=functools.partial(owner._uses_in_callee, depth=depth + 1))

    @property
    def calls(self) -> list:
        """(call, the function whose body holds it, None for the module body): every call of the
        module, in source order (seen by the pre-pass)."""
        return self._prepass.calls

    def _call_scopes(self) -> dict:
        """id(call) -> the function whose body holds it (None: the module body)."""
        if self._scopes is None:
            self._scopes = {id(call): fn for call, fn in self.calls}
            for call, fn in self._late_calls:
                self._scopes.setdefault(id(call), fn)
        return self._scopes

    def _take_in_read_bodies(self) -> None:
        """What the pre-pass would have recorded of the lazy bodies read since it ran (the
        analysis ran them): their calls' scopes and the functions nested in them.  A body not read
        holds no node the analysis met."""
        for fn, _ in self._prepass.lazy:
            if fn.parsed and id(fn) not in self._scanned:
                self._scanned.add(id(fn))
                found = _calls_of(fn, self.parent_def)
                self._late_calls.extend(found)
                if self._scopes is not None:
                    for c, f in found:
                        self._scopes.setdefault(id(c), f)

    def _scope_of(self, call: cst.Call):
        """The function whose body holds `call`, None for the module body or a call not of this
        module."""
        scopes = self._call_scopes()
        if id(call) not in scopes:
            self._take_in_read_bodies()
        return scopes.get(id(call))

    def parent_of(self, fn: cst.FunctionDef) -> Optional[cst.FunctionDef]:
        """The function `fn` is defined in (None: at the top level, in a class, or not of this
        module)."""
        if fn not in self.parent_def:
            self._take_in_read_bodies()
        return self.parent_def.get(fn)

    def _depth(self, fn) -> int:
        d = 0
        while True:
            fn = self.parent_of(fn)
            if fn is None:
                return d
            d += 1

    def _parent_run(self, fn) -> FunctionRun:
        parent = self.parent_of(fn)
        if parent is None:
            return self.module_run
        return self.standalone(parent)

    def standalone(self, fn: cst.FunctionDef) -> FunctionRun:
        """Interpret `fn` with unknown arguments (once)."""
        if fn in self.primary_run:
            return self.primary_run[fn]
        parent = self._parent_run(fn)
        run = FunctionRun(self, fn, parent, method_of=self.class_def.get(fn))
        self.primary_run[fn] = run
        env = {n: UNKNOWN for n in param_names(fn.params)}
        if "mode" in env:
            env["mode"] = Mode(apis.ALL_MODES, False)
        self.active.add(fn)
        try:
            run.execute(list(_body(fn)), [State(env, apis.ALL_MODES, False)])
        finally:
            self.active.discard(fn)
        return run

    def run_model_fn(self, fn: cst.FunctionDef, ctx: ModelFnContext, parent: Optional[FunctionRun]):
        if fn in self.model_fns:
            return
        self.model_fns[fn] = ctx
        if parent is None:
            parent = self._parent_run(fn)
        run = FunctionRun(self, fn, parent, ctx=ctx, method_of=parent.mod.class_def.get(fn))
        self.primary_run[fn] = run
        if ctx.invoked is not None and not ctx.invoked:
            # every use of its estimators is in sight and none calls it (an Estimator built and
            # only inspected, as TF's constructor tests do): it never runs, so nothing it does
            # can fail; what the constructor checks (SL040) is checked on the construction
            return
        env: Dict[str, Value] = {n: UNKNOWN for n in param_names(fn.params)}
        if "features" in env:
            env["features"] = Tensor(BATCH)
        if "labels" in env:
            env["labels"] = Labels(BATCH)  # a batch tensor, None in PREDICT
        if "params" in env:
            env["params"] = Params()  # the Estimator's params: a dict of Python values
        modes = ctx.invoked if ctx.invoked is not None else apis.ALL_MODES
        if "mode" in env:
            env["mode"] = Mode(modes, True)
        self.active.add(fn)
        try:
            run.execute(list(_body(fn)), [State(env, modes, True)])
        finally:
            self.active.discard(fn)


def qualified_name(an: "ModuleAnalyzer", fn: cst.FunctionDef) -> str:
    """`outer.Class.method`-style name of a function of the module analysed by `an` (the same in
    every parse of the same source)."""
    parts = []
    node = fn
    while node is not None:
        parts.append(node.name.value)
        cls = an.class_def.get(node)
        if cls is not None:
            parts.append(cls.name.value)
        node = an.parent_of(node)
    return ".".join(reversed(parts))


_MAX_FOLLOW = 3  # functions deep an Estimator is followed into (invoked_modes)


def _receiving_param(fn: cst.FunctionDef, call: cst.Call, arg: cst.Arg, drops_first: bool) -> Optional[str]:
    """The parameter of `fn` that `arg` of `call` binds, or None (a `*args`/`**kwargs` catch-all,
    an argument list with a star)."""
    if any(a.star for a in call.args):
        return None
    p = fn.params
    positional = list(p.posonly_params) + list(p.params)
    if arg.keyword is not None:
        names = [q.name.value for q in positional + list(p.kwonly_params)]
        return arg.keyword.value if arg.keyword.value in names else None
    index = [a for a in call.args if a.keyword is None].index(arg) + (1 if drops_first else 0)
    return positional[index].name.value if index < len(positional) else None


_USE_MODES = dict(apis.METHOD_MODE, export=apis.PREDICT)  # what each use runs the model_fn in


class _ConditionCounter(Walker):
    """Counts the conditions (and their and/or/not parts) of if/while/assert/ternaries."""

    def __init__(self):
        self.counts: Dict[str, int] = {}

    def _add(self, test) -> None:
        while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test = test.expression
        if isinstance(test, cst.BooleanOperation):
            self._add(test.left)
            self._add(test.right)
            return
        text = " ".join(cst.Module([]).code_for_node(test).split())
        self.counts[text] = self.counts.get(text, 0) + 1

    def visit_If(self, node):
        self._add(node.test)

    def visit_While(self, node):
        self._add(node.test)

    def visit_IfExp(self, node):
        self._add(node.test)

    def visit_Assert(self, node):
        self._add(node.test)

    def visit_FunctionDef(self, node):
        return False

    def visit_Lambda(self, node):
        return False


@functools.lru_cache(maxsize=8192)
def _api_value(full: str) -> Value:
    """The value of a dotted name that resolves through the imports."""
    canon = apis.canonical_path(full)
    if canon.endswith("flags.FLAGS"):  # absl.flags.FLAGS, tf.flags.FLAGS, tf.app.flags.FLAGS
        return Config()
    parent, _, last = canon.rpartition(".")
    if apis.API_NAMES.get(parent) == apis.MODE_KEYS:
        if last in apis.MODE_CONSTANTS:
            return Mode(frozenset((apis.MODE_CONSTANTS[last],)), True, True)
        return UNKNOWN
    v = tfops.attribute(full)
    return v if v is not None else ApiRef(full)


def _matters(full: str, attribute: bool) -> bool:
    """Whether a call of `full` is one the pre-pass's list must hold: a spec or Estimator class,
    or (spelt as an attribute) a TPU name in the wrong module."""
    return apis.api_name(full) in apis.SPEC_CLASSES + apis.ESTIMATOR_CLASSES \
        or (attribute and apis.wrong_tpu_module(full) is not None)


def _calls_of(fn: cst.FunctionDef, parents: dict) -> List[tuple]:
    """(call, the function holding it) for the calls of a lazy function's body, as the pre-pass
    records them (read); `parents` gets the functions nested in it (`_Calls`)."""
    walker = _Calls(fn, parents)
    walk(fn.body, walker)
    return walker.calls


def _body(fn: cst.FunctionDef):
    if isinstance(fn.body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
        return fn.body.body
    return ()


def _is_method_decorator(d: cst.Decorator) -> bool:
    return isinstance(d.decorator, cst.Name) and d.decorator.value in ("staticmethod", "classmethod")
