"""The TPU API used where a TPU run cannot use it: TPUEstimator without train_batch_size (SL045, at
the constructor), a TPU name looked up in the TPU module that lacks it (SL046, explaining the
AttributeError a model_fn call raised), a Keras application loading pretrained weights in a
model_fn that runs on the TPU path (SL047, when the application is built).

Same codes and message templates as the static checks (`rules/SL045-*.md` ... `SL047-*.md`).
"""
from __future__ import annotations

import ast
import re
import sys

from speclint import apis
from speclint.finding import Finding
from speclint.runtime import calls, locate
from speclint.runtime import context as ctx
from speclint.runtime.checks.registry import constructor_check
from speclint.runtime.objects import fn_name


# ---- SL045 ------------------------------------------------------------------------------------
def _is_flag_name(name) -> bool:
    """use_tpu, FLAGS.use_tpu's `use_tpu`, on_tpu, is_tpu (as tpupath.py finds the program's flags)."""
    return isinstance(name, str) and name.lstrip("_").lower() in apis.TPU_FLAG_WORDS


def _keyword(node, name):
    for kw in getattr(node, "keywords", ()) or ():
        if kw.arg == name:
            return kw
    return None


def _flag_expr(node) -> bool:
    """`use_tpu=<a TPU flag of the program>`: FLAGS.use_tpu, use_tpu, params["use_tpu"], self.config.use_tpu."""
    if isinstance(node, ast.Name):
        return _is_flag_name(node.id)
    if isinstance(node, ast.Attribute):
        return _is_flag_name(node.attr)
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and _is_flag_name(key.value)
    return False


@constructor_check("SL045")
def train_batch_size_missing(kind, given, tf):
    """TPUEstimator(use_tpu=True) raises a ValueError without train_batch_size at construction
    (tpu_estimator.py:2761-2765; the message is SL045's template), also when it only evaluates or
    predicts. On a CPU run
    (use_tpu=False) it is reported when `use_tpu=` is the program's TPU flag: its TPU run fails."""
    if kind != apis.TPU_ESTIMATOR or given.get("train_batch_size") is not None:
        return
    frame = locate.caller_frame(1)
    at = locate.frame_location(frame) if frame is not None else None
    node = locate.call_node(at, locate.abs_path_of(frame)) if at is not None else None
    use_tpu = given.get("use_tpu", True)
    use_kw = _keyword(node, "use_tpu")
    flag = use_kw is not None and _flag_expr(use_kw.value)
    if use_tpu is not True and not flag:
        return  # a CPU-only estimator (use_tpu=False, or a value that is not the program's TPU flag)
    when = f" when `{locate.source_of(use_kw.value)}` is true" if use_kw is not None and (
        flag or not isinstance(use_kw.value, ast.Constant)) else ""
    batch_kw = _keyword(node, "train_batch_size")
    loc = at
    if batch_kw is not None and at is not None:
        loc = locate.node_location(at.path, batch_kw)
    elif node is not None and at is not None:
        loc = locate.node_location(at.path, node.func)
    expr = locate.source_of(node.func) if node is not None else "TPUEstimator"
    how = "is None" if "train_batch_size" in given else "is not given"
    yield Finding("SL045", loc, "default", dict(expr=expr, when=when, how=how))


# ---- SL046 ------------------------------------------------------------------------------------
_NO_ATTRIBUTE = re.compile(r"^module '([\w.]+)' has no attribute '(\w+)'$")
_API_PREFIXES = (  # a TF API module's __name__ -> the public spelling the static engine resolves to
    ("tensorflow._api.v2.", "tensorflow."),
    ("tensorflow_estimator.python.estimator.api._v1.estimator", "tensorflow.compat.v1.estimator"),
    ("tensorflow_estimator.python.estimator.api._v2.estimator", "tensorflow.estimator"),
)


def _public_name(module_name: str) -> str:
    for prefix, public in _API_PREFIXES:
        if module_name.startswith(prefix):
            return public + module_name[len(prefix):]
    return module_name


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id] + parts[::-1]


def explain_tpu_name(exc, call, tf):
    """SL046: the AttributeError of `tf.estimator.tpu.CrossShardOptimizer` (and the other TPU names
    looked up in the TPU module that lacks them) at the user's line, with the right spelling."""
    m = _NO_ATTRIBUTE.match(str(exc)) if isinstance(exc, AttributeError) else None
    if m is None:
        return
    name = m.group(2)
    frame, line = locate.innermost_user_frame(exc.__traceback__)
    if frame is None:
        return
    path = locate.display(frame.f_code.co_filename)
    tree = locate.frame_tree(frame)
    for node in ast.walk(tree) if tree is not None else ():
        if not (isinstance(node, ast.Attribute) and node.attr == name and node.lineno == line):
            continue
        parts = _dotted(node)
        if parts is None:
            continue
        head = frame.f_locals.get(parts[0], frame.f_globals.get(parts[0]))
        if not isinstance(head, type(sys)):
            continue
        wrong = apis.wrong_tpu_module(".".join([_public_name(head.__name__)] + parts[1:]))
        if wrong is None:
            continue
        module, _, right = wrong
        yield Finding("SL046", locate.node_location(path, node), "default", dict(
            expr=locate.source_of(node), module=module, name=name, right=right))
        return


# ---- SL047 ------------------------------------------------------------------------------------
_IMAGENET_UTILS = ("keras.src.applications.imagenet_utils", "tf_keras.src.applications.imagenet_utils",
                   "keras.applications.imagenet_utils")


def keras_patch_target():
    """(module, "obtain_input_shape"): every Keras application but MobileNetV3 calls it with its
    `weights` before it downloads or loads them."""
    import importlib
    for name in _IMAGENET_UTILS:
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - another Keras layout
            continue
        if hasattr(module, "obtain_input_shape"):
            return module, "obtain_input_shape"
    raise ImportError("no Keras applications module")


def _runs_on_tpu(call) -> bool:
    """The call is on the TPU path, or its code runs there as it is: a model_fn under TPUEstimator
    that names no TPU flag builds the same thing on TPU (the shim's TPU-only rules' convention)."""
    return call.tpu_rules_apply_to_class(apis.TPU_ESTIMATOR_SPEC)


def _application_call(frame):
    """(user frame, application name): the user's call of the application that called `frame`."""
    app = None
    while frame is not None and not locate.is_user_file(frame.f_code.co_filename):
        if frame.f_code.co_name[:1].isupper():
            app = frame.f_code.co_name  # the outermost capitalised Keras function: ResNet50
        frame = frame.f_back
    return frame, app


def pretrained_application(weights, depth: int = 2):
    """SL047 when a Keras application is built with weights to load inside a model_fn call that
    runs on the TPU path; the finding goes to the call (reported when it ends)."""
    call = calls.current()
    if call is None or weights is None or not ctx.selected("SL047") or not _runs_on_tpu(call):
        return
    frame, app = _application_call(sys._getframe(depth))
    if frame is None or app is None:
        return
    at = locate.frame_location(frame)
    node = locate.call_node(at, locate.abs_path_of(frame)) if at is not None else None
    if node is None:
        return
    arg = locate.keyword_arg(node, "weights", 1)
    shown = "weights='imagenet' (the default)" if arg is None else \
        f"weights={locate.source_of(locate.value_of(arg))}"
    if arg is None and weights != "imagenet":
        return
    key = (at.path, at.line, at.column)
    if key in getattr(call, "_sl047", set()):
        return
    call.__dict__.setdefault("_sl047", set()).add(key)
    call.findings.append(Finding("SL047", at, "default", dict(
        expr=locate.source_of(node.func), weights=shown, fn=fn_name(call.model_fn))))


def wrap_obtain_input_shape(original):
    import functools

    @functools.wraps(original)
    def obtain_input_shape(*args, **kwargs):
        try:
            weights = kwargs.get("weights", args[5] if len(args) > 5 else None)
            if not ctx.disabled():
                pretrained_application(weights)
        except Exception as exc:  # noqa: BLE001 - never break the user's job
            ctx.internal(f"SL047: {type(exc).__name__}: {exc}")
        return original(*args, **kwargs)

    obtain_input_shape.__speclint_patch__ = True
    return obtain_input_shape
