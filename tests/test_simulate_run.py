"""`speclint run --simulate-tpu`'s hook: a program that trains/evaluates on CPU (use_tpu=False) gets
its TPU graph simulated per estimator and mode, and its own calls run unchanged (real TF)."""
import runpy
import textwrap

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from speclint.runtime import simulate, simulate_run  # noqa: E402

PROGRAM = '''
import sys, tempfile
sys.path.insert(0, {tests!r})
import tpusim_models as models
from tensorflow_estimator.python.estimator.tpu import tpu_config, tpu_estimator

def make(model_fn):
    return tpu_estimator.TPUEstimator(
        model_fn=model_fn, use_tpu=False, params={{"summary_dir": tempfile.mkdtemp()}},
        config=tpu_config.RunConfig(model_dir=tempfile.mkdtemp(),
                                    tpu_config=tpu_config.TPUConfig(num_shards=4)),
        train_batch_size=16, eval_batch_size=16)

est = make(models.bad_sl005_scalar_loss_to_metric_fn)
RESULTS = [est.evaluate(models.input_fn, steps=1), est.evaluate(models.input_fn, steps=1)]
clean = make(models.good_bert_model_fn)
clean.train(models.input_fn, steps=1)
RESULTS.append(clean.get_variable_value("global_step"))
'''


def test_program_gets_its_tpu_graph_simulated(tmp_path):
    from tensorflow_estimator.python.estimator.tpu import tpu_estimator

    originals = {m: tpu_estimator.TPUEstimator.__dict__[m] for m in ("__init__", "train", "evaluate", "predict")}
    script = tmp_path / "train.py"
    tests_dir = str(__import__("pathlib").Path(__file__).parent)
    script.write_text(textwrap.dedent(PROGRAM.format(tests=tests_dir)))
    simulate_run._FALLBACK.clear()
    simulate.install_for_run()
    simulate.install_for_run()  # idempotent
    try:
        ns = runpy.run_path(str(script), run_name="__main__")
    finally:
        simulate.uninstall_for_run()
    # the program's own CPU calls ran and returned what they return without speclint
    first, second, steps = ns["RESULTS"]
    assert "acc" in first and "acc" in second and steps == 1
    # one simulation per estimator and mode: SL005 once, nothing for the clean estimator
    found = simulate_run.diagnostics()
    assert [(d.code, d.engine) for d in found] == [("SL005", "runtime")], [d.message[:120] for d in found]
    assert "simulated on CPU" in found[0].message
    assert {m: tpu_estimator.TPUEstimator.__dict__[m] for m in originals} == originals
