"""Parity (issue 4, item 7): every fixture that can run under TF 2.15 on CPU is executed under
the shim (each model_fn, in each mode, through the estimator's own _call_model_fn), and the
runtime engine must report the same rule codes as the static engine on it.  Where one engine
cannot see a rule, the table below says so, per fixture and rule, with the reason; an entry that
no longer applies fails the test, so the table cannot go stale.  Fixtures that cannot run are
listed with the reason.  (The TPU-graph half, simulate_tpu on TPU-targeted fixtures, is the TPU
simulation's test.)"""
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
tf = pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from expect import actual  # noqa: E402
from runtime_support import build, v1  # noqa: E402
from speclint.runtime import context, patching  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

NOT_RUNNABLE = {
    "albert_classifier_buggy.py": "imports google-research/albert's `albert_modeling` and `optimization` and tf.contrib (TF 1.x only)",
    "bert_multilabel_gpu_port.py": "imports google-research/bert's `modeling` and `optimization`",
    "bert_run_classifier.py": "imports google-research/bert's `modeling` and `optimization`",
    "electra_pretraining.py": "imports ELECTRA's `model` and `util` packages",
    "od_model_lib.py": "imports the Object Detection API (`object_detection`)",
    "resnet_main.py": "imports tensorflow/tpu's `resnet_model`",
    "resnet_main_buggy.py": "imports `resnet_model` and tf.contrib (TF 1.x only)",
    "t2t_style_model.py": "needs tf.contrib.summary / tensor2tensor hparams (TF 1.x only)",
}


@dataclass
class Run:
    model_fn: str  # attribute of the fixture module, or "name(args)" evaluated in it
    kind: str  # "tpu" (TPUEstimator(use_tpu=False)) | "plain" (Estimator)
    params: dict
    features: object  # () -> features
    labels: object  # () -> labels
    modes: tuple = ("train", "eval", "predict")


@dataclass
class Fixture:
    runs: list
    setup: object = None
    static_only: dict = field(default_factory=dict)  # code -> why the runtime cannot see it here
    runtime_only: dict = field(default_factory=dict)  # code -> why the static engine cannot


def _xy(n_feat=3):
    return lambda: {"x": tf.ones([4, n_feat])}, lambda: tf.zeros([4], tf.int32)


def _tabular():
    cols = [tf.feature_column.numeric_column("x", shape=[3])]
    p = {"hidden_units": [4], "learning_rate": 0.1, "feature_columns": cols}
    feats = lambda: {"x": tf.ones([4, 3])}  # noqa: E731
    return [Run("ctr_model_fn", "tpu", p, feats, lambda: tf.zeros([4], tf.int32)),
            Run("ranking_model_fn", "tpu", p, feats, lambda: tf.zeros([4], tf.float32)),
            Run("regressor_model_fn", "plain", p, feats, lambda: tf.zeros([4], tf.float32))]


def _spec_helpers():
    p = {"num_classes": 3, "learning_rate": 0.1, "model_dir": "/tmp/speclint-parity", "eval_batch_size": 4}
    feats = lambda: {"images": tf.ones([4, 32, 32, 3]), "source_ids": tf.range(4)}  # noqa: E731
    labels = lambda: tf.zeros([4], tf.int32)  # noqa: E731
    return [Run("detection_model_fn", "tpu", p, feats, labels),
            Run("cpu_model_fn", "plain", dict(p, use_tpu=False), feats, labels)]


def _mnist_setup(mod):
    flags = mod.flags
    for name, value in (("learning_rate", 0.01), ("model_dir", "/tmp/speclint-parity"), ("report_top5", False)):
        if name not in flags.FLAGS:
            {float: flags.DEFINE_float, str: flags.DEFINE_string, bool: flags.DEFINE_bool}[type(value)](name, value, "")
    if not flags.FLAGS.is_parsed():
        flags.FLAGS(["parity"])


def _mnist():
    feats = lambda: {"image": tf.ones([4, 784])}  # noqa: E731
    labels = lambda: tf.zeros([4], tf.int32)  # noqa: E731
    return [Run("functools.partial(_model_fn, data_format='channels_last', num_classes=10)", "tpu", {}, feats, labels),
            Run("_fashion_model_fn", "tpu", {}, feats, labels),
            Run("cpu_model_fn", "plain", None, feats, labels)]


def _joint_nlu():
    p = {"vocab_size": 20, "emb_dim": 4, "hidden": 4, "learning_rate": 0.1}
    feats = lambda: {"token_ids": tf.zeros([4, 5], tf.int32)}  # noqa: E731
    labels = lambda: {"intent": tf.zeros([4], tf.int32)}  # noqa: E731
    return [Run("intent_model_fn", "tpu", p, feats, labels)]


RUNNABLE = {
    "tabular_models_mixups.py": Fixture(_tabular()),
    "spec_helpers.py": Fixture(_spec_helpers()),
    "mnist_partial_model_fns.py": Fixture(_mnist(), setup=_mnist_setup),
    "joint_nlu_tpu.py": Fixture(_joint_nlu(), static_only={
        "SL001": "in slot_model_fn, which needs tf.contrib.crf (TF 1.x only) and cannot run here",
        "SL015": "in slot_model_fn, which needs tf.contrib.crf (TF 1.x only) and cannot run here",
    }),
}


def test_every_fixture_is_classified():
    names = {p.name for p in FIXTURES.glob("*.py")}
    assert names == set(RUNNABLE) | set(NOT_RUNNABLE)
    assert not set(RUNNABLE) & set(NOT_RUNNABLE)


def _load(name):
    spec = importlib.util.spec_from_file_location(f"parity_{name[:-3]}", FIXTURES / name)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _runtime_codes(name, fixture):
    mod = _load(name)
    if fixture.setup:
        fixture.setup(mod)
    patching.install("collect")
    context.COLLECTOR.clear()
    try:
        for run in fixture.runs:
            fn = eval(run.model_fn, vars(mod))  # noqa: S307 - a name or partial(...) from the table
            for mode in run.modes:
                try:
                    build(fn, mode, kind=run.kind, params=run.params, features=run.features,
                          labels=None if mode == "predict" else run.labels)
                except Exception:  # noqa: BLE001 - TF's own error after the shim reported
                    pass
        return context.COLLECTOR.diagnostics()
    finally:
        patching.uninstall()


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_static_and_runtime_report_the_same_codes(name):
    fixture = RUNNABLE[name]
    source = (FIXTURES / name).read_text(encoding="utf-8")
    _, static = actual(source, name)
    static_codes = {d.code for d in static}
    runtime = _runtime_codes(name, fixture)
    runtime_codes = {d.code for d in runtime if d.path.endswith(name)}
    assert set(fixture.static_only) <= static_codes - runtime_codes, "stale static_only entry"
    assert set(fixture.runtime_only) <= runtime_codes - static_codes, "stale runtime_only entry"
    assert static_codes - set(fixture.static_only) == runtime_codes - set(fixture.runtime_only), (
        [f"{d.line}: {d.code} {d.message[:120]}" for d in runtime], sorted(static_codes))
    # and at the same lines: both engines point at the same construct
    static_sites = {(d.line, d.code) for d in static if d.code not in fixture.static_only}
    runtime_sites = {(d.line, d.code) for d in runtime if d.path.endswith(name)}
    assert static_sites == runtime_sites
    assert all(d.engine == "runtime" for d in runtime)
