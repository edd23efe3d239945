"""The TPU path on a CPU run (speclint/runtime/tpupath.py): a model_fn that decides TPU-ness from
its own flag is checked on what its TPU branch builds, by default, and never on its CPU branch.
Real TensorFlow; each idiom of the six public programs of issue 11 (params["use_tpu"], absl
FLAGS.use_tpu, a use_tpu closure variable, config.use_tpu, self.use_tpu)."""
import random
import types

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from runtime_support import TPUEstimatorSpec, build, dense, tf, train_op_for, v1  # noqa: E402
from runtime_support import shim  # noqa: E402,F401 - the fixture

from speclint.runtime import context, patching, simulate  # noqa: E402



def codes(*args, **kw):
    context.COLLECTOR.clear()
    try:
        build(*args, **kw)
    except Exception:  # noqa: BLE001 - TF's own error after the shim reported
        pass
    return sorted({d.code for d in context.COLLECTOR.diagnostics()})


def _metric_fn(labels, logits):
    return {"acc": v1.metrics.accuracy(labels, tf.argmax(logits, -1))}


def _metric_fn_with_loss(loss, labels, logits):
    return {"acc": v1.metrics.accuracy(labels, tf.argmax(logits, -1)), "l": v1.metrics.mean(loss)}


def _eval_spec(scalar_here, features, labels, mode):
    """eval_metrics with a scalar (SL005) when `scalar_here`."""
    logits = dense(features)
    loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
    if scalar_here:
        return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(_metric_fn_with_loss, [loss, labels, logits]))
    return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(_metric_fn, [labels, logits]))


def _eval_model_fn(tpu_branch_bug):
    """params["use_tpu"]: the scalar on the TPU branch (True) or on the CPU branch only (False)."""
    def model_fn(features, labels, mode, params):
        return _eval_spec(params["use_tpu"] == tpu_branch_bug, features, labels, mode)
    return model_fn


def test_params_use_tpu_idiom_the_issue_minimal_case(shim):
    """`if params['use_tpu']: CrossShardOptimizer` + a scalar loss in eval_metrics, run by
    TPUEstimator(use_tpu=False): reported by default (it was silent)."""
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        op = train_op_for(loss, cross_shard=params["use_tpu"])
        if mode == tf.estimator.ModeKeys.TRAIN:
            return TPUEstimatorSpec(mode, loss=loss, train_op=op)
        return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(
            lambda loss, labels, logits: {"m": v1.metrics.mean(loss)}, [loss, labels, logits]))
    assert codes(model_fn, "eval") == ["SL005"]
    assert codes(model_fn, "train") == []
    with patching.shim("collect", target="cpu"):  # --target cpu still turns TPU-only rules off
        assert codes(model_fn, "eval") == []


def test_cpu_only_branch_gets_nothing(shim):
    assert codes(_eval_model_fn(False), "eval") == []
    assert codes(_eval_model_fn(True), "eval") == ["SL005"]


def test_closure_variable_idiom(shim):
    def builder(use_tpu, tpu_branch_bug):  # BERT's model_fn_builder(..., use_tpu)
        def model_fn(features, labels, mode, params):
            return _eval_spec(use_tpu == tpu_branch_bug, features, labels, mode)
        return model_fn
    fn = builder(False, True)
    assert codes(fn, "eval") == ["SL005"]
    cells = dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__)))
    assert cells["use_tpu"] is False  # the program's own value, restored
    assert codes(builder(False, False), "eval") == []


def test_config_and_self_attribute_idioms(shim):
    config = types.SimpleNamespace(use_tpu=False)  # ELECTRA's config.use_tpu

    def make(cfg, tpu_branch_bug):
        def model_fn(features, labels, mode, params):
            return _eval_spec(cfg.use_tpu == tpu_branch_bug, features, labels, mode)
        return model_fn
    assert codes(make(config, True), "eval") == ["SL005"]
    assert config.use_tpu is False
    assert codes(make(config, False), "eval") == []

    class Model:  # self.use_tpu, a bound method as model_fn
        def __init__(self):
            self.use_tpu = False

        def model_fn(self, features, labels, mode, params):
            return _eval_spec(self.use_tpu, features, labels, mode)
    m = Model()
    assert codes(m.model_fn, "eval") == ["SL005"]
    assert m.use_tpu is False


def test_absl_flag_idiom_is_set_and_restored_exactly(shim):
    from absl import flags
    fv = flags.FlagValues()
    flags.DEFINE_bool("use_tpu", False, "", flag_values=fv)
    fv(["prog"])
    FLAGS = fv  # noqa: N806 - as programs spell it

    def model_fn(features, labels, mode, params):
        return _eval_spec(FLAGS.use_tpu, features, labels, mode)
    assert codes(model_fn, "eval") == ["SL005"]
    assert FLAGS.use_tpu is False and FLAGS["use_tpu"].using_default_value and not FLAGS["use_tpu"].present


def test_shadow_call_leaves_random_state_and_the_spec_tf_converts_alone(shim):
    """The shadow build consumes no Python/NumPy random draws (Keras initialisers seed from them)
    and does not replace TF's class-level `_host_calls` that as_estimator_spec() reads."""
    fn = _eval_model_fn(True)
    context.SETTINGS.target = "cpu"  # the same build without the shadow call
    try:
        random.seed(3)
        np.random.seed(3)
        assert codes(fn, "eval") == []
        expected = (random.random(), np.random.rand())
    finally:
        context.SETTINGS.target = "auto"
    random.seed(3)
    np.random.seed(3)
    assert codes(fn, "eval") == ["SL005"]
    assert (random.random(), np.random.rand()) == expected


def test_estimator_with_eval_on_tpu_false_is_not_held_to_tpu_eval(shim):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        op = train_op_for(loss, cross_shard=params["use_tpu"])
        if mode == tf.estimator.ModeKeys.EVAL:  # COCO-style metrics on CPU
            return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={"m": v1.metrics.mean(loss)})
        return TPUEstimatorSpec(mode, loss=loss, train_op=op)
    assert codes(model_fn, "eval", eval_on_tpu=False) == []
    assert codes(model_fn, "eval") == ["SL034"]


def test_tpu_estimator_constructor_reserved_params_key_at_runtime(shim, tmp_path):
    def model_fn(features, labels, mode, params):
        return None
    context.COLLECTOR.clear()
    with pytest.raises(ValueError):
        v1.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=False, train_batch_size=4,
                                      params={"batch_size": 4},
                                      config=v1.estimator.tpu.RunConfig(model_dir=str(tmp_path)))
    assert [d.code for d in context.COLLECTOR.diagnostics()] == ["SL040"]


# ---------------------------------------------------------------------------------------------
# The simulation sets the same flags: never a CPU branch reported as TPU code
def _input_fn(params):
    x = np.ones((64, 3), np.float32)
    y = np.zeros((64,), np.int32)
    return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).repeat().batch(params["batch_size"], drop_remainder=True)


def test_simulation_builds_the_programs_tpu_branch():
    use_tpu = False

    def cpu_only_bug(features, labels, mode, params):  # the scalar only on the CPU branch
        return _eval_spec(not use_tpu, features, labels, mode)

    def tpu_bug(features, labels, mode, params):  # the scalar only on the TPU branch
        return _eval_spec(use_tpu, features, labels, mode)
    clean = simulate.simulate_tpu(cpu_only_bug, _input_fn, modes=("eval",))
    assert clean.built and list(clean) == [], [d.message[:200] for d in clean]
    found = simulate.simulate_tpu(tpu_bug, _input_fn, modes=("eval",))
    assert "SL005" in found.codes
    assert use_tpu is False


def test_simulation_uses_the_programs_drop_remainder_decision():
    """BERT: `eval_drop_remainder = True if FLAGS.use_tpu else False` is computed before the
    input_fn; on TPU it is True. A literal missing drop_remainder stays a dynamic batch."""
    def input_fn_builder(drop_remainder):
        def input_fn(params):
            x = np.ones((64, 3), np.float32)
            y = np.zeros((64,), np.int32)
            ds = tf.data.Dataset.from_tensor_slices(({"x": x}, y)).repeat()
            return ds.batch(params["batch_size"], drop_remainder=drop_remainder)
        return input_fn
    fn = _eval_model_fn(False)
    ok = simulate.simulate_tpu(fn, input_fn_builder(False), modes=("eval",))
    assert ok.built, ok.outcomes

    def literal_dynamic(params):
        x = np.ones((64, 3), np.float32)
        y = np.zeros((64,), np.int32)
        return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).repeat().batch(params["batch_size"])
    bad = simulate.simulate_tpu(fn, literal_dynamic, modes=("eval",))
    assert not bad.built


def test_calls_a_tpu_run_never_makes_get_no_shadow_and_say_why(shim):
    """SparseTensor features (the TPU infeed is dense) and non-dict params (TPUEstimator's TPU path
    assigns params["batch_size"]): no shadow call, no diagnostic, the reason in SKIPPED."""
    from speclint.runtime import tpupath

    def sparse_model_fn(features, labels, mode, params):
        dense_ids = tf.sparse.to_dense(features["ids"])
        logits = v1.layers.dense(tf.cast(dense_ids, tf.float32), 2)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        # the scalar would be SL005 on a TPU path, which this call cannot have
        return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(_metric_fn_with_loss, [loss, labels, logits])) \
            if params["use_tpu"] else TPUEstimatorSpec(mode, loss=loss)

    def features():
        return {"x": tf.ones([4, 3]), "ids": tf.sparse.SparseTensor([[0, 0], [3, 2]], [1, 2], [4, 3])}
    tpupath.SKIPPED.clear()
    assert codes(sparse_model_fn, "eval", features=features) == []
    assert tpupath.SKIPPED == ["sparse_model_fn: a SparseTensor feature: a TPU model_fn never gets one"]

    class HParams:
        use_tpu = False
        batch_size = 4

    def hparams_model_fn(features, labels, mode, params):
        if params.use_tpu:
            return _eval_spec(True, features, labels, mode)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, dense(features))
        return tf.estimator.EstimatorSpec(mode, loss=loss)
    tpupath.SKIPPED.clear()
    assert codes(hparams_model_fn, "eval", kind="plain", params=HParams()) == []
    assert tpupath.SKIPPED == ["hparams_model_fn: params is a HParams, not a dict: TPUEstimator's TPU path "
                               "gives its model_fn a dict"]
