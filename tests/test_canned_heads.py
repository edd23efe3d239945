"""Issue 10 item 2: canned heads.  `head.create_estimator_spec(...)` returns a plain EstimatorSpec in
every mode (base_head.py converts the head's TPU spec with `as_estimator_spec()`) and writes TF1
loss summaries in TRAIN: under a TPUEstimator that runs on TPU, TPU evaluation raises "estimator_spec
used by TPU evaluation must have type`TPUEstimatorSpec`" (SL034) and training's summary merge fails
(SL012; tensorflow#37991's "must be from the same graph").  The runtime shim's simulated TPU build
of the same program confirms both.  Clean idioms beside bad twins, flagged where annotated."""
import textwrap

import pytest

from expect import mismatches

HEAD = """\
import tensorflow as tf


"""

MODEL_FN = """
def model_fn(features, labels, mode, params):
    logits = tf.keras.layers.Dense(1)(features["x"])
    head = tf.estimator.BinaryClassHead()
    return head.create_estimator_spec(  # {expect}
        features=features, mode=mode, labels=labels, logits=logits,
        train_op_fn=lambda loss: tf.compat.v1.train.AdamOptimizer().minimize(loss))
"""


def _main(estimator: str, calls: str) -> str:
    return f"""
def main():
    est = {estimator}
{textwrap.indent(calls, "    ")}
"""


TPU = ("tf.compat.v1.estimator.tpu.TPUEstimator(model_fn=model_fn, use_tpu=True, "
       "train_batch_size=8, eval_batch_size=8, predict_batch_size=8)")

CASES = {
    # clean: a head under a plain Estimator, or a TPUEstimator that never runs on TPU
    "plain_estimator": (MODEL_FN.format(expect="ok"),
                        _main("tf.estimator.Estimator(model_fn=model_fn)", "est.train(None)\nest.evaluate(None)")),
    "tpu_estimator_use_tpu_false": (MODEL_FN.format(expect="ok"),
                                    _main(TPU.replace("use_tpu=True", "use_tpu=False"),
                                          "est.train(None)\nest.evaluate(None)")),
    # evaluation on CPU (eval_on_tpu=False), train-free script: nothing runs on TPU in EVAL
    "eval_on_cpu_only_evaluates": (MODEL_FN.format(expect="ok"),
                                   _main(TPU.replace("use_tpu=True", "use_tpu=True, eval_on_tpu=False"),
                                         "est.evaluate(None)")),
    # a head whose parts build the TPUEstimatorSpec: the right way on TPU
    "head_parts_in_tpu_spec": ("""
def model_fn(features, labels, mode, params):
    logits = tf.keras.layers.Dense(1)(features["x"])
    head = tf.estimator.BinaryClassHead()
    loss = head.loss(labels=labels, logits=logits, features=features, mode=mode)
    opt = tf.compat.v1.tpu.CrossShardOptimizer(tf.compat.v1.train.AdamOptimizer())
    return tf.compat.v1.estimator.tpu.TPUEstimatorSpec(
        mode, loss=loss, train_op=opt.minimize(loss, tf.compat.v1.train.get_global_step()))
""", _main(TPU, "est.train(None)")),
    # bad twins
    "tpu_train_and_evaluate": (MODEL_FN.format(expect="expect: SL012, SL034"),
                               _main(TPU, "est.train(None)\nest.evaluate(None)")),
    "tpu_train_only": (MODEL_FN.format(expect="expect: SL012"), _main(TPU, "est.train(None)")),
    "tpu_predict_only": (MODEL_FN.format(expect="expect: SL034"), _main(TPU, "list(est.predict(None))")),
    "eval_on_cpu_but_trains_on_tpu": (MODEL_FN.format(expect="expect: SL012"),
                                      _main(TPU.replace("use_tpu=True", "use_tpu=True, eval_on_tpu=False"),
                                            "est.train(None)\nest.evaluate(None)")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_canned_head(name):
    model_fn, main = CASES[name]
    src = HEAD + textwrap.dedent(model_fn) + main
    assert mismatches(src) == []


def test_head_messages_say_what_the_head_builds():
    from expect import actual
    src = HEAD + textwrap.dedent(CASES["tpu_train_and_evaluate"][0]) + CASES["tpu_train_and_evaluate"][1]
    _, diags = actual(src)
    msgs = {d.code: d.message for d in diags}
    assert msgs["SL034"].startswith("`head.create_estimator_spec(...)` returns a plain EstimatorSpec (a canned "
                                    "head converts its TPU spec with as_estimator_spec() in every mode), "
                                    "and this model_fn returns it in EVAL on TPU")
    assert msgs["SL012"].startswith("`head.create_estimator_spec(...)` writes TF1 summaries itself in TRAIN")
