"""Recall on real files: classic TPU bugs injected into flagship models are found, and the clean
files give no finding for those rules (tests/data/realmodels/README.md: commits and injections).

Each case copies one vendored tree, replaces one known line (asserting it is there exactly once)
and runs the static engine over the whole tree (so imported modules are followed), with the
default target (`auto`) and every rule selected.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from speclint import engine
from speclint.config import Resolver

DATA = Path(__file__).resolve().parent / "data" / "realmodels"
RESNET = "models/official/resnet/resnet_main.py"

# case: (tree, file, line before, line after, rule, the line of the finding after injection)
CASES = {
    "resnet-metric-fn-closure": (
        "tpu", RESNET, "    def metric_fn(labels, logits):\n", "    def metric_fn(labels, unused_logits):\n",
        "SL007", "      predictions = tf.argmax(logits, axis=1)"),
    "resnet-host-call-scalar-step": (
        "tpu", RESNET, "      gs_t = tf.reshape(global_step, [1])\n", "      gs_t = global_step\n",
        "SL005", "      host_call = (host_call_fn, [gs_t, loss_t, lr_t, ce_t])"),
    "bert-scaffold-fn-reads-input": (
        "bert", "run_classifier.py", "          return tf.train.Scaffold()\n",
        "          return tf.train.Scaffold(local_init_op=tf.group(input_ids))\n",
        "SL015", "          return tf.train.Scaffold(local_init_op=tf.group(input_ids))"),
    "electra-hook-fetches-loss": (
        "electra", "run_finetuning.py", "              {} if config.use_tpu else dict(loss=model.loss),\n",
        "              dict(loss=model.loss),\n",
        "SL031", "              dict(loss=model.loss),"),
}
RULES = ("SL005", "SL007", "SL015", "SL031", "SL032")


def _check(tmp_path, tree, rel=None, old=None, new=None):
    root = tmp_path / tree
    shutil.copytree(DATA / tree, root)
    if old is not None:
        path = root / rel
        text = path.read_text()
        assert text.count(old) == 1, f"the injection point moved: {old!r}"
        path.write_text(text.replace(old, new))
    result = engine.check_paths([str(root)], Resolver(overrides={"select": ("ALL",)}))
    assert not result.internal_errors, result.internal_errors
    out = []
    for d in result.diagnostics:
        path = Path(d.path).resolve()
        line = path.read_text().splitlines()[d.line - 1]
        out.append((path.relative_to(root.resolve()).as_posix(), d.code, line))
    return out


@pytest.mark.parametrize("tree", ["tpu", "bert", "electra"])
def test_clean_real_files_have_no_capture_or_outfeed_finding(tmp_path, tree):
    found = [f for f in _check(tmp_path, tree) if f[1] in RULES]
    assert found == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_injected_bug_is_found(tmp_path, case):
    tree, rel, old, new, code, line = CASES[case]
    found = [f for f in _check(tmp_path, tree, rel, old, new) if f[1] in RULES]
    assert found == [(rel, code, line)]
