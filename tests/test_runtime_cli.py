"""`speclint run` and the pytest plugin, end to end in subprocesses (real TensorFlow)."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    import tensorflow.compat.v1 as tf

    def input_fn(params):
        x = np.ones((8, 3), np.float32); y = np.zeros((8,), np.int32)
        return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).repeat().batch(params["batch_size"], drop_remainder=True)

    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        gs = tf.train.get_global_step()
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=gs)
        def host_fn(gs, loss):
            return []
        if BAD:
            host_call = (host_fn, [gs, tf.reshape(loss, [1])])
        else:
            host_call = (host_fn, [tf.reshape(gs, [1]), tf.reshape(loss, [1])])
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op, host_call=host_call)

    BAD = "--bad" in sys.argv
    est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=False, train_batch_size=4,
                                        config=tf.estimator.tpu.RunConfig(model_dir=sys.argv[1]))
    est.train(input_fn, steps=1)
    print("trained")
    sys.exit(3 if "--exit3" in sys.argv else 0)
''')


def _speclint(*args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "speclint", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    (d / "train.py").write_text(SCRIPT)
    (d / "pkg").mkdir()
    (d / "pkg" / "__init__.py").write_text("")
    (d / "pkg" / "train.py").write_text(SCRIPT)
    return d


def test_run_reports_and_exits_1(workdir):
    proc = _speclint("run", "--output-format", "json", "train.py", str(workdir / "m1"), "--bad", cwd=workdir)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "trained" in proc.stdout  # warn mode: the program ran to the end
    diags = json.loads(proc.stdout[proc.stdout.index("["):])
    assert [(d["code"], d["path"], d["engine"]) for d in diags] == [("SL005", "train.py", "runtime")]
    # host_call is assigned on two branches: the shim points at the `host_call=` keyword and
    # names the tensor by its graph name
    want = next(i for i, text in enumerate(SCRIPT.splitlines(), 1) if "host_call=host_call" in text)
    assert diags[0]["line"] == want
    assert "tensor[0] `global_step` is a scalar" in diags[0]["message"]


def test_run_clean_keeps_the_programs_exit_code(workdir):
    proc = _speclint("run", "train.py", str(workdir / "m2"), "--exit3", cwd=workdir)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "All checks passed (runtime shim; 1 model_fn call checked)" in proc.stderr


def test_run_module_and_raise_mode(workdir):
    proc = _speclint("run", "--mode", "raise", "-m", "pkg.train", str(workdir / "m3"), "--bad", cwd=workdir)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "trained" not in proc.stdout  # raise mode stopped the program at the model_fn
    assert "pkg/train.py:" in proc.stdout and "SL005 [outfeed-scalar-tensor]" in proc.stdout
    # the full format by default: the program's source line with the keyword underlined, then help
    lines = proc.stdout.splitlines()
    i = next(i for i, line in enumerate(lines) if "host_call=host_call)" in line and " | " in line)
    assert lines[i + 1].endswith("^" * len("host_call=host_call") + " SL005")
    assert any(line.startswith("   = help: Give it a batch dimension") for line in lines)


def test_run_missing_script_is_a_usage_error(workdir):
    proc = _speclint("run", "nope.py", cwd=workdir)
    assert proc.returncode == 2 and "no such file" in proc.stderr


PLUGIN_TEST = textwrap.dedent('''
    import tensorflow.compat.v1 as tf

    def model_fn(features, labels, mode, params):
        logits = tf.layers.dense(features["x"], 2)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        def metric_fn(labels):
            return {"acc": tf.metrics.accuracy(labels, tf.argmax(logits, 1))}
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [labels]))

    def test_builds_eval_graph():
        est = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=False, eval_batch_size=4,
                                            config=tf.estimator.tpu.RunConfig())
        with tf.Graph().as_default():
            tf.train.create_global_step()
            est._is_input_fn_invoked = True
            est._call_model_fn({"x": tf.ones([4, 3])}, tf.zeros([4], tf.int32), "eval", est.config)
''')


def test_pytest_plugin_fails_the_test_only_when_enabled(tmp_path):
    (tmp_path / "test_model.py").write_text(PLUGIN_TEST)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_model.py"]
    off = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert off.returncode == 0, off.stdout[-2000:]
    on = subprocess.run(cmd + ["--speclint-runtime"], cwd=tmp_path, env=env, capture_output=True,
                        text=True, timeout=300)
    assert on.returncode == 1, on.stdout[-2000:]
    assert "SpecLintError" in on.stdout and "SL007 [host-fn-captures-model-tensor]" in on.stdout
    assert "test_model.py:9:" in on.stdout
