"""`speclint run --simulate-tpu` simulates every mode a model_fn supports, not only the modes the
program reaches: a program that only trains gets EVAL and PREDICT built on the TPU path when it
ends (with the estimator's batch sizes and the train input_fn); a mode the model_fn does not
support (its CPU build fails too) is skipped with the reason, never reported."""
import runpy
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from speclint.runtime import context, patching, simulate_run  # noqa: E402

TESTS = Path(__file__).resolve().parent

PROGRAM = '''
import sys, tempfile
sys.path.insert(0, {tests!r})
import tensorflow.compat.v1 as tf
import tpusim_models as models
from tensorflow_estimator.python.estimator.tpu import tpu_config, tpu_estimator

def only_train_and_eval(features, labels, mode, params):
    if mode == tf.estimator.ModeKeys.PREDICT:
        raise NotImplementedError("this model does not predict")
    return models.good_bert_model_fn(features, labels, mode, params)

def trains_well_evaluates_badly(features, labels, mode, params):
    if mode == tf.estimator.ModeKeys.TRAIN:
        return models.good_bert_model_fn(features, labels, mode, params)
    return models.bad_sl005_scalar_loss_to_metric_fn(features, labels, mode, params)

est = tpu_estimator.TPUEstimator(
    model_fn={fn}, use_tpu=False, params={{"summary_dir": tempfile.mkdtemp()}},
    config=tpu_config.RunConfig(model_dir=tempfile.mkdtemp(),
                                tpu_config=tpu_config.TPUConfig(num_shards=4)),
    train_batch_size=16, eval_batch_size={eval_batch}, eval_on_tpu={eval_on_tpu})
est.train(models.input_fn, steps=1)
STEP = est.get_variable_value("global_step")
'''


def _run(tmp_path, fn="models.good_bert_model_fn", eval_batch=16, eval_on_tpu=True):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(PROGRAM.format(tests=str(TESTS), fn=fn,
                                                     eval_batch=eval_batch, eval_on_tpu=eval_on_tpu)))
    patching.install("collect")
    context.COLLECTOR.clear()
    simulate_run.install_for_run()
    try:
        ns = runpy.run_path(str(script), run_name="__main__")
        assert ns["STEP"] == 1  # the program's own training ran
    finally:
        simulate_run.uninstall_for_run()
        found = context.COLLECTOR.diagnostics()
        patching.uninstall()
        context.COLLECTOR.clear()
    return found, {mode: (status, why) for _, mode, status, why in simulate_run.UNREACHED}


def test_a_training_program_gets_eval_and_predict_built(tmp_path):
    found, unreached = _run(tmp_path)
    assert found == [], [d.message[:160] for d in found]
    assert unreached == {"eval": ("built", "with the train input_fn, batch 16"),
                         "predict": ("built", "with the train input_fn, batch 16")}


def test_a_bug_in_a_mode_the_program_never_runs_is_reported(tmp_path):
    """The scalar loss given to eval_metrics fails only when evaluating on TPU; the program only
    trains, yet the run reports it (its EVAL was simulated at the end)."""
    found, unreached = _run(tmp_path, fn="trains_well_evaluates_badly")
    assert [d.code for d in found] == ["SL005"], [d.message[:160] for d in found]
    assert Path(found[0].path).name == "tpusim_models.py"
    assert "EVAL fails with \"RuntimeError: All tensors outfed from TPU" in found[0].message
    assert unreached["eval"][0] == "reported"


def test_a_mode_the_model_fn_does_not_support_is_skipped_with_the_reason(tmp_path):
    found, unreached = _run(tmp_path, fn="only_train_and_eval")
    assert found == [], [d.message[:160] for d in found]
    status, why = unreached["predict"]
    assert status == "skipped" and "does not build predict with the train input_fn on CPU either" in why
    assert "NotImplementedError: this model does not predict" in why
    assert unreached["eval"][0] == "built"


def test_eval_on_cpu_is_not_simulated_and_an_unset_batch_borrows_the_train_batch(tmp_path):
    found, unreached = _run(tmp_path, fn="trains_well_evaluates_badly", eval_on_tpu=False)
    assert found == [], [d.message[:160] for d in found]  # the scalar is fine when evaluating on CPU
    assert unreached["eval"] == ("skipped", "eval_on_tpu=False: evaluation runs on CPU")
    _, unreached = _run(tmp_path, eval_batch=None)
    assert unreached["eval"] == ("built", "with the train input_fn, batch 16")


def test_uninstall_without_finishing_simulates_nothing_more(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(PROGRAM.format(tests=str(TESTS), fn="models.good_bert_model_fn", eval_batch=16,
                                                     eval_on_tpu=True)))
    simulate_run.UNREACHED.clear()
    simulate_run.install_for_run()
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        simulate_run.uninstall_for_run(finish=False)
    assert simulate_run.UNREACHED == [] and simulate_run._RUNS == []
