"""TensorFlow's TPU graph-build failures, as data: which rule each one belongs to.

`speclint.runtime.simulate_tpu` builds the real TPUEstimator graph with `use_tpu=True` on CPU; when
TF raises, `match()` finds the rule the exception belongs to from its type, its message and the TF
functions on its traceback (`within`: the same message, e.g. "must be from the same graph as", means
SL007 inside a host call, SL015 inside scaffold_fn and SL012 when the summaries are merged).
`anchor` says where to point when the traceback holds no user frame below the Estimator call (the
exception is raised by TF after model_fn returned):

- ``spec:<field>,...``: the spec constructor call of that mode that set one of those fields
  (``spec`` alone: the last spec built in that mode);
- ``op``: where the first op named in the message that user code created was built;
- ``train_op`` / ``loss``: where that field's op was built;
- ``model_fn`` / ``input_fn``: the function's ``def`` line.

Messages were verified on TF 2.15.1 with tensorflow-estimator 2.15.0, control flow v2 (the TF2
default) and v1 (`tf.compat.v1.disable_control_flow_v2()`); the research note gives TF's line numbers.
Nothing here imports TensorFlow.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

_HOST_CALL = ("create_tpu_hostcall", "_call_host_fn", "record", "create_cpu_hostcall")
_HOST_FIELDS = "spec:eval_metrics,host_call"


@dataclass(frozen=True)
class TPUFailure:
    code: str
    name: str  # the rule's name (also used when the rule's doc is not in this rulebook)
    exc: Tuple[str, ...]  # exception class names (any)
    pattern: str  # regex searched in str(exception)
    within: Tuple[str, ...] = ()  # TF function names of which one must be on the traceback
    anchor: str = "spec"

    def matches(self, exc_names: Iterable[str], message: str, functions: Iterable[str]) -> bool:
        if self.exc and not set(self.exc) & set(exc_names):
            return False
        if self.within and not set(self.within) & set(functions):
            return False
        return re.search(self.pattern, message, re.S) is not None


# First match wins: specific messages before the generic graph errors they could be confused with.
TPU_BUILD_FAILURES: Tuple[TPUFailure, ...] = (
    # -- host calls (eval_metrics / host_call) ------------------------------------------------
    TPUFailure("SL001", "host-call-not-fn-tensors-pair", ("ValueError", "TypeError"),
               r"^(eval_metrics|host_call)(\[\d\])? should (be tuple or list|have two elements|be callable)",
               anchor=_HOST_FIELDS),
    TPUFailure("SL002", "host-call-arity-mismatch", ("RuntimeError",),
               r"length of tensors \d+ does not match method args of the function", anchor=_HOST_FIELDS),
    TPUFailure("SL003", "host-call-kwargs-mismatch", ("TypeError",),
               r"(got an unexpected keyword argument|missing \d+ required (positional|keyword-only) argument)",
               within=("_call_host_fn", "create_tpu_hostcall", "create_cpu_hostcall"), anchor=_HOST_FIELDS),
    TPUFailure("SL004", "host-call-tensors-not-flat", ("AttributeError",),
               r"object has no attribute '(dtype|shape)'", within=("record",), anchor=_HOST_FIELDS),
    TPUFailure("SL005", "outfeed-scalar-tensor", ("RuntimeError",),
               r"All tensors outfed from TPU should preserve batch size dimension, but got scalar",
               anchor=_HOST_FIELDS),
    TPUFailure("SL010", "host-call-v1-summary", ("ValueError",),
               r"Please use tf\.contrib\.summary instead of tf\.summary inside of host_calls",
               anchor=_HOST_FIELDS),
    TPUFailure("SL007", "host-fn-captures-model-tensor", ("ValueError",),
               r"(must be from the same graph as|is in a while loop|"
               r"depends on TPU computation|InaccessibleTensorError)",
               within=("_call_host_fn",), anchor=_HOST_FIELDS),
    TPUFailure("SL008", "metric-fn-return-contract", ("TypeError", "AttributeError", "ValueError"),
               r"(object is not subscriptable|'list' object has no attribute 'items'|"
               r"Attempting to slice scalar input|object has no attribute 'items')",
               within=("_eval_on_tpu_system", "_augment_model_fn", "_model_fn"), anchor="spec:eval_metrics"),
    TPUFailure("SL009", "reserved-metric-name", ("ValueError",),
               r"Metric with name .?(loss|global_step).? is not allowed", anchor="spec:eval_metrics"),
    TPUFailure("SL011", "host-call-returns-none", ("TypeError",),
               r'can only concatenate list \(not "NoneType"\) to list', anchor=_HOST_FIELDS),
    # -- scaffold_fn ----------------------------------------------------------------------------
    TPUFailure("SL013", "scaffold-kwarg-confusion", ("TypeError",),
               r"('Scaffold' object is not callable|scaffold must be tf\.train\.Scaffold|"
               r"unexpected keyword argument 'scaffold(_fn)?')", anchor="spec:scaffold_fn"),
    TPUFailure("SL014", "scaffold-fn-bad-return", ("ValueError", "AttributeError"),
               r"(scaffold_fn returns None, which is not allowed|object has no attribute 'finalize')",
               anchor="spec:scaffold_fn"),
    TPUFailure("SL015", "scaffold-fn-captures-tensor", ("ValueError",),
               r"(Inside scaffold_fn|Inside Scaffold\.finalize|must be from the same graph as|"
               r"is in a while loop|depends on TPU computation)",
               within=("_get_scaffold",), anchor="spec:scaffold_fn"),
    # -- summaries in the TPU model_fn (raised when Estimator merges the summaries) ---------------
    TPUFailure("SL012", "summary-in-tpu-model-fn", ("ValueError",),
               r"(must be from the same graph as|is in a while loop)",
               within=("merge_all", "merge_all_summaries"), anchor="op"),
    # -- hooks ----------------------------------------------------------------------------------
    TPUFailure("SL031", "tpu-hooks-capture-tensors", ("ValueError", "TypeError"),
               r"(should have graph attribute that is equal to current graph|"
               r"must be from the same graph as|is in a while loop|marked as not fetchable)",
               within=("begin", "_as_graph_element", "_convert_dict_to_list_of_dict"),
               anchor="spec:training_hooks,evaluation_hooks,prediction_hooks"),
    # -- init_from_checkpoint in the TPU model_fn ------------------------------------------------
    TPUFailure("SL016", "init-from-checkpoint-outside-scaffold-fn", ("ValueError",),
               r"(AssignVariableOp|Assign).*(must be from the same graph as|is in a while loop)",
               within=("finalize", "global_variables_initializer", "variables_initializer"),
               anchor="op"),
    # -- fields -----------------------------------------------------------------------------------
    TPUFailure("SL018", "wrong-spec-keyword", ("TypeError",),
               r"(Estimator|TPUEstimator)Spec\.__new__\(\) got an unexpected keyword argument",
               anchor="spec"),
    TPUFailure("SL019", "missing-field-for-mode", ("ValueError",),
               r"^Missing (train_op|loss|predictions)\.", anchor="spec"),
    TPUFailure("SL020", "loss-not-scalar", ("ValueError",), r"Loss must be scalar", anchor="loss"),
    TPUFailure("SL021", "loss-not-float32-tensor", ("TypeError",),
               r"(loss must be Tensor|Mismatch between input types and output types for training loop body|"
               r"Input 'y' of 'AddV2' Op has type \w+ that does not match type float32)",
               anchor="loss"),
    TPUFailure("SL022", "train-op-wrong-type", ("TypeError",), r"train_op must be Operation or Tensor",
               anchor="spec"),
    TPUFailure("SL024", "predictions-wrong-structure", ("TypeError",),
               r"^predictions(\[.*\])? must be Tensor", anchor="spec"),
    TPUFailure("SL026", "tpu-predictions-contract", ("TypeError", "ValueError", "IndexError"),
               r"(TPUEstimatorSpec\.predictions must be dict of Tensors|"
               r"in TPUEstimatorSpec\.predictions has dynamic shape|"
               r"estimated size for TPUEstimatorSpec\.predictions is too large|list index out of range)",
               within=("_predict_on_tpu_system", "_validate_predictions", "predict_step",
                       "_verify_tpu_spec_predictions", "_estimate_predictions_size"),
               anchor="spec:predictions"),
    TPUFailure("SL027", "eval-metric-ops-wrong-structure", ("TypeError", "ValueError"),
               r"(eval_metric_ops must be a dict|Values of eval_metric_ops must be \(metric_value, update_op\))",
               anchor="spec"),
    TPUFailure("SL028", "export-outputs-contract", ("TypeError", "ValueError"),
               r"(Values in `export_outputs` must be ExportOutput objects|`export_outputs` must be dict|"
               r"Multiple `export_outputs` were provided, but none of them are specified as the default|"
               r"Classification (classes|scores) must be a (string|float32) Tensor|"
               r"(Prediction|Regression) output value must be a (float32 )?Tensor)",
               anchor="spec:export_outputs"),
    TPUFailure("SL030", "hooks-not-sessionrunhook-iterable", ("TypeError",),
               r"All hooks must be SessionRunHook instances", anchor="spec"),
    TPUFailure("SL032", "tensor-from-other-graph", ("ValueError",), r"must be from the default graph",
               anchor="spec"),
    # -- spec class / Estimator pairing -----------------------------------------------------------
    # (a model_fn that returned None reaches TPU's spec-type check first: that is SL038, not SL034)
    TPUFailure("SL038", "model-fn-missing-return", ("RuntimeError",),
               r"must have type`TPUEstimatorSpec`\. Got <class '(NoneType|tuple)'>", anchor="model_fn"),
    TPUFailure("SL034", "estimator-spec-under-tpu", ("RuntimeError", "ValueError"),
               r"(estimator_spec used by TPU (evaluation|prediction) must have type|"
               r"training_chief_hooks returned by EstimatorSpec is not supported in TPUEstimator)",
               anchor="spec"),
    TPUFailure("SL038", "model-fn-missing-return", ("AttributeError",),
               r"'(NoneType|tuple)' object has no attribute '(training_chief_hooks|_replace|mode)'",
               within=("_verify_estimator_spec", "_call_model_fn"), anchor="model_fn"),
    # -- model_fn signature, params, TPU training --------------------------------------------------
    TPUFailure("SL040", "model-fn-signature", ("ValueError",),
               r"(does not include params argument, required by TPUEstimator|"
               r"model_fn does not take labels, but input_fn returns labels|has following not expected args|"
               r"must include features argument|are reserved keys but existed in params)",
               anchor="model_fn"),
    TPUFailure("SL041", "tpu-params-batch-size", ("ValueError",),
               r"(eval|predict)_batch_size in TPUEstimator constructor cannot be `None`", anchor="model_fn"),
    TPUFailure("SL043", "cross-shard-optimizer", ("ValueError", "TypeError"),
               r"(CrossShardOptimizer must be used for model training on TPUs|"
               r"CrossShardOptimizer only works with tf\.training\.Optimizer)", anchor="train_op"),
    TPUFailure("SL044", "tpu-input-dynamic-shape", ("ValueError",),
               r"(The (features|labels) to the model returned by input_fn must have static shape|"
               r"must have a fixed size for dimension \d+ that is known at construction time)",
               within=("_validate_input_pipeline", "_call_input_fn", "get_sharded_shape",
                       "set_configuration_from_sharded_input_tensors", "enqueue_ops_fn",
                       "_validate_static_shape", "validate"),
               anchor="input_fn"),
)


def match(exc_names: Iterable[str], message: str, functions: Iterable[str]) -> Optional[TPUFailure]:
    """The table entry for an exception: its class names (with bases), message, traceback functions."""
    exc_names, functions = tuple(exc_names), tuple(functions)
    for entry in TPU_BUILD_FAILURES:
        if entry.matches(exc_names, message, functions):
            return entry
    return None


def anchor_fields(anchor: str) -> Tuple[str, ...]:
    """`spec:eval_metrics,host_call` -> ("eval_metrics", "host_call"); other anchors -> ()."""
    if anchor.startswith("spec:"):
        return tuple(f for f in anchor[5:].split(",") if f)
    return ()


# Tensor and op names quoted in TF's graph errors: Tensor("dense/BiasAdd:0", ...), 'dense/BiasAdd',
# name: "AssignVariableOp_1".
OP_NAME_PATTERNS = (
    re.compile(r'Tensor\("([^"]+?)(?::\d+)?"'),
    re.compile(r"Cannot use '([^']+)'"),
    re.compile(r"'([A-Za-z_][\w./-]*)'"),
    re.compile(r'name: "([^"]+)"'),
)


def op_names(message: str) -> Tuple[str, ...]:
    """Op names mentioned in a TF graph error, in order of appearance, without duplicates."""
    found = []
    for pat in OP_NAME_PATTERNS:
        for m in pat.finditer(message):
            found.append((m.start(), m.group(1).split(":")[0]))
    out = []
    for _, name in sorted(found):
        if name not in out:
            out.append(name)
    return tuple(out)
