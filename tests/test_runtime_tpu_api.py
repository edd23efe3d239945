"""The runtime side of SL045 (TPUEstimator without train_batch_size), SL046 (a TPU name looked up in
the TPU module that lacks it) and SL047 (a Keras application loading pretrained weights in a TPU
model_fn): each rule doc's blocks run under the shim, reported where the static engine reports them,
with the same message; and on a CPU run, the program's TPU flag decides what its TPU run does."""
import textwrap

import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_estimator")

from expect import actual  # noqa: E402
from runtime_support import build, v1  # noqa: E402
from runtime_support import shim as collect  # noqa: E402,F401 - the fixture, as `collect`
from speclint import rulebook  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")
BOOK = rulebook.load()


@pytest.fixture(autouse=True)
def offline_keras_weights(monkeypatch):
    """No ImageNet download in tests (the shim reports before Keras downloads)."""
    from keras.src.utils import data_utils

    def get_file(*args, **kwargs):
        raise OSError("speclint tests: no download")
    monkeypatch.setattr(data_utils, "get_file", get_file)


def _module(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    namespace = {"__name__": name, "__file__": str(path)}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    return path, namespace


def _static(path, code):
    _, diags = actual(path.read_text(encoding="utf-8"), path.name)
    return {(d.line, d.message) for d in diags if d.code == code}


def _runtime(collector, path, code):
    return {(d.line, d.message) for d in collector.diagnostics() if d.code == code and d.path.endswith(path.name)}


def _config(tmp_path):
    return v1.estimator.tpu.RunConfig(model_dir=str(tmp_path / "model"))


# ---- SL045 ------------------------------------------------------------------------------------
def test_sl045_doc_blocks_same_sites_and_messages_as_static(tmp_path, collect):
    example, use_instead = BOOK["SL045"].examples()["Example"][0], BOOK["SL045"].examples()["Use instead"][0]
    path, ns = _module(tmp_path, "sl045_example", example)
    with pytest.raises(ValueError, match="`train_batch_size` cannot be `None`"):
        ns["predict"](_config(tmp_path), lambda params: None)  # use_tpu=True: TF raises after the shim
    ns["evaluate"](_config(tmp_path), lambda params: None, False)  # the CPU run of a use_tpu program
    static = _static(path, "SL045")
    assert len(static) == 2
    assert _runtime(collect, path, "SL045") == static
    collect.clear()
    path, ns = _module(tmp_path, "sl045_use_instead", use_instead)
    with pytest.raises(Exception):  # noqa: B017 - predict() needs a real input_fn; construction passed
        ns["predict"](_config(tmp_path), lambda params: None)
    with pytest.raises(Exception):  # noqa: B017
        ns["predict_on_cpu"](_config(tmp_path), lambda params: None)
    assert _runtime(collect, path, "SL045") == set() == _static(path, "SL045")


def test_sl045_a_cpu_only_estimator_is_not_reported(tmp_path, collect):
    """use_tpu=False as a literal, or a value that is not the program's TPU flag: no TPU run."""
    path, ns = _module(tmp_path, "sl045_cpu", """
        import tensorflow.compat.v1 as tf

        def model_fn(features, labels, mode, params):
            return tf.estimator.tpu.TPUEstimatorSpec(mode, predictions={"x": features["x"]})

        def make(config, on_cloud):
            a = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, use_tpu=False, predict_batch_size=8)
            b = tf.estimator.tpu.TPUEstimator(model_fn=model_fn, config=config, use_tpu=on_cloud, predict_batch_size=8)
            return a, b
    """)
    ns["make"](_config(tmp_path), False)
    assert _runtime(collect, path, "SL045") == set()


# ---- SL046 ------------------------------------------------------------------------------------
def test_sl046_doc_example_same_site_and_message_as_static(tmp_path, collect):
    path, ns = _module(tmp_path, "sl046_example", BOOK["SL046"].examples()["Example"][0])
    with pytest.raises(AttributeError):
        build(ns["model_fn"], "train", kind="tpu")
    runtime = _runtime(collect, path, "SL046")
    assert len(runtime) == 1
    assert runtime <= _static(path, "SL046")  # the static engine also reports tf.tpu.TPUEstimator in build()


SHADOWED = """
import tensorflow.compat.v1 as tf


def model_fn_builder(use_tpu, weights=None):
    def model_fn(features, labels, mode, params):
        hidden = features["x"]
        if weights is not None:
            image = tf.reshape(tf.tile(features["x"], [1, 1024]), [-1, 32, 32, 3])
            backbone = tf.keras.applications.MobileNetV2(
                input_shape=(32, 32, 3), alpha=0.35, include_top=False, pooling="avg", weights=weights)
            hidden = backbone(image)
        logits = tf.layers.dense(hidden, 2)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        optimizer = tf.train.GradientDescentOptimizer(0.1)
        if use_tpu:
            optimizer = tf.estimator.tpu.CrossShardOptimizer(optimizer)
        train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
        return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
    return model_fn
"""


def test_sl046_on_a_cpu_run_the_tpu_branch_is_built_and_its_attribute_error_reported(tmp_path, collect):
    """`if use_tpu: tf.estimator.tpu.CrossShardOptimizer(...)`: the CPU run never executes the
    line; the shadow TPU call does (tpupath.py), and its AttributeError is the TPU run's failure."""
    path, ns = _module(tmp_path, "sl046_branch", SHADOWED)
    build(ns["model_fn_builder"](False), "train", kind="tpu")  # the program's own CPU call succeeds
    diags = [d for d in collect.diagnostics() if d.code == "SL046"]
    assert [(d.line, d.column) for d in diags] == [(17, 25)]
    assert "`tf.estimator.tpu.CrossShardOptimizer` does not exist" in diags[0].message
    assert "It is `tf.compat.v1.tpu.CrossShardOptimizer`." in diags[0].message
    assert {(d.line, d.message) for d in diags} <= _static(path, "SL046")


# ---- SL047 ------------------------------------------------------------------------------------
def test_sl047_doc_example_same_site_and_message_as_static(tmp_path, collect):
    from runtime_support import build_on_tpu
    path, ns = _module(tmp_path, "sl047_example", BOOK["SL047"].examples()["Example"][0])
    with pytest.raises(Exception):  # noqa: B017 - the download is refused after the shim reported
        build_on_tpu(ns["model_fn"], "train", features=lambda: {"image": tf.zeros([4, 32, 32, 3])})
    runtime = _runtime(collect, path, "SL047")
    assert len(runtime) == 1 and runtime == _static(path, "SL047")


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """A local weights file for a tiny MobileNetV2 (no download): what a TPU user points `weights=` at."""
    path = tmp_path_factory.mktemp("weights") / "mobilenet_v2_0.35_32.h5"
    model = tf.keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                              pooling="avg", weights=None)
    model.save_weights(str(path))
    tf.keras.backend.clear_session()
    return str(path)


def test_sl047_on_a_cpu_run_the_tpu_path_loading_weights_is_reported(tmp_path, collect, weights_file):
    path, ns = _module(tmp_path, "sl047_branch", SHADOWED.replace("tf.estimator.tpu.CrossShardOptimizer",
                                                                  "tf.tpu.CrossShardOptimizer"))
    labels = lambda: tf.zeros([4], tf.int32)  # noqa: E731
    # the CPU call loads the weights (fine off TPU); the shadow TPU call reports the application
    build(ns["model_fn_builder"](False, weights_file), "train", kind="tpu", labels=labels)
    diags = [d for d in collect.diagnostics() if d.code == "SL047"]
    assert [d.line for d in diags] == [10], [d.message for d in collect.diagnostics()]
    assert diags[0].message.startswith("`tf.keras.applications.MobileNetV2(...)` with weights=weights is "
                                       "built in model_fn `model_fn`, which runs on TPU")
    collect.clear()
    build(ns["model_fn_builder"](False, None), "train", kind="tpu", labels=labels)
    assert collect.diagnostics() == []


def test_sl047_not_reported_off_tpu(tmp_path, collect, weights_file):
    """A plain Estimator's model_fn: the weights load on CPU, which is fine."""
    path, ns = _module(tmp_path, "sl047_cpu", """
        import tensorflow.compat.v1 as tf

        def model_fn(features, labels, mode, params):
            image = tf.reshape(tf.tile(features["x"], [1, 1024]), [-1, 32, 32, 3])
            backbone = tf.keras.applications.MobileNetV2(
                input_shape=(32, 32, 3), alpha=0.35, include_top=False, pooling="avg", weights=params["w"])
            logits = tf.layers.dense(backbone(image), 2)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=tf.train.get_global_step())
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
    """)
    build(ns["model_fn"], "train", kind="plain", params={"w": weights_file}, labels=lambda: tf.zeros([4], tf.int32))
    assert [d for d in collect.diagnostics() if d.code == "SL047"] == []
