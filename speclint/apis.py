"""What speclint knows about the TensorFlow Estimator API, as data.

This table is shared by the static engine and the runtime shim: the spellings of each API, the
fields of each spec class, what each mode requires, and TF's own rule for counting the arguments
of a host function. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from speclint import tfsig

# --------------------------------------------------------------------------------------------
# Canonical API names.  Every spelling of an API resolves to one of these strings.
ESTIMATOR_SPEC = "EstimatorSpec"
TPU_ESTIMATOR_SPEC = "TPUEstimatorSpec"
ESTIMATOR = "Estimator"
TPU_ESTIMATOR = "TPUEstimator"
MODE_KEYS = "ModeKeys"
SCAFFOLD = "Scaffold"
PARTIAL = "functools.partial"

SPEC_CLASSES = (ESTIMATOR_SPEC, TPU_ESTIMATOR_SPEC)
ESTIMATOR_CLASSES = (ESTIMATOR, TPU_ESTIMATOR)

# Module-path rewrites applied (repeatedly, first match wins) to a fully qualified dotted name
# before it is looked up in API_NAMES.  They fold every import path onto the `tf.` spelling.
_PREFIX_REWRITES: Sequence[tuple] = (
    ("tensorflow_estimator.python.estimator.tpu.tpu_estimator.", "tf.estimator.tpu."),
    ("tensorflow_estimator.python.estimator.tpu.tpu_config.", "tf.estimator.tpu."),
    ("tensorflow_estimator.python.estimator.tpu.", "tf.estimator.tpu."),
    ("tensorflow_estimator.python.estimator.model_fn.", "tf.estimator."),
    ("tensorflow_estimator.python.estimator.estimator_lib.", "tf.estimator."),
    ("tensorflow_estimator.python.estimator.estimator.", "tf.estimator."),
    ("tensorflow_estimator.python.estimator.mode_keys.", "tf.estimator."),
    ("tensorflow_estimator.python.estimator.run_config.", "tf.estimator."),
    ("tensorflow_estimator.compat.v1.estimator.", "tf.estimator."),
    ("tensorflow_estimator.compat.v2.estimator.", "tf.estimator."),
    ("tensorflow_estimator.estimator.", "tf.estimator."),
    ("tensorflow_estimator.", "tf."),
    ("tensorflow.compat.v1.", "tf."),
    ("tensorflow.compat.v2.", "tf."),
    ("tensorflow.", "tf."),
    ("tf.compat.v1.", "tf."),
    ("tf.compat.v2.", "tf."),
    # TF 1.x internal module paths
    ("tf.python.estimator.model_fn.", "tf.estimator."),
    ("tf.python.estimator.estimator.", "tf.estimator."),
    ("tf.python.estimator.", "tf.estimator."),
    ("tf.contrib.tpu.python.tpu.tpu_estimator.", "tf.contrib.tpu."),
    ("tf.contrib.tpu.python.tpu.tpu_optimizer.", "tf.contrib.tpu."),
    ("tf.python.training.training.", "tf.train."),
    ("tf.python.training.monitored_session.", "tf.train."),
)

# The `tf.` spelling of each API (after the rewrites above) -> its canonical name.
API_NAMES = {
    "tf.estimator.EstimatorSpec": ESTIMATOR_SPEC,
    "tf.estimator.tpu.TPUEstimatorSpec": TPU_ESTIMATOR_SPEC,
    "tf.contrib.tpu.TPUEstimatorSpec": TPU_ESTIMATOR_SPEC,
    "tf.estimator.Estimator": ESTIMATOR,
    "tf.estimator.EstimatorV2": ESTIMATOR,  # tensorflow_estimator.python.estimator.estimator.EstimatorV2
    "tf.estimator.tpu.TPUEstimator": TPU_ESTIMATOR,
    "tf.contrib.tpu.TPUEstimator": TPU_ESTIMATOR,
    "tf.estimator.ModeKeys": MODE_KEYS,
    "tf.estimator.mode_keys.ModeKeys": MODE_KEYS,
    "tf.train.Scaffold": SCAFFOLD,
    "tf.estimator.Scaffold": SCAFFOLD,
    "functools.partial": PARTIAL,
}


@functools.lru_cache(maxsize=8192)
def canonical_path(dotted: str) -> str:
    """Fold a fully qualified dotted name onto its `tf.` spelling."""
    for _ in range(4):
        for prefix, repl in _PREFIX_REWRITES:
            if dotted.startswith(prefix):
                dotted = repl + dotted[len(prefix):]
                break
        else:
            return dotted
    return dotted


@functools.lru_cache(maxsize=8192)
def api_name(dotted: str) -> Optional[str]:
    """The canonical API a fully qualified name denotes, or None when it is not one we know."""
    return API_NAMES.get(canonical_path(dotted))


# --------------------------------------------------------------------------------------------
# Modes
TRAIN, EVAL, PREDICT = "train", "eval", "infer"
ALL_MODES = frozenset((TRAIN, EVAL, PREDICT))
MODE_CONSTANTS = {"TRAIN": TRAIN, "EVAL": EVAL, "PREDICT": PREDICT}
MODE_DISPLAY = {TRAIN: "TRAIN", EVAL: "EVAL", PREDICT: "PREDICT"}
MODE_WHEN = {
    TRAIN: "the first train() call",
    EVAL: "the first evaluate() call",
    PREDICT: "predict() or export",
}

# --------------------------------------------------------------------------------------------
# Spec classes: fields in positional order (both are namedtuples), and what each mode requires.
SPEC_FIELDS = {
    ESTIMATOR_SPEC: (
        "mode", "predictions", "loss", "train_op", "eval_metric_ops", "export_outputs",
        "training_chief_hooks", "training_hooks", "scaffold", "evaluation_hooks",
        "prediction_hooks",
    ),
    TPU_ESTIMATOR_SPEC: (
        "mode", "predictions", "loss", "train_op", "eval_metrics", "export_outputs",
        "scaffold_fn", "host_call", "training_hooks", "evaluation_hooks", "prediction_hooks",
    ),
}

# model_fn.py checks these in this order; the first missing one is what TF reports.
REQUIRED_FIELDS = {
    TRAIN: ("train_op", "loss"),
    EVAL: ("loss",),
    PREDICT: ("predictions",),
}

HOST_CALL_FIELDS = ("eval_metrics", "host_call")

# Keywords that belong to the other spec class: what to write instead (SL018's fix text).
CROSS_CLASS_FIXES = {
    (ESTIMATOR_SPEC, "eval_metrics"): (
        "eval_metric_ops",
        "EstimatorSpec takes `eval_metric_ops=metric_fn(*tensors)` (a dict of metric ops), "
        "or return a TPUEstimatorSpec and let TPUEstimator(use_tpu=False) convert it",
    ),
    (ESTIMATOR_SPEC, "scaffold_fn"): (
        "scaffold",
        "EstimatorSpec takes `scaffold=scaffold_fn()` (a Scaffold instance, not the function)",
    ),
    (ESTIMATOR_SPEC, "host_call"): (
        None,
        "EstimatorSpec has no host_call: write the summaries in model_fn directly, or return a "
        "TPUEstimatorSpec and let TPUEstimator(use_tpu=False) convert it",
    ),
    (TPU_ESTIMATOR_SPEC, "eval_metric_ops"): (
        "eval_metrics",
        "TPUEstimatorSpec takes `eval_metrics=(metric_fn, tensors)`: metric_fn returns the dict "
        "of metric ops and tensors are the batch-major tensors it needs",
    ),
    (TPU_ESTIMATOR_SPEC, "scaffold"): (
        "scaffold_fn",
        "TPUEstimatorSpec takes `scaffold_fn=<function returning a Scaffold>`",
    ),
    (TPU_ESTIMATOR_SPEC, "training_chief_hooks"): (
        "training_hooks",
        "TPUEstimatorSpec has no chief-only hooks: pass them in `training_hooks=`",
    ),
}


def keyword_fix(cls: str, keyword: str) -> tuple:
    """(replacement keyword or None, fix sentence) for a keyword `cls` does not accept."""
    if (cls, keyword) in CROSS_CLASS_FIXES:
        return CROSS_CLASS_FIXES[(cls, keyword)]
    close = difflib.get_close_matches(keyword, SPEC_FIELDS[cls], n=1, cutoff=0.6)
    if close:
        return close[0], f"Did you mean `{close[0]}=`?"
    return None, f"{cls} accepts: " + ", ".join(SPEC_FIELDS[cls][1:])


# --------------------------------------------------------------------------------------------
# Host functions (eval_metrics[0] / host_call[0]): TF's own argument counting.
Param = tfsig.Param  # name, kind ("positional" incl. positional-only, "keyword_only", ...), has_default


@dataclass(frozen=True)
class HostFnSignature:
    """A host function's parameters as TF sees them (after partial binding and bound self)."""

    params: tuple  # of Param
    bound_positional: int = 0  # functools.partial positional args
    bound_keywords: frozenset = frozenset()  # functools.partial keyword names
    drops_first: bool = False  # bound method: TF drops the first positional argument

    def fn_args(self) -> tuple:
        """Exactly `tensorflow.python.util.function_utils.fn_args` (decided by `speclint.tfsig`)."""
        return tfsig.fn_args(self.params, is_method=self.drops_first,
                             partials=((self.bound_positional, self.bound_keywords),))

    @property
    def has_varargs(self) -> bool:
        return any(p.kind == "var_positional" for p in self.params)

    @property
    def has_varkw(self) -> bool:
        return any(p.kind == "var_keyword" for p in self.params)

    def arity_mismatch(self, n_tensors: int) -> Optional[int]:
        """TPUEstimatorSpec's list check: the count TF expects, or None when it accepts."""
        if self.has_varargs:
            return None
        expected = len(self.fn_args())
        return None if expected == n_tensors else expected

    def keyword_problems(self, keys: Iterable[str]) -> tuple:
        """`fn(**tensors)`: (unexpected keys, missing required parameters)."""
        keys = list(keys)
        positional = [p for p in self.params if p.kind == "positional"]
        if self.drops_first and positional:
            positional = positional[1:]
        positional = positional[self.bound_positional:]
        accepted = {p.name for p in positional} | {
            p.name for p in self.params if p.kind == "keyword_only"
        }
        unexpected = [] if self.has_varkw else [k for k in keys if k not in accepted]
        required = [p.name for p in positional if not p.has_default] + [
            p.name for p in self.params if p.kind == "keyword_only" and not p.has_default
        ]
        missing = [
            r for r in required if r not in keys and r not in self.bound_keywords
        ]
        return unexpected, missing


RESERVED_METRIC_NAMES = ("loss", "global_step")


# ============================================================================================
# Runtime shim tables (speclint/runtime).  Nothing here imports TensorFlow.

# Where each class is defined, first match wins (TF 2.x estimator package, then TF 1.x paths).
# The shim patches methods on these class objects, so every import path that re-exports them
# (tf.estimator, tf.compat.v1.estimator, tf.compat.v1.estimator.tpu, tf.estimator.tpu,
# tensorflow_estimator.estimator, tf.contrib.tpu, ...) and every subclass (EstimatorV2) is covered.
RUNTIME_CLASS_PATHS = {
    ESTIMATOR_SPEC: (
        ("tensorflow_estimator.python.estimator.model_fn", "EstimatorSpec"),
        ("tensorflow.python.estimator.model_fn", "EstimatorSpec"),
    ),
    TPU_ESTIMATOR_SPEC: (
        ("tensorflow_estimator.python.estimator.tpu.tpu_estimator", "TPUEstimatorSpec"),
        ("tensorflow.contrib.tpu.python.tpu.tpu_estimator", "TPUEstimatorSpec"),
    ),
    ESTIMATOR: (
        ("tensorflow_estimator.python.estimator.estimator", "Estimator"),
        ("tensorflow.python.estimator.estimator", "Estimator"),
    ),
    TPU_ESTIMATOR: (
        ("tensorflow_estimator.python.estimator.tpu.tpu_estimator", "TPUEstimator"),
        ("tensorflow.contrib.tpu.python.tpu.tpu_estimator", "TPUEstimator"),
    ),
}

# Public spellings users import (module, attribute) -> canonical API; the runtime tests check
# that each resolves to a class the shim patches (or a subclass of one).
RUNTIME_PUBLIC_SPELLINGS = (
    ("tensorflow.estimator", "Estimator", ESTIMATOR),
    ("tensorflow.compat.v1.estimator", "Estimator", ESTIMATOR),
    ("tensorflow.compat.v2.estimator", "Estimator", ESTIMATOR),
    ("tensorflow_estimator._api.v1.estimator", "Estimator", ESTIMATOR),
    ("tensorflow_estimator._api.v2.estimator", "Estimator", ESTIMATOR),
    ("tensorflow_estimator.python.estimator.estimator_lib", "Estimator", ESTIMATOR),
    ("tensorflow_estimator.python.estimator.estimator_lib", "TPUEstimator", TPU_ESTIMATOR),
    ("tensorflow_estimator.python.estimator.estimator", "Estimator", ESTIMATOR),
    ("tensorflow_estimator.python.estimator.estimator", "EstimatorV2", ESTIMATOR),
    ("tensorflow.compat.v1.estimator.tpu", "TPUEstimator", TPU_ESTIMATOR),
    ("tensorflow_estimator._api.v1.estimator.tpu", "TPUEstimator", TPU_ESTIMATOR),
    ("tensorflow_estimator.python.estimator.tpu.tpu_estimator", "TPUEstimator", TPU_ESTIMATOR),
    ("tensorflow.estimator", "EstimatorSpec", ESTIMATOR_SPEC),
    ("tensorflow.compat.v1.estimator", "EstimatorSpec", ESTIMATOR_SPEC),
    ("tensorflow_estimator.python.estimator.model_fn", "EstimatorSpec", ESTIMATOR_SPEC),
    ("tensorflow.compat.v1.estimator.tpu", "TPUEstimatorSpec", TPU_ESTIMATOR_SPEC),
    ("tensorflow_estimator._api.v1.estimator.tpu", "TPUEstimatorSpec", TPU_ESTIMATOR_SPEC),
    ("tensorflow_estimator.python.estimator.tpu.tpu_estimator", "TPUEstimatorSpec", TPU_ESTIMATOR_SPEC),
)

# Module prefixes whose model_fns are TF's own (canned estimators, TPUEstimator's internal
# wrapper): the shim never wraps them.
FRAMEWORK_MODULE_PREFIXES = ("tensorflow_estimator.", "tensorflow.", "keras.", "tf_keras.")

# Keys TPUEstimator adds to params (tpu_estimator.py:83-85).
PARAMS_BATCH_SIZE, PARAMS_USE_TPU, PARAMS_CONTEXT = "batch_size", "use_tpu", "context"

# TF1 summary op types TPUEstimator forbids inside host calls (CatchInvalidHostcallFunctions,
# tpu_estimator.py:132-140); also what a TF1 summary in a TPU model_fn creates (SL012).
V1_SUMMARY_OP_TYPES = frozenset((
    "AudioSummary", "AudioSummaryV2", "HistogramSummary", "ImageSummary",
    "MergeSummary", "ScalarSummary", "TensorSummary", "TensorSummaryV2",
))

# Ops that are variables (a tensor of these is a variable handle/ref, never a "model tensor").
VARIABLE_OP_TYPES = frozenset(("VarHandleOp", "VariableV2", "Variable"))

# Ops that write a variable: SL023 looks for one on the global step among train_op's ancestors.
ASSIGN_OP_TYPES = frozenset((
    "AssignAddVariableOp", "AssignVariableOp", "AssignAdd", "Assign", "ResourceApplyGradientDescent",
))

# The op CrossShardOptimizer adds (tpu_estimator.py _CROSS_REPLICA_SUM_OP); SL043.
CROSS_REPLICA_SUM_OP = "CrossReplicaSum"

# Environment variable of the runtime shim.
RUNTIME_ENV = "SPECLINT_RUNTIME"
RUNTIME_MODES = ("raise", "warn", "off")

# The TF2 summary function to use instead of each TF1 summary op (SL010/SL012 fix text).
V1_SUMMARY_V2_NAMES = {
    "ScalarSummary": "scalar", "HistogramSummary": "histogram", "ImageSummary": "image",
    "AudioSummary": "audio", "AudioSummaryV2": "audio", "TensorSummary": "text",
    "TensorSummaryV2": "text", "MergeSummary": "scalar",
}

# The module Estimator's export calls build_all_signature_defs through (estimator.py: export_lib);
# the shim wraps that attribute to see which signatures TF drops (SL029).
RUNTIME_EXPORT_LIB = "tensorflow_estimator.python.estimator.export.export_lib"

# Names of TPU flags (a variable, attribute, params key or absl flag whose name contains one of
# these) — both engines read it (static: `state.is_tpu_flag_text`).  At runtime, a model_fn whose code mentions one may
# build different specs on and off TPU, so TPU-only rules are applied to its CPU-path specs only
# when it is really on the TPU path.
TPU_FLAG_WORDS = ("use_tpu", "on_tpu", "is_tpu")

# --------------------------------------------------------------------------------------------
# Mode handling and the model_fn signature (SL036-SL041, SL044)

# `Estimator.__init__` / `TPUEstimator.__init__` positional parameters, in order.
ESTIMATOR_PARAMS = {
    ESTIMATOR: ("model_fn", "model_dir", "config", "params", "warm_start_from"),
    TPU_ESTIMATOR: (
        "model_fn", "model_dir", "config", "params", "use_tpu", "train_batch_size",
        "eval_batch_size", "predict_batch_size", "batch_axis", "eval_on_tpu", "export_to_tpu",
        "export_to_cpu", "warm_start_from", "embedding_config_spec",
        "export_saved_model_api_version",
    ),
}

# model_fn.py `_VALID_MODEL_FN_ARGS`: the names Estimator passes to a model_fn (by name).
VALID_MODEL_FN_ARGS = ("features", "labels", "mode", "params", "self", "config")

# tpu_estimator.py `_RESERVED_PARAMS_KEYS`: TPUEstimator refuses them in `params=`.
RESERVED_PARAMS_KEYS = ("batch_size", "context")

# The batch size keyword TPUEstimator needs for each method that runs the model_fn.
BATCH_SIZE_KEYWORD = {"train": "train_batch_size", "evaluate": "eval_batch_size",
                      "predict": "predict_batch_size"}
METHOD_MODE = {"train": TRAIN, "evaluate": EVAL, "predict": PREDICT}
# Estimator methods that write a SavedModel (they call the model_fn in PREDICT)
EXPORT_METHODS = ("export_savedmodel", "export_saved_model")

# Words people write for a mode, and the ModeKeys constant they mean (SL037's fix text).
MODE_WORDS = {
    "INFER": "PREDICT", "INFERENCE": "PREDICT", "PREDICTION": "PREDICT", "PREDICTING": "PREDICT",
    "PREDICTIONS": "PREDICT", "SERVE": "PREDICT", "SERVING": "PREDICT", "EXPORT": "PREDICT",
    "TRAINING": "TRAIN", "FIT": "TRAIN",
    "EVALUATE": "EVAL", "EVALUATION": "EVAL", "EVALUATING": "EVAL", "TEST": "EVAL",
    "TESTING": "EVAL", "VALID": "EVAL", "VALIDATE": "EVAL", "VALIDATION": "EVAL", "DEV": "EVAL",
}


def mode_constant_for(word: str) -> str:
    """The ModeKeys constant a misspelled mode word means ('predict' -> 'PREDICT')."""
    w = word.strip().upper()
    if w in MODE_CONSTANTS:
        return w
    return MODE_WORDS.get(w, "TRAIN, EVAL or PREDICT")


# --------------------------------------------------------------------------------------------
# pairing family (SL014, SL016, SL017, SL031, SL033, SL034, SL035, SL043)
# tf.compat.v1.train optimizers (tf.train.Optimizer subclasses): CrossShardOptimizer can wrap them.
V1_OPTIMIZERS = tuple("""AdadeltaOptimizer AdagradDAOptimizer AdagradOptimizer AdamOptimizer
 FtrlOptimizer GradientDescentOptimizer MomentumOptimizer ProximalAdagradOptimizer
 ProximalGradientDescentOptimizer RMSPropOptimizer AdamWOptimizer LazyAdamOptimizer
 MomentumWOptimizer""".split())
KERAS_OPTIMIZERS = tuple("Adadelta Adagrad Adam AdamW Adamax Ftrl Nadam RMSprop SGD Lion".split())
# `tf.` spellings of CrossShardOptimizer (after canonical_path).
CROSS_SHARD_OPTIMIZER_PATHS = (
    "tf.tpu.CrossShardOptimizer", "tf.contrib.tpu.CrossShardOptimizer",
    "tf.python.tpu.tpu_optimizer.CrossShardOptimizer", "tf.tpu.tpu_optimizer.CrossShardOptimizer",
)
# Gradient aggregation the user does by hand instead of CrossShardOptimizer.
CROSS_REPLICA_SUM_PATHS = (
    "tf.tpu.cross_replica_sum", "tf.contrib.tpu.cross_replica_sum", "tf.python.tpu.ops.tpu_ops.cross_replica_sum",
)
INIT_FROM_CHECKPOINT_PATHS = ("tf.train.init_from_checkpoint",
                              "tf.python.training.checkpoint_utils.init_from_checkpoint")
# SessionRunHook classes of TF (tf.compat.v1.train.X, tf.estimator.X).
SESSION_RUN_HOOKS = tuple("""LoggingTensorHook SummarySaverHook NanTensorHook FinalOpsHook
 StepCounterHook CheckpointSaverHook StopAtStepHook ProfilerHook GlobalStepWaiterHook
 FeedFnHook""".split())
HOOK_FIELDS = ("training_hooks", "evaluation_hooks", "prediction_hooks", "training_chief_hooks")


# --------------------------------------------------------------------------------------------
# Field contracts (SL021-SL032): data shared by the static checks and the runtime shim.
DEFAULT_SERVING_KEY = "serving_default"  # tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
TPU_LOSS_DTYPE = "float32"  # the TPU train/eval loops carry a float32 loss (tpu_estimator.py:80)
# Float dtypes a TPU loss is known to break with (verified: bfloat16, float64; float16 likewise).
NON_TPU_LOSS_DTYPES = ("bfloat16", "float16", "float64")
# ExportOutput classes: (argument, position, "string" | "floating") checked at construction
# (export_output.py:133-139, 190-191: classes must be tf.string, scores and a regression value
# any floating dtype, although TF's messages say "float32"; verified on TF 2.15.1).
EXPORT_OUTPUT_ARGS = {
    "PredictOutput": (),
    "ClassificationOutput": (("scores", 0, "floating"), ("classes", 1, "string")),
    "RegressionOutput": (("value", 0, "floating"),),
}
# Optimizer methods whose `global_step` argument (keyword, or second positional for the
# tf.compat.v1.train optimizers) makes the train op advance the global step (SL023).
OPTIMIZER_STEP_METHODS = ("minimize", "apply_gradients")


# --------------------------------------------------------------------------------------------
# Host-call family (SL004-SL012, SL027, SL042): summaries and TF 1 detection.

# TF 1 summary functions (`tf.compat.v1.summary.X`) that create the op types TPUEstimator's
# CatchInvalidHostcallFunctions rejects inside host calls (ScalarSummary, HistogramSummary,
# ImageSummary, AudioSummary(V2), MergeSummary, TensorSummary(V2)).  `merge_all` is left out: it
# returns None when there is nothing to merge, and the ops it would merge are reported themselves.
V1_SUMMARY_OPS = frozenset(("scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge"))

# Attributes of the top-level `tensorflow` module that exist in TF 1 only: a module that uses one
# through a plain `import tensorflow as tf` is TF 1 code, so its `tf.summary.*` is the v1 API.
TF1_ONLY_ATTRIBUTES = frozenset((
    "contrib", "Session", "InteractiveSession", "placeholder", "get_variable", "variable_scope",
    "get_variable_scope", "logging", "layers", "app", "flags", "global_variables_initializer",
    "local_variables_initializer", "trainable_variables", "global_variables", "get_collection",
    "add_to_collection", "GraphKeys", "to_float", "to_int32", "to_int64", "py_func",
    "get_default_graph", "reset_default_graph", "train.get_global_step",
    "train.get_or_create_global_step", "train.AdamOptimizer", "train.GradientDescentOptimizer",
    "train.MomentumOptimizer", "train.Saver", "losses.sparse_softmax_cross_entropy",
    "losses.softmax_cross_entropy", "metrics.accuracy",
))

# Library helpers that write TF 1 summaries themselves (SL012): `tf.` spelling -> (the argument
# that lists them, its position).  tf.contrib.layers.optimize_loss writes the loss, learning-rate
# and gradient-norm summaries unless `summaries=[]` (the Object Detection API passes
# `summaries=[] if use_tpu else None`).
SUMMARY_WRITING_HELPERS = {"tf.contrib.layers.optimize_loss": ("summaries", 11)}

# Calls in a host function that size data by their argument (SL042): the function, as spelled
# after the `tf.` rewrites, and which argument holds the size.
BATCH_SIZED_CALLS = {"range": "range", "tf.reshape": "shape", "tf.tile": "multiples"}


# ---- SL046: TPU names looked up where they do not exist ----------------------------------------
# TPU names that exist in one of the two TPU modules only (checked on TF 2.15 and the TF 1.x API:
# tf.compat.v1.tpu holds the ops and the optimizer, tf.compat.v1.estimator.tpu the Estimator API).
_TPU_OPS = ("CrossShardOptimizer", "cross_replica_sum", "bfloat16_scope", "rewrite", "shard",
            "batch_parallel", "initialize_system", "shutdown_system", "outside_compilation")
_TPU_ESTIMATOR_API = ("TPUEstimator", "TPUEstimatorSpec", "TPUConfig", "InputPipelineConfig", "RunConfig")
_ESTIMATOR_TPU_MODULES = ("tensorflow.estimator.tpu", "tensorflow.compat.v1.estimator.tpu",
                          "tensorflow.compat.v2.estimator.tpu", "tensorflow_estimator.estimator.tpu",
                          "tensorflow_estimator.compat.v1.estimator.tpu")
_TPU_MODULES = ("tensorflow.tpu", "tensorflow.compat.v1.tpu", "tensorflow.compat.v2.tpu")


def wrong_tpu_module(full: str):
    """(module as written, name, the real spelling) for a TPU name looked up in the TPU module that
    does not have it, else None."""
    module, _, name = full.rpartition(".")
    if module in _ESTIMATOR_TPU_MODULES and name in _TPU_OPS:
        return module, name, f"tf.compat.v1.tpu.{name}"
    if module in _TPU_MODULES and name in _TPU_ESTIMATOR_API:
        return module, name, f"tf.compat.v1.estimator.tpu.{name}"
    return None
