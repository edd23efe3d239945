"""The runtime shim's overhead per model_fn call: prints a table.

    python bench/bench_runtime.py [REPEATS]      # default 15

For a BERT-style TPUEstimatorSpec model_fn (eval_metrics, host_call, scaffold_fn; the model from
tests/test_runtime_shim.py) and for a plain EstimatorSpec model_fn, each mode's graph is built
through the estimator's own `_call_model_fn` (what train()/evaluate()/predict() do before any
session) in a fresh graph, REPEATS times without and with the shim; the table shows the median
build time and the shim's added time per call.  Also one real `train(steps=1)` with and without.
"""
from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
warnings.simplefilter("ignore")

import tensorflow as tf  # noqa: E402

tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
v1 = tf.compat.v1

import speclint.runtime as slr  # noqa: E402


def _bert_module():
    from test_runtime_shim import BERT_STYLE
    path = Path(tempfile.mkdtemp()) / "bert_style_bench.py"
    path.write_text(BERT_STYLE)
    spec = importlib.util.spec_from_file_location("bert_style_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _plain_model_fn(features, labels, mode, params):
    logits = v1.layers.dense(features["input_ids_f"], 2)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
    loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
    train_op = v1.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=v1.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, eval_metric_ops={
        "acc": v1.metrics.accuracy(labels, tf.argmax(logits, 1))})


def _features():
    return {"input_ids": tf.zeros([4, 6], tf.int32), "label_ids": tf.zeros([4], tf.int32),
            "input_ids_f": tf.zeros([4, 6])}


def _estimator(model_fn, kind):
    d = tempfile.mkdtemp()
    if kind == "tpu":
        return v1.estimator.tpu.TPUEstimator(
            model_fn=model_fn, use_tpu=False, train_batch_size=4, eval_batch_size=4,
            predict_batch_size=4, config=v1.estimator.tpu.RunConfig(model_dir=d))
    return tf.estimator.Estimator(model_fn=model_fn, model_dir=d)


def _build_times(model_fn, kind, mode, repeats):
    est = _estimator(model_fn, kind)
    times = []
    for _ in range(repeats):
        with tf.Graph().as_default():
            v1.train.create_global_step()
            feats = _features()
            labels = None if mode == "infer" else tf.zeros([4], tf.int32)
            est._is_input_fn_invoked = True
            t0 = time.perf_counter()
            est._call_model_fn(feats, labels, mode, est.config)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    bert = _bert_module()
    cases = [("BERT-style TPUEstimatorSpec", bert.model_fn_builder(2, None, False, tempfile.mkdtemp()), "tpu"),
             ("plain EstimatorSpec", _plain_model_fn, "plain")]
    print(f"TensorFlow {tf.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"median of {repeats} builds\n")
    print("| model_fn | mode | without shim ms | with shim ms | overhead ms |")
    print("| --- | --- | ---: | ---: | ---: |")
    for label, fn, kind in cases:
        for mode in ("train", "eval", "infer"):
            _build_times(fn, kind, mode, 2)  # warm up
            base = _build_times(fn, kind, mode, repeats)
            with slr.shim("collect"):
                _build_times(fn, kind, mode, 2)
                shimmed = _build_times(fn, kind, mode, repeats)
                assert not slr.diagnostics(), slr.diagnostics()
            print(f"| {label} | {mode} | {base * 1e3:.1f} | {shimmed * 1e3:.1f} | {(shimmed - base) * 1e3:+.1f} |")
    # one real train(steps=1), end to end
    for use_shim in (False, True):
        t0 = time.perf_counter()
        if use_shim:
            with slr.shim("collect"):
                bert.run(tempfile.mkdtemp())
        else:
            bert.run(tempfile.mkdtemp())
        label = "with" if use_shim else "without"
        print(f"\nBERT-style train(1 step) + evaluate(1 step) + predict, {label} shim: "
              f"{time.perf_counter() - t0:.2f} s", end="")
    print()


if __name__ == "__main__":
    main()
