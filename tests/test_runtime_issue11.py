"""Issue 11's runtime fixes, each on real TensorFlow: TF1 Dimension shapes, SL022 under a
distribution strategy, SL007 on a closure over (name, tensor) pairs, SL102's location and message
for autograph errors, `speclint run --output-file`, `__file__`, and TF's deprecation messages."""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from runtime_support import EstimatorSpec, TPUEstimatorSpec, build, build_on_tpu, dense, tf, train_op_for, v1  # noqa: E402
from runtime_support import shim  # noqa: E402,F401 - the fixture

from speclint.runtime import context, simulate  # noqa: E402
from speclint.runtime.errors import SpecLintWarning  # noqa: E402



def codes(*args, **kw):
    context.COLLECTOR.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            args[0](*args[1:], **kw)
        except Exception:  # noqa: BLE001 - TF's own error after the shim reported
            pass
    internal = [str(w.message) for w in caught if issubclass(w.category, SpecLintWarning)]
    assert not internal, internal  # a check that crashed was skipped silently before
    return sorted({d.code for d in context.COLLECTOR.diagnostics()})


@pytest.fixture
def tf1_shapes():
    v1.disable_v2_tensorshape()
    try:
        yield
    finally:
        v1.enable_v2_tensorshape()


def test_tf1_dimension_shapes_in_the_prediction_checks(shim, tf1_shapes):
    def not_batch_major(features, labels, mode, params):
        logits = dense(features)
        return EstimatorSpec(mode, predictions={"l": logits, "w": tf.ones([7, 2])})
    assert codes(build, not_batch_major, "predict", kind="plain") == ["SL025"]

    def good(features, labels, mode, params):
        return EstimatorSpec(mode, predictions={"l": dense(features)})
    assert codes(build, good, "predict", kind="plain") == []

    def dynamic(features, labels, mode, params):
        logits = dense(features)
        return TPUEstimatorSpec(mode, predictions={"sel": tf.boolean_mask(logits, logits[:, 0] > 0)})
    assert codes(build_on_tpu, dynamic, "predict") == ["SL026"]


def test_sl022_update_result_is_not_a_variable(shim):
    """Under a distribution strategy `minimize` returns the global step's assign_add result (a
    variable object whose op is the assignment): TF runs that op, the model trains."""
    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        op = train_op_for(loss)
        with tf.control_dependencies([op]):
            step = v1.train.get_global_step().assign_add(0)
        assert isinstance(step, tf.Variable) and step.op.type == "AssignAddVariableOp"
        return EstimatorSpec(mode, loss=loss, train_op=step)
    assert codes(build, model_fn, "train", kind="plain") == []

    def variable(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        return EstimatorSpec(mode, loss=loss, train_op=v1.train.get_global_step())
    assert "SL022" in codes(build, variable, "train", kind="plain")


def test_sl007_closure_over_name_tensor_pairs_reading_only_names(shim):
    """automl's get_tpu_host_call: the host function closes over [(name, tensor)] and reads only
    the names; its tensors come through `tensors`."""
    def make(read_tensor):
        def model_fn(features, labels, mode, params):
            logits = dense(features)
            loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
            summaries = [("loss", loss), ("lr", tf.constant(0.1))]

            def host_call_fn(gs, *args):
                with tf.summary.create_file_writer("/tmp/speclint-rt-summaries").as_default():
                    for i, _ in enumerate(summaries):
                        value = summaries[i][1] if read_tensor else args[i][0]
                        tf.summary.scalar(summaries[i][0], value, step=gs[0])
                    return v1.summary.all_v2_summary_ops()
            tensors = [tf.reshape(v1.train.get_global_step(), [1])] + [tf.reshape(t, [1]) for _, t in summaries]
            return TPUEstimatorSpec(mode, loss=loss, train_op=train_op_for(loss, cross_shard=True),
                                    host_call=(host_call_fn, tensors))
        return model_fn
    assert codes(build_on_tpu, make(False), "train") == []
    assert codes(build_on_tpu, make(True), "train") == ["SL007"]


AUTOGRAPH = textwrap.dedent('''
    import numpy as np
    import tensorflow.compat.v1 as tf

    def parse(x, y):
        z = tf.reshape(x, [5, 7])  # AG-HERE
        return {"x": x}, y

    def input_fn(params):
        ds = tf.data.Dataset.from_tensor_slices((np.ones((64, 3), np.float32), np.zeros((64,), np.int32)))
        return ds.map(parse).repeat().batch(params["batch_size"], drop_remainder=True)

    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        opt = tf.tpu.CrossShardOptimizer(tf.train.GradientDescentOptimizer(0.1))
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=opt.minimize(loss, tf.train.get_global_step()))
''')


def test_sl102_autograph_error_at_the_users_line_with_the_cause(tmp_path):
    import importlib.util
    path = tmp_path / "ag_prog.py"
    path.write_text(AUTOGRAPH)
    spec = importlib.util.spec_from_file_location("ag_prog", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    result = simulate.simulate_tpu(mod.model_fn, mod.input_fn, modes=("train",))
    [d] = list(result)
    line = AUTOGRAPH.splitlines().index(next(ln for ln in AUTOGRAPH.splitlines() if "AG-HERE" in ln)) + 1
    assert (os.path.basename(d.path), d.line, d.code) == ("ag_prog.py", line, "SL102")
    assert "__autograph_generated_file" not in d.path
    # the cause TF gives last is quoted, not cut at 400 characters
    assert "input[1] = [5,7]" in d.message, d.message


RUN_SCRIPT = textwrap.dedent('''
    import json, os, sys
    import numpy as np
    import tensorflow.compat.v1 as tf

    print("FILE", __file__, os.path.isabs(__file__))

    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        opt = tf.train.GradientDescentOptimizer(0.1)
        if params["use_tpu"]:
            opt = tf.tpu.CrossShardOptimizer(opt)
        if mode == tf.estimator.ModeKeys.TRAIN:
            return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=opt.minimize(loss, tf.train.get_global_step()))
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(
            lambda loss, labels: {"m": tf.metrics.mean(loss)}, [loss, labels]))

    def input_fn(params):
        ds = tf.data.Dataset.from_tensor_slices(({"x": np.ones((16, 3), np.float32)}, np.zeros(16, np.int32)))
        return ds.repeat().batch(params["batch_size"], drop_remainder=True)

    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=False, train_batch_size=8, eval_batch_size=8,  # EST-LINE
                                        config=tf.estimator.tpu.RunConfig(model_dir=sys.argv[1]))
    est.train(input_fn, max_steps=1)
    print(json.dumps({"loss": float(est.evaluate(input_fn, steps=1)["loss"])}))
''')


def test_run_default_output_file_file_and_deprecation_location(tmp_path):
    """The issue's minimal case under the default `speclint run`: SL005 reported; --output-file
    keeps the program's stdout parseable; __file__ is absolute as under python; TF's deprecation
    messages name the program's line, not speclint's wrapper."""
    script = tmp_path / "train.py"
    script.write_text(RUN_SCRIPT)
    report = tmp_path / "report.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-m", "speclint", "run", "--output-format", "json", "--output-file",
                           str(report), "train.py", str(tmp_path / "model")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    import json
    lines = proc.stdout.splitlines()
    assert lines[0] == f"FILE {script} True", proc.stdout
    json.loads(lines[-1])  # the program's own last line, not mixed with speclint's report
    found = json.loads(report.read_text())
    assert [d["code"] for d in found] == ["SL005"], found
    assert proc.returncode == 1
    est_line = next(i for i, ln in enumerate(RUN_SCRIPT.splitlines(), 1) if "EST-LINE" in ln)
    assert f"From {script}:{est_line}: TPUEstimator.__init__" in proc.stderr, proc.stderr[-3000:]
    assert "speclint/runtime/patching.py" not in proc.stderr


PLUGIN_TPU_PATH = textwrap.dedent('''
    import tensorflow.compat.v1 as tf

    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        opt = tf.train.GradientDescentOptimizer(0.1)
        if params["use_tpu"]:
            opt = tf.tpu.CrossShardOptimizer(opt)
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(
            lambda loss: {"m": tf.metrics.mean(loss)}, [loss]))

    def test_builds_eval_graph():
        est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=False, eval_batch_size=4,
                                            config=tf.estimator.tpu.RunConfig())
        with tf.Graph().as_default():
            tf.train.create_global_step()
            est._is_input_fn_invoked = True
            est._call_model_fn({"x": tf.ones([4, 3])}, tf.zeros([4], tf.int32), "eval", est.config)
''')


def test_pytest_plugin_checks_the_tpu_path_by_default_and_takes_a_target(tmp_path):
    (tmp_path / "test_model.py").write_text(PLUGIN_TPU_PATH)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_model.py", "--speclint-runtime"]
    on = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert on.returncode == 1 and "SL005 [outfeed-scalar-tensor]" in on.stdout, on.stdout[-2000:]
    cpu = subprocess.run(cmd + ["--speclint-target", "cpu"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert cpu.returncode == 0, cpu.stdout[-2000:]


def test_failed_simulation_reads_as_diagnostics(tmp_path):
    import importlib.util
    path = tmp_path / "ag_prog2.py"
    # its own source (autograph caches converted functions by their source)
    path.write_text(AUTOGRAPH.replace("[5, 7]", "[5, 11]"))
    spec = importlib.util.spec_from_file_location("ag_prog2", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    result = simulate.simulate_tpu(mod.model_fn, mod.input_fn, modes=("train",))
    text = str(result)
    assert "ag_prog2.py:" in text and ": SL102 [tpu-build-failed]" in text and "train: failed (SL102" in text
    assert "ModeOutcome(" not in text


def test_input_fn_batch_size_keyerror_is_sl041_before_any_model_fn(shim, tmp_path):
    """A plain Estimator's input_fn reading params['batch_size'] fails before the model_fn runs."""
    def input_fn(params):
        batch = params["batch_size"]  # SL041-INPUT
        x = np.ones((8, 3), np.float32)
        return tf.data.Dataset.from_tensor_slices(({"x": x}, np.zeros(8, np.int32))).batch(batch)

    def model_fn(features, labels, mode, params):
        logits = dense(features)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        return EstimatorSpec(mode, loss=loss, train_op=train_op_for(loss))
    est = tf.estimator.Estimator(model_fn, model_dir=str(tmp_path))
    context.COLLECTOR.clear()
    with pytest.raises(KeyError):
        est.train(input_fn, steps=1)
    found = context.COLLECTOR.diagnostics()
    assert [d.code for d in found] == ["SL041"], found
    import inspect
    src, start = inspect.getsourcelines(input_fn)
    assert found[0].line == start + 1 and "input_fn" in found[0].message
