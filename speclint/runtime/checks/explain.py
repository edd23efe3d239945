"""Findings that explain an exception the model_fn raised: a KeyError on params['batch_size'] that
TPUEstimator did not set (SL041), an eager tensor from outside the model_fn (SL032), an ExportOutput
of the wrong dtype (SL028), CrossShardOptimizer around a Keras optimizer (SL043)."""
from __future__ import annotations

import traceback

from speclint import apis
from speclint.families import fields as fields_family
from speclint.finding import Finding
from speclint.runtime import locate
from speclint.runtime.objects import fn_name, mode_value

_KW = {apis.TRAIN: ("train_batch_size", "train"), apis.EVAL: ("eval_batch_size", "evaluate"),
       apis.PREDICT: ("predict_batch_size", "predict")}


def _raise_site(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    for fs in reversed(frames):
        if locate.is_user_file(fs.filename):
            loc = locate.Location(locate.display(fs.filename), fs.lineno,
                                  (getattr(fs, "colno", None) or 0) + 1,
                                  getattr(fs, "end_lineno", None) or fs.lineno,
                                  (getattr(fs, "end_colno", None) or 0) + 1)
            return loc
    return None


def explain_error(exc, call, tf):
    if not isinstance(exc, KeyError) or exc.args != (apis.PARAMS_BATCH_SIZE,):
        return
    params = call.params
    if params is None or call.param(apis.PARAMS_BATCH_SIZE) is not None:
        return
    loc = _raise_site(exc) or call.model_fn_location()
    text = locate.source_at(loc, "params['batch_size']")
    expr = "params['batch_size']" if "batch_size" in text else text
    fn = fn_name(call.model_fn)
    mode = mode_value(call.mode)
    if call.estimator == apis.ESTIMATOR or not call.under_tpu_estimator:
        yield Finding("SL041", loc, "plain", dict(
            expr=expr, fn=fn, params_note="" if params else " without params",
            when=apis.MODE_WHEN.get(mode, "the first call")))
    elif mode in _KW:
        kw, method = _KW[mode]
        yield Finding("SL041", loc, "tpu_mode", dict(expr=expr, fn=fn, kw=kw, method=method,
                                                     mode=apis.MODE_DISPLAY[mode]))


def explain_graph_error(exc, call, tf):
    """SL032: a tensor made outside model_fn (an eager tensor at module level in TF2) used in it."""
    text = str(exc)
    if not isinstance(exc, (RuntimeError, ValueError)) or "Attempting to capture an EagerTensor" not in text:
        return
    loc = _raise_site(exc) or call.model_fn_location()
    named = _module_tensor_named(exc, loc, tf)
    if named is not None:  # the module-level name the user wrote on that line, as the static engine
        yield Finding("SL032", named[0], "default", dict(expr=named[1], origin="assigned at module level"))
        return
    yield Finding("SL032", loc, "default", dict(
        expr=locate.source_at(loc, "the tensor"),
        origin="an eager tensor created outside the model_fn, e.g. at module level"))


def _module_tensor_named(exc, loc, tf):
    """(location, name) of the one module-level name on the raising line whose value is an eager
    tensor (what TF could not capture), from the user's frame; else None."""
    import ast
    if loc is None:
        return None
    frame, _ = locate.innermost_user_frame(exc.__traceback__, loc.line)
    tree = locate.frame_tree(frame) if frame is not None else None
    if tree is None:
        return None
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.lineno == loc.line and isinstance(node.ctx, ast.Load) \
                and node.id not in frame.f_locals and node.id in frame.f_globals:
            value = frame.f_globals[node.id]
            if isinstance(value, tf.Tensor) and hasattr(value, "numpy"):  # an EagerTensor
                found.setdefault(node.id, node)
    if len(found) != 1:
        return None
    name, node = next(iter(found.items()))
    return locate.node_location(loc.path, node), name


_EXPORT_ERRORS = (  # TF's message -> the ExportOutput argument it rejects
    ("Classification classes must be a string Tensor", "classes"),
    ("Classification scores must be a float32 Tensor", "scores"),
    ("Regression output value must be a float32 Tensor", "value"),
)


def explain_export_output_error(exc, call, tf):
    """SL028: TF's ExportOutput constructors reject a wrong dtype inside the model_fn."""
    import re
    if not isinstance(exc, ValueError):
        return
    text = str(exc)
    for prefix, arg in _EXPORT_ERRORS:
        if text.startswith(prefix):
            m = re.search(r"dtype=(\w+)", text)
            loc = _raise_site(exc) or call.model_fn_location()
            node = locate.outermost_call_at(loc.path, loc.line) if loc else None
            expr = arg
            if node is not None:
                for kw in getattr(node, "keywords", []):
                    if kw.arg == arg:
                        expr = locate.source_of(kw.value)
                        loc = locate.node_location(loc.path, kw.value)
            yield Finding("SL028", loc, *fields_family.export_output_dtype(arg, expr, m.group(1) if m else "?"))
            return


def explain_keras_cross_shard(exc, call, tf):
    """SL043: CrossShardOptimizer(<Keras optimizer>) raises a TypeError inside the model_fn."""
    if not isinstance(exc, TypeError) or "CrossShardOptimizer only works with" not in str(exc):
        return
    loc = _raise_site(exc) or call.model_fn_location()
    wrap = locate.find_call_in_function(loc, "CrossShardOptimizer") if loc else None
    if wrap is not None and wrap.line == loc.line:
        loc = wrap
    yield Finding("SL043", loc, "keras", dict(expr=locate.source_at(loc, "CrossShardOptimizer(...)")))
