"""Public TPU/Estimator programs (vendored under bench/programs/, run tiny on CPU with synthetic
data): the default `speclint run` catches each classic injected TPU bug, the correct programs get
zero diagnostics under `speclint run --simulate-tpu` (which includes the shim's own checks of the
program's calls, so also zero under plain `speclint run`), and their seeded outputs are identical
to `python prog.py`'s, compared exactly. `python bench/real_programs.py` runs every variant and
prints the table and the overheads (README, "Real programs")."""
import dataclasses
import sys
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import real_programs  # noqa: E402


def _first_bug(prog):
    """CI cost: one injected bug per program (bench/real_programs.py runs them all)."""
    return dataclasses.replace(prog, bugs=dict(list(prog.bugs.items())[:1]))


@pytest.mark.parametrize("prog", [_first_bug(p) for p in real_programs.PROGRAMS], ids=lambda p: p.name)
def test_real_program(prog):
    _, rows, failures = real_programs.check_program(prog, variants=("python", "simulate"), bug_variants=("run",),
                                                    stop_at_first=True)
    assert not failures, "\n".join(failures)
    assert rows and all(caught["run"] for *_, caught in rows)


PROGRAMS = {p.name: p for p in real_programs.PROGRAMS}


def test_modes_a_real_program_does_not_reach_are_simulated():
    """mnist_tpu trained only (`--eval_steps=0 --enable_predict=false`): `--simulate-tpu` builds its
    EVAL and PREDICT on the TPU path too, so the eval-only bug (the scalar mean loss outfed in
    `eval_metrics`) is caught although the program never evaluates; the correct program is clean."""
    train_only = {"--eval_steps": "0", "--enable_predict": "false"}
    clean = real_programs.run_unreached(PROGRAMS["mnist_tpu"], train_only)
    assert clean["diagnostics"] == [] and clean["exit"] == 0, clean
    assert [(mode, status) for _, mode, status, _ in clean["unreached"]] == [("eval", "built"), ("predict", "built")]
    buggy = real_programs.run_unreached(PROGRAMS["mnist_tpu"], train_only, bug="scalar_eval_metrics")
    assert buggy["codes"] == ["SL005"], buggy
    assert [(mode, status) for _, mode, status, _ in buggy["unreached"]] == [("eval", "reported"), ("predict", "built")]


def test_bert_classifier_trained_only_gets_eval_and_predict_simulated_without_false_alarms():
    result = real_programs.run_unreached(PROGRAMS["bert_classifier"], {"--do_eval": "false", "--do_predict": "false"})
    assert result["diagnostics"] == [], result
    assert [(mode, status) for _, mode, status, _ in result["unreached"]] == [("eval", "built"), ("predict", "built")]
