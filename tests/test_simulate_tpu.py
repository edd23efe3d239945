"""simulate_tpu on real TensorFlow 2.15 (CPU): the TPU graph is really built, nothing is mocked.

Every case of `tpusim_models.py` is simulated once per control-flow version (module fixtures), and
the tests read the shared results: the code and line each misuse is reported with, the TF message
behind it, and a correct BERT-style model_fn that builds in all three modes.
"""
import ast
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

import tpusim_models as models  # noqa: E402

from speclint import rulebook, tpu_failures  # noqa: E402
from speclint.runtime.simulate import MODES, UNMAPPED_CODE, simulate_tpu  # noqa: E402

MODELS_PATH = Path(models.__file__)

# case -> modes to build (the mode whose graph shows the misuse; the rest are covered by the BERT case)
CASES = {
    "bad_sl001_metric_ops_dict": ("eval",),
    "bad_sl002_defaulted_param": ("eval",),
    "bad_sl003_wrong_key": ("eval",),
    "bad_sl004_nested_dict": ("eval",),
    "bad_sl005_scalar_loss_to_metric_fn": ("eval",),
    "bad_sl005_scalar_global_step_to_host_call": ("train",),
    "bad_sl007_metric_fn_closure": ("eval",),
    "bad_sl008_keras_metric": ("eval",),
    "bad_sl010_v1_summary_in_host_call": ("train",),
    "bad_sl011_host_fn_returns_none": ("eval",),
    "bad_sl012_v1_summary_in_model_fn": ("train",),
    "bad_sl013_scaffold_instance": ("train",),
    "bad_sl014_scaffold_fn_returns_none": ("train",),
    "bad_sl015_scaffold_fn_captures_tensor": ("train",),
    "bad_sl026_predictions_tensor": ("predict",),
    "bad_sl034_estimator_spec_in_eval": ("eval",),
    "bad_sl043_no_cross_shard_optimizer": ("train",),
    "bad_sl009_reserved_metric_name": ("eval",),
    "bad_sl016_init_from_checkpoint_in_model_fn": ("train",),
    "bad_sl021_bfloat16_loss": ("train", "eval"),
    "bad_sl031_logging_hook_on_tpu": ("train",),
    "bad_unmapped_reshape": ("predict",),
}
# What TF itself says (research note, verified): the diagnostic must quote it.
TF_SAYS = {
    "SL001": "eval_metrics should be tuple or list",
    "SL002": "length of tensors 2 does not match method args of the function, which takes 3",
    "SL003": "got an unexpected keyword argument 'labels'",
    "SL004": "'dict' object has no attribute 'dtype'",
    "SL005": "All tensors outfed from TPU should preserve batch size dimension, but got scalar",
    "SL008": "'Accuracy' object is not subscriptable",
    "SL009": 'Metric with name "loss" is not allowed',
    "SL016": 'name: "AssignVariableOp_1"',
    "SL021": "Mismatch between input types and output types for training loop body",
    "SL031": "should have graph attribute that is equal to current graph",
    "SL010": "Please use tf.contrib.summary instead of tf.summary inside of host_calls",
    "SL011": 'can only concatenate list (not "NoneType") to list',
    "SL013": "'Scaffold' object is not callable",
    "SL014": "scaffold_fn returns None, which is not allowed",
    "SL026": "TPUEstimatorSpec.predictions must be dict of Tensors",
    "SL034": "estimator_spec used by TPU evaluation must have type",
    "SL043": "CrossShardOptimizer must be used for model training on TPUs",
    "SL044": "must have a fixed size for dimension 0",
}
# The graph errors whose wording depends on the control-flow version.
TF_SAYS_BY_CF = {
    ("SL007", "v2"): "must be from the same graph as",
    ("SL007", "v1"): "Cannot use 'dense/BiasAdd' as input to 'ArgMax' because 'dense/BiasAdd' is in a while loop",
    ("SL012", "v2"): 'must be from the same graph as Tensor("my_loss:0"',
    ("SL012", "v1"): "Cannot use 'my_loss' as input to 'Merge_2/MergeSummary' because 'my_loss' is in a while loop",
    ("SL015", "v2"): 'must be from the same graph as Tensor("dense/BiasAdd:0"',
    ("SL015", "v1"): "Cannot use 'dense/BiasAdd' as input to 'Mean' because 'dense/BiasAdd' is in a while loop",
}
# Control flow v2 (the TF2 default) skips TF's CrossShardOptimizer check: only v1 reports SL043.
# With v1, SL016 and SL031 fail only when the graph runs (research note), so only v2 shows them.
ONLY_UNDER = {"bad_sl043_no_cross_shard_optimizer": "v1",
              "bad_sl016_init_from_checkpoint_in_model_fn": "v2",
              "bad_sl031_logging_hook_on_tpu": "v2"}


def _annotations():
    """{function name: (line, code)} from the `# tpusim: SLnnn` comments."""
    source = MODELS_PATH.read_text(encoding="utf-8")
    lines = source.splitlines()
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            for lineno in range(node.lineno, node.end_lineno + 1):
                m = re.search(r"# tpusim: (SL\d{3})", lines[lineno - 1])
                if m:
                    out[node.name] = (lineno, m.group(1))
    return out


def _checkpoint():
    """A checkpoint holding the `output/` layer, for init_from_checkpoint (SL016)."""
    import tensorflow.compat.v1 as tf

    directory = tempfile.mkdtemp(prefix="speclint-tpusim-ckpt-")
    with tf.Graph().as_default():
        with tf.variable_scope("output"):
            tf.get_variable("kernel", [4, models.NUM_CLASSES])
            tf.get_variable("bias", [models.NUM_CLASSES])
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return tf.train.Saver().save(session, directory + "/model.ckpt")


ANNOTATIONS = _annotations()
PARAMS = {"summary_dir": tempfile.mkdtemp(prefix="speclint-tpusim-summaries-"), "init_checkpoint": _checkpoint()}
TIMINGS = {}


def _simulate_all(control_flow):
    start = time.perf_counter()
    results = {name: simulate_tpu(getattr(models, name), models.input_fn, params=PARAMS,
                                  modes=modes, control_flow=control_flow, shim=False)
               for name, modes in CASES.items()}
    results["good_bert_model_fn"] = simulate_tpu(models.good_bert_model_fn, models.input_fn, params=PARAMS,
                                                 control_flow=control_flow, shim=False)
    results["dynamic_input_fn"] = simulate_tpu(models.good_bert_model_fn, models.dynamic_input_fn,
                                               params=PARAMS, modes=("train",), control_flow=control_flow,
                                               shim=False)
    TIMINGS[control_flow] = time.perf_counter() - start
    return results


@pytest.fixture(scope="module")
def v2():
    return _simulate_all("v2")


@pytest.fixture(scope="module")
def v1():
    return _simulate_all("v1")


def _expected(name, control_flow):
    if ONLY_UNDER.get(name, control_flow) != control_flow:
        return None
    return ANNOTATIONS["dynamic_input_fn" if name == "dynamic_input_fn" else name]


@pytest.mark.parametrize("control_flow", ["v2", "v1"])
@pytest.mark.parametrize("name", sorted(CASES) + ["dynamic_input_fn"])
def test_misuse_is_reported_with_its_code_on_its_line(name, control_flow, request):
    result = request.getfixturevalue(control_flow)[name]
    expected = _expected(name, control_flow)
    got = [(d.line, d.code) for d in result]
    if expected is None:
        assert got == [] and result.built, (name, got, result.outcomes)
        return
    line, code = expected
    assert got == [(line, code)], [(d.path, d.line, d.code, d.message[:200]) for d in result]
    [diag] = result
    assert Path(diag.path).resolve() == MODELS_PATH.resolve() and diag.engine == "runtime"
    failed = [o for o in result.outcomes.values() if o.status == "failed"]
    assert {o.code for o in failed} == {code} and len(failed) == len(CASES.get(name, ("train",)))
    tf_says = TF_SAYS.get(code) or TF_SAYS_BY_CF.get((code, control_flow))
    if tf_says:
        assert tf_says in failed[0].error, failed[0].error
        assert tf_says in diag.message, diag.message


@pytest.mark.parametrize("control_flow", ["v2", "v1"])
def test_the_bert_style_model_fn_builds_in_every_mode(control_flow, request):
    result = request.getfixturevalue(control_flow)["good_bert_model_fn"]
    assert list(result) == [], [d.message for d in result]
    assert set(result.outcomes) == set(MODES)
    assert all(o.status == "built" and o.error is None for o in result.outcomes.values())


def test_messages_come_from_the_rulebook(v2):
    book = rulebook.load()
    for name in CASES:
        for d in v2[name]:
            rule = book[d.code]
            assert d.name == rule.name and d.severity == rule.severity
            assert d.message.startswith("the TPU graph build")
            if d.code == UNMAPPED_CODE:
                assert "speclint has no rule for this failure" in d.message
            else:
                advice = rule.messages["tpu_build"].split("{detail}")[1]
                assert advice.replace("{{", "{").replace("}}", "}") in d.message, d.code


def test_scalar_detail_names_the_tensor(v2):
    [d] = v2["bad_sl005_scalar_loss_to_metric_fn"]
    assert "`eval_metrics` tensor[0]" in d.message
    [d] = v2["bad_sl005_scalar_global_step_to_host_call"]
    assert "`host_call` tensor[0]" in d.message and "`host_call` tensor[1]" in d.message


def test_unmapped_failure_keeps_tf_message(v2):
    [d] = v2["bad_unmapped_reshape"]
    assert d.code == UNMAPPED_CODE
    assert "Cannot reshape a tensor with 6 elements to shape [7,7]" in d.message


def test_a_cpu_run_of_the_same_code_passes():
    """The point of the simulation: these misuses are invisible with use_tpu=False."""
    from tensorflow_estimator.python.estimator.tpu import tpu_config, tpu_estimator

    for name, mode in (("bad_sl005_scalar_loss_to_metric_fn", "eval"),
                       ("bad_sl007_metric_fn_closure", "eval"),
                       ("bad_sl012_v1_summary_in_model_fn", "train")):
        est = tpu_estimator.TPUEstimator(
            model_fn=getattr(models, name), use_tpu=False, params=dict(PARAMS),
            config=tpu_config.RunConfig(model_dir=tempfile.mkdtemp(prefix="speclint-cpu-")),
            train_batch_size=16, eval_batch_size=16)
        if mode == "train":
            est.train(models.input_fn, steps=1)
            assert est.get_variable_value("global_step") == 1
        else:
            assert "acc" in est.evaluate(models.input_fn, steps=1)


def test_simulation_leaves_tensorflow_as_it_found_it(v2, v1):
    from tensorflow.python.client import session
    from tensorflow.python.ops import control_flow_util
    from tensorflow.python.tpu import tpu_system_metadata
    from tensorflow_estimator.python.estimator import model_fn
    from tensorflow_estimator.python.estimator.tpu import tpu_estimator

    assert control_flow_util.ENABLE_CONTROL_FLOW_V2 is True
    assert tpu_system_metadata._query_tpu_system_metadata.__module__ == tpu_system_metadata.__name__
    assert session.BaseSession.run.__module__ == session.__name__
    assert "__new__" in tpu_estimator.TPUEstimatorSpec.__dict__
    assert tpu_estimator.TPUEstimatorSpec.__dict__["__new__"].__module__ == tpu_estimator.__name__
    assert model_fn.EstimatorSpec.__dict__["__new__"].__module__ == model_fn.__name__


def test_num_shards_and_steps():
    result = simulate_tpu(models.bad_sl005_scalar_loss_to_metric_fn, models.input_fn, params=PARAMS,
                          modes=("eval",), num_shards=2, steps=2, shim=False)
    assert result.codes == {"SL005"}
    # 16 cores are two 8-core hosts: training builds, but TPUEstimator cannot predict on several
    # hosts (a real TPU pod limitation, reported with TF's message as an unmapped failure)
    result = simulate_tpu(models.good_bert_model_fn, models.input_fn, params=PARAMS,
                          modes=("train", "predict"), num_shards=16, batch_size=32, shim=False)
    assert result.outcomes["train"].status == "built"
    assert result.codes == {UNMAPPED_CODE}
    assert "TPUEstimator.predict is only supported under three conditions" in result[0].message


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown mode"):
        simulate_tpu(models.good_bert_model_fn, models.input_fn, modes=("infer",))
    with pytest.raises(ValueError, match="control_flow"):
        simulate_tpu(models.good_bert_model_fn, models.input_fn, control_flow="v3")


def test_without_tensorflow_the_error_says_what_to_install():
    code = ("import sys; sys.modules['tensorflow'] = None\n"
            "from speclint.runtime.simulate import simulate_tpu, TensorFlowUnavailable\n"
            "try:\n    simulate_tpu(lambda features, labels, mode, params: None, None)\n"
            "except TensorFlowUnavailable as e:\n    print('OK', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.startswith("OK ") and "tensorflow-estimator" in out.stdout, out.stderr


# -- the table, without TensorFlow ------------------------------------------------------------
def test_graph_errors_are_told_apart_by_where_they_happen():
    same_graph = 'Tensor("ArgMax:0") must be from the same graph as Tensor("concat:0")'
    assert tpu_failures.match(["ValueError"], same_graph, ["create_tpu_hostcall", "_call_host_fn"]).code == "SL007"
    assert tpu_failures.match(["ValueError"], same_graph, ["_get_scaffold", "scaffold_fn"]).code == "SL015"
    assert tpu_failures.match(["ValueError"], same_graph, ["finalize", "merge_all"]).code == "SL012"
    assert tpu_failures.match(["ValueError"], same_graph, ["something_else"]) is None
    got_kw = "metric_fn() got an unexpected keyword argument 'label'"
    assert tpu_failures.match(["TypeError"], got_kw, ["_call_host_fn"]).code == "SL003"
    assert tpu_failures.match(["TypeError"], got_kw, ["my_helper"]) is None


def test_every_table_entry_names_a_rule_with_a_tpu_build_message():
    book = rulebook.load()
    for entry in tpu_failures.TPU_BUILD_FAILURES:
        rule = book.lookup(entry.code)
        assert rule is not None and rule.name == entry.name, entry
        re.compile(entry.pattern)
        if rule.tpu_only or entry.code in ("SL001", "SL002", "SL003", "SL013"):
            assert "tpu_build" in rule.messages, entry.code
    for rule in book:
        if "tpu_build" in rule.messages:
            rule.message("tpu_build", mode="TRAIN", error="E: m", detail="")


def test_op_names_are_read_from_graph_errors():
    msg = ("Cannot use 'my_loss' as input to 'Merge_2/MergeSummary' because 'my_loss' is in a while "
           "loop. See info log for more details.")
    assert tpu_failures.op_names(msg)[:2] == ("my_loss", "Merge_2/MergeSummary")
    msg = 'Tensor("loss:0", shape=(), dtype=string) must be from the same graph as Tensor("my_loss:0", shape=())'
    assert tpu_failures.op_names(msg)[:2] == ("loss", "my_loss")


def test_report_simulation_time(v2, v1, capsys):
    with capsys.disabled():
        print(f"\n[simulate_tpu] {len(CASES) + 2} simulations: control flow v2 {TIMINGS.get('v2', 0):.1f} s, "
              f"v1 {TIMINGS.get('v1', 0):.1f} s")
