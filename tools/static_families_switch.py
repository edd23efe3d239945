"""Reference for issue 15's static switch (not imported by speclint; delete once the static checks
call speclint.families themselves).

The static checks of SL001, SL003, SL004, SL008, SL019, SL027, SL028, SL030, SL036 and SL040
rewritten to take their decisions from `speclint.families` (same facts, same nodes; only the
decision moved), as written against the static engine of commit 6cfc797.  `install()` swaps them
into the static registry; `python tools/static_families_switch.py` lints fixtures/ and every rule
doc example with and without them and prints whether the diagnostics are identical (the static
rule tests run with `install()` gave identical diagnostics too: 426 over 11 test files).
"""
import difflib  # noqa: F401

import libcst as cst

from speclint import apis
from speclint.families import fields as F
from speclint.families import host_calls as H
from speclint.families import metrics as M
from speclint.families import model_fn as MF
from speclint.static.checks import Finding, source
from speclint.static.checks import field_contracts as fc
from speclint.static.checks import fields as sf
from speclint.static.checks import host_calls as sh
from speclint.static.checks import metrics as sm
from speclint.static.checks import modes as smo
from speclint.static.checks.common import captured_tensors, fn_label, host_call_pairs, only, signature, when_built  # noqa
from speclint.static.values import (
    NONE, SCALAR, Callable, Const, Dict, KerasMetric, Mode, Object, Operation, Scaffold, Seq, Spec,
    Tensor, Unknown, all_members, members,
)


# ---- SL001 ------------------------------------------------------------------------------------
def _pair_facts(v):
    """The neutral facts of one member, or None when nothing is certain (static's _pair_problem)."""
    if v == NONE:
        return None
    if isinstance(v, (Dict, Callable, Tensor, Operation, Scaffold, Spec, Const)):
        return dict(got=v.describe())
    if isinstance(v, Seq):
        if not v.complete:
            return None
        if len(v.items) != 2:
            return dict(length=len(v.items))
        first, second = v.items[0].value, v.items[1].value
        fn_bad = all_members(first, lambda m: isinstance(m, sh._NOT_CALLABLE))
        t_bad = all_members(second, lambda m: isinstance(m, sh._NOT_CONTAINER))
        return dict(length=2, fn_callable=not fn_bad,
                    fn_got=(first.describe() if not members(first)[1:] else "not a function") if fn_bad else "",
                    tensors_container=not t_bad,
                    tensors_got=(second.describe() if not members(second)[1:] else "not a container") if t_bad else "")
    return None


def pair_form(fact, ctx):
    if fact.cls != apis.TPU_ESTIMATOR_SPEC:
        return
    for name in apis.HOST_CALL_FIELDS:
        fa = fact.fields.get(name)
        if fa is None:
            continue
        ms = [m for m in members(fa.value) if m != NONE]
        when = when_built(fact)
        problems = []
        for m in ms:
            facts = _pair_facts(m)
            problems.append(H.pair_form(name, when=when, **facts) if facts is not None else None)
        if not problems or any(p is None or isinstance(m, Unknown) for p, m in zip(problems, ms)):
            continue
        yield Finding("SL001", fa.node, *problems[0])


# ---- SL002 / SL003 ----------------------------------------------------------------------------
def arguments(fact, ctx):
    for name, fa, pair in host_call_pairs(fact):
        fn = only(pair.items[0].value, Callable)
        sig = signature(fn) if fn else None
        if sig is None:
            continue
        tensors_item = pair.items[1]
        seq = only(tensors_item.value, Seq)
        if seq is not None and seq.complete:
            expected = sig.arity_mismatch(len(seq.items))
            if expected is not None:
                args = sig.fn_args()
                yield Finding("SL002", seq.node or tensors_item.node, "default", dict(
                    field=name, n=len(seq.items), fn=fn_label(fn), m=expected,
                    args=", ".join(args) if args else "none",
                    note=" (TF counts parameters that have defaults)"
                    if any(p.has_default for p in sig.params if p.kind == "positional") else ""))
            continue
        d = only(tensors_item.value, Dict)
        keys = d.literal_keys() if d is not None else None
        if keys is None:
            continue
        positional = [p for p in sig.params if p.kind == "positional"]
        if sig.drops_first and positional:
            positional = positional[1:]
        positional = positional[sig.bound_positional:]
        kwonly = [p for p in sig.params if p.kind == "keyword_only"]
        decision = H.kwargs_mismatch(
            name, fn_label(fn), keys, accepted=[p.name for p in positional + kwonly],
            required=[p.name for p in positional + kwonly if not p.has_default and p.name not in sig.bound_keywords],
            has_varkw=sig.has_varkw,
            hint_from=[p.name for p in sig.params if p.kind in ("positional", "keyword_only")])
        if decision is not None:
            yield Finding("SL003", d.node or tensors_item.node, *decision)


# ---- SL004 ------------------------------------------------------------------------------------
def _kind(v):
    if isinstance(v, (Dict, Seq)):
        return "container", "a dict" if isinstance(v, Dict) else f"a {v.kind}", "dict" if isinstance(v, Dict) else v.kind
    if isinstance(v, Const):
        return "value", v.describe(), type(v.value).__name__
    if isinstance(v, Operation):
        return "operation", "an operation", "Operation"
    if isinstance(v, Callable) and v.api is None:
        return "function", v.describe(), "function"
    return None


def nested_outfeed(fact, ctx):
    if not ctx.on_tpu(fact):
        return
    for name, fa, pair in host_call_pairs(fact):
        for where, value, node in sh._tensor_entries(pair):
            ms = members(value)
            found = [_kind(m) for m in ms]
            if not found or any(f is None for f in found) or any(isinstance(m, Unknown) for m in ms):
                continue
            kind, got, pytype = found[0]
            yield Finding("SL004", node, *H.tensor_not_flat(name, where, source(node), got, pytype, kind))


# ---- SL008 / SL027 ----------------------------------------------------------------------------
def _facts(v):
    if isinstance(v, Seq):
        return dict(kind="sequence", length=len(v.items) if v.complete else None, seq_kind=v.kind)
    if isinstance(v, KerasMetric):
        return dict(kind="keras")
    if isinstance(v, Tensor):
        return dict(kind="tensor", scalar=v.shape == SCALAR)
    if isinstance(v, Operation):
        return dict(kind="operation")
    if isinstance(v, (Const, Dict, Callable)):
        return dict(kind="other", got=v.describe())
    return None


def _problems(d, on_tpu, decide):
    if not d.complete:
        return
    for e in d.entries:
        if e.node is None or not isinstance(e.key, str):
            continue
        facts = [_facts(m) for m in members(e.value)]
        if not facts or any(f is None for f in facts):
            continue
        results = [M.metric_value(on_tpu=on_tpu, **f) if f["kind"] != "keras" else "keras" for f in facts]
        if any(r is None for r in results if r != "keras"):
            continue
        if all(f["kind"] == "keras" for f in facts):
            if on_tpu:
                yield e.node, decide(e.key, source(e.node), on_tpu=on_tpu, **facts[0])
            continue
        if any(f["kind"] == "keras" for f in facts):
            continue
        yield e.node, decide(e.key, source(e.node), on_tpu=on_tpu, **facts[0])


def metric_fn_returns(fact, ctx):
    for _, _, hr in sm.metric_fn_runs(fact):
        fn = fn_label(hr.fn)
        values = [v for v, _ in hr.returns] + ([NONE] if hr.falls_through else [])
        if values and all(v == NONE for v in values):
            node = next((n for v, n in hr.returns if n is not None), None)
            how = f"`return {source(node)}`" if node is not None else "it has no `return` with a value"
            yield Finding("SL008", node or hr.name_node(), *M.metric_fn_return(fn, "none", how=how))
            continue
        for value, node in hr.returns:
            if node is None:
                continue
            ms = members(value)
            if any(isinstance(m, Unknown) for m in ms):
                continue
            if all(sm._not_dict(m) for m in ms):
                yield Finding("SL008", node, *M.metric_fn_return(fn, "other", got=ms[0].describe(), expr=source(node)))
                continue
            for m in ms:
                if isinstance(m, Dict):
                    def decide(key, expr, on_tpu, **f):
                        return M.metric_fn_value(fn, key, expr, on_tpu=on_tpu, **f)
                    for n, decision in _problems(m, ctx.on_tpu(fact), decide):
                        yield Finding("SL008", n, *decision)


def eval_metric_ops(fact, ctx):
    if fact.cls != apis.ESTIMATOR_SPEC:
        return
    fa = fact.fields.get("eval_metric_ops")
    if fa is None:
        return
    ms = [m for m in members(fa.value) if m != NONE]
    when = when_built(fact)
    if ms and all(not isinstance(m, Unknown) and sm._not_dict(m) for m in ms):
        yield Finding("SL027", fa.node, "not_dict", dict(got=ms[0].describe(), expr=source(fa.node), when=when))
        return
    for m in ms:
        if isinstance(m, Dict):
            def decide(key, expr, on_tpu, **f):
                return M.eval_metric_ops_value(key, expr, when=when, **f)
            for n, decision in _problems(m, False, decide):
                yield Finding("SL027", n, *decision)


# ---- SL019 ------------------------------------------------------------------------------------
def required_fields(fact, ctx):
    modes = fact.reaching_modes()
    if not modes or fact.splat:
        return
    intended = {apis.keyword_fix(fact.cls, a.keyword.value)[0] for a in fact.bad_keywords}
    none = [n for n, fa in fact.fields.items() if all_members(fa.value, lambda m: m == NONE)]
    for mode in sorted(modes):
        if mode == apis.PREDICT and not sf._predict_intended(fact):
            continue
        decision = F.required_field(fact.cls, mode, given=fact.fields, none=none, intended=intended)
        if decision is not None:
            yield Finding("SL019", fact.node, *decision)


# ---- SL028 ------------------------------------------------------------------------------------
def export_outputs(fact, ctx):
    fa = fact.fields.get("export_outputs")
    if fa is None:
        return
    for out in fc._export_outputs_in(fa.value):
        for variant, dtype, node in out.problems:
            yield Finding("SL028", node, *F.export_output_dtype(variant[: -len("_dtype")], source(node), dtype))
    if apis.PREDICT not in fc._modes(fact):
        return
    v = fa.value
    from speclint.static.values import ExportOutput
    if all_members(v, lambda m: isinstance(m, (ExportOutput, Tensor, Seq))):
        yield Finding("SL028", fa.node, *F.export_outputs_not_dict(source(fa.node), fc._what(v)))
        return
    for d in fc._dicts(v):
        for e in d.entries:
            if e.node is not None and all_members(
                    e.value, lambda m: isinstance(m, (Tensor, Dict, Seq, Const, Operation))):
                yield Finding("SL028", e.node, *F.export_output_not_output(fc._key_text(e), source(e.node), fc._what(e.value)))
        keys = d.literal_keys()
        decision = F.export_outputs_default(keys) if keys is not None else None
        if decision is not None:
            yield Finding("SL028", d.node if d.node is not None else fa.node, *decision)


# ---- SL030 ------------------------------------------------------------------------------------
def _hook_kind(v):
    if all_members(v, lambda m: isinstance(m, Object) and m.kind == "keras_callback"):
        return "keras_callback"
    if all_members(v, fc._def):
        return "function"
    if all_members(v, lambda m: isinstance(m, Const) and m.value is not None):
        return "constant"
    return None


def hooks(fact, ctx):
    when = when_built(fact)
    for name in apis.HOOK_FIELDS:
        fa = fact.fields.get(name)
        if fa is None:
            continue
        v = fa.value
        expr = source(fa.node)
        if all_members(v, fc._hook) and len({m.cls for m in members(v)}) == 1:
            hook = members(v)[0]
            what = "Keras callback" if hook.kind == "keras_callback" else "hook"
            yield Finding("SL030", fa.node, "not_iterable", dict(field=name, expr=expr, what=what, cls=hook.cls, when=when))
        elif all_members(v, fc._def):
            yield Finding("SL030", fa.node, "not_iterable", dict(field=name, expr=expr, what="function", cls="function", when=when))
        elif all_members(v, lambda m: isinstance(m, Dict)):
            yield Finding("SL030", fa.node, "dict", dict(field=name, expr=expr, when=when))
        else:
            for seq in members(v):
                if not isinstance(seq, Seq):
                    continue
                for item in seq.items:
                    kind = _hook_kind(item.value)
                    if kind is not None and item.node is not None:
                        yield Finding("SL030", item.node, *F.not_a_hook(name, source(item.node), fc._what(item.value), kind, when))


# ---- SL036 ------------------------------------------------------------------------------------
def spec_mode(fact, ctx):
    fa = fact.fields.get("mode")
    if fa is None or fact.splat:
        return
    ms = members(fa.value)
    if any(isinstance(m, Unknown) for m in ms):
        return
    in_model_fn = smo._is_model_fn_run(fact.root)
    literal = isinstance(fa.node, cst.SimpleString) or (isinstance(fa.node, cst.Name) and fa.node.value == "None")
    cls, expr = fact.cls, source(fa.node)
    if all(m == NONE for m in ms):
        if literal or in_model_fn:
            yield Finding("SL036", fa.node, *MF.spec_mode(cls, expr, "none"))
        return
    if all(isinstance(m, Const) and isinstance(m.value, str) and m.value not in apis.MODE_DISPLAY for m in ms):
        if literal or in_model_fn:
            yield Finding("SL036", fa.node, *MF.spec_mode(cls, expr, "string"))
        return
    constant = set()
    for m in ms:
        if isinstance(m, Mode) and m.constant:
            constant |= m.modes
        elif isinstance(m, Const) and m.value in apis.MODE_DISPLAY:
            constant.add(m.value)
        else:
            return
    if not (in_model_fn and fact.exact):
        return
    root = fact.root
    if not root.mode_tested and not (fact.run is root and smo._top_level(root.node, fact.node)):
        return
    decision = MF.spec_mode(cls, expr, "constant", got=constant, called=fact.modes)
    if decision is not None:
        yield Finding("SL036", fa.node, *decision)


# ---- SL040 ------------------------------------------------------------------------------------
def model_fn_signature(an, ctx):
    for fact in smo._unique_estimators(an):
        tpu = fact.kind == apis.TPU_ESTIMATOR
        est = "TPUEstimator" if tpu else "Estimator"
        params_arg = smo.estimator_arg(fact, "params")
        mf_arg = smo.estimator_arg(fact, "model_fn")
        if tpu and params_arg is not None:
            d = members(params_arg[0])
            from speclint.static.values import Dict as DictV
            if len(d) == 1 and isinstance(d[0], DictV):
                for e in d[0].entries:
                    decision = MF.reserved_params_key(e.key)
                    if decision is not None and e.key_node is not None:
                        yield Finding("SL040", e.key_node, *decision)
        for m in smo._model_fns(fact):
            sig = signature(m)
            if sig is None:
                continue
            name = smo._fn_name(m)
            where = m.node.name if isinstance(m.node, cst.FunctionDef) else m.node
            hidden = "params" in m.bound_keywords
            decision = MF.model_fn_signature(name, est, sig.fn_args(), params_given=smo._certainly_given(params_arg),
                                             params_bound=hidden)
            if decision is None:
                continue
            variant, params = decision
            if variant == "no_params":
                node = (smo._partial_keyword(mf_arg[1], "params") if hidden and mf_arg else None) or where
            elif variant == "unexpected":
                node = smo._param_node(m.node, params["arg"]) or where
            else:
                node = where
            yield Finding("SL040", node, variant, params)


REPLACE = {
    sh.pair_form: pair_form, sh.arguments: arguments, sh.nested_outfeed: nested_outfeed,
    sm.metric_fn_returns: metric_fn_returns, sm.eval_metric_ops: eval_metric_ops,
    sf.required_fields: required_fields, fc.export_outputs: export_outputs, fc.hooks: hooks,
    smo.spec_mode: spec_mode, smo.model_fn_signature: model_fn_signature,
}


def install():
    from speclint.static import checks
    checks._load()
    n = 0
    for reg in (checks._CHECKS, checks._MODULE_CHECKS):
        for i, (codes, fn) in enumerate(reg):
            if fn in REPLACE:
                reg[i] = (codes, REPLACE[fn])
                n += 1
    assert n == len(REPLACE), n


def _lint_all():
    from pathlib import Path

    from speclint import engine, rulebook
    from speclint.config import Config, Resolver

    root = Path(__file__).resolve().parent.parent
    out = [(d.path, d.line, d.column, d.code, d.message, repr(d.fix))
           for d in engine.check_paths([str(root / "fixtures")], Resolver(overrides={"select": ("ALL",)})).diagnostics]
    config = Config(root=root, select=("ALL",), target="auto")
    for rule in rulebook.load():
        for section, blocks in rule.examples().items():
            for i, block in enumerate(blocks):
                result = engine.check_source(block.encode("utf-8"), f"{rule.code}-{section}-{i}.py", config)
                out += [(d.path, d.line, d.column, d.code, d.message, repr(d.fix)) for d in result.diagnostics]
    return out


if __name__ == "__main__":
    before = _lint_all()
    install()
    after = _lint_all()
    print(f"{len(before)} diagnostics; identical with the families: {before == after}")
