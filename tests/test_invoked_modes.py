"""Issue 10, item 1: a model_fn is checked only in the modes it is really called in, when every use
of the estimators it is given to is in sight (`modes = "invoked"`, the default).

Each case is a pair: a script whose estimator is never asked for the mode a finding is about (must
stay clean), and its bad twin, annotated with `# expect: SLnnn`, that does reach that mode (or
whose estimator escapes, so every mode counts).  The model_fn is the same in every case: it uses
`labels` on a path that also runs in PREDICT (SL039) and builds its PREDICT spec with no
`predictions` check problem otherwise.  Real idioms: tensorflow/tpu's resnet_main.py and
retinanet (train/evaluate/export, never predict), mesh BERT's run_pretraining.py (train and
evaluate only), TF Estimator's own tests (`est.train(...)` in a test method).
"""
import textwrap

import pytest

from expect import actual, mismatches

MODEL_FN = """\
import tensorflow.compat.v1 as tf


def model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)  # expect-if-predicted
    train_op = tf.train.AdamOptimizer().minimize(loss, global_step=tf.train.get_global_step())
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


"""

PAIRS = {
    # mesh BERT run_pretraining.py / TF Estimator tests: trained (and evaluated), never predicted
    "train_and_evaluate_only": ("""
def main():
    est = tf.estimator.Estimator(model_fn=model_fn, model_dir="/tmp/m")
    est.train(input_fn=None, max_steps=10)
    est.evaluate(input_fn=None, steps=1)
    print(est.model_dir, est.get_variable_names())
""", """
def main():
    est = tf.estimator.Estimator(model_fn=model_fn, model_dir="/tmp/m")
    est.train(input_fn=None, max_steps=10)
    for p in est.predict(input_fn=None):
        print(p)
"""),
    # tensorflow/tpu resnet_main.py: export_saved_model runs the model_fn in PREDICT
    "export_counts_as_predict": ("""
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn=None, max_steps=10)
""", """
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn=None, max_steps=10)
    est.export_saved_model("/tmp/export", serving_input_receiver_fn)
"""),
    # TF Estimator's estimator_test.py: `fn_args(est.model_fn)` reads the parameters, calls nothing
    "model_fn_signature_read": ("""
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn=None, max_steps=10)
    assert "params" not in function_utils.fn_args(est.model_fn)
""", """
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn=None, max_steps=10)
    fn = est.model_fn
    fn({"x": 1.0}, None, tf.estimator.ModeKeys.PREDICT)
"""),
    # TF Estimator's hooks_test.py: InMemoryEvaluatorHook evaluates the estimator while it trains
    "in_memory_evaluator_hook": ("""
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    evaluator = tf.estimator.experimental.InMemoryEvaluatorHook(est, input_fn=None, every_n_iter=4)
    est.train(input_fn=None, hooks=[evaluator])
""", """
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    evaluator = tf.estimator.experimental.InMemoryEvaluatorHook(est, input_fn=None, every_n_iter=4)
    est.train(input_fn=None, hooks=[evaluator])
    print(list(est.predict(input_fn=None)))
"""),
    # TF Estimator's distribute_strategy_estimator_integration_test.py: an EvalSpec without
    # exporters never exports
    "train_and_evaluate_without_exporters": ("""
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    tf.estimator.train_and_evaluate(est, tf.estimator.TrainSpec(input_fn=None, max_steps=1),
                                    tf.estimator.EvalSpec(input_fn=None, steps=1))
""", """
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    tf.estimator.train_and_evaluate(est, tf.estimator.TrainSpec(input_fn=None, max_steps=1),
                                    tf.estimator.EvalSpec(input_fn=None, steps=1, exporters=[exporter]))
"""),
    # an estimator returned by a builder: its uses are elsewhere, so every mode counts
    "estimator_returned": ("""
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn=None, max_steps=10)
""", """
def make_estimator():
    est = tf.estimator.Estimator(model_fn=model_fn)
    return est
"""),
    # an estimator passed to a function we do not follow
    "estimator_passed_on": ("""
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn=None, max_steps=10)
""", """
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    run_experiment(est)
"""),
    # used inside a nested function: not followed, every mode counts
    "estimator_used_in_closure": ("""
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn=None, max_steps=10)
""", """
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)

    def serve():
        return est.predict(input_fn=None)
    return serve
"""),
    # train_and_evaluate may export (EvalSpec exporters): PREDICT counts
    "train_and_evaluate_may_export": ("""
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn=None, max_steps=10)
    est.evaluate(input_fn=None)
""", """
def main():
    est = tf.estimator.Estimator(model_fn=model_fn)
    tf.estimator.train_and_evaluate(est, train_spec, eval_spec)
"""),
}


def _source(body: str, flagged: bool) -> str:
    text = MODEL_FN + textwrap.dedent(body).lstrip("\n")
    return text.replace("# expect-if-predicted", "# expect: SL039" if flagged else "")


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_mode_never_invoked_is_not_checked(name):
    source = _source(PAIRS[name][0], False)
    assert mismatches(source) == []


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_mode_invoked_or_uses_unseen_is_checked(name):
    source = _source(PAIRS[name][1], True)
    assert mismatches(source) == []


def test_modes_all_checks_every_mode(tmp_path):
    from speclint import engine
    from speclint.config import Config

    source = _source(PAIRS["train_and_evaluate_only"][0], True)
    config = Config(root=tmp_path, select=("ALL",), modes="all")
    result = engine.check_source(source.encode(), "example.py", config)
    assert [(d.line, d.code) for d in result.diagnostics] == [(6, "SL039")]
    got, _ = actual(source.replace("# expect: SL039", ""))
    assert not got  # the default (invoked) leaves it alone


def test_modes_option_in_config_and_cli(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "train.py"
    path.write_text(_source(PAIRS["train_and_evaluate_only"][0], False))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "speclint", "check", "--no-cache", "--output-format",
                               "concise", *args, str(path)], capture_output=True, text=True, cwd=tmp_path)

    assert run().returncode == 0
    proc = run("--modes", "all")
    assert proc.returncode == 1 and "SL039" in proc.stdout
    (tmp_path / "speclint.toml").write_text('modes = "all"\n')
    assert run().returncode == 1
    assert run("--modes", "invoked").returncode == 0
    (tmp_path / "speclint.toml").write_text('modes = "some"\n')
    proc = run()
    assert proc.returncode == 2 and "modes must be one of invoked, all" in proc.stderr


# ---- correlated conditions: one flag picks the estimator and guards the read (SL041) ----------------
XLNET = """\
import tensorflow.compat.v1 as tf
from absl import flags

FLAGS = flags.FLAGS


def file_based_input_fn_builder(input_file, is_training):
    def input_fn(params):
        if FLAGS.use_tpu:
            batch_size = params["batch_size"]{mark}
        else:
            batch_size = FLAGS.train_batch_size
        {unguarded}
        d = tf.data.TFRecordDataset(input_file)
        return d.batch(batch_size, drop_remainder=True)
    return input_fn


def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(tf.layers.dense(features["x"], 1))
    optimizer = tf.train.AdamOptimizer()
    if FLAGS.use_tpu:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)


def main():
    if FLAGS.use_tpu:
        estimator = tf.estimator.tpu.TPUEstimator(
            use_tpu=FLAGS.use_tpu, model_fn=model_fn, train_batch_size=FLAGS.train_batch_size)
    else:
        estimator = tf.estimator.Estimator(model_fn=model_fn)
    estimator.train(input_fn=file_based_input_fn_builder("train.tf_record", True), max_steps=10)
"""


def test_flag_that_picks_the_estimator_also_guards_the_batch_size_read():
    # zihangdai/xlnet run_classifier.py, run_race.py, run_squad.py
    assert mismatches(XLNET.format(mark="", unguarded="")) == []


def test_batch_size_read_outside_the_flag_is_reported_for_the_plain_estimator():
    source = XLNET.format(mark="", unguarded='n = params["batch_size"]  # expect: SL041')
    assert mismatches(source) == []


def test_model_fn_of_an_estimator_that_is_never_run_is_not_checked():
    # tensorflow_estimator estimator_test.py: `est = Estimator(model_fn=model_fn)` then only its
    # attributes are asserted; the dummy model_fn (`pass`) never runs
    body = """
def main():
    est = tf.estimator.Estimator(model_fn=model_fn, model_dir="/tmp/m")
    assert est.model_dir == "/tmp/m"
"""
    assert mismatches(_source(body, False)) == []
    # its bad twin: the same estimator is trained and predicted
    assert mismatches(_source(body + "    est.train(input_fn=None)\n    est.predict(input_fn=None)\n", True)) == []
    # calling its model_fn attribute runs the model_fn: every mode counts
    assert mismatches(_source(body + "    est.model_fn(None, None, 'infer', None)\n", True)) == []


def test_model_fn_of_a_discarded_estimator_is_not_checked():
    # TF's constructor tests: `Estimator(model_fn=model_fn)` as a statement (under assertRaises)
    assert mismatches(_source("""
def main():
    tf.estimator.Estimator(model_fn=model_fn)
""", False)) == []


def test_attribute_and_keyword_spellings_of_the_name_are_not_uses():
    # mesh_tensorflow bert/run_pretraining.py: `estimator = TPUEstimator(...)` beside
    # `tf.estimator.tpu.RunConfig(...)`; trained and evaluated, never predicted
    assert mismatches(_source("""
def main():
    run_config = tf.estimator.RunConfig(model_dir="/tmp/m")
    estimator = tf.estimator.Estimator(model_fn=model_fn, config=run_config)
    estimator.train(input_fn=None, max_steps=10)
    report(estimator=None)
""", False)) == []


# ---- SL044: a helper that restores static shapes after batching (google-research/simclr data.py) ----
SIMCLR = """\
import tensorflow.compat.v1 as tf


def pad_to_batch(dataset, batch_size):
    def _pad_to_batch(*args):
        flat = tf.nest.flatten(args)
        for tensor in flat:
            tensor.set_shape([batch_size] + tensor.shape.as_list()[1:])
        return tf.nest.pack_sequence_as(args, flat)
    return dataset.map(_pad_to_batch)


def log_dataset(dataset, batch_size):
    tf.logging.info("batch size %d", batch_size)
    return dataset


def build_input_fn(is_training):
    def _input_fn(params):
        dataset = tf.data.TFRecordDataset("train.tfrecord")
        dataset = dataset.batch(params["batch_size"], drop_remainder=is_training){mark}
        dataset = {helper}(dataset, params["batch_size"])
        images, labels = tf.data.make_one_shot_iterator(dataset).get_next()
        return images, labels
    return _input_fn


def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(tf.layers.dense(features, 1))
    opt = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer())
    train_op = opt.minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)


def main():
    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=64,
                                        eval_batch_size=64)
    est.train(build_input_fn(True), max_steps=10)
    est.evaluate(build_input_fn(False), steps=10)
"""


def test_batch_made_static_again_by_a_helper_is_not_dynamic():
    assert mismatches(SIMCLR.format(mark="", helper="pad_to_batch")) == []


def test_batch_passed_to_a_helper_that_does_not_reshape_is_dynamic():
    assert mismatches(SIMCLR.format(mark="  # expect: SL044", helper="log_dataset")) == []


# ---- SL025: export runs PREDICT but does not split the predictions (only predict() does) ----------
EXPORT_SCALAR = """\
import tensorflow.compat.v1 as tf


def model_fn(features, labels, mode):
    return tf.estimator.EstimatorSpec(
        mode, predictions=tf.constant(10.), loss=tf.constant(1.),{mark}
        train_op=tf.assign_add(tf.train.get_global_step(), 1),
        export_outputs={{"test": tf.estimator.export.PredictOutput({{"y": tf.constant([3.])}})}})


def main(serving_input_receiver_fn):
    est = tf.estimator.Estimator(model_fn=model_fn)
    est.train(input_fn=None, steps=1)
    est.export_saved_model("/tmp/export", serving_input_receiver_fn)
{predict}"""


def test_export_only_is_not_predict_for_sl025():
    """TF Estimator's estimator_test.py: model_fns with a scalar prediction that are trained and
    exported, never predicted with."""
    assert mismatches(EXPORT_SCALAR.format(mark="", predict="")) == []
    bad = EXPORT_SCALAR.format(mark="  # expect: SL025", predict="    print(list(est.predict(input_fn=None)))\n")
    assert mismatches(bad) == []


# ---- SL004-SL006: eval_metrics are outfed in EVAL only (TRAIN and PREDICT outfeed host_call alone) --
TRAIN_ONLY_METRICS = """\
import tensorflow.compat.v1 as tf


def model_fn(features, labels, mode, params):
    loss = tf.reduce_mean(tf.layers.dense(features["x"], 1))
    opt = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer())
    train_op = opt.minimize(loss, global_step=tf.train.get_global_step())

    def metric_fn(loss):
        return {{"loss_mean": tf.metrics.mean(loss)}}

    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op,
                                             eval_metrics=(metric_fn, [loss])){mark}


def main(input_fn):
    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, train_batch_size=8,
                                        eval_batch_size=8)
    est.train(input_fn, max_steps=10)
{evaluate}"""


def test_eval_metrics_are_outfed_only_in_eval():
    assert mismatches(TRAIN_ONLY_METRICS.format(mark="", evaluate="")) == []
    bad = TRAIN_ONLY_METRICS.format(mark="  # expect: SL005", evaluate="    est.evaluate(input_fn, steps=1)\n")
    assert mismatches(bad) == []
