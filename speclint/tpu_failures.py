"""TensorFlow's failure messages, as data: which rule (or known mistake) each one belongs to.

One table, read in both directions:

- `speclint.runtime.simulate_tpu` builds the real TPUEstimator graph with `use_tpu=True` on CPU; when
  TF raises, `match()` finds the rule the exception belongs to from its type, its message and the TF
  functions on its traceback. It reads `TPU_BUILD_FAILURES`: the entries TF raises while the TPU
  graph is built (stages `construct`, `build`, `session`), each under its rule code (a mistake
  without a rule of its own under the rule that reports it today, `checked_by`), first match wins.
- `speclint explain` reads a pasted traceback or log and ranks every entry that fits
  (`candidates()`): the message is the same, the traceback (when pasted) decides.

An entry's fields:

- `code` / `name`: the rule. `code=None` marks a known mistake speclint has no rule for yet; `name`
  is then its provisional key (issue 7's constructor rules), so a code can be attached later without
  touching the messages.
- `exc`: exception class names (any; the simulation passes the class and its bases, explain the
  name it reads and the bases it knows).
- `pattern`: regex searched in the message (`re.S`).
- `within`: TF functions of which one must be on the traceback. `"file.py:func"` names the file
  too: explain, which knows files, then requires both; the simulation passes bare function names and
  matches on the name. The same message ("must be from the same graph as") means SL007 inside a host
  call, SL015 inside scaffold_fn and SL012 when the summaries are merged.
- `stage`: when TF raises it. `construct` (a spec or the Estimator is built), `build` (TPUEstimator
  builds the graph), `session` (the session is created), `run` (a step runs, predict() iterates,
  export), `cpu` (only when TPUEstimator runs on CPU), `log` (TF only logs it; nothing is raised).
- `anchor`: where the simulation points when the traceback holds no user frame below the Estimator
  call (TF raised after model_fn returned): ``spec:<field>,...`` the spec constructor call of that mode
  that set one of those fields (``spec`` alone: the last spec built in that mode); ``op`` where the
  first op named in the message that user code created was built; ``train_op`` / ``loss`` where that
  field's op was built; ``model_fn`` / ``input_fn`` the function's ``def`` line.
- `alone`: whether the message alone (no traceback pasted) is enough to name the entry. False for
  messages Python or TF also raise elsewhere ("object has no attribute 'dtype'"): explain then asks for
  the traceback instead of guessing.
- `clue`: a regex on the message that singles the entry out among the entries sharing its message
  ('Merge_2/MergeSummary' means the summary merge, SL012), with or without a traceback.
- `explain_only`: only explain lists it, the simulation never reports it: another cause of a message
  an entry above already claims (a mode compared with a string leads to "Missing predictions."), or a
  message that is not TPU-specific (the simulation reports it as SL102, with TF's words).
- `weight`: rank among candidates with the same evidence (higher first): how often public reports
  show this cause.
- `why` / `look_for`: explain's text, in the user's terms: why TF raised it, and what to look for in
  the code.
- `checked_by`: for a mistake without a rule of its own, `(code, name)` of the existing rule whose
  checks report it today (TPUEstimator's reserved params keys are part of SL040's signature check):
  the simulation reports the failure under that rule, explain runs that rule's static check.
- `source`: where TF's code holds the message, as ``"path/inside/site-packages::literal"`` (checked
  against the installed TF by the tests), or ``"python"`` when the interpreter words it (a TypeError
  raised inside TF's code on the user's value).

Messages were verified on TF 2.15.1 with tensorflow-estimator 2.15.0, control flow v2 (the TF2
default) and v1 (`tf.compat.v1.disable_control_flow_v2()`), by real runs kept as fixtures
(tests/data/explain/); the research note gives TF's line numbers. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from typing import Iterable, List, Optional, Sequence, Tuple

STAGES = ("construct", "build", "session", "run", "cpu", "log")
SIMULATED_STAGES = ("construct", "build", "session")  # what simulate_tpu sees before the first step

_HOST_CALL = ("create_tpu_hostcall", "_call_host_fn", "record", "create_cpu_hostcall")
_HOST_FIELDS = "spec:eval_metrics,host_call"
_EST = "tensorflow_estimator/python/estimator/"
_TPU_EST = _EST + "tpu/tpu_estimator.py"
_MODEL_FN = _EST + "model_fn.py"
_ESTIMATOR = _EST + "estimator.py"
_EXPORT_UTILS = "tensorflow/python/saved_model/model_utils/export_utils.py"
_HOOKS = "tensorflow/python/training/basic_session_run_hooks.py"
_SPEC_VALIDATORS = ("model_fn.py:_validate_estimator_spec_train_op", "model_fn.py:_validate_estimator_spec_loss",
                    "model_fn.py:_validate_estimator_spec_predictions", "model_fn.py:_validate_eval_metric_ops",
                    "model_fn.py:_validate_estimator_spec_export_outputs", "model_fn.py:_check_is_tensor",
                    "model_fn.py:_check_is_tensor_or_operation", "model_fn.py:_validate_estimator_spec_hooks")


@dataclass(frozen=True)
class TPUFailure:
    code: Optional[str]  # None: a known mistake without a rule yet (`name` is its provisional key)
    name: str  # the rule's name (also used when the rule's doc is not in this rulebook)
    exc: Tuple[str, ...]  # exception class names (any)
    pattern: str  # regex searched in the message
    within: Tuple[str, ...] = ()  # TF functions ("file.py:func") one of which must be on the traceback
    anchor: str = "spec"
    stage: str = "build"
    alone: bool = True
    clue: str = ""
    explain_only: bool = False
    weight: int = 0
    why: str = ""
    look_for: str = ""
    source: Tuple[str, ...] = ()
    checked_by: Tuple[str, ...] = ()  # (code, name) of the rule that reports a code-less mistake today

    @property
    def key(self) -> str:
        """The rule code, or the provisional name of a mistake with no rule yet."""
        return self.code or self.name

    def message_matches(self, message: str) -> bool:
        return _rx(self.pattern).search(message) is not None

    def clue_matches(self, message: str) -> bool:
        return bool(self.clue) and _rx(self.clue).search(message) is not None

    def exc_matches(self, exc_names: Iterable[str]) -> bool:
        return not self.exc or bool(set(self.exc) & set(exc_names))

    def within_matches(self, functions: Iterable[str]) -> bool:
        """Whether a function of `within` is among `functions` ("func" or "file.py:func" items)."""
        functions = set(functions)
        bare = {f.rpartition(":")[2] for f in functions}
        for w in self.within:
            if ":" in w:
                if w in functions or (w.rpartition(":")[2] in functions):
                    return True
            elif w in bare:
                return True
        return False

    def matches(self, exc_names: Iterable[str], message: str, functions: Iterable[str]) -> bool:
        if not self.exc_matches(exc_names):
            return False
        if self.within and not self.within_matches(functions):
            return False
        return self.message_matches(message)


@functools.lru_cache(maxsize=None)
def _rx(pattern: str) -> "re.Pattern":
    return re.compile(pattern, re.S)


_F = TPUFailure
_SAME_GRAPH_OR_LOOP = r"(must be from the same graph as|is in a while loop|depends on TPU computation)"

# First match wins for the simulation: specific messages before the generic graph errors they could
# be confused with. explain ranks every entry that fits.
FAILURES: Tuple[TPUFailure, ...] = (
    # -- host calls (eval_metrics / host_call) ------------------------------------------------
    _F("SL001", "host-call-not-fn-tensors-pair", ("ValueError", "TypeError"),
       r"^(eval_metrics|host_call)(\[\d\])? should (be tuple or list|have two elements|be callable)",
       anchor=_HOST_FIELDS, stage="construct",
       why="TPUEstimatorSpec checks, when it is built, that `eval_metrics` / `host_call` is a pair "
           "(function, tensors): a tuple or list of two, the function first, then a list or dict of tensors.",
       look_for="the `eval_metrics=` / `host_call=` argument: a dict of metrics (EstimatorSpec's "
                "eval_metric_ops form), a bare function, the items swapped, or one tensor instead of a list",
       source=(_TPU_EST + "::{} should be tuple or list", _TPU_EST + "::{} should have two elements.",
               _TPU_EST + "::{}[0] should be callable.")),
    _F("SL002", "host-call-arity-mismatch", ("RuntimeError",),
       r"length of tensors \d+ does not match method args of the function", anchor=_HOST_FIELDS,
       stage="construct",
       why="With a list of tensors TF calls the function with them positionally and first checks their "
           "number against the function's named positional parameters, defaulted ones included.",
       look_for="the metric_fn / host_call function's parameters against the tensors list (a parameter "
                "with a default value still counts; make it keyword-only or pass it)",
       source=(_TPU_EST + "::does not match ",)),
    _F("SL003", "host-call-kwargs-mismatch", ("TypeError",),
       r"(got an unexpected keyword argument|missing \d+ required (positional|keyword-only) argument)",
       within=("tpu_estimator.py:_call_host_fn", "tpu_estimator.py:create_tpu_hostcall",
               "tpu_estimator.py:create_cpu_hostcall"), anchor=_HOST_FIELDS,
       alone=False, clue=r"It is likely the tensors \((eval_metrics|host_call)\[1\]\) do not match",
       why="With a dict of tensors TF calls the function with them as keyword arguments, so every key "
           "must be one of its parameter names and every required parameter must have a key (TF logs "
           "\"Exception while calling ...: It is likely the tensors ... do not match\" just before).",
       look_for="the keys of the tensors dict against the metric_fn / host_call parameter names",
       source=("python", _TPU_EST + "::Exception while calling %s: %s. It is likely the tensors ")),
    _F("SL004", "host-call-tensors-not-flat", ("AttributeError",),
       r"object has no attribute '(dtype|shape)'", within=("tpu_estimator.py:record",), anchor=_HOST_FIELDS,
       alone=False,
       why="On TPU every host-call tensor is sent through the outfeed one by one; TF reads `.dtype` and "
           "`.shape` of each item, so an item that is a dict, a list or a Python number fails (CPU runs pass "
           "it through).",
       look_for="a nested dict or list (e.g. `features` itself) or a Python value among the eval_metrics / "
                "host_call tensors",
       source=("python",)),
    _F("SL005", "outfeed-scalar-tensor", ("RuntimeError",),
       r"All tensors outfed from TPU should preserve batch size dimension, but got scalar",
       anchor=_HOST_FIELDS, weight=1,
       why="On TPU, the eval_metrics / host_call tensors of every core are sent to the host and "
           "concatenated along dimension 0, so each needs a batch dimension; `OutfeedDequeueTuple:N` is the "
           "N-th tensor of your list, already through the outfeed. CPU runs pass scalars through.",
       look_for="a scalar (rank 0) among the eval_metrics / host_call tensors: the loss, the global step, "
                "a learning rate or a `tf.reduce_*` result; reshape it with `tf.reshape(x, [1])` or pass "
                "per-example values",
       source=(_TPU_EST + "::All tensors outfed from TPU should preserve batch size ",)),
    _F("SL010", "host-call-v1-summary", ("ValueError",),
       r"Please use tf\.contrib\.summary instead of tf\.summary inside of host_calls",
       anchor=_HOST_FIELDS,
       why="Host calls must write summaries with TF2 summary ops under a writer (`tf.compat.v2.summary`, "
           "formerly tf.contrib.summary); TF rejects TF1 `tf.summary.*` ops created there.",
       look_for="a `tf.summary.*` / `tf.compat.v1.summary.*` call in the host_call (or metric_fn) function",
       source=(_TPU_EST + "::Please use tf.contrib.summary instead of tf.summary ",)),
    _F("SL007", "host-fn-captures-model-tensor", ("ValueError",),
       _SAME_GRAPH_OR_LOOP[:-1] + r"|InaccessibleTensorError)",
       within=("tpu_estimator.py:_call_host_fn",), anchor=_HOST_FIELDS, weight=2,
       why="metric_fn / host_call functions run on the host after the TPU loop; a model tensor they reach "
           "through a closure lives inside the loop, so TF cannot use it there.",
       look_for="a metric_fn / host_call function that uses a tensor of the model_fn (logits, labels, loss, "
                "features) from its closure instead of receiving it through the tensors list",
       source=("tensorflow/python/framework/ops.py::%s must be from the same graph as %s (graphs are %s and %s).",
               "tensorflow/python/ops/control_flow_util.py::is in a while loop.")),
    _F("SL008", "metric-fn-return-contract", ("TypeError", "AttributeError", "ValueError"),
       r"(object is not subscriptable|'list' object has no attribute 'items'|"
       r"Attempting to slice scalar input|object has no attribute 'items')",
       within=("tpu_estimator.py:_eval_on_tpu_system", "tpu_estimator.py:_augment_model_fn", "tpu_estimator.py:_model_fn"), anchor="spec:eval_metrics",
       alone=False,
       clue=r"'(\w*(Accuracy|AUC|Mean\w*|Precision|Recall|Sum|Metric|Crossentropy|Error)\w*)' object is not subscriptable",
       why="On TPU, TF reads metric_fn's result as a dict of (value, update_op) pairs (what "
           "`tf.compat.v1.metrics.*` return) and indexes each value; a Keras metric object, a bare tensor or a "
           "list fails there (CPU runs accept a Keras metric).",
       look_for="the return value of metric_fn: each value must be a `tf.compat.v1.metrics.*` result, not a "
                "Keras metric object, a tensor or a list",
       source=("python",)),
    _F("SL009", "reserved-metric-name", ("ValueError",),
       r"Metric with name .?(loss|global_step).? is not allowed",
       anchor="spec:eval_metrics",
       why="Estimator adds the metrics 'loss' and 'global_step' itself, so yours may not use these names.",
       look_for="a metric named 'loss' or 'global_step' in eval_metric_ops or in metric_fn's dict",
       source=(_ESTIMATOR + "::Metric with name `global_step` is not allowed, because Estimator ",
               _ESTIMATOR + "::Metric with name \"%s\" is not allowed, because Estimator ")),
    _F("SL011", "host-call-returns-none", ("TypeError",),
       r'can only concatenate list \(not "NoneType"\) to list', within=("tpu_estimator.py:_model_fn",),
       anchor=_HOST_FIELDS, alone=False,
       why="In TPU evaluation TF adds the ops the host_call function returns to its own list; a function "
           "that returns nothing gives None.",
       look_for="a host_call function without `return` (return e.g. "
                "`tf.compat.v1.summary.all_v2_summary_ops()`)",
       source=("python",)),
    # -- scaffold_fn ----------------------------------------------------------------------------
    _F("SL013", "scaffold-kwarg-confusion", ("TypeError",),
       r"('Scaffold' object is not callable|scaffold must be tf\.train\.Scaffold|"
       r"unexpected keyword argument 'scaffold(_fn)?')", anchor="spec:scaffold_fn", stage="construct",
       why="EstimatorSpec takes `scaffold=` a Scaffold object; TPUEstimatorSpec takes `scaffold_fn=` a "
           "function that returns one. Each rejects the other's form.",
       look_for="`scaffold=` given a function, `scaffold_fn=` given a Scaffold, or a scaffold keyword on the "
                "wrong spec class",
       source=(_MODEL_FN + "::scaffold must be tf.train.Scaffold. Given: {}", "python")),
    _F("SL014", "scaffold-fn-bad-return", ("ValueError", "AttributeError"),
       r"(scaffold_fn returns None, which is not allowed|object has no attribute 'finalize')",
       anchor="spec:scaffold_fn",
       why="On TPU, TF calls scaffold_fn and uses what it returns as the session's Scaffold; None or a Saver "
           "is not one (CPU runs accept None).",
       look_for="a scaffold_fn that does not `return tf.compat.v1.train.Scaffold(...)` (e.g. one that only "
                "calls init_from_checkpoint, or returns a Saver)",
       source=(_TPU_EST + "::TPUEstimatorSpec.scaffold_fn returns None, which is not allowed",)),
    _F("SL015", "scaffold-fn-captures-tensor", ("ValueError",),
       r"(Inside scaffold_fn|Inside Scaffold\.finalize|must be from the same graph as|"
       r"is in a while loop|depends on TPU computation)",
       within=("tpu_estimator.py:_get_scaffold",), anchor="spec:scaffold_fn", weight=1,
       why="scaffold_fn runs on the host, outside the TPU computation, so it cannot use tensors the "
           "model_fn created inside it (variables are fine).",
       look_for="a scaffold_fn (or the Scaffold it builds: init_op, local_init_op, ...) that uses a tensor "
                "of the model_fn such as logits or the loss",
       source=(_TPU_EST + "::Inside scaffold_fn", "tensorflow/python/ops/control_flow_util.py::is in a while loop.")),
    # -- summaries in the TPU model_fn (raised when Estimator merges the summaries) ---------------
    _F("SL012", "summary-in-tpu-model-fn", ("ValueError",),
       r"(must be from the same graph as|is in a while loop)",
       within=("summary.py:merge_all",), anchor="op", stage="session", weight=3, alone=False,
       clue=r"as input to '[^']*MergeSummary'|"
            r'Tensor\("[^"]+", shape=\(\), dtype=string\) must be from the same graph as '
            r'Tensor\("[^"]+", shape=\(\), dtype=string\)',
       why="A TF1 summary op called in a model_fn that runs on TPU is created inside the TPU loop; when the "
           "session starts, Estimator merges all summaries from outside the loop and cannot use it (CPU runs "
           "work).",
       look_for="a `tf.summary.*` / `tf.compat.v1.summary.*` call (or `optimize_loss`'s summaries) in the "
                "model_fn or a helper it calls; write it through host_call",
       source=("tensorflow/python/ops/control_flow_util.py::is in a while loop.",)),
    # -- hooks ----------------------------------------------------------------------------------
    _F("SL031", "tpu-hooks-capture-tensors", ("ValueError", "TypeError"),
       r"(should have graph attribute that is equal to current graph|"
       r"must be from the same graph as|is in a while loop)",
       within=("basic_session_run_hooks.py:begin", "basic_session_run_hooks.py:_as_graph_element"),
       anchor="spec:training_hooks,evaluation_hooks,prediction_hooks", stage="session", weight=1,
       why="Hooks run on the host around the whole TPU loop; a hook that fetches a tensor of the model_fn "
           "(e.g. LoggingTensorHook on the loss) asks for a tensor that lives inside the loop (CPU runs work).",
       look_for="`training_hooks=` / `evaluation_hooks=` / `prediction_hooks=` holding a hook on a model "
                "tensor (LoggingTensorHook({'loss': loss}), SummarySaverHook); log through host_call instead",
       source=(_HOOKS + "::Passed %s should have graph attribute that is equal ",)),
    _F("SL031", "tpu-hooks-capture-tensors", ("ValueError", "InaccessibleTensorError"),
       r"has been marked as not fetchable",
       within=("monitored_session.py:run", "monitored_session.py:_call_hook_before_run"),
       stage="run", alone=False, weight=1,
       why="With TF1 control flow a hook's fetch of a tensor from inside the TPU loop fails when the step "
           "runs: TF marks tensors of the loop as not fetchable.",
       look_for="a hook in the TPU spec that fetches a model tensor (LoggingTensorHook on the loss or a "
                "metric); log through host_call instead",
       source=("tensorflow/python/client/session.py::has been marked as not fetchable. Typically ",)),
    # -- init_from_checkpoint in the TPU model_fn ------------------------------------------------
    _F("SL016", "init-from-checkpoint-outside-scaffold-fn", ("ValueError",),
       r"(AssignVariableOp|Assign).*(must be from the same graph as|is in a while loop)",
       within=("monitored_session.py:finalize", "variables.py:global_variables_initializer",
               "variables.py:variables_initializer"),
       anchor="op", stage="session", alone=False,
       clue=r'name: "AssignVariableOp[_\d]*"\s+op: "AssignVariableOp".*must be from the same graph as name: "[^"]*/Assign"',
       why="init_from_checkpoint rewrites the initializers of the variables it restores; called in a TPU "
           "model_fn, those initializers are built inside the TPU loop, and the session's init op cannot "
           "use them.",
       look_for="a `tf.compat.v1.train.init_from_checkpoint` call directly in the TPU model_fn; move it into "
                "scaffold_fn (BERT's `tpu_scaffold`)",
       source=("tensorflow/python/framework/ops.py::%s must be from the same graph as %s (graphs are %s and %s).",)),
    # -- fields -----------------------------------------------------------------------------------
    _F("SL018", "wrong-spec-keyword", ("TypeError",),
       r"(Estimator|TPUEstimator)?Spec\.__new__\(\) got an unexpected keyword argument|"
       r"^__new__\(\) got an unexpected keyword argument '(eval_metric_ops|eval_metrics|host_call|scaffold_fn|"
       r"scaffold|training_chief_hooks)'",
       anchor="spec", stage="construct",
       why="EstimatorSpec and TPUEstimatorSpec take different keywords (eval_metric_ops / eval_metrics, "
           "scaffold / scaffold_fn, host_call, training_chief_hooks).",
       look_for="the keyword TF names, on an EstimatorSpec or TPUEstimatorSpec call",
       source=("python",)),
    _F("SL019", "missing-field-for-mode", ("ValueError",),
       r"^Missing (train_op|loss|predictions)\.", anchor="spec", stage="construct", weight=1,
       why="Each mode needs its fields: TRAIN loss and train_op, EVAL loss, PREDICT predictions; the spec "
           "checks them when it is built.",
       look_for="the spec built for the mode TF was running: which branch of the model_fn built it, and the "
                "field TF names",
       source=(_MODEL_FN + "::Missing train_op.", _MODEL_FN + "::Missing loss.", _MODEL_FN + "::Missing predictions.")),
    _F("SL037", "mode-compared-to-string", ("ValueError",),
       r"^Missing (train_op|loss|predictions)\.", anchor="spec", stage="construct", explain_only=True,
       why="A mode compared with a string that is never its value (e.g. 'predict'; PREDICT is 'infer') makes "
           "the branch dead, and the spec of another branch, without the field this mode needs, is returned.",
       look_for="`mode == 'predict'` (or 'training', 'evaluate', ...) comparisons; use "
                "`tf.estimator.ModeKeys` constants",
       source=(_MODEL_FN + "::Missing predictions.",)),
    _F("SL020", "loss-not-scalar", ("ValueError",), r"Loss must be scalar", anchor="loss",
       stage="construct",
       why="The loss must be one number per step (shape [] or [1]); a per-example loss has the batch "
           "dimension.",
       look_for="the `loss=` value: an unreduced per-example loss (`*_with_logits`, `reduction=NONE`); wrap "
                "it in `tf.reduce_mean`",
       source=(_MODEL_FN + "::Loss must be scalar, given: {}",)),
    _F("SL020", "loss-not-scalar", ("InvalidArgumentError", "OpError"),
       r"Input to reshape is a tensor with \d+ values, but the requested shape has 1",
       within=("model_fn.py:_validate_estimator_spec_loss",), anchor="loss", stage="run", alone=False,
       why="With a dynamic batch TF cannot check the loss shape when the spec is built, so it reshapes the "
           "loss to a scalar; a per-example loss then fails when the step runs.",
       look_for="the `loss=` value: an unreduced per-example loss; wrap it in `tf.reduce_mean`",
       source=("python",)),
    _F("SL021", "loss-not-float32-tensor", ("TypeError",),
       r"(loss must be Tensor|Mismatch between input types and output types for training loop body|"
       r"Input 'y' of 'AddV2' Op has type \w+ that does not match type float32)",
       anchor="loss",
       why="The loss must be a Tensor, and a float32 one under TPUEstimator on TPU: the TPU loop carries the "
           "loss in float32 (a bfloat16 or float64 loss breaks it; CPU runs work).",
       look_for="a loss computed under `tf.tpu.bfloat16_scope()` (or cast to bfloat16/float64), or a Python "
                "number as the loss; cast the logits to float32 before the loss",
       source=(_MODEL_FN + "::{} must be Tensor, given: {}",
               "tensorflow/python/tpu/training_loop.py::Mismatch between input types and output types for training loop ")),
    _F("SL022", "train-op-wrong-type", ("TypeError",), r"train_op must be Operation or Tensor",
       anchor="spec", stage="construct",
       why="train_op must be one op: TF runs it once per step.",
       look_for="the `train_op=` value: a list of ops (use `tf.group(...)`), the optimizer, or a variable",
       source=(_MODEL_FN + "::{} must be Operation or Tensor, given: {}",)),
    _F("SL024", "predictions-wrong-structure", ("TypeError",),
       r"^predictions(\[.*\])? must be Tensor", anchor="spec", stage="construct",
       why="predictions must be a Tensor or a flat dict of Tensors.",
       look_for="the `predictions=` value: a list, a nested dict, a numpy array or a SparseTensor",
       source=(_MODEL_FN + "::{} must be Tensor, given: {}",)),
    _F("SL025", "predictions-not-batch-major", ("ValueError",),
       r"Batch length of predictions should be same", anchor="spec:predictions", stage="run",
       why="predict() splits every prediction along dimension 0, one item per example, so every value "
           "needs the batch as dimension 0.",
       look_for="a prediction whose dimension 0 is not the batch (a batch mean, per-class counts); TF names "
                "its key",
       source=(_ESTIMATOR + "::Batch length of predictions should be same. %s has ",)),
    _F("SL026", "tpu-predictions-contract", ("TypeError", "ValueError", "IndexError"),
       r"(TPUEstimatorSpec\.predictions must be dict of Tensors|"
       r"in TPUEstimatorSpec\.predictions has dynamic shape|"
       r"estimated size for TPUEstimatorSpec\.predictions is too large|list index out of range)",
       within=("tpu_estimator.py:_predict_on_tpu_system", "tpu_estimator.py:predict_step",
               "tpu_estimator.py:_verify_tpu_spec_predictions", "tpu_estimator.py:_model_fn"),
       anchor="spec:predictions",
       clue=r"TPUEstimatorSpec\.predictions (must be dict of Tensors|has dynamic shape)|"
            r"estimated size for TPUEstimatorSpec\.predictions",
       why="On TPU, predict() needs predictions as a dict of tensors whose batch dimension 0 is static (CPU "
           "runs accept a bare tensor).",
       look_for="`predictions=` given a bare tensor, a scalar value, or a value of dynamic shape "
                "(boolean_mask, where, unique)",
       source=(_TPU_EST + "::TPUEstimatorSpec.predictions must be dict of Tensors.",)),
    _F("SL027", "eval-metric-ops-wrong-structure", ("TypeError", "ValueError"),
       r"(eval_metric_ops must be a dict|Values of eval_metric_ops must be \(metric_value, update_op\))",
       anchor="spec", stage="construct", weight=1,
       why="eval_metric_ops must map names to (value, update_op) pairs (what `tf.compat.v1.metrics.*` "
           "return) or to updated Keras metric objects.",
       look_for="the `eval_metric_ops=` dict: a Keras metric's call result or `.result()`, a list, or a bare "
                "tensor as a value",
       source=(_MODEL_FN + "::eval_metric_ops must be a dict, given: {}",
               _MODEL_FN + "::Values of eval_metric_ops must be (metric_value, update_op) ")),
    _F("SL008", "metric-fn-return-contract", ("TypeError", "ValueError"),
       r"Values of eval_metric_ops must be \(metric_value, update_op\)",
       within=("tpu_estimator.py:as_estimator_spec", "tpu_estimator.py:create_cpu_hostcall"), anchor="spec:eval_metrics", stage="cpu",
       explain_only=True, weight=2,
       why="TPUEstimator on CPU turns metric_fn's result into EstimatorSpec.eval_metric_ops, which must map "
           "names to (value, update_op) pairs.",
       look_for="the return value of metric_fn: each value must be a `tf.compat.v1.metrics.*` result",
       source=(_MODEL_FN + "::Values of eval_metric_ops must be (metric_value, update_op) ",)),
    _F("SL028", "export-outputs-contract", ("TypeError", "ValueError"),
       r"(Values in `export_outputs` must be ExportOutput objects|`export_outputs` must be dict|"
       r"Multiple `export_outputs` were provided, but none of them are specified as the default|"
       r"Classification (classes|scores) must be a (string|float32) Tensor|"
       r"(Prediction|Regression) output value must be a (float32 )?Tensor)",
       anchor="spec:export_outputs", stage="construct",
       why="export_outputs must be a dict of ExportOutput objects (PredictOutput, ClassificationOutput, "
           "RegressionOutput), with a 'serving_default' key when there are several.",
       look_for="the `export_outputs=` value and the tensors given to its ExportOutput objects",
       source=(_EXPORT_UTILS + "::`export_outputs` must be dict, received: ",
               _EXPORT_UTILS + "::Values in `export_outputs` must be ExportOutput objects, ",
               _EXPORT_UTILS + "::Multiple `export_outputs` were provided, but none of them are ")),
    _F("SL030", "hooks-not-sessionrunhook-iterable", ("TypeError",),
       r"All hooks must be SessionRunHook instances", anchor="spec", stage="construct",
       why="The *_hooks fields must be lists of SessionRunHook objects.",
       look_for="a `*_hooks=` value holding Keras callbacks, functions, or a dict",
       source=(_MODEL_FN + "::All hooks must be SessionRunHook instances, given: {}",)),
    _F("SL030", "hooks-not-sessionrunhook-iterable", ("TypeError",),
       r"'\w+' object is not iterable", within=("model_fn.py:_validate_estimator_spec_hooks", "tpu_estimator.py:__new__"),
       anchor="spec", stage="construct", alone=False,
       why="The *_hooks fields must be lists of SessionRunHook objects; TF iterates the value it is given.",
       look_for="a `*_hooks=` value that is one hook, not a list (`training_hooks=[hook]`)",
       source=("python",)),
    _F("SL032", "tensor-from-other-graph", ("ValueError",), r"must be from the default graph",
       anchor="spec", stage="construct",
       why="Estimator builds a new graph for every train / evaluate / predict / export call; tensors in the "
           "spec must be created by that call of the model_fn, not at module level or in an earlier call.",
       look_for="a tensor created outside the model_fn (at module level, in `__init__`, or cached) returned "
                "in the spec",
       source=(_MODEL_FN + "::{0} with \"{1}\" must be from the default graph. ",)),
    _F("SL032", "tensor-from-other-graph", ("AttributeError",),
       r"Tensor\.graph is undefined when eager execution is enabled", within=_SPEC_VALIDATORS,
       anchor="spec", stage="construct", alone=False,
       why="Under TF2, a tensor created at module level is an eager tensor; the spec needs tensors of the "
           "graph Estimator builds for this call of the model_fn.",
       look_for="a tensor created outside the model_fn (at module level, in `__init__`) returned in the spec",
       source=("tensorflow/python/framework/ops.py::Tensor.graph is undefined when eager execution is enabled.",)),
    # -- spec class / Estimator pairing -----------------------------------------------------------
    _F("SL033", "tpu-spec-with-plain-estimator", ("ValueError",),
       r"model_fn should return an EstimatorSpec", anchor="model_fn", stage="construct", weight=1,
       why="tf.estimator.Estimator accepts only an EstimatorSpec from the model_fn; a TPUEstimatorSpec is "
           "not one (convert it with `.as_estimator_spec()`, or use TPUEstimator(use_tpu=False)).",
       look_for="a TPUEstimatorSpec (or the uncalled `.as_estimator_spec`) returned to a plain "
                "tf.estimator.Estimator",
       source=(_ESTIMATOR + "::model_fn should return an EstimatorSpec.",)),
    _F("SL038", "model-fn-missing-return", ("ValueError",),
       r"model_fn should return an EstimatorSpec", anchor="model_fn", stage="construct", explain_only=True,
       why="A model_fn path that returns nothing (None) or a 1-tuple (`return spec,`) is not an EstimatorSpec.",
       look_for="a mode the model_fn has no `return` for, or a trailing comma after the returned spec",
       source=(_ESTIMATOR + "::model_fn should return an EstimatorSpec.",)),
    # (a model_fn that returned None reaches TPU's spec-type check first: that is SL038, not SL034)
    _F("SL038", "model-fn-missing-return", ("RuntimeError",),
       r"must have type`TPUEstimatorSpec`\. Got <class '(NoneType|tuple)'>", anchor="model_fn",
       why="The model_fn returned None (a mode with no return) or a tuple (`return spec,`) where TF expects "
           "a TPUEstimatorSpec.",
       look_for="a mode the model_fn has no `return` for, or a trailing comma after the returned spec",
       source=(_TPU_EST + "::estimator_spec used by TPU prediction must have type",)),
    _F("SL034", "estimator-spec-under-tpu", ("RuntimeError", "ValueError"),
       r"(estimator_spec used by TPU (evaluation|prediction) must have type"
       r"(?!`TPUEstimatorSpec`\. Got <class '(NoneType|tuple)'>)|"
       r"training_chief_hooks returned by EstimatorSpec is not supported in TPUEstimator)",
       anchor="spec",
       why="A TPUEstimator model_fn that runs on TPU must return a TPUEstimatorSpec in EVAL and PREDICT, and "
           "no training_chief_hooks (CPU runs accept an EstimatorSpec).",
       look_for="an EstimatorSpec returned in EVAL or PREDICT by a model_fn given to TPUEstimator; return "
                "TPUEstimatorSpec in every mode",
       source=(_TPU_EST + "::estimator_spec used by TPU evaluation must have type",
               _TPU_EST + "::estimator_spec used by TPU prediction must have type")),
    _F("SL035", "tpu-spec-shared-class-state", ("KeyError",), r"^'(eval_metrics|host_call)'$",
       within=("tpu_estimator.py:as_estimator_spec",), anchor="spec", stage="cpu", alone=False,
       why="TPUEstimatorSpec keeps host calls on the class when it is built; `_replace(eval_metrics=...)` (or "
           "a second spec built later) bypasses that, so the CPU conversion cannot find them.",
       look_for="`spec._replace(eval_metrics=...)` / `_replace(host_call=...)`, or more than one "
                "TPUEstimatorSpec built in one model_fn call",
       source=("python",)),
    _F("SL038", "model-fn-missing-return", ("AttributeError",),
       r"'(NoneType|tuple)' object has no attribute '(training_chief_hooks|_replace|mode)'",
       within=("tpu_estimator.py:_verify_estimator_spec", "tpu_estimator.py:_call_model_fn",
               "estimator.py:_call_model_fn"), anchor="model_fn", alone=False,
       why="The model_fn returned None (a mode with no return) or a tuple (`return spec,`) where TF expects "
           "a spec.",
       look_for="a mode the model_fn has no `return` for, or a trailing comma after the returned spec",
       source=("python",)),
    _F("SL039", "labels-used-in-predict", ("ValueError",), r"Argument `labels` must not be None",
       anchor="spec", stage="construct", explain_only=True,
       why="In PREDICT (and export) Estimator passes labels=None, so a loss or metric computed from labels "
           "on that path fails.",
       look_for="a loss or metric computed from `labels` outside a `mode != PREDICT` guard",
       source=("tensorflow/python/ops/losses/losses_impl.py::Argument `labels` must not be None.",)),
    # -- model_fn signature, params, TPU training --------------------------------------------------
    _F("SL040", "model-fn-signature", ("ValueError",),
       r"(does not include params argument, required by TPUEstimator|"
       r"model_fn does not take labels, but input_fn returns labels|has following not expected args|"
       r"must include features argument)",
       anchor="model_fn", stage="construct",
       why="Estimator passes the model_fn's arguments by name: features (required), labels, mode, params, "
           "config; TPUEstimator also needs params (it passes the batch size there).",
       look_for="the model_fn's parameter names",
       source=(_MODEL_FN + "::model_fn (%s) has following not expected args: %s",
               _TPU_EST + "::model_fn ({}) does not include params argument, ")),
    _F("SL041", "tpu-params-batch-size", ("ValueError",),
       r"(eval|predict)_batch_size in TPUEstimator constructor cannot be `None`", anchor="model_fn",
       why="On TPU, evaluate() and predict() need eval_batch_size / predict_batch_size in the TPUEstimator "
           "constructor (TF passes it to input_fn and model_fn as params['batch_size']).",
       look_for="the TPUEstimator(...) call: add eval_batch_size= / predict_batch_size=",
       source=(_EST + "tpu/tpu_context.py::eval_batch_size in TPUEstimator constructor cannot be `None` ",
               _EST + "tpu/tpu_context.py::predict_batch_size in TPUEstimator constructor cannot be `None` ")),
    _F("SL043", "cross-shard-optimizer", ("ValueError", "TypeError"),
       r"(CrossShardOptimizer must be used for model training on TPUs|"
       r"CrossShardOptimizer only works with tf\.training\.Optimizer)", anchor="train_op",
       why="On TPU each core computes gradients on its shard; CrossShardOptimizer sums them across cores "
           "(TF checks for it with TF1 control flow). It wraps only tf.compat.v1.train optimizers, not Keras "
           "ones.",
       look_for="the optimizer of the TPU train_op: wrap it as `tf.compat.v1.tpu.CrossShardOptimizer(opt)` "
                "when params['use_tpu'], and use a tf.compat.v1.train optimizer",
       source=(_TPU_EST + "::CrossShardOptimizer must be used for model training on TPUs.",
               "tensorflow/python/tpu/tpu_optimizer.py::CrossShardOptimizer only works with tf.training.Optimizer and not ")),
    _F("SL044", "tpu-input-dynamic-shape", ("ValueError",),
       r"(The (features|labels) to the model returned by input_fn must have static shape|"
       r"must have a fixed size for dimension \d+ that is known at construction time)",
       within=("tpu_estimator.py:_validate_input_pipeline", "tpu_estimator.py:_call_input_fn",
               "tpu_sharding.py:get_sharded_shape", "tpu_feed.py:set_configuration_from_sharded_input_tensors",
               "tpu_estimator.py:enqueue_ops_fn", "tpu_estimator.py:validate"),
       anchor="input_fn", clue=r"The (features|labels) to the model returned by input_fn must have static shape",
       why="On TPU every input shape must be static; a dataset batched without drop_remainder=True has an "
           "unknown batch dimension (None).",
       look_for="`dataset.batch(...)` in the input_fn without `drop_remainder=True`",
       source=(_TPU_EST + "::The {} to the model returned by input_fn must have static shape.",
               "tensorflow/python/tpu/tpu_sharding.py::must have a fixed size for dimension ")),
    _F("SL023", "global-step-not-incremented", (),
       r"It seems that global step \(tf\.train\.get_global_step\) has not been increased\. "
       r"Current value \(could be stable\): (?P<step>\d+) vs previous value: (?P=step)\b",
       stage="log",
       why="Estimator stops training by the global step; TF warns when it did not move between two steps. If "
           "training never ends, the train_op does not increment it (steps that are merely slow can also "
           "trigger this warning).",
       look_for="`minimize(...)` / `apply_gradients(...)` without `global_step=`, or a Keras optimizer",
       source=(_HOOKS + "::It seems that global step (tf.train.get_global_step) has not ",)),
    _F("SL029", "export-signature-silently-excluded", (), r"Export includes no signatures!",
       stage="log",
       why="The SavedModel was written without any signature: Classification / Regression outputs need a "
           "single string (serialized tf.Example) receiver, and a spec whose mode is not PREDICT exports none.",
       look_for="ClassificationOutput / RegressionOutput with a raw or multi-tensor serving input receiver, "
                "or a spec built with a mode other than the model_fn's `mode`",
       source=(_EXPORT_UTILS + "::Export includes no signatures!",)),
    # -- issue 7's constructor rules: reserved params keys stay with SL040 (the same construction-time
    # check of model_fn and params); the others got codes in issue 10 (SL045-SL047) -------------
    _F(None, "tpu-params-reserved-keys", ("ValueError",),
       r"\['batch_size', 'context'\] are reserved keys but existed in params",
       anchor="model_fn", stage="construct", checked_by=("SL040", "model-fn-signature"),
       why="TPUEstimator writes params['batch_size'] (the per-core batch size) and params['context'] itself, "
           "so the params you pass may not hold these keys; a hyperparameter object with a batch_size field "
           "passed as params hits it too.",
       look_for="the `params=` given to TPUEstimator(...): remove 'batch_size' / 'context' (set the batch "
                "sizes with train_batch_size= / eval_batch_size= / predict_batch_size=)",
       source=(_TPU_EST + "::{} are reserved keys but existed in params {}.",)),
    _F("SL045", "tpu-train-batch-size-missing", ("ValueError",), r"`train_batch_size` cannot be `None`",
       anchor="model_fn", stage="construct",
       why="TPUEstimator(use_tpu=True) requires train_batch_size even when you only evaluate or predict.",
       look_for="the TPUEstimator(...) call: pass train_batch_size= (any positive multiple of the number of "
                "cores if you never train)",
       source=(_TPU_EST + "::`train_batch_size` cannot be `None`",)),
    _F("SL046", "tpu-api-name-missing", ("AttributeError",),
       r"module '[\w.]*(estimator|tpu|contrib)[\w.]*' has no attribute "
       r"'(CrossShardOptimizer|TPUEstimator\w*|RunConfig|TPUConfig|InputPipelineConfig|cross_replica_sum|"
       r"bfloat16_scope|rewrite|shard|batch_parallel|initialize_system|shutdown_system|outside_compilation)'",
       anchor="model_fn", stage="construct",
       why="The TPU API is split between modules: CrossShardOptimizer, cross_replica_sum and bfloat16_scope "
           "live in `tf.compat.v1.tpu`, TPUEstimator / TPUEstimatorSpec / RunConfig / TPUConfig in "
           "`tf.compat.v1.estimator.tpu`, and `tf.contrib` is gone in TF2.",
       look_for="the attribute TF names: look it up in tf.compat.v1.tpu (CrossShardOptimizer, "
                "cross_replica_sum, bfloat16_scope) or tf.compat.v1.estimator.tpu (TPUEstimator, "
                "TPUEstimatorSpec, RunConfig, TPUConfig)",
       source=("python",)),
    _F("SL047", "keras-pretrained-weights-in-tpu-model-fn", ("ValueError", "InaccessibleTensorError"),
       r"Operation '?VarIsInitializedOp(_\d+)?'? has been marked as not fetchable",
       within=("backend.py:_initialize_variables", "backend.py:get_session", "backend.py:batch_set_value",
               "training_v1.py:load_weights", "training.py:load_weights"),
       anchor="model_fn", weight=2,
       why="Loading pretrained weights (tf.keras.applications(weights='imagenet'), load_weights) runs a "
           "Keras session inside the model_fn; on TPU the model_fn runs inside the TPU loop, whose ops cannot "
           "be fetched.",
       look_for="a Keras model built with pretrained weights, or `load_weights`, in the model_fn; build it "
                "with weights=None and restore the weights from a checkpoint in scaffold_fn",
       source=("tensorflow/python/client/session.py::has been marked as not fetchable. Typically ",)),
)

# The simulation's view: rules TF raises for while the TPU graph is built, first match wins; a mistake
# without a rule of its own is reported under the rule that checks it today (`checked_by`).
TPU_BUILD_FAILURES: Tuple[TPUFailure, ...] = tuple(
    e if e.code else replace(e, code=e.checked_by[0], name=e.checked_by[1])
    for e in FAILURES
    if (e.code or e.checked_by) and not e.explain_only and e.stage in SIMULATED_STAGES)


def match(exc_names: Iterable[str], message: str, functions: Iterable[str]) -> Optional[TPUFailure]:
    """The table entry for an exception of the TPU graph build: its class names (with bases), message,
    traceback functions (names, or "file.py:name")."""
    exc_names, functions = tuple(exc_names), tuple(functions)
    for entry in TPU_BUILD_FAILURES:
        if entry.matches(exc_names, message, functions):
            return entry
    return None


@dataclass(frozen=True)
class Candidate:
    """An entry that can explain a message, and what speaks for it."""

    entry: TPUFailure
    evidence: str  # "traceback" (a `within` function is on it) | "clue" (the message names it) | "message"
    via: str = ""  # the traceback function ("file.py:func") or the text of the message that decided

    @property
    def strength(self) -> int:
        return {"traceback": 3, "clue": 2, "message": 1}[self.evidence]


def _within_hit(entry: TPUFailure, functions: Sequence[str]) -> str:
    for f in functions:
        if entry.within_matches((f,)):
            return f
    return ""


def candidates(exc_names: Sequence[str], message: str, functions: Optional[Sequence[str]] = None,
               complete: bool = True) -> List[Candidate]:
    """Every entry that can explain an error, strongest first, one per rule (or provisional key).

    `exc_names`: the class name and the bases known for it (empty when unknown); `functions`: the
    traceback's functions as "file.py:name", innermost first (None: no traceback); `complete`: the
    traceback reaches from the user's call into TF (not collapsed, not only user frames). An entry
    whose `within` function is not on a complete traceback is out unless its clue singles it out;
    without one, the entry needs its clue or `alone`. When some candidate has traceback or clue
    evidence, those resting on the message alone are dropped."""
    found: List[Candidate] = []
    if not could_match(message):
        return found
    for entry in FAILURES:
        if exc_names and not entry.exc_matches(exc_names):
            continue
        if not entry.message_matches(message):
            continue
        hit = _within_hit(entry, functions) if entry.within and functions else ""
        clue = _rx(entry.clue).search(message) if entry.clue else None
        if hit:
            found.append(Candidate(entry, "traceback", hit))
        elif clue:
            found.append(Candidate(entry, "clue", clue.group(0)))
        elif entry.within and (functions is not None and complete or not entry.alone):
            continue  # not where the traceback shows it came from / a message raised elsewhere too
        else:
            found.append(Candidate(entry, "message"))
    if any(c.evidence != "message" for c in found):
        found = [c for c in found if c.evidence != "message"]
    found.sort(key=lambda c: (-c.strength, -c.entry.weight, FAILURES.index(c.entry)))
    out, seen = [], set()
    for c in found:
        if c.entry.key not in seen:
            seen.add(c.entry.key)
            out.append(c)
    return out


def could_match(message: str) -> bool:
    """Whether any entry's pattern matches `message`: one search instead of one per entry (logs have
    thousands of records)."""
    table = FAILURES  # read at call time: tests extend the table
    cached = _ANY.get("table")
    if cached is not table:
        _ANY["table"] = table
        _ANY["rx"] = re.compile("|".join(f"(?:{e.pattern})" for e in table), re.S)
    return _ANY["rx"].search(message) is not None


_ANY: dict = {}


def needs_traceback(exc_names: Sequence[str], message: str) -> List[TPUFailure]:
    """Entries whose message this is, that only a traceback can confirm (raised elsewhere too)."""
    out = []
    if not could_match(message):
        return out
    for entry in FAILURES:
        if entry.within and not entry.alone and (not exc_names or entry.exc_matches(exc_names)) \
                and entry.message_matches(message) and entry.key not in {e.key for e in out}:
            out.append(entry)
    return out


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
