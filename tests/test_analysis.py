"""The static analysis foundation: import spellings, model_fn discovery, values and modes."""
import textwrap

import pytest

from expect import actual, mismatches

# ---- every spelling of the spec classes resolves -------------------------------------------------
SPELLINGS = {
    "tf_contrib_tpu": ("import tensorflow as tf", "tf.contrib.tpu.TPUEstimatorSpec"),
    "compat_v1_alias": ("import tensorflow.compat.v1 as tf", "tf.estimator.tpu.TPUEstimatorSpec"),
    "compat_v1_full": ("import tensorflow as tf", "tf.compat.v1.estimator.tpu.TPUEstimatorSpec"),
    "tf_estimator_tpu": ("import tensorflow as tf", "tf.estimator.tpu.TPUEstimatorSpec"),
    "contrib_tpu_module": ("from tensorflow.contrib import tpu as contrib_tpu", "contrib_tpu.TPUEstimatorSpec"),
    "tpu_estimator_module": ("from tensorflow_estimator.python.estimator.tpu import tpu_estimator",
                             "tpu_estimator.TPUEstimatorSpec"),
    "tf_estimator_package": ("from tensorflow_estimator import estimator as tf_estimator",
                             "tf_estimator.tpu.TPUEstimatorSpec"),
    "imported_class_alias": ("from tensorflow.compat.v1.estimator.tpu import TPUEstimatorSpec as Spec", "Spec"),
    "module_level_alias": ("import tensorflow as tf\nSpec = tf.compat.v1.estimator.tpu.TPUEstimatorSpec", "Spec"),
    "try_except_both_branches": (
        "try:\n    from tensorflow.contrib import tpu\nexcept ImportError:\n"
        "    from tensorflow.compat.v1.estimator import tpu", "tpu.TPUEstimatorSpec"),
    "t2t_contrib_factory": ("from tensor2tensor.utils import contrib", "contrib.tpu().TPUEstimatorSpec"),
}

EST_SPELLINGS = {
    "tf_estimator": ("import tensorflow as tf", "tf.estimator.EstimatorSpec"),
    "compat_v1": ("import tensorflow.compat.v1 as tf", "tf.estimator.EstimatorSpec"),
    "model_fn_lib": ("from tensorflow_estimator.python.estimator import model_fn as model_fn_lib",
                     "model_fn_lib.EstimatorSpec"),
    "estimator_lib": ("from tensorflow_estimator.python.estimator import estimator_lib",
                      "estimator_lib.EstimatorSpec"),
    "from_import_as": ("from tensorflow.estimator import EstimatorSpec as ES", "ES"),
    "python_estimator_tf1": ("from tensorflow.python.estimator import model_fn as model_fn_lib",
                             "model_fn_lib.EstimatorSpec"),
}


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_tpu_spec_spellings(name):
    imp, spelled = SPELLINGS[name]
    source = f"{imp}\n\ndef model_fn(features, labels, mode, params):\n" \
             f"    return {spelled}(mode, loss=tf_loss, eval_metric_ops={{}})  # expect: SL018\n"
    assert mismatches(source) == []


@pytest.mark.parametrize("name", sorted(EST_SPELLINGS))
def test_estimator_spec_spellings(name):
    imp, spelled = EST_SPELLINGS[name]
    source = f"{imp}\n\ndef model_fn(features, labels, mode, params):\n" \
             f"    return {spelled}(mode, loss=tf_loss, host_call=None)  # expect: SL018\n"
    assert mismatches(source) == []


def test_unrelated_names_are_not_specs():
    source = textwrap.dedent("""
        from mylib import EstimatorSpec
        import tensorflow as tf

        def model_fn(features, labels, mode, params):
            return EstimatorSpec(mode, bogus=1)
        """)
    assert actual(source)[1] == []


def test_a_name_bound_to_two_different_things_is_unknown():
    source = textwrap.dedent("""
        try:
            from tensorflow.estimator import EstimatorSpec as Spec
        except ImportError:
            from mylib import Spec

        def model_fn(features, labels, mode, params):
            return Spec(mode, bogus=1)
        """)
    assert actual(source)[1] == []


# ---- model_fn discovery -------------------------------------------------------------------------
HEAD = "import functools\nimport tensorflow.compat.v1 as tf\n\n"

DISCOVERY = {
    "builder_factory_nested_model_fn": """
def model_fn_builder(num_labels, use_tpu):
    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], num_labels)
        loss = tf.reduce_mean(logits)
        def metric_fn(labels):
            return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}  # expect: SL007
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels]))
    return model_fn

def main():
    model_fn = model_fn_builder(num_labels=2, use_tpu=True)
    estimator = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=8)
""",
    "partial_model_fn_passed_positionally": """
def _model_fn(features, labels, mode, params, hparams):
    loss = tf.reduce_mean(features["x"])
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, host_call=(lambda l: [], [loss]))  # expect: SL005

def main(hparams):
    fn = functools.partial(_model_fn, hparams=hparams)
    est = tf.estimator.tpu.TPUEstimator(fn, use_tpu=True, train_batch_size=8)
""",
    "method_model_fn": """
class Trainer(object):
    def model_fn(self, features, labels, mode, params):
        loss = tf.reduce_mean(features["x"])
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, host_call=(self.host, [loss]))  # expect: SL005

    def host(self, loss):
        return []

    def build(self):
        return tf.estimator.tpu.TPUEstimator(model_fn=self.model_fn, use_tpu=True, train_batch_size=8)
""",
    "helper_returning_tuple": """
def create_model(features, num_labels):
    logits = tf.layers.dense(features["x"], num_labels)
    per_example_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=features["y"], logits=logits)
    loss = tf.reduce_mean(per_example_loss)
    return loss, per_example_loss, logits

def model_fn(features, labels, mode, params):
    total_loss, per_example_loss, logits = create_model(features, 2)
    def metric_fn(per_example_loss):
        return {"eval_loss": tf.metrics.mean(per_example_loss)}
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=per_example_loss,  # expect: SL020
        eval_metrics=(metric_fn, [total_loss]))  # expect: SL005
""",
    "tensors_list_built_in_a_variable": """
def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(features["x"])
    gs = tf.train.get_global_step()
    host_tensors = [tf.reshape(gs, [1])]
    host_tensors.append(loss)  # expect: SL005
    host_call = (lambda gs, loss: [], host_tensors)
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, host_call=host_call)
""",
    "function_named_model_fn_without_features_is_ignored": """
def model_fn(inputs, is_training):
    return tf.estimator.EstimatorSpec("infer", predictions=inputs, bogus=1)  # expect: SL018
""",
}


@pytest.mark.parametrize("name", sorted(DISCOVERY))
def test_discovery(name):
    source = HEAD + textwrap.dedent(DISCOVERY[name]).lstrip("\n")
    assert mismatches(source, name + ".py") == []


# ---- modes ------------------------------------------------------------------------------------
MODES = {
    "elif_chain_missing_loss_in_eval": """
def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions=logits)
    elif mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(mode, eval_metric_ops={})  # expect: SL019
    loss = tf.reduce_mean(logits)
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op())
""",
    "string_literal_mode_and_alias": """
ModeKeys = tf.estimator.ModeKeys

def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    if mode == "infer":
        return tf.estimator.EstimatorSpec(mode, predictions=logits)
    if mode in (ModeKeys.EVAL,):
        return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(logits))
    return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(logits))  # expect: SL019
""",
    "assert_narrows": """
def model_fn(features, labels, mode, params):
    if mode != tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(features["x"]), train_op=tf.no_op())
    assert mode == tf.estimator.ModeKeys.PREDICT
    return tf.estimator.EstimatorSpec(mode, predictions=features["x"])
""",
    "constant_mode_is_checked_anywhere": """
def build_train_spec(loss):
    return tf.estimator.EstimatorSpec(tf.estimator.ModeKeys.TRAIN, loss=loss)  # expect: SL019
""",
    "unknown_mode_condition_makes_modes_inexact": """
def model_fn(features, labels, mode, params):
    if is_training_mode(mode):
        return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(features["x"]), train_op=tf.no_op())
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions=features["x"])
    return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(features["x"]))
""",
    "is_training_variable": """
def model_fn(features, labels, mode, params):
    is_training = (mode == tf.estimator.ModeKeys.TRAIN)
    if not is_training:
        return tf.estimator.EstimatorSpec(mode, predictions=features["x"])  # expect: SL019
    return tf.estimator.EstimatorSpec(mode, loss=tf.reduce_mean(features["x"]), train_op=tf.no_op())
""",
}


@pytest.mark.parametrize("name", sorted(MODES))
def test_modes(name):
    source = HEAD + textwrap.dedent(MODES[name]).lstrip("\n")
    assert mismatches(source, name + ".py") == []


def test_target_cpu_disables_tpu_only_rules():
    source = HEAD + textwrap.dedent(DISCOVERY["partial_model_fn_passed_positionally"]).lstrip("\n")
    _, diags = actual(source, target="cpu")
    assert [d.code for d in diags] == []
    _, diags = actual(source, target="tpu")
    assert [d.code for d in diags] == ["SL005"]


def test_diagnostic_points_at_the_expression():
    source = HEAD + textwrap.dedent("""
        def model_fn(features, labels, mode, params):
            loss = tf.reduce_mean(features["x"])
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, host_call=(lambda l: [], [loss]))
        """).lstrip("\n")
    _, (d,) = actual(source)
    line = source.splitlines()[d.line - 1]
    assert line[d.column - 1:d.end_column - 1] == "loss" and d.line == d.end_line
    assert line[d.column - 1 + 4:].startswith("])")


def test_model_fn_found_through_the_spec_helper_it_calls():
    source = HEAD + textwrap.dedent("""
        def helper_spec(mode, loss, labels, logits):
            def metric_fn(labels):
                return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}  # expect: SL007
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels]))

        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 10)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            return helper_spec(mode, loss, labels, logits)
        """).lstrip("\\n")
    assert mismatches(source) == []


def test_converted_in_place_is_not_a_tpu_spec():
    source = HEAD + textwrap.dedent("""
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 10)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            def metric_fn(loss, labels):
                return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss,
                eval_metrics=(metric_fn, [loss, labels])).as_estimator_spec()
        """).lstrip("\\n")
    assert actual(source)[1] == []


@pytest.mark.parametrize("expr", [
    "tf.square(labels - tf.squeeze(tf.layers.dense(features['x'], 1), axis=1))",
    "tf.square(labels - tf.reshape(tf.layers.dense(features['x'], 1), [-1]))",
    "tf.square(labels - tf.layers.dense(features['x'], 1)[:, 0])",
    "tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, "
    "reduction=tf.keras.losses.Reduction.NONE)(labels, features['x'])",
])
def test_per_example_losses(expr):
    source = HEAD + textwrap.dedent(f"""
        def model_fn(features, labels, mode, params):
            return tf.estimator.EstimatorSpec(mode, loss={expr},  # expect: SL020
                                              train_op=tf.no_op())
        """).lstrip("\\n")
    assert mismatches(source) == []
