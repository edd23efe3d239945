"""speclint.families: the rule decisions both engines share (issue 15).  Each decision names a
variant of its rule's [messages] and passes every field the template uses; the branches decide
what the engines decided before they shared them."""
import pytest

from speclint import apis, rulebook
from speclint.families import fields, host_calls, metrics, model_fn, rule_text

BOOK = rulebook.load()

CASES = [  # (code, decision, expected variant or None)
    ("SL001", host_calls.pair_form("host_call", got="a dict"), "not_pair"),
    ("SL001", host_calls.pair_form("eval_metrics", length=3), "wrong_length"),
    ("SL001", host_calls.pair_form("eval_metrics", length=2, fn_callable=False, fn_got="a tensor"), "fn_not_callable"),
    ("SL001", host_calls.pair_form("eval_metrics", length=2, fn_callable=False, tensors_container=False),
     "fn_not_callable"),
    ("SL001", host_calls.pair_form("eval_metrics", length=2, tensors_container=False, tensors_got="a tensor"),
     "tensors_not_container"),
    ("SL001", host_calls.pair_form("eval_metrics", length=2), None),
    ("SL003", host_calls.kwargs_mismatch("eval_metrics", "metric_fn", ["label", "logits"],
                                         accepted=["labels", "logits"], required=["labels", "logits"],
                                         has_varkw=False), "unexpected"),
    ("SL003", host_calls.kwargs_mismatch("eval_metrics", "metric_fn", ["logits"], accepted=["labels", "logits"],
                                         required=["labels", "logits"], has_varkw=False), "missing"),
    ("SL003", host_calls.kwargs_mismatch("eval_metrics", "metric_fn", ["x"], accepted=["labels"], required=[],
                                         has_varkw=True), None),
    ("SL004", host_calls.tensor_not_flat("host_call", "[0]", "d", "a dict", "dict", "container"), "default"),
    ("SL008", metrics.metric_fn_return("metric_fn", "none", how="returned None when called"), "none"),
    ("SL008", metrics.metric_fn_return("metric_fn", "other", got="a tensor", expr="x"), "not_dict"),
    ("SL008", metrics.metric_fn_return("metric_fn", "dict"), None),
    ("SL008", metrics.metric_fn_value("metric_fn", "acc", "x", "tensor", on_tpu=True, scalar=True), "bad_value"),
    ("SL008", metrics.metric_fn_value("metric_fn", "acc", "x", "keras", on_tpu=True), "keras_metric"),
    ("SL008", metrics.metric_fn_value("metric_fn", "acc", "x", "keras", on_tpu=False), None),
    ("SL008", metrics.metric_fn_value("metric_fn", "acc", "x", "pair", on_tpu=True), None),
    ("SL027", metrics.eval_metric_ops_value("acc", "x", "sequence", length=3, seq_kind="list"), "bad_value"),
    ("SL019", fields.required_field("EstimatorSpec", apis.TRAIN, given={"mode", "loss"}), "missing"),
    ("SL019", fields.required_field("EstimatorSpec", apis.TRAIN, given={"mode", "loss", "train_op"},
                                    none={"train_op"}), "none"),
    ("SL019", fields.required_field("EstimatorSpec", apis.TRAIN, given={"mode", "loss"}, intended={"train_op"}),
     None),
    ("SL019", fields.required_field("EstimatorSpec", apis.PREDICT, given={"mode", "predictions"}), None),
    ("SL028", fields.export_outputs_not_dict("out", "a PredictOutput"), "not_dict"),
    ("SL028", fields.export_output_not_output("'a'", "t", "a tensor"), "not_output"),
    ("SL028", fields.export_outputs_default(["a", "b"]), "no_default"),
    ("SL028", fields.export_outputs_default(["a", apis.DEFAULT_SERVING_KEY]), None),
    ("SL028", fields.export_output_dtype("classes", "ids", "int64"), "classes_dtype"),
    ("SL028", fields.export_output_dtype("scores", "s", "int32"), "scores_dtype"),
    ("SL028", fields.export_output_dtype("value", "v", "int32"), "value_dtype"),
    ("SL030", fields.not_a_hook("training_hooks", "cb", "a TensorBoard object", "keras_callback"), "not_hook"),
    ("SL036", model_fn.spec_mode("EstimatorSpec", "None", "none"), "none"),
    ("SL036", model_fn.spec_mode("EstimatorSpec", "'training'", "string"), "string"),
    ("SL036", model_fn.spec_mode("EstimatorSpec", "m", "constant", got={apis.TRAIN},
                                 called={apis.TRAIN, apis.EVAL}), "constant"),
    ("SL036", model_fn.spec_mode("EstimatorSpec", "m", "constant", got={apis.TRAIN}, called={apis.TRAIN}), None),
    ("SL040", model_fn.model_fn_signature("f", apis.ESTIMATOR, ["inputs", "mode"]), "no_features"),
    ("SL040", model_fn.model_fn_signature("f", apis.ESTIMATOR, ["features", "hparams"]), "unexpected"),
    ("SL040", model_fn.model_fn_signature("f", apis.TPU_ESTIMATOR, ["features", "labels"], params_given=False),
     "no_params"),
    ("SL040", model_fn.model_fn_signature("f", apis.ESTIMATOR, ["features"], params_given=True, params_bound=True),
     "no_params"),
    ("SL040", model_fn.model_fn_signature("f", apis.TPU_ESTIMATOR, ["features", "labels"]), None),
    ("SL040", model_fn.reserved_params_key("batch_size"), "reserved_key"),
]


@pytest.mark.parametrize("code, decision, variant", CASES)
def test_a_decision_names_a_variant_and_formats_its_message(code, decision, variant):
    if variant is None:
        assert decision is None
        return
    got, params = decision
    assert got == variant
    message = BOOK[code].message(got, **params)
    assert message  # formats: every field the template uses is given


def test_sl001_checks_in_tfs_order():
    assert host_calls.pair_form("f", length=2, fn_callable=False, fn_got="a", tensors_container=False)[1]["got"] == "a"


def test_sl003_hint_and_the_names_it_may_suggest():
    _, params = host_calls.kwargs_mismatch("eval_metrics", "fn", ["lables"], accepted=["labels"], required=[],
                                           has_varkw=False)
    assert params["hint"] == " (did you mean 'labels'?)" and params["keys"] == "'lables'"
    _, params = host_calls.kwargs_mismatch("eval_metrics", "fn", ["slef"], accepted=["labels"], required=[],
                                           has_varkw=False, hint_from=["self", "labels"])
    assert params["hint"] == " (did you mean 'self'?)"


def test_sl008_what_tpu_does_with_each_kind_of_metric_value():
    mv = metrics.metric_value
    assert mv("sequence", on_tpu=True, length=None, seq_kind="tuple") is None
    assert mv("sequence", on_tpu=True, length=None, seq_kind="list") == ("bad_value", "a list", "")
    assert mv("sequence", on_tpu=True, length=3, seq_kind="tuple") == ("bad_value", "a 3-element tuple",
                                                                         metrics.TPU_SEQUENCE)
    assert mv("sequence", on_tpu=True, length=1, seq_kind="list") == ("bad_value", "a 1-element list", "")
    assert mv("tensor", on_tpu=False, scalar=False) == ("bad_value", "a tensor", metrics.TPU_TENSOR)
    assert mv("operation", on_tpu=False) == ("bad_value", "an operation", metrics.TPU_OPERATION)
    assert mv("other", on_tpu=False, got="the number 1") == ("bad_value", "the number 1", "")


def test_sl036_names_the_modes():
    _, params = model_fn.spec_mode("TPUEstimatorSpec", "m", "constant", got={apis.EVAL},
                                   called={apis.TRAIN, apis.EVAL, apis.PREDICT})
    assert (params["got"], params["mode"]) == ("EVAL", "TRAIN and PREDICT")
    _, params = model_fn.spec_mode("EstimatorSpec", "m", "constant", got={apis.EVAL}, called={apis.TRAIN},
                                   got_text="'eval'")
    assert (params["got"], params["mode"]) == ("'eval'", "TRAIN")
    assert model_fn.modes_text(apis.ALL_MODES) == "TRAIN, EVAL and PREDICT"


def test_sl040_order_no_features_then_params_then_unexpected():
    # params missing is reported instead of the unexpected argument (and names it)
    variant, params = model_fn.model_fn_signature("f", apis.ESTIMATOR, ["features", "hparams"], params_given=True)
    assert variant == "no_params" and "rename it to `params`" in params["why"]
    # without the params check (the runtime: TF raises its own error), the unexpected argument
    assert model_fn.model_fn_signature("f", apis.ESTIMATOR, ["features", "hparams"])[0] == "unexpected"


def test_fix_texts_are_named_texts_of_the_rule():
    for kind, name in host_calls.NOT_A_TENSOR_KINDS.items():
        assert host_calls.tensor_not_flat("f", "", "x", "y", "z", kind)[1]["fix"] == rule_text("SL004", name)
    for kind, name in fields.NOT_A_HOOK_KINDS.items():
        assert fields.not_a_hook("f", "x", "y", kind)[1]["fix"] == rule_text("SL030", name)
    assert "{**{'labels_' + k" in rule_text("SL004", "fix_nested")  # braces are escaped in the TOML
