"""The shim's mechanics on real TensorFlow: exact signatures, every import path patched and
restored, raise/warn/off, internal errors as warnings, and a correct BERT-style model that trains,
evaluates and predicts identically with and without the shim."""
import functools
import inspect
import importlib
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

import numpy as np  # noqa: E402
from runtime_support import EstimatorSpec, TPUEstimatorSpec, build, dense, v1  # noqa: E402

import speclint.runtime as slr  # noqa: E402
from speclint import apis  # noqa: E402
from speclint.runtime import context, patching, signature, tfapi  # noqa: E402

fn_args = tfapi.load().function_utils.fn_args


# ---------------------------------------------------------------------------------------------
# the wrapper's signature is the one Estimator sees
class _Model:
    def model_fn(self, features, labels, mode, params):
        return ("method", features, labels, mode, params)

    def __call__(self, features, mode, config=None):
        return ("object", features, mode, config)


def _f_plain(features, labels, mode, params, config):
    return ("plain", features, labels, mode, params, config)


def _f_defaults(features, labels=None, mode=None, params=None):
    return ("defaults", features, labels, mode, params)


def _f_var(features, mode, *args, k=3, **kwargs):
    return ("var", features, mode, args, k, kwargs)


CALLABLES = [
    _f_plain, _f_defaults, _f_var, _Model().model_fn, _Model(),
    functools.partial(_f_plain, params={"p": 1}), functools.partial(_f_plain, "F"),
    lambda features, labels: ("lambda", features, labels),
]


@pytest.mark.parametrize("fn", CALLABLES, ids=lambda f: getattr(f, "__name__", type(f).__name__))
def test_wrapper_has_the_same_estimator_signature_and_result(fn):
    wrapped = slr.check_model_fn(fn)
    assert wrapped is not fn
    assert fn_args(wrapped) == fn_args(fn) == signature.estimator_args(fn)
    kwargs = {a: a.upper() for a in fn_args(fn)}
    # a call that does not build a spec is passed through unchanged
    assert wrapped(**kwargs) == fn(**kwargs)


def test_wrapper_forwards_only_what_was_passed():
    wrapped = slr.check_model_fn(_f_defaults)
    assert wrapped("x") == _f_defaults("x")
    assert wrapped("x", mode="m") == _f_defaults("x", mode="m")
    assert slr.check_model_fn(_f_var)(1, 2, 3, k=5, z=6) == _f_var(1, 2, 3, k=5, z=6)
    assert inspect.signature(wrapped).parameters["features"].default is inspect.Parameter.empty


# ---------------------------------------------------------------------------------------------
# patching
def _tf_ns():
    return tfapi.load()


def test_every_public_spelling_is_patched_and_restored():
    tfns = _tf_ns()
    originals = {c: dict(c.__dict__) for c in (tfns.Estimator, tfns.TPUEstimator, tfns.EstimatorSpec,
                                                tfns.TPUEstimatorSpec)}
    assert slr.install("warn")
    try:
        for module, attr, api in apis.RUNTIME_PUBLIC_SPELLINGS:
            cls = getattr(importlib.import_module(module), attr)
            if api in (apis.ESTIMATOR, apis.TPU_ESTIMATOR):
                assert getattr(cls.__init__, "__speclint_patch__", False), (module, attr)
            else:
                assert getattr(cls.__new__, "__speclint_patch__", False), (module, attr)
    finally:
        slr.uninstall()
    for cls, before in originals.items():
        for key in ("__init__", "__new__", "as_estimator_spec"):
            assert cls.__dict__.get(key) is before.get(key), (cls, key)
    assert not slr.installed()


def test_install_is_reference_counted_and_the_context_manager_restores():
    tfns = _tf_ns()
    init = tfns.Estimator.__dict__["__init__"]
    with slr.shim("warn"):
        with slr.shim("warn"):
            assert tfns.Estimator.__dict__["__init__"] is not init
        assert tfns.Estimator.__dict__["__init__"] is not init
    assert tfns.Estimator.__dict__["__init__"] is init


def test_estimators_wrap_user_model_fns_only():
    with slr.shim("warn"):
        est = tf.estimator.Estimator(model_fn=_f_plain)
        assert patching.is_wrapped(est._model_fn)
        tpu = v1.estimator.tpu.TPUEstimator(model_fn=_f_plain, use_tpu=False, train_batch_size=4,
                                            config=v1.estimator.tpu.RunConfig())
        # TPUEstimator keeps its own wrapper; the user's model_fn inside it is the checked one
        assert patching.is_wrapped(tpu._model_fn) is False
        canned = tf.estimator.LinearRegressor(feature_columns=[tf.feature_column.numeric_column("x")])
        assert not patching.is_wrapped(canned._model_fn)


# ---------------------------------------------------------------------------------------------
# modes
def _scalar_host_call_fn(features, labels, mode, params):
    logits = dense(features)
    loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
    return TPUEstimatorSpec(mode, loss=loss, train_op=v1.train.GradientDescentOptimizer(0.1).minimize(
        loss, global_step=v1.train.get_global_step()), host_call=(lambda l: [], [loss]))


def test_raise_mode_raises_speclint_error_with_diagnostics():
    with slr.shim("raise"):
        with pytest.raises(slr.SpecLintError) as info:
            build(_scalar_host_call_fn, "train")
    assert isinstance(info.value, ValueError)
    assert [d.code for d in info.value.diagnostics] == ["SL005"]
    d = info.value.diagnostics[0]
    assert d.engine == "runtime" and d.path.endswith("test_runtime_shim.py")
    assert "SL005 [outfeed-scalar-tensor]" in str(info.value)


def test_warn_mode_warns_at_the_users_line_and_goes_on():
    with slr.shim("warn"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = build(_scalar_host_call_fn, "train")
    assert isinstance(spec, EstimatorSpec)  # TF converted it as usual
    mine = [w for w in caught if issubclass(w.category, slr.SpecLintWarning)]
    assert len(mine) == 1 and mine[0].filename.endswith("test_runtime_shim.py")
    assert mine[0].message.diagnostic.code == "SL005"


def test_check_model_fn_without_install(monkeypatch):
    monkeypatch.delenv("SPECLINT_RUNTIME", raising=False)
    checked = slr.check_model_fn(_scalar_host_call_fn)
    with pytest.raises(slr.SpecLintError):
        build(checked, "train")
    assert not slr.installed()


def test_env_off_disables_everything(monkeypatch):
    monkeypatch.setenv("SPECLINT_RUNTIME", "off")
    assert slr.install("raise") is False
    assert slr.check_model_fn(_f_plain) is _f_plain
    assert not slr.installed()


def test_env_warn_sets_the_default_mode(monkeypatch):
    monkeypatch.setenv("SPECLINT_RUNTIME", "warn")
    checked = slr.check_model_fn(_scalar_host_call_fn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build(checked, "train")
    assert any(issubclass(w.category, slr.SpecLintWarning) for w in caught)


def test_an_internal_error_in_a_check_is_a_warning_not_a_failure(monkeypatch):
    from speclint.runtime.checks import dispatch, registry

    def broken(spec, con, call, tf):
        raise RuntimeError("boom")
        yield  # pragma: no cover
    assert dispatch.registered_codes()  # every check module registered
    monkeypatch.setattr(registry, "RETURN", registry.RETURN + [(("SL005",), broken)])
    with slr.shim("raise"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(slr.SpecLintError):  # the real SL005 check still ran
            build(_scalar_host_call_fn, "train")
    assert any("internal error" in str(w.message) and "boom" in str(w.message) for w in caught)


def test_no_tensorflow_is_a_clear_error(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['tensorflow'] = None\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "speclint", "run", str(script)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("speclint: error: speclint's runtime shim needs TensorFlow")


# ---------------------------------------------------------------------------------------------
# a correct BERT-style classifier: clean, and identical with and without the shim
BERT_STYLE = textwrap.dedent('''
    import numpy as np
    import tensorflow.compat.v1 as tf

    def input_fn_builder(is_training, n=8):
        def input_fn(params):
            rng = np.random.RandomState(0)
            ids = rng.randint(0, 20, size=(n, 6)).astype(np.int32)
            label_ids = rng.randint(0, 2, size=(n,)).astype(np.int32)
            d = tf.data.Dataset.from_tensor_slices({"input_ids": ids, "label_ids": label_ids})
            if is_training:
                d = d.repeat()
            return d.batch(params["batch_size"], drop_remainder=True)
        return input_fn

    def create_model(input_ids, labels, num_labels):
        emb = tf.get_variable("embeddings", [20, 8], initializer=tf.truncated_normal_initializer(stddev=0.02, seed=1))
        pooled = tf.reduce_mean(tf.nn.embedding_lookup(emb, input_ids), axis=1)
        w = tf.get_variable("output_weights", [num_labels, 8], initializer=tf.truncated_normal_initializer(stddev=0.02, seed=2))
        logits = tf.matmul(pooled, w, transpose_b=True)
        log_probs = tf.nn.log_softmax(logits, axis=-1)
        one_hot = tf.one_hot(labels, depth=num_labels, dtype=tf.float32)
        per_example_loss = -tf.reduce_sum(one_hot * log_probs, axis=-1)
        return tf.reduce_mean(per_example_loss), per_example_loss, logits, tf.nn.softmax(logits)

    def model_fn_builder(num_labels, init_checkpoint, use_tpu, model_dir):
        def model_fn(features, labels, mode, params):
            input_ids, label_ids = features["input_ids"], features["label_ids"]
            total_loss, per_example_loss, logits, probabilities = create_model(input_ids, label_ids, num_labels)
            tvars = tf.trainable_variables()
            scaffold_fn = None
            if init_checkpoint:
                def tpu_scaffold():
                    tf.train.init_from_checkpoint(init_checkpoint, {v.op.name: v.op.name for v in tvars})
                    return tf.train.Scaffold()
                scaffold_fn = tpu_scaffold
            if mode == tf.estimator.ModeKeys.TRAIN:
                global_step = tf.train.get_or_create_global_step()
                optimizer = tf.train.GradientDescentOptimizer(0.1)
                if use_tpu:
                    optimizer = tf.tpu.CrossShardOptimizer(optimizer)
                train_op = optimizer.minimize(total_loss, global_step=global_step)

                def host_call_fn(gs, loss):
                    with tf.compat.v2.summary.create_file_writer(model_dir).as_default():
                        tf.compat.v2.summary.scalar("loss", tf.reduce_mean(loss), step=gs[0])
                        return tf.summary.all_v2_summary_ops()
                host_call = (host_call_fn, [tf.reshape(global_step, [1]), tf.reshape(total_loss, [1])])
                return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, loss=total_loss, train_op=train_op,
                                                         host_call=host_call, scaffold_fn=scaffold_fn)
            if mode == tf.estimator.ModeKeys.EVAL:
                def metric_fn(per_example_loss, label_ids, logits):
                    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
                    return {"eval_accuracy": tf.metrics.accuracy(label_ids, predictions),
                            "eval_loss": tf.metrics.mean(per_example_loss)}
                eval_metrics = (metric_fn, [per_example_loss, label_ids, logits])
                return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, loss=total_loss,
                                                         eval_metrics=eval_metrics, scaffold_fn=scaffold_fn)
            return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, predictions={"probabilities": probabilities},
                                                     scaffold_fn=scaffold_fn)
        return model_fn

    def run(model_dir, init_checkpoint=None):
        tf.set_random_seed(0)
        est = tf.estimator.tpu.TPUEstimator(
            use_tpu=False, model_fn=model_fn_builder(2, init_checkpoint, False, model_dir),
            config=tf.estimator.tpu.RunConfig(model_dir=model_dir, tf_random_seed=0),
            train_batch_size=4, eval_batch_size=4, predict_batch_size=4)
        est.train(input_fn_builder(True), max_steps=1)
        result = est.evaluate(input_fn_builder(False), steps=1)
        preds = [p["probabilities"] for p in est.predict(input_fn_builder(False))]
        return result, np.array(preds)
''')


def _bert_module(tmp_path):
    path = tmp_path / "bert_style.py"
    path.write_text(BERT_STYLE)
    spec = importlib.util.spec_from_file_location("bert_style", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bert_style_classifier_is_clean_and_unchanged(tmp_path):
    mod = _bert_module(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain_eval, plain_preds = mod.run(str(tmp_path / "plain"))
        # warm start from the first run's checkpoint: scaffold_fn with init_from_checkpoint runs too
        with slr.shim("raise"):
            context.COLLECTOR.clear()
            shim_eval, shim_preds = mod.run(str(tmp_path / "shim"))
            calls = context.COLLECTOR.model_fn_calls
            found = context.COLLECTOR.diagnostics()
            ckpt_eval, _ = mod.run(str(tmp_path / "warm"), init_checkpoint=str(tmp_path / "plain"))
    assert found == [] and calls == 3
    assert shim_eval.keys() == plain_eval.keys()
    for k in plain_eval:
        np.testing.assert_allclose(shim_eval[k], plain_eval[k])
    np.testing.assert_allclose(shim_preds, plain_preds)
    assert context.COLLECTOR.diagnostics() == []


def test_rule_docs_list_the_runtime_engine_exactly_for_the_runtime_checks():
    from speclint import rulebook
    from speclint.runtime.checks import dispatch
    # SL1xx are meta diagnostics (e.g. the TPU simulation's "build failed"), not catalogue rules
    documented = {r.code for r in rulebook.load() if "runtime" in r.engines and r.code < "SL100"}
    assert documented == dispatch.registered_codes()


def test_every_runtime_finding_uses_a_rulebook_template_with_all_its_fields():
    """Static guard over speclint/runtime: each Finding("SLnnn", at, "variant", dict(...)) names a
    variant of that rule's [messages] and passes every field its template uses."""
    import ast
    import re
    from pathlib import Path
    from speclint import rulebook
    book = rulebook.load()
    root = Path(slr.__file__).parent
    seen = 0
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Finding"):
                continue
            args = node.args
            if len(args) < 4 or not all(isinstance(a, ast.Constant) for a in (args[0], args[2])):
                continue
            code, variant = args[0].value, args[2].value
            rule = book.lookup(code)
            assert rule is not None and variant in rule.messages, (path.name, node.lineno, code, variant)
            fields = set(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", rule.messages[variant]))
            if isinstance(args[3], ast.Call) and getattr(args[3].func, "id", "") == "dict" and not args[3].args:
                given = {k.arg for k in args[3].keywords}
                assert fields <= given, (path.name, node.lineno, code, variant, sorted(fields - given))
            seen += 1
    assert seen > 40


def test_nested_install_gives_the_outer_settings_back_and_the_last_uninstall_forgets_specs():
    """An inner install() with other settings, then its uninstall(): the outer install's settings
    are in force again (they used to stay the inner ones); the final uninstall() restores the
    defaults and drops the recently built specs (each keeps its graph alive)."""
    from speclint.runtime import calls, context, patching

    def model_fn(features, labels, mode, params):
        return v1.estimator.tpu.TPUEstimatorSpec(mode, predictions={"x": features["x"]})

    s = context.SETTINGS
    assert patching.install("warn", target="tpu", select={"SL005"})
    try:
        outer = (s.mode, s.target, s.select)
        assert outer == ("warn", "tpu", frozenset({"SL005"}))
        with patching.shim("collect", target="cpu"):
            assert (s.mode, s.target, s.select) == ("collect", "cpu", None)
            build(model_fn, "predict")
            assert calls._RECENT  # noqa: SLF001
        assert (s.mode, s.target, s.select) == outer and patching.installed()
        assert calls._RECENT  # noqa: SLF001 - still installed: kept
    finally:
        patching.uninstall()
    assert (s.mode, s.target, s.select) == (None, "auto", None) and not patching.installed()
    assert not calls._RECENT  # noqa: SLF001
