"""`speclint run --simulate-tpu`'s hook: a program that trains/evaluates on CPU (use_tpu=False) gets
its TPU graph simulated per estimator and mode, and its own calls run unchanged (real TF)."""
import runpy
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from speclint.runtime import simulate_run  # noqa: E402

TESTS = Path(__file__).resolve().parent

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
    script.write_text(textwrap.dedent(PROGRAM.format(tests=str(TESTS))))
    simulate_run._FALLBACK.clear()
    simulate_run.install_for_run()
    simulate_run.install_for_run()  # idempotent
    try:
        ns = runpy.run_path(str(script), run_name="__main__")
    finally:
        simulate_run.uninstall_for_run()
    # the program's own CPU calls ran and returned what they return without speclint
    first, second, steps = ns["RESULTS"]
    assert "acc" in first and "acc" in second and steps == 1
    # one simulation per estimator and mode: SL005 once, nothing for the clean estimator
    found = simulate_run.diagnostics()
    assert [(d.code, d.engine) for d in found] == [("SL005", "runtime")], [d.message[:120] for d in found]
    _assert_one_confirmed_sl005(found[0])
    assert {m: tpu_estimator.TPUEstimator.__dict__[m] for m in originals} == originals


def _assert_one_confirmed_sl005(d):
    """The misuse is reported once, as the shim sees it on the real objects (the offending tensor
    named, at the spec), with what the simulated TPU build raised for it appended."""
    # the scalar in the tensors list (the simulation alone points at the TPUEstimatorSpec, a line below)
    line = next(i for i, text in enumerate((TESTS / "tpusim_models.py").read_text().splitlines(), 1)
                if "eval_metrics = (metric_fn, [loss," in text and i > _def_line("bad_sl005_scalar_loss_to_metric_fn"))
    assert (Path(d.path).name, d.line) == ("tpusim_models.py", line)
    shim_part, _, simulated = d.message.partition(" Confirmed by the TPU graph build simulated on CPU")
    assert "`eval_metrics` tensor[0] `loss` is a scalar (rank 0)" in shim_part, d.message
    assert simulated.startswith(" (use_tpu=True): EVAL fails with \"RuntimeError: All tensors outfed "
                                "from TPU should preserve batch size dimension"), d.message


def _def_line(name):
    return next(i for i, text in enumerate((TESTS / "tpusim_models.py").read_text().splitlines(), 1)
                if text.startswith(f"def {name}("))


def test_under_the_shim_a_misuse_is_reported_once(tmp_path):
    """`speclint run --simulate-tpu` (shim installed): the simulated TPU build and the program's own
    CPU call both see the scalar; the collector keeps one diagnostic, the confirmed one."""
    from speclint.runtime import context, patching

    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(PROGRAM.format(tests=str(TESTS))))
    patching.install("collect")
    context.COLLECTOR.clear()
    simulate_run.install_for_run()
    try:
        runpy.run_path(str(script), run_name="__main__")
        found = context.COLLECTOR.diagnostics()
    finally:
        simulate_run.uninstall_for_run()
        patching.uninstall()
        context.COLLECTOR.clear()
    assert [(d.code, d.engine) for d in found] == [("SL005", "runtime")], [d.message[:160] for d in found]
    _assert_one_confirmed_sl005(found[0])
