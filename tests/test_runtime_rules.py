"""Each runtime rule's bad case is reported (code and user line) and its good twin is not.
Real TensorFlow 2.15 on CPU; every case builds a tiny graph through the estimator's own
_call_model_fn (or the TPU call convention for the rules that only apply on the TPU path)."""
import inspect
import functools

import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from runtime_support import (  # noqa: E402
    BATCH, EstimatorSpec, ModeKeys, TPUEstimatorSpec, build, build_on_tpu, dense, train_op_for, v1,
)
from speclint import rulebook  # noqa: E402
from speclint.runtime import context, patching  # noqa: E402

HERE = inspect.getsourcefile(lambda: None)
pytestmark = pytest.mark.filterwarnings("ignore:`tf.layers:UserWarning")


@pytest.fixture
def shim():
    patching.install("collect")
    context.COLLECTOR.clear()
    yield context.COLLECTOR
    patching.uninstall()


def found(fn, *args, **kw):
    """Run a build; return [(code, line)] of what the shim reported (TF's own error tolerated)."""
    context.COLLECTOR.clear()
    try:
        fn(*args, **kw)
    except Exception:  # noqa: BLE001 - TF rejects some bad specs itself; the shim reported first
        pass
    return [(d.code, d.line) for d in context.COLLECTOR.diagnostics()]


def codes(fn, *args, **kw):
    return sorted({c for c, _ in found(fn, *args, **kw)})


def line_of(marker):
    with open(HERE, encoding="utf-8") as fh:
        for i, text in enumerate(fh, 1):
            if marker in text and "line_of(" not in text:
                return i
    raise AssertionError(marker)


def have(code):
    return rulebook.load().lookup(code) is not None


# ---------------------------------------------------------------------------------------------
# host calls
def _eval_fn(eval_metrics=None, host_call=None):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        em = eval_metrics(labels, logits, loss) if eval_metrics else None
        return TPUEstimatorSpec(mode, loss=loss, eval_metrics=em)
    return model_fn


def _acc_metric_fn(labels, logits):
    return {"acc": v1.metrics.accuracy(labels, tf.argmax(logits, 1))}


def test_sl001_pair_form(shim):
    bad = _eval_fn(lambda labels, logits, loss: {"acc": v1.metrics.accuracy(labels, tf.argmax(logits, 1))})
    assert codes(build, bad, "eval") == ["SL001"]
    good = _eval_fn(lambda labels, logits, loss: (_acc_metric_fn, [labels, logits]))
    assert codes(build, good, "eval") == []


def test_sl002_arity_counts_defaults(shim):
    def metric_fn(labels, logits, weights=None):
        return _acc_metric_fn(labels, logits)
    bad = _eval_fn(lambda labels, logits, loss: (metric_fn, [labels, logits]))
    assert codes(build, bad, "eval") == ["SL002"]

    def star_fn(*args):
        return _acc_metric_fn(*args)
    good = _eval_fn(lambda labels, logits, loss: (star_fn, [labels, logits]))
    assert codes(build, good, "eval") == []
    partial = _eval_fn(lambda labels, logits, loss: (functools.partial(metric_fn, weights=None), [labels, logits]))
    assert codes(build, partial, "eval") == []


def test_sl003_dict_keys(shim):
    bad = _eval_fn(lambda labels, logits, loss: (_acc_metric_fn, {"label": labels, "logits": logits}))
    assert codes(build, bad, "eval") == ["SL003"]
    good = _eval_fn(lambda labels, logits, loss: (_acc_metric_fn, {"labels": labels, "logits": logits}))
    assert codes(build, good, "eval") == []

    def kw_fn(**kwargs):
        return _acc_metric_fn(kwargs["labels"], kwargs["logits"])
    tolerant = _eval_fn(lambda labels, logits, loss: (kw_fn, {"labels": labels, "logits": logits, "x": tf.reshape(loss, [1])}))
    assert codes(build, tolerant, "eval") == []


@pytest.mark.skipif(not have("SL004"), reason="SL004 doc not in this build")
def test_sl004_nested_tensors(shim):
    def nested_fn(labels, logits):
        return _acc_metric_fn(labels["y"], logits)
    bad = _eval_fn(lambda labels, logits, loss: (nested_fn, {"labels": {"y": labels}, "logits": logits}))
    assert codes(build, bad, "eval") == ["SL004"]
    good = _eval_fn(lambda labels, logits, loss: (_acc_metric_fn, {"labels": labels, "logits": logits}))
    assert codes(build, good, "eval") == []


def _cross(params, policy):
    return params.get("use" + "_tpu", False) if policy == "guarded" else policy


def _train_fn(host_tensors, host_fn=None, cross_shard=False, summaries=None):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        gs = v1.train.get_global_step()
        if summaries:
            summaries(params, loss)
        train_op = train_op_for(loss, cross_shard=_cross(params, cross_shard))

        def default_host_fn(gs, loss):
            return v1.summary.all_v2_summary_ops()
        hc = (host_fn or default_host_fn, host_tensors(gs, loss)) if host_tensors else None
        return TPUEstimatorSpec(mode, loss=loss, train_op=train_op, host_call=hc)
    return model_fn


def test_sl005_scalar_outfeed_names_the_element(shim):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        global_step = v1.train.get_global_step()

        def host_fn(gs, loss_t, loss):
            return []
        host_call = (host_fn, [global_step, tf.reshape(loss, [1]),
                               loss])  # SL005-HERE
        return TPUEstimatorSpec(mode, loss=loss, train_op=train_op_for(loss), host_call=host_call)
    got = found(build, model_fn, "train")
    assert got == [("SL005", line_of("host_call = (host_fn, [global_step")),
                   ("SL005", line_of("# SL005-HERE"))]
    msgs = [d.message for d in context.COLLECTOR.diagnostics()]
    assert "tensor[0] `global_step`" in msgs[0] and "tensor[2] `loss`" in msgs[1]
    good = _train_fn(lambda gs, loss: [tf.reshape(gs, [1]), tf.reshape(loss, [1])])
    assert codes(build, good, "train") == []
    tiled = _train_fn(lambda gs, loss: [tf.reshape(gs, [1]), tf.tile(tf.expand_dims(loss, 0), [BATCH])])
    assert codes(build, tiled, "train") == []


def test_sl005_not_on_cpu_only_spec(shim):
    """A TPUEstimatorSpec converted by the model_fn itself for CPU is not a TPU spec."""
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        spec = TPUEstimatorSpec(mode, loss=loss, train_op=train_op_for(loss),
                                host_call=(lambda l: [], [loss]))
        return spec.as_estimator_spec()
    assert codes(build, model_fn, "train", kind="plain") == []


@pytest.mark.skipif(not have("SL006"), reason="SL006 doc not in this build")
def test_sl006_non_batch_major(shim):
    def vec_fn(counts):
        return {"m": v1.metrics.mean(counts)}
    bad = _eval_fn(lambda labels, logits, loss: (vec_fn, [tf.reduce_sum(tf.one_hot(labels, 3), 0)]))
    assert codes(build, bad, "eval") == ["SL006"]
    good = _eval_fn(lambda labels, logits, loss: (vec_fn, [tf.one_hot(labels, 3)]))
    assert codes(build, good, "eval") == []


def test_sl007_closure_capture(shim):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        gs = v1.train.get_global_step()

        def metric_fn(labels):
            v1.assign_add(gs, 0)  # a variable: fine
            return {"acc": v1.metrics.accuracy(labels, tf.argmax(logits, 1))}  # SL007-HERE
        return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels]))
    assert found(build, model_fn, "eval") == [("SL007", line_of("# SL007-HERE"))]

    def good_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        gs = v1.train.get_global_step()
        names = {"step": gs, "n": 3}

        def metric_fn(labels, logits):
            _ = names  # captures a dict of a Variable and a number: fine
            return {"acc": v1.metrics.accuracy(labels, tf.argmax(logits, 1))}
        return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels, logits]))
    assert codes(build, good_fn, "eval") == []


def test_sl007_partial_bound_tensor(shim):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        fn = functools.partial(lambda labels, logits: _acc_metric_fn(labels, logits), logits=logits)
        return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(fn, [labels]))
    assert codes(build, model_fn, "eval") == ["SL007"]


@pytest.mark.skipif(not have("SL008"), reason="SL008 doc not in this build")
def test_sl008_metric_fn_return(shim):
    def value_fn(labels, logits):
        return {"acc": v1.metrics.accuracy(labels, tf.argmax(logits, 1))[0]}
    bad = _eval_fn(lambda labels, logits, loss: (value_fn, [labels, logits]))
    assert "SL008" in codes(build, bad, "eval")
    good = _eval_fn(lambda labels, logits, loss: (_acc_metric_fn, [labels, logits]))
    assert codes(build, good, "eval") == []


@pytest.mark.skipif(not have("SL009"), reason="SL009 doc not in this build")
def test_sl009_reserved_metric_name(shim):
    def loss_fn(loss):
        return {"loss": v1.metrics.mean(loss)}
    bad = _eval_fn(lambda labels, logits, loss: (loss_fn, [tf.reshape(loss, [1])]))
    assert codes(build, bad, "eval") == ["SL009"]

    def eval_loss_fn(loss):
        return {"eval_loss": v1.metrics.mean(loss)}
    good = _eval_fn(lambda labels, logits, loss: (eval_loss_fn, [tf.reshape(loss, [1])]))
    assert codes(build, good, "eval") == []


@pytest.mark.skipif(not have("SL010"), reason="SL010 doc not in this build")
def test_sl010_v1_summary_in_host_call(shim):
    def v1_host(gs, loss):
        v1.summary.scalar("loss", loss[0])
        return []
    bad = _train_fn(lambda gs, loss: [tf.reshape(gs, [1]), tf.reshape(loss, [1])], host_fn=v1_host)
    assert codes(build, bad, "train") == ["SL010"]

    def v2_host(gs, loss):
        with tf.summary.create_file_writer("/tmp/speclint-rt-summaries").as_default():
            tf.summary.scalar("loss", loss[0], step=gs[0])
        return v1.summary.all_v2_summary_ops()
    good = _train_fn(lambda gs, loss: [tf.reshape(gs, [1]), tf.reshape(loss, [1])], host_fn=v2_host)
    assert codes(build, good, "train") == []


@pytest.mark.skipif(not have("SL011"), reason="SL011 doc not in this build")
def test_sl011_host_call_returns_none(shim):
    def none_host(gs, loss):
        tf.reduce_mean(loss)
    bad = _train_fn(lambda gs, loss: [tf.reshape(gs, [1]), tf.reshape(loss, [1])], host_fn=none_host)
    assert codes(build, bad, "train") == ["SL011"]


@pytest.mark.skipif(not have("SL012"), reason="SL012 doc not in this build")
def test_sl012_summary_in_tpu_model_fn(shim):
    def summarize(params, loss):
        if not params["use_tpu"]:
            v1.summary.scalar("guarded", loss)
    good = _train_fn(None, summaries=summarize, cross_shard="guarded")
    assert codes(build_on_tpu, good, "train") == []

    def bad_summarize(params, loss):
        v1.summary.scalar("my_loss", loss)  # SL012-HERE
    bad = _train_fn(None, summaries=bad_summarize, cross_shard="guarded")
    assert found(build_on_tpu, bad, "train") == [("SL012", line_of("# SL012-HERE"))]
    # the same model_fn on CPU (use_tpu=False) is fine
    assert codes(build, bad, "train") == []


# ---------------------------------------------------------------------------------------------
# scaffold
def test_sl013_scaffold_kinds(shim):
    def make(spec_kind):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            def tpu_scaffold():
                return v1.train.Scaffold()
            if spec_kind == "estimator_fn":
                return EstimatorSpec(mode, predictions={"l": logits}, scaffold=tpu_scaffold)
            if spec_kind == "estimator_ok":
                return EstimatorSpec(mode, predictions={"l": logits}, scaffold=tpu_scaffold())
            if spec_kind == "tpu_instance":
                return TPUEstimatorSpec(mode, predictions={"l": logits}, scaffold_fn=v1.train.Scaffold())
            return TPUEstimatorSpec(mode, predictions={"l": logits}, scaffold_fn=tpu_scaffold)
        return model_fn
    assert codes(build, make("estimator_fn"), "predict", kind="plain") == ["SL013"]
    assert codes(build, make("estimator_ok"), "predict", kind="plain") == []
    assert codes(build, make("tpu_instance"), "predict") == ["SL013"]
    assert codes(build, make("tpu_ok"), "predict") == []


@pytest.mark.skipif(not have("SL014"), reason="SL014 doc not in this build")
def test_sl014_scaffold_fn_returns_none(shim):
    def make(ret):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            def scaffold_fn():
                if ret:
                    return v1.train.Scaffold()
            return TPUEstimatorSpec(mode, predictions={"l": logits}, scaffold_fn=scaffold_fn)
        return model_fn
    assert codes(build, make(False), "predict") == ["SL014"]
    assert codes(build, make(True), "predict") == []


def test_sl015_scaffold_fn_captures_tensor(shim):
    def make(bad):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            variables = {v.op.name: v for v in v1.global_variables()}

            def bad_scaffold_fn():
                init = tf.group(tf.reduce_mean(logits))  # SL015-HERE
                return v1.train.Scaffold(local_init_op=init)

            def scaffold_fn():  # captures a dict of variables and a checkpoint path: fine
                v1.train.init_from_checkpoint(ckpt, {k: k for k in variables if False})
                return v1.train.Scaffold(saver=v1.train.Saver(variables))
            ckpt = "/nonexistent/ckpt"
            return TPUEstimatorSpec(mode, predictions={"l": logits},
                                    scaffold_fn=bad_scaffold_fn if bad else scaffold_fn)
        return model_fn
    assert found(build, make(True), "predict") == [("SL015", line_of("# SL015-HERE"))]
    assert codes(build, make(False), "predict") == []


# ---------------------------------------------------------------------------------------------
# fields
def test_sl018_unknown_keyword(shim):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        return EstimatorSpec(mode, prediction={"l": logits})  # noqa
    assert codes(build, model_fn, "predict", kind="plain") == ["SL018"]


def test_sl019_missing_field(shim):
    def make(with_loss):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            m = {"acc": v1.metrics.accuracy(labels, tf.argmax(logits, 1))}
            if with_loss:
                return EstimatorSpec(mode, loss=loss, eval_metric_ops=m)
            return EstimatorSpec(mode, eval_metric_ops=m)
        return model_fn
    assert codes(build, make(False), "eval", kind="plain") == ["SL019"]
    assert codes(build, make(True), "eval", kind="plain") == []


def test_sl020_loss_not_scalar(shim):
    def make(reduce):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            loss = tf.reduce_mean(per_example) if reduce else per_example
            return EstimatorSpec(mode, loss=loss, train_op=train_op_for(tf.reduce_mean(per_example)))
        return model_fn
    assert codes(build, make(False), "train", kind="plain") == ["SL020"]
    assert codes(build, make(True), "train", kind="plain") == []


@pytest.mark.skipif(not have("SL021"), reason="SL021 doc not in this build")
def test_sl021_loss_type(shim):
    def make(kind):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            op = train_op_for(loss, cross_shard=params.get("use_tpu", False))
            if kind == "number":
                return TPUEstimatorSpec(mode, loss=1.0, train_op=op)
            if kind == "bf16":
                return TPUEstimatorSpec(mode, loss=tf.cast(loss, tf.bfloat16), train_op=op)
            if kind == "bf16_cpu_only" and not params["use_tpu"]:
                return TPUEstimatorSpec(mode, loss=tf.cast(loss, tf.bfloat16), train_op=op)
            return TPUEstimatorSpec(mode, loss=loss, train_op=op)
        return model_fn
    assert codes(build, make("number"), "train") == ["SL021"]
    assert codes(build_on_tpu, make("bf16"), "train") == ["SL021"]
    # a CPU run (use_tpu=False) reports what the TPU path builds, and not what only the CPU builds
    assert codes(build, make("bf16"), "train") == ["SL021"]
    assert codes(build, make("bf16_cpu_only"), "train") == []
    assert codes(build_on_tpu, make("ok"), "train") == []


@pytest.mark.skipif(not have("SL022"), reason="SL022 doc not in this build")
def test_sl022_train_op_type(shim):
    def make(kind):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            op = train_op_for(loss)
            if kind == "list":
                return EstimatorSpec(mode, loss=loss, train_op=[op, tf.no_op()])
            if kind == "variable":
                return EstimatorSpec(mode, loss=loss, train_op=v1.train.get_global_step())
            return EstimatorSpec(mode, loss=loss, train_op=tf.group(op, tf.no_op()))
        return model_fn
    assert codes(build, make("list"), "train", kind="plain") == ["SL022"]
    assert "SL022" in codes(build, make("variable"), "train", kind="plain")
    assert codes(build, make("group"), "train", kind="plain") == []


@pytest.mark.skipif(not have("SL023"), reason="SL023 doc not in this build")
def test_sl023_global_step_not_incremented(shim):
    def make(kind):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            opt = v1.train.GradientDescentOptimizer(0.1)
            if kind == "bare":
                op = opt.minimize(loss)
            elif kind == "bert":  # BERT's optimizer: increments the step itself
                gs = v1.train.get_global_step()
                op = tf.group(opt.minimize(loss), [gs.assign(gs + 1)])
            else:
                op = opt.minimize(loss, global_step=v1.train.get_global_step())
            return EstimatorSpec(mode, loss=loss, train_op=op)
        return model_fn
    assert codes(build, make("bare"), "train", kind="plain") == ["SL023"]
    assert codes(build, make("bert"), "train", kind="plain") == []
    assert codes(build, make("ok"), "train", kind="plain") == []


# ---------------------------------------------------------------------------------------------
# pairing and modes
@pytest.mark.skipif(not have("SL033"), reason="SL033 doc not in this build")
def test_sl033_tpu_spec_with_plain_estimator(shim):
    def make(convert):
        def model_fn(features, labels, mode, params):
            spec = TPUEstimatorSpec(mode, predictions={"l": dense(features)})
            return spec.as_estimator_spec() if convert else spec
        return model_fn
    assert codes(build, make(False), "predict", kind="plain") == ["SL033"]
    assert codes(build, make(True), "predict", kind="plain") == []


@pytest.mark.skipif(not have("SL034"), reason="SL034 doc not in this build")
def test_sl034_estimator_spec_on_tpu(shim):
    def make(cls):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            return cls(mode, loss=loss)
        return model_fn
    assert codes(build_on_tpu, make(EstimatorSpec), "eval") == ["SL034"]
    assert codes(build_on_tpu, make(TPUEstimatorSpec), "eval") == []
    assert codes(build, make(EstimatorSpec), "eval") == []  # CPU: fine


@pytest.mark.skipif(not have("SL035"), reason="SL035 doc not in this build")
def test_sl035_replace_host_calls(shim):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        spec = TPUEstimatorSpec(mode, loss=loss)
        return spec._replace(eval_metrics=(_acc_metric_fn, [labels, logits]))
    assert "SL035" in codes(build, model_fn, "eval")


@pytest.mark.skipif(not have("SL036"), reason="SL036 doc not in this build")
def test_sl036_spec_mode_mismatch(shim):
    def make(fixed):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            m = ModeKeys.TRAIN if fixed else mode
            return EstimatorSpec(m, loss=loss, train_op=train_op_for(loss), predictions={"l": logits})
        return model_fn
    assert codes(build, make(True), "eval", kind="plain") == ["SL036"]
    assert codes(build, make(False), "eval", kind="plain") == []


@pytest.mark.skipif(not have("SL043"), reason="SL043 doc not in this build")
def test_sl043_cross_shard_optimizer(shim):
    def make(policy):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            cross = {"always": True, "never": False, "guarded": params["use_tpu"]}[policy]
            return TPUEstimatorSpec(mode, loss=loss, train_op=train_op_for(loss, cross_shard=cross))
        return model_fn
    assert codes(build_on_tpu, make("never"), "train") == ["SL043"]
    assert codes(build_on_tpu, make("guarded"), "train") == []
    assert codes(build, make("always"), "train") == ["SL043"]
    assert codes(build, make("guarded"), "train") == []


def test_sl017_scaffold_ignored_on_tpu(shim):
    def make(with_saver):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            scaffold = v1.train.Scaffold(saver=v1.train.Saver()) if with_saver else None
            return EstimatorSpec(mode, loss=loss, train_op=train_op_for(loss, cross_shard=True),
                                 scaffold=scaffold)
        return model_fn
    assert codes(build_on_tpu, make(True), "train") == ["SL017"]
    assert codes(build_on_tpu, make(False), "train") == []


def _predict_fn(predictions, mode_key=None, **extra):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        return TPUEstimatorSpec(mode, predictions=predictions(logits), **{k: v(logits) for k, v in extra.items()})
    return model_fn


def test_sl024_predictions_structure(shim):
    assert codes(build, _predict_fn(lambda l: [l]), "predict") == ["SL024"]
    assert codes(build, _predict_fn(lambda l: {"head": {"probs": l}}), "predict") == ["SL024"]
    assert codes(build, _predict_fn(lambda l: {"head/probs": l}), "predict") == []
    assert codes(build, _predict_fn(lambda l: l), "predict", kind="tpu") != ["SL024"]


def test_sl025_predictions_scalar(shim):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        return EstimatorSpec(mode, predictions={"l": logits, "mean": tf.reduce_mean(logits)})
    assert codes(build, model_fn, "predict", kind="plain") == ["SL025"]

    def good(features, labels, mode, params):
        return EstimatorSpec(mode, predictions={"l": dense(features)})
    assert codes(build, good, "predict", kind="plain") == []


def test_sl026_tpu_predictions_contract(shim):
    assert codes(build, _predict_fn(lambda l: l), "predict") == ["SL026"]
    assert codes(build, _predict_fn(lambda l: {"m": tf.reduce_mean(l)}), "predict") == ["SL026"]
    assert codes(build, _predict_fn(lambda l: {"sel": tf.boolean_mask(l, l[:, 0] > 0)}), "predict") == ["SL026"]
    assert codes(build, _predict_fn(lambda l: {"l": l}), "predict") == []


def test_sl027_eval_metric_ops(shim):
    def make(kind):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            pred = tf.argmax(logits, 1)
            if kind == "value":
                m = {"acc": v1.metrics.accuracy(labels, pred)[0]}
            elif kind == "keras":
                metric = tf.keras.metrics.Accuracy()
                metric.update_state(labels, pred)
                m = {"acc": metric}
            else:
                m = {"acc": v1.metrics.accuracy(labels, pred)}
            return EstimatorSpec(mode, loss=loss, eval_metric_ops=m)
        return model_fn
    assert codes(build, make("value"), "eval", kind="plain") == ["SL027"]
    assert codes(build, make("keras"), "eval", kind="plain") == []
    assert codes(build, make("tuple"), "eval", kind="plain") == []


def test_sl028_export_outputs(shim):
    def make(kind):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            out = tf.estimator.export.PredictOutput({"l": logits})
            eo = {"a": out, "b": out} if kind == "no_default" else {"serving_default": out, "b": out}
            return EstimatorSpec(mode, loss=loss, train_op=train_op_for(loss), export_outputs=eo)
        return model_fn
    # TRAIN: TF accepts it silently; the shim reports it before predict()/export fails
    assert codes(build, make("no_default"), "train", kind="plain") == ["SL028"]
    assert codes(build, make("ok"), "train", kind="plain") == []


def test_sl030_hooks(shim):
    def make(kind):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            hook = v1.train.StopAtStepHook(last_step=10)
            hooks = hook if kind == "single" else [hook]
            return EstimatorSpec(mode, loss=loss, train_op=train_op_for(loss), training_hooks=hooks)
        return model_fn
    assert codes(build, make("single"), "train", kind="plain") == ["SL030"]
    assert codes(build, make("list"), "train", kind="plain") == []


def test_sl031_tpu_hooks_capture_tensors(shim):
    def make(guard):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            hooks = [] if (guard and params["use_tpu"]) else [
                v1.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)]
            return TPUEstimatorSpec(mode, loss=loss, train_op=train_op_for(loss, cross_shard=params["use_tpu"]),
                                    training_hooks=hooks)
        return model_fn
    assert codes(build_on_tpu, make(False), "train") == ["SL031"]
    assert codes(build_on_tpu, make(True), "train") == []
    # a CPU run reports the hook the TPU path builds, not one only the CPU path builds
    assert codes(build, make(False), "train") == ["SL031"]
    assert codes(build, make(True), "train") == []


def test_sl032_tensor_from_other_graph(shim):
    other = tf.Graph()
    with other.as_default():
        zero = tf.constant(0.0)

    def model_fn(features, labels, mode, params):
        logits = dense(features)
        return EstimatorSpec(mode, loss=zero, train_op=train_op_for(tf.reduce_mean(logits)))
    assert "SL032" in codes(build, model_fn, "train", kind="plain")


def test_sl038_model_fn_returns_none(shim):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions={"l": logits})
    assert codes(build, model_fn, "eval", kind="plain") == ["SL038"]
    assert codes(build, model_fn, "predict", kind="plain") == []


def test_sl040_model_fn_signature(shim):
    def bad(features, labels, mode, hparams):
        return None

    def good(features, labels, mode, params, config):
        return None
    from runtime_support import estimator
    assert codes(estimator, bad, "plain") == ["SL040"]
    assert codes(estimator, good, "plain", params={"a": 1}) == []


def test_sl041_params_batch_size(shim):
    def model_fn(features, labels, mode, params):
        n = params["batch_size"]
        return EstimatorSpec(mode, predictions={"l": tf.reshape(dense(features), [n, 2])})
    assert codes(build, model_fn, "predict", kind="plain", params={"lr": 1}) == ["SL041"]
    assert codes(build, model_fn, "predict", kind="plain", params={"batch_size": 4}) == []


def test_sl029_export_signature_silently_excluded(shim, tmp_path):
    def make(kind):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            probs = tf.nn.softmax(logits)
            out = (tf.estimator.export.ClassificationOutput(scores=probs) if kind == "classification"
                   else tf.estimator.export.PredictOutput({"probs": probs}))
            return EstimatorSpec(mode, predictions={"probs": probs},
                                 export_outputs={"serving_default": out})  # SL029-HERE
        return model_fn

    def export(kind):
        from runtime_support import estimator
        est = estimator(make(kind), "plain")
        receiver = tf.estimator.export.build_raw_serving_input_receiver_fn(
            {"x": tf.ones([1, 3])})
        return est.export_saved_model(str(tmp_path / kind), receiver,
                                      checkpoint_path=_checkpoint(tmp_path / f"ckpt-{kind}", make(kind)))
    assert found(export, "classification") == [("SL029", line_of("# SL029-HERE"))]
    assert codes(export, "predict") == []


def _checkpoint(directory, model_fn):
    """A checkpoint for model_fn's variables, written without training."""
    directory.mkdir()
    with tf.Graph().as_default():
        v1.train.create_global_step()
        model_fn({"x": v1.placeholder(tf.float32, [None, 3])}, None, ModeKeys.PREDICT, None)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            return v1.train.Saver().save(sess, str(directory / "model.ckpt"))


def test_sl007_captured_labels_argument(shim):
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)

        def metric_fn(logits):
            return {"acc": v1.metrics.accuracy(labels, tf.argmax(logits, 1))}
        return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [logits]))
    assert codes(build, model_fn, "eval") == ["SL007"]


def test_variables_are_tensors_where_tf_accepts_them(shim):
    def model_fn(features, labels, mode, params):
        w = v1.get_variable("w", [4], initializer=v1.zeros_initializer())
        return EstimatorSpec(mode, predictions={"l": dense(features), "w": w})
    assert "SL024" not in codes(build, model_fn, "predict", kind="plain")


def test_tpu_rules_skip_cpu_specs_of_a_model_fn_that_reads_a_tpu_flag(shim):
    """A TPUEstimatorSpec built only off TPU (`if params["use_tpu"]: ... else: ...`) is not held to
    the TPU contract on the CPU path; its unguarded twin is."""
    def guarded(features, labels, mode, params):
        logits = dense(features)
        if params["use_tpu"]:
            return TPUEstimatorSpec(mode, predictions={"logits": logits})
        return TPUEstimatorSpec(mode, predictions=logits)

    def unguarded(features, labels, mode, params):
        return TPUEstimatorSpec(mode, predictions=dense(features))
    assert codes(build, guarded, "predict") == []
    assert codes(build, unguarded, "predict") == ["SL026"]
    assert codes(build_on_tpu, unguarded, "predict") == ["SL026"]
