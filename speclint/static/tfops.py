"""What TF functions return, for the static engine: a table from `tf.` spelling to behaviour.

Only what is certain is recorded.  A function missing from the table returns Unknown, and an
op whose result depends on arguments we cannot read (an `axis` held in a variable) returns a
Tensor of unknown shape.
"""
from __future__ import annotations

import dataclasses
from typing import Callable as Fn, Dict, List, Optional, Tuple

from speclint import apis
from speclint.static.values import (
    BATCH, DYNAMIC, GE1, NOT_BATCH, NONE, ONE, SCALAR, UNKNOWN, UNKNOWN_SHAPE, ApiRef, Callable, Const,
    ExportOutput, Item, KerasMetric, Operation, PyValue, Scaffold, Seq, Tensor, Unknown, Value,
)

Args = List[Tuple[Value, object]]  # (value, node)
Kwargs = Dict[str, Tuple[Value, object]]

_RANKED = (ONE, BATCH, GE1)


def shape_of(v: Value) -> str:
    if isinstance(v, Tensor):
        return v.shape
    if isinstance(v, Const) and isinstance(v.value, (int, float, bool)):
        return SCALAR
    if isinstance(v, PyValue):
        return SCALAR
    return UNKNOWN_SHAPE


def broadcast(a: str, b: str) -> str:
    """Shape class of an elementwise op on two operands."""
    if a == b:
        return a
    if a == SCALAR:
        return b
    if b == SCALAR:
        return a
    if a == ONE:
        return b if b in _RANKED else UNKNOWN_SHAPE
    if b == ONE:
        return a if a in _RANKED else UNKNOWN_SHAPE
    if a == BATCH or b == BATCH:
        return BATCH  # broadcasting never removes the batch dimension
    if a in _RANKED or b in _RANKED:
        return GE1
    return UNKNOWN_SHAPE


def _arg(args: Args, kwargs: Kwargs, index: int, *names: str):
    for n in names:
        if n in kwargs:
            return kwargs[n]
    if index < len(args):
        return args[index]
    return None


def _first(args: Args, kwargs: Kwargs, *names: str) -> Value:
    a = _arg(args, kwargs, 0, *names)
    return a[0] if a else UNKNOWN


def _is_none(a) -> bool:
    return a is None or a[0] == NONE


def _literal_shape(v: Value) -> Optional[list]:
    """The shape list literal of `tf.reshape(x, [..])`-style arguments, else None."""
    if isinstance(v, Seq) and v.complete:
        return [i.value for i in v.items]
    return None


# --- handlers ---------------------------------------------------------------------------------
def _tensor(shape: str) -> Fn:
    return lambda args, kwargs, raw: Tensor(shape)


def _same_as_first(args, kwargs, raw) -> Value:
    return Tensor(shape_of(_first(args, kwargs, "x", "input", "features", "logits", "t", "tensor", "value")))


def _elementwise2(args, kwargs, raw) -> Value:
    a = _arg(args, kwargs, 0, "x")
    b = _arg(args, kwargs, 1, "y")
    if not a or not b:
        return Tensor()
    return Tensor(broadcast(shape_of(a[0]), shape_of(b[0])), dtype=binary_dtype(a[0], b[0], raw))


def _add_n(args, kwargs, raw) -> Value:
    inputs = _first(args, kwargs, "inputs")
    if isinstance(inputs, Seq) and not inputs.complete and inputs.element is not None:
        return Tensor(shape_of(inputs.element))
    if isinstance(inputs, Seq) and inputs.complete and inputs.items:
        shape = shape_of(inputs.items[0].value)
        for item in inputs.items[1:]:
            shape = broadcast(shape, shape_of(item.value))
        return Tensor(shape)
    return Tensor()


def _where(args, kwargs, raw) -> Value:
    parts = [_arg(args, kwargs, i, n) for i, n in enumerate(("condition", "x", "y"))]
    if parts[0] is not None and parts[1] is None and parts[2] is None:
        return Tensor(DYNAMIC)  # the coordinates of the true elements: dimension 0 known at run time
    if any(p is None for p in parts):
        return Tensor()
    shape = shape_of(parts[0][0])
    for p in parts[1:]:
        shape = broadcast(shape, shape_of(p[0]))
    return Tensor(shape)


def _reduction(args, kwargs, raw) -> Value:
    axis = _arg(args, kwargs, 1, "axis", "reduction_indices")
    keep = _arg(args, kwargs, 2, "keepdims", "keep_dims")
    keep_false = keep is None or keep[0] in (Const(False), NONE)
    x = _first(args, kwargs, "input_tensor", "input")
    dtype = x.dtype if isinstance(x, Tensor) and raw.rsplit(".", 1)[-1] in _DTYPE_KEEPING_REDUCTIONS else None
    if _is_none(axis) and keep_false:
        return Tensor(SCALAR, dtype=dtype)
    if keep_false and shape_of(x) == BATCH and axis is not None and (
            axis[0] == Const(0) or (isinstance(axis[0], Seq) and axis[0].complete
                                    and Const(0) in [i.value for i in axis[0].items])):
        return Tensor(NOT_BATCH, dtype=dtype)  # reduced over the batch dimension
    return Tensor(dtype=dtype)


def _reshape(args, kwargs, raw) -> Value:
    shape = _arg(args, kwargs, 1, "shape")
    dims = _literal_shape(shape[0]) if shape else None
    if dims is None:
        return Tensor()
    if not dims:
        return Tensor(SCALAR)
    if len(dims) == 1 and dims[0] == Const(1):
        return Tensor(ONE)
    if len(dims) == 1 and dims[0] == Const(-1) and shape_of(_first(args, kwargs, "tensor")) == BATCH:
        return Tensor(BATCH)  # flattening keeps every example
    return Tensor(GE1)


def _squeeze(args, kwargs, raw) -> Value:
    x = shape_of(_first(args, kwargs, "input"))
    axis = _arg(args, kwargs, 1, "axis", "squeeze_dims")
    if x == BATCH and axis and isinstance(axis[0], Const) and axis[0].value not in (0, None):
        return Tensor(BATCH)
    if x == BATCH and axis and isinstance(axis[0], Seq) and axis[0].complete and axis[0].items and all(
            isinstance(i.value, Const) and i.value.value not in (0, None) for i in axis[0].items):
        return Tensor(BATCH)
    return Tensor()


def _expand_dims(args, kwargs, raw) -> Value:
    x = shape_of(_first(args, kwargs, "input"))
    axis = _arg(args, kwargs, 1, "axis", "dim")
    if x == SCALAR:
        return Tensor(ONE)
    if x == BATCH and axis and isinstance(axis[0], Const) and axis[0].value not in (0,):
        return Tensor(BATCH)
    return Tensor(GE1)


def _tile(args, kwargs, raw) -> Value:
    x = shape_of(_first(args, kwargs, "input"))
    if x == SCALAR:
        return Tensor(SCALAR)
    return Tensor(GE1 if x in _RANKED else UNKNOWN_SHAPE)


def _filled(args, kwargs, raw) -> Value:
    dims = _literal_shape(_first(args, kwargs, "shape", "dims"))
    if dims is None:
        return Tensor()
    if not dims:
        return Tensor(SCALAR)
    return Tensor(ONE if dims == [Const(1)] else GE1)


def _constant(args, kwargs, raw) -> Value:
    v = _first(args, kwargs, "value")
    if isinstance(v, Const) and isinstance(v.value, (int, float, bool)):
        return Tensor(SCALAR)
    if isinstance(v, Seq):
        return Tensor(GE1)
    return Tensor()


def _batch_if_first_batch(args, kwargs, raw) -> Value:
    x = shape_of(_first(args, kwargs, "inputs", "a", "x", "input"))
    return Tensor(BATCH if x == BATCH else UNKNOWN_SHAPE)


def _v1_loss(args, kwargs, raw) -> Value:
    # tf.compat.v1.losses.*: default reduction is SUM_BY_NONZERO_WEIGHTS (a scalar).
    red = kwargs.get("reduction")
    if red is None:
        return Tensor(SCALAR)
    v = red[0]
    if isinstance(v, Const) and isinstance(v.value, str):
        return Tensor(BATCH if v.value == "none" else SCALAR)
    if isinstance(v, _ReductionRef):
        return Tensor(BATCH if v.name == "NONE" else SCALAR)
    return Tensor()


class _ReductionRef(Unknown):
    """`tf.losses.Reduction.X`: kept apart from Unknown only to read the reduction name."""

    def __init__(self, name: str):
        object.__setattr__(self, "name", name)

    def __eq__(self, other):
        return isinstance(other, _ReductionRef) and other.name == self.name

    def __hash__(self):
        return hash(("reduction", self.name))


def _variable(args, kwargs, raw) -> Value:
    init = _first(args, kwargs, "initial_value")
    shape = SCALAR if isinstance(init, Const) and isinstance(init.value, (int, float)) else UNKNOWN_SHAPE
    return Tensor(shape, variable=True)


def _get_variable(args, kwargs, raw) -> Value:
    shape = _arg(args, kwargs, 1, "shape")
    dims = _literal_shape(shape[0]) if shape else None
    if dims is None:
        return Tensor(UNKNOWN_SHAPE, variable=True)
    return Tensor(SCALAR if not dims else GE1, variable=True)


def _variables(args, kwargs, raw) -> Value:
    return Seq("list", (), complete=False)


def _operation(args, kwargs, raw) -> Value:
    return Operation()


def _scaffold(args, kwargs, raw) -> Value:
    return Scaffold()


def _v1_metric(args, kwargs, raw) -> Value:
    return Seq("tuple", (Item(Tensor(SCALAR)), Item(Operation())))


# --- the table --------------------------------------------------------------------------------
_UNARY = """abs acos acosh asin asinh atan atanh ceil cos cosh digamma erf erfc exp expm1 floor
 is_finite is_inf is_nan lgamma log log1p log_sigmoid logical_not negative reciprocal rint round
 rsqrt sigmoid sign sin sinh softplus softsign sqrt square tan tanh cast identity stop_gradient
 to_float to_double to_int32 to_int64 to_bfloat16 saturate_cast clip_by_value zeros_like
 ones_like nn.relu nn.relu6 nn.elu nn.selu nn.gelu nn.leaky_relu nn.sigmoid nn.tanh nn.softmax
 nn.log_softmax nn.dropout nn.bias_add nn.l2_normalize nn.softplus nn.swish nn.silu
 nn.sigmoid_cross_entropy_with_logits_v2""".split()
_BINARY = """add subtract multiply divide truediv realdiv div floordiv mod maximum minimum pow
 squared_difference equal not_equal less less_equal greater greater_equal logical_and
 logical_or logical_xor add_v2 divide_no_nan multiply_no_nan""".split()
_REDUCTIONS = """reduce_mean reduce_sum reduce_max reduce_min reduce_prod reduce_any reduce_all
 reduce_logsumexp reduce_std reduce_variance reduce_euclidean_norm count_nonzero""".split()
_PER_EXAMPLE_NN = """nn.softmax_cross_entropy_with_logits nn.softmax_cross_entropy_with_logits_v2
 nn.sparse_softmax_cross_entropy_with_logits nn.sigmoid_cross_entropy_with_logits
 nn.weighted_cross_entropy_with_logits""".split()
_V1_LOSSES = """absolute_difference compute_weighted_loss cosine_distance hinge_loss huber_loss
 log_loss mean_pairwise_squared_error mean_squared_error sigmoid_cross_entropy
 softmax_cross_entropy sparse_softmax_cross_entropy""".split()
# Names that exist in tf.losses in TF1 only: with a plain `import tensorflow as tf` they are still
# the v1 losses.  `mean_squared_error` is both (v2's is per-example), so it needs compat.v1.
_V1_ONLY_LOSSES = set(_V1_LOSSES) - {"mean_squared_error"}
# tf.compat.v1.metrics functions (each returns a `(value, update_op)` pair).  Under a plain
# `import tensorflow as tf` the names that TF 2's `tf.metrics` (Keras) lacks can only be the v1
# functions; the two names both have (`mean_squared_error`, `mean_absolute_error`) need compat.v1.
_V1_METRICS = """accuracy auc average_precision_at_k false_negatives false_negatives_at_thresholds
 false_positives false_positives_at_thresholds mean mean_absolute_error mean_cosine_distance mean_iou
 mean_per_class_accuracy mean_relative_error mean_squared_error mean_tensor percentage_below precision
 precision_at_k precision_at_thresholds precision_at_top_k recall recall_at_k recall_at_thresholds
 recall_at_top_k root_mean_squared_error sensitivity_at_specificity sparse_average_precision_at_k
 sparse_precision_at_k specificity_at_sensitivity true_negatives true_negatives_at_thresholds
 true_positives true_positives_at_thresholds""".split()
_V1_ONLY_METRICS = set(_V1_METRICS) - {"mean_squared_error", "mean_absolute_error"}
_LR_SCHEDULES = """exponential_decay polynomial_decay cosine_decay cosine_decay_restarts
 linear_cosine_decay natural_exp_decay inverse_time_decay piecewise_constant noisy_linear_cosine_decay""".split()

TABLE: Dict[str, Fn] = {}
for _n in _UNARY:
    TABLE["tf." + _n] = _same_as_first
    TABLE["tf.math." + _n] = _same_as_first
for _n in _BINARY:
    TABLE["tf." + _n] = _elementwise2
    TABLE["tf.math." + _n] = _elementwise2
for _n in _REDUCTIONS:
    TABLE["tf." + _n] = _reduction
    TABLE["tf.math." + _n] = _reduction
for _n in _PER_EXAMPLE_NN:
    TABLE["tf." + _n] = _tensor(BATCH)
for _n in _LR_SCHEDULES:
    TABLE["tf.train." + _n] = _tensor(SCALAR)
TABLE.update({
    "tf.add_n": _add_n, "tf.math.add_n": _add_n,
    "tf.reshape": _reshape, "tf.squeeze": _squeeze, "tf.expand_dims": _expand_dims, "tf.tile": _tile,
    "tf.zeros": _filled, "tf.ones": _filled, "tf.fill": _filled,
    "tf.constant": _constant, "tf.convert_to_tensor": _constant,
    "tf.shape": _tensor(GE1), "tf.size": _tensor(SCALAR), "tf.rank": _tensor(SCALAR),
    "tf.nn.l2_loss": _tensor(SCALAR),
    "tf.losses.get_total_loss": _tensor(SCALAR),
    "tf.losses.get_regularization_loss": _tensor(SCALAR),
    "tf.matmul": _batch_if_first_batch, "tf.linalg.matmul": _batch_if_first_batch,
    "tf.layers.dense": _batch_if_first_batch,
    "tf.train.get_global_step": _tensor(SCALAR), "tf.train.get_or_create_global_step": _tensor(SCALAR),
    "tf.Variable": _variable, "tf.get_variable": _get_variable,
    "tf.trainable_variables": _variables, "tf.global_variables": _variables,
    "tf.group": _operation, "tf.no_op": _operation,
    "tf.where": _where, "tf.where_v2": _where, "tf.math.where": _where,
    "tf.train.Scaffold": _scaffold,
})
_GLOBAL_STEP = {"tf.train.get_global_step", "tf.train.get_or_create_global_step"}

# Functions known to return one tensor (shape not tracked): the rest of the common top-level ops,
# and lowercase functions of the op modules, minus those that return tuples or lists.
_TENSOR_FUNCTIONS = set("""argmax argmin argsort batch_gather boolean_mask clip_by_norm concat cumprod
 cumsum diag einsum eye gather gather_nd linspace matrix_band_part one_hot pad range reverse
 scatter_nd segment_sum sequence_mask slice sort sparse_tensor_to_dense stack strided_slice
 tensordot transpose truncated_normal random_normal random_uniform squeeze image.resize_images
 reduce_join string_to_number""".split())
_TENSOR_MODULES = ("tf.nn.", "tf.math.", "tf.linalg.", "tf.image.", "tf.layers.", "tf.random.",
                   "tf.signal.", "tf.strings.")
_NOT_ONE_TENSOR = set("""nn.moments nn.sufficient_statistics nn.top_k math.top_k nn.dynamic_rnn
 nn.bidirectional_dynamic_rnn nn.static_rnn nn.raw_rnn nn.ctc_beam_search_decoder
 nn.ctc_greedy_decoder nn.fused_batch_norm nn.weighted_moments nn.normalize_moments
 linalg.eigh linalg.svd linalg.qr linalg.lu math.unsorted_segment_max nn.compute_sampled_logits
 image.non_max_suppression_padded nn.uniform_candidate_sampler layers.Layer""".split())


def call(raw_path: str, args: Args, kwargs: Kwargs) -> Value:
    """The value of calling the TF function `raw_path` (as imported) with these arguments."""
    path = apis.canonical_path(raw_path)
    v1 = "compat.v1" in raw_path or raw_path.startswith("tensorflow.contrib")
    if path in _GLOBAL_STEP:
        return Tensor(SCALAR, variable=True)
    handler = TABLE.get(path)
    if handler is not None:
        return handler(args, kwargs, raw_path)
    obj = field_object(path, args, kwargs)
    if obj is not None:
        return obj
    loss_object = keras_loss(raw_path, kwargs)
    if loss_object is not None:
        return loss_object
    if path.startswith("tf.losses.") and path.count(".") == 2:
        name = path.rsplit(".", 1)[1]
        if name in _V1_ONLY_LOSSES or (v1 and name in _V1_LOSSES):
            return loss_dtype(name, _v1_loss(args, kwargs, raw_path), args, kwargs)
        return UNKNOWN
    if path.startswith("tf.metrics.") and path.count(".") == 2:
        name = path.rsplit(".", 1)[1]
        if name in _V1_ONLY_METRICS or (v1 and name in _V1_METRICS):
            return _v1_metric(args, kwargs, raw_path)
    module, _, last = path.rpartition(".")
    if module in ("tf.keras.metrics", "tf.metrics") and last[:1].isupper():
        return KerasMetric()  # tf.keras.metrics.Accuracy(), TF 2's tf.metrics.Mean()
    short = path[3:]
    last = path.rsplit(".", 1)[1]
    if short in _TENSOR_FUNCTIONS or (path.startswith(_TENSOR_MODULES) and path.count(".") == 2
                                      and last[:1].islower() and short not in _NOT_ONE_TENSOR):
        return Tensor()
    return UNKNOWN


# Keras loss classes whose unreduced value has the batch as dimension 0 for any input rank.
_KERAS_PER_EXAMPLE = {"SparseCategoricalCrossentropy", "CategoricalCrossentropy"}


def keras_loss(raw_path: str, kwargs: Kwargs) -> Optional[Value]:
    """`tf.keras.losses.X(reduction=NONE)`: a callable whose result is per-example."""
    path = apis.canonical_path(raw_path)
    if not path.startswith(("tf.keras.losses.", "tf.losses.")):
        return None
    cls = path.rsplit(".", 1)[1]
    red = kwargs.get("reduction")
    if cls in _KERAS_PER_EXAMPLE and red is not None and (
            red[0] == Const("none") or (isinstance(red[0], _ReductionRef) and red[0].name == "NONE")):
        return PerExampleLoss()
    return None


class PerExampleLoss(Unknown):
    """A Keras loss object built with reduction NONE; calling it gives per-example values."""

    def __eq__(self, other):
        return isinstance(other, PerExampleLoss)

    def __hash__(self):
        return hash("PerExampleLoss")


def attribute(raw_path: str) -> Optional[Value]:
    """The value of an uncalled TF attribute we know (`tf.losses.Reduction.NONE`), else None."""
    path = apis.canonical_path(raw_path)
    if path.startswith(("tf.losses.Reduction.", "tf.keras.losses.Reduction.")):
        return _ReductionRef(path.rsplit(".", 1)[1])
    if apis.api_name(raw_path) == apis.SCAFFOLD:
        return Callable(node=None, name="Scaffold", api=apis.SCAFFOLD)
    if path.startswith("tf.") and path.endswith(".DEFAULT_SERVING_SIGNATURE_DEF_KEY"):
        return Const(apis.DEFAULT_SERVING_KEY)
    return None


# --- field contracts (SL021-SL032): dtypes, optimizers, export outputs, hooks -----------------
# Only dtypes that are certain are recorded: explicit casts, and functions that keep their input's.
_DTYPE_NAMES = {
    "float32": "float32", "float": "float32", "bfloat16": "bfloat16", "float16": "float16",
    "half": "float16", "float64": "float64", "double": "float64", "int32": "int32",
    "int64": "int64", "int8": "int8", "int16": "int16", "uint8": "uint8", "string": "string",
    "bool": "bool",
}
_FLOATS = ("float32", "bfloat16", "float16", "float64")
_DTYPE_KEEPING_REDUCTIONS = {"reduce_mean", "reduce_sum", "reduce_max", "reduce_min", "reduce_prod",
                             "reduce_logsumexp"}
_DTYPE_KEEPING_UNARY = """abs negative square sqrt rsqrt exp expm1 log log1p tanh sigmoid reciprocal
 identity stop_gradient zeros_like ones_like clip_by_value nn.softmax nn.log_softmax nn.relu
 nn.relu6 nn.elu nn.selu nn.gelu nn.dropout nn.sigmoid nn.tanh""".split()
_ARITHMETIC = {"add", "subtract", "multiply", "maximum", "minimum", "pow", "squared_difference",
               "add_v2", "multiply_no_nan"}
_FIXED_DTYPE_CASTS = {"to_float": "float32", "to_double": "float64", "to_int32": "int32",
                      "to_int64": "int64", "to_bfloat16": "bfloat16"}


def dtype_name(v: Value) -> Optional[str]:
    """The dtype a `dtype=` argument denotes (`tf.bfloat16`, `tf.dtypes.float64`, "float16")."""
    if isinstance(v, ApiRef):
        path = apis.canonical_path(v.path)
        for prefix in ("tf.dtypes.", "tf."):
            if path.startswith(prefix) and path.count(".") == prefix.count("."):
                return _DTYPE_NAMES.get(path[len(prefix):])
        return None
    if isinstance(v, Const) and isinstance(v.value, str):
        return _DTYPE_NAMES.get(v.value)
    return None


def dtype_of(v: Value) -> Optional[str]:
    return v.dtype if isinstance(v, Tensor) else None


def binary_dtype(a: Value, b: Value, raw: str = "") -> Optional[str]:
    """The dtype of arithmetic on `a` and `b` when one operand's float dtype is known (TF requires
    both to match, so a successful op has that dtype; a Python number takes the tensor's)."""
    if raw:
        name = apis.canonical_path(raw).rsplit(".", 1)[-1]
        if name not in _ARITHMETIC:
            return None
    da, db = dtype_of(a), dtype_of(b)
    known = {d for d in (da, db) if d is not None}
    if len(known) == 1 and next(iter(known)) in _FLOATS:
        return next(iter(known))
    return None


def _cast(args, kwargs, raw) -> Value:
    x = _first(args, kwargs, "x")
    d = _arg(args, kwargs, 1, "dtype")
    return Tensor(shape_of(x), dtype=dtype_name(d[0]) if d else None)


def _fixed_cast(dtype: str) -> Fn:
    return lambda args, kwargs, raw: Tensor(shape_of(_first(args, kwargs, "x")), dtype=dtype)


def _keep_dtype(args, kwargs, raw) -> Value:
    x = _first(args, kwargs, "x", "input", "features", "logits", "t", "tensor", "value")
    return Tensor(shape_of(x), dtype=dtype_of(x))


def _argmax(args, kwargs, raw) -> Value:
    out = _arg(args, kwargs, 2, "output_type")
    return Tensor(dtype=dtype_name(out[0]) if out else "int64")


for _n in ("cast", "math.cast", "dtypes.cast", "saturate_cast"):
    TABLE["tf." + _n] = _cast
for _n, _d in _FIXED_DTYPE_CASTS.items():
    TABLE["tf." + _n] = _fixed_cast(_d)
for _n in _DTYPE_KEEPING_UNARY:
    TABLE["tf." + _n] = _keep_dtype
    if not _n.startswith("nn."):
        TABLE["tf.math." + _n] = _keep_dtype
for _n in ("argmax", "argmin", "math.argmax", "math.argmin"):
    TABLE["tf." + _n] = _argmax

# tf.compat.v1.layers keep their input's dtype (verified on TF 2.15.1: bfloat16 and float64 in,
# the same out; Keras layers autocast to float32 and are not listed).
_V1_LAYERS = """conv1d conv2d conv3d conv2d_transpose conv3d_transpose separable_conv1d separable_conv2d
 batch_normalization flatten dropout max_pooling1d max_pooling2d max_pooling3d average_pooling1d
 average_pooling2d average_pooling3d""".split()


def _layer(shape_handler: Fn) -> Fn:
    def handler(args, kwargs, raw) -> Value:
        t = shape_handler(args, kwargs, raw)
        x = _first(args, kwargs, "inputs")
        dtype = dtype_of(x) if "dtype" not in kwargs else None
        return Tensor(t.shape, t.variable, dtype) if isinstance(t, Tensor) else t
    return handler


TABLE["tf.layers.dense"] = _layer(TABLE["tf.layers.dense"])
for _n in _V1_LAYERS:
    TABLE["tf.layers." + _n] = _layer(_tensor(UNKNOWN_SHAPE))


def _per_example_xent(args, kwargs, raw) -> Value:
    logits = kwargs.get("logits")
    return Tensor(BATCH, dtype=dtype_of(logits[0]) if logits else None)


for _n in _PER_EXAMPLE_NN:
    TABLE["tf." + _n] = _per_example_xent

# tf.compat.v1.losses.*: the cross entropies keep the logits' dtype; these cast to float32
# (verified on TF 2.15.1 with bfloat16 and float64 inputs).
_LOSSES_KEEPING_LOGITS_DTYPE = {"softmax_cross_entropy": 1, "sigmoid_cross_entropy": 1,
                                "sparse_softmax_cross_entropy": 1, "compute_weighted_loss": 0}
_LOSSES_IN_FLOAT32 = {"mean_squared_error", "huber_loss", "absolute_difference"}


def loss_dtype(name: str, value: Value, args: Args, kwargs: Kwargs) -> Value:
    if not isinstance(value, Tensor):
        return value
    if name in _LOSSES_IN_FLOAT32:
        return Tensor(value.shape, value.variable, "float32")
    if name in _LOSSES_KEEPING_LOGITS_DTYPE:
        a = _arg(args, kwargs, _LOSSES_KEEPING_LOGITS_DTYPE[name], "logits", "losses")
        return Tensor(value.shape, value.variable, dtype_of(a[0]) if a else None)
    return value


TABLE["tf.boolean_mask"] = _tensor(DYNAMIC)
TABLE["tf.strings.as_string"] = TABLE["tf.as_string"] = lambda args, kwargs, raw: Tensor(
    shape_of(_first(args, kwargs, "input")), dtype="string")

EXPORT_OUTPUTS = tuple(apis.EXPORT_OUTPUT_ARGS)
_HOOK_MODULES = ("tf.train.", "tf.estimator.")


# Canned heads: `create_estimator_spec` returns a plain EstimatorSpec (base_head.py: the head's
# `_create_tpu_estimator_spec(...).as_estimator_spec()`), whatever estimator runs the model_fn.
CANNED_HEADS = frozenset("""BinaryClassHead MultiClassHead MultiLabelHead RegressionHead
PoissonRegressionHead LogisticRegressionHead MultiHead binary_classification_head multi_class_head
multi_label_head regression_head poisson_regression_head logistic_regression_head multi_head""".split())


def field_object(path: str, args: Args, kwargs: Kwargs) -> Optional[Value]:
    """Export outputs, SessionRunHooks the pairing table does not list, Keras callbacks and canned
    heads built by a TF call, else None.  (Optimizers and the common hooks: the pairing section.)"""
    last = path.rsplit(".", 1)[-1]
    if last in CANNED_HEADS and path.startswith(("tf.estimator.", "tf.contrib.estimator.")):
        return Object("head", last)
    if not last[:1].isupper():
        return None
    if last in EXPORT_OUTPUTS and "export" in path:
        return ExportOutput(last, _export_problems(last, args, kwargs))
    if path.startswith(_HOOK_MODULES) and last.endswith("Hook") and path.count(".") == 2:
        return hook_instance(last, args, kwargs)
    if path.startswith("tf.keras.callbacks.") and path.count(".") == 3:
        return Object("keras_callback", last)
    return None


def _export_problems(kind: str, args: Args, kwargs: Kwargs) -> tuple:
    out = []
    for name, index, wanted in apis.EXPORT_OUTPUT_ARGS.get(kind, ()):
        a = _arg(args, kwargs, index, name)
        dtype = dtype_of(a[0]) if a is not None else None
        if dtype is not None and (dtype != "string" if wanted == "string" else dtype not in _FLOATS):
            out.append((name + "_dtype", dtype, a[1]))
    return tuple(out)


# --- pairing family (SL014, SL031, SL043): Saver, optimizers, hooks -----------------------------
from speclint.static.values import Dict as _DictV, Object  # noqa: E402
from speclint.static.values import members as _members  # noqa: E402
from speclint.static.values import Derived as _Derived  # noqa: E402


def _saver(args, kwargs, raw) -> Value:
    return Object("saver", "Saver")


def _optimizer(args, kwargs, raw) -> Value:
    return Object("optimizer", raw.rsplit(".", 1)[-1])


def _keras_optimizer(args, kwargs, raw) -> Value:
    return Object("keras_optimizer", raw.rsplit(".", 1)[-1])


def _cross_shard(args, kwargs, raw) -> Value:
    inner = _first(args, kwargs, "opt")
    if isinstance(inner, Object) and inner.kind == "optimizer":
        return Object("optimizer", inner.cls, cross_shard=True)
    return Object("optimizer", "CrossShardOptimizer", cross_shard=True)


def _model_tensor(v: Value) -> bool:
    ms = _members(v)
    return all((isinstance(m, Tensor) and not m.variable) or isinstance(m, _Derived) for m in ms)


def _hook(args, kwargs, raw) -> Value:
    return hook_instance(raw.rsplit(".", 1)[-1], args, kwargs)


def hook_instance(cls: str, args, kwargs) -> Value:
    """A SessionRunHook built with these arguments: remembers the model tensors among them."""
    captured = []
    for value, node in list(args) + list(kwargs.values()):
        if _model_tensor(value):
            captured.append(Item(value, node))
        elif isinstance(value, _DictV):
            captured += [Item(e.value, e.node) for e in value.entries if _model_tensor(e.value)]
        elif isinstance(value, Seq):
            captured += [Item(i.value, i.node) for i in value.items if _model_tensor(i.value)]
    return Object("hook", cls, captured=tuple(captured))


for _n in apis.V1_OPTIMIZERS:
    TABLE["tf.train." + _n] = _optimizer
    TABLE["tf.contrib.opt." + _n] = _optimizer
for _n in apis.KERAS_OPTIMIZERS:
    for _prefix in ("tf.keras.optimizers.", "tf.optimizers.", "tf.keras.optimizers.legacy.",
                    "tf.keras.optimizers.experimental.", "keras.optimizers."):
        TABLE[_prefix + _n] = _keras_optimizer
for _p in apis.CROSS_SHARD_OPTIMIZER_PATHS:
    TABLE[_p] = _cross_shard
for _n in apis.SESSION_RUN_HOOKS:
    for _prefix in ("tf.train.", "tf.estimator.", "tf.python.training.basic_session_run_hooks."):
        TABLE[_prefix + _n] = _hook
TABLE["tf.train.Saver"] = _saver
for _p in apis.INIT_FROM_CHECKPOINT_PATHS:
    TABLE[_p] = lambda args, kwargs, raw: NONE  # it only rewrites initializers



# --- host-call family (SL008, SL027): Keras metric objects -------------------------------------
# Methods of a `tf.keras.metrics.*` object and what they return in graph mode (calling the object
# itself updates it and returns its result, a tensor).
KERAS_METRIC_METHODS = {
    "update_state": Operation(),
    "result": Tensor(),
    "reset_states": Operation(),
    "reset_state": Operation(),
}


# --- host-call family (SL006): results that are certainly batch-major, or certainly not ---------
# Applied by the interpreter on top of `call()`, so that it composes with what other tables record
# about the same result (its dtype, say): only the shape class changes.
_NOT_BATCH_RESULTS = {"tf.shape", "tf.shape_n", "tf.math.confusion_matrix", "tf.confusion_matrix"}
_ARG_EXTREMA = {"tf.argmax", "tf.math.argmax", "tf.argmin", "tf.math.argmin"}
_BATCH_REDUCTIONS = {"tf." + n for n in _REDUCTIONS} | {"tf.math." + n for n in _REDUCTIONS}


def batch_shape(raw_path: str, value: Value, args: Args, kwargs: Kwargs) -> Value:
    """`value` (the result of calling `raw_path`) with the shape class SL006 needs, when certain:
    NOT_BATCH for shape vectors, confusion matrices, constant lists and reductions of a batch-major
    tensor over dimension 0; BATCH for argmax / one_hot of a batch-major tensor; ONE for
    `tf.constant([x])`."""
    if not isinstance(value, Tensor) or value.shape == SCALAR:
        return value
    shape = _batch_shape(apis.canonical_path(raw_path), args, kwargs)
    if shape is None or shape == value.shape:
        return value
    return dataclasses.replace(value, shape=shape)


def _batch_shape(path: str, args: Args, kwargs: Kwargs) -> Optional[str]:
    if path in _NOT_BATCH_RESULTS:
        return NOT_BATCH
    if path in _ARG_EXTREMA:  # TF's default axis is 0: only an explicit other axis keeps the batch
        x = shape_of(_first(args, kwargs, "input"))
        return BATCH if x == BATCH and _not_zero_axis(_arg(args, kwargs, 1, "axis", "dimension")) else None
    if path == "tf.one_hot":
        axis = kwargs.get("axis")
        if shape_of(_first(args, kwargs, "indices")) == BATCH and (axis is None or _not_zero_axis(axis)):
            return BATCH
        return None
    if path in ("tf.constant", "tf.convert_to_tensor"):
        v = _first(args, kwargs, "value")
        if isinstance(v, Seq) and v.complete and v.node is not None:  # a list literal
            if len(v.items) >= 2:
                return NOT_BATCH
            if len(v.items) == 1 and isinstance(v.items[0].value, Const) \
                    and isinstance(v.items[0].value.value, (int, float)):
                return ONE
        return None
    if path in _BATCH_REDUCTIONS:
        axis = _arg(args, kwargs, 1, "axis", "reduction_indices")
        keep = _arg(args, kwargs, 2, "keepdims", "keep_dims")
        keep_false = keep is None or keep[0] in (Const(False), NONE)
        x = _first(args, kwargs, "input_tensor", "input")
        if keep_false and shape_of(x) == BATCH and axis is not None and (
                axis[0] == Const(0) or (isinstance(axis[0], Seq) and axis[0].complete
                                        and Const(0) in [i.value for i in axis[0].items])):
            return NOT_BATCH  # reduced over the batch dimension
    return None


def _not_zero_axis(a) -> bool:
    """An explicit integer axis other than 0 (`1`, `-1`)."""
    return a is not None and isinstance(a[0], Const) and isinstance(a[0].value, int) \
        and not isinstance(a[0].value, bool) and a[0].value != 0
