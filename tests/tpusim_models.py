"""Tiny TPUEstimator model_fns for the TPU simulation tests: one correct BERT-style classifier and one
misuse per rule, written the way real code writes them (so that the static engine can read them too).

Each `bad_*` function's misuse is on the line annotated `# tpusim: SLnnn`; the simulation test checks
that `simulate_tpu` reports that code on that line (or on the line named by `# tpusim-anchor`).
Features carry the labels (BERT style), so one `input_fn` serves all three modes.
"""
import tensorflow.compat.v1 as tf

TPUEstimatorSpec = tf.estimator.tpu.TPUEstimatorSpec
NUM_CLASSES = 3


def input_fn(params):
    batch_size = params["batch_size"]
    x = tf.random.normal([64, 4], seed=1)
    y = tf.zeros([64], tf.int32)
    dataset = tf.data.Dataset.from_tensor_slices({"x": x, "label_ids": y})
    return dataset.repeat().batch(batch_size, drop_remainder=True)


def dynamic_input_fn(params):  # tpusim: SL044
    x = tf.random.normal([64, 4], seed=1)
    y = tf.zeros([64], tf.int32)
    dataset = tf.data.Dataset.from_tensor_slices({"x": x, "label_ids": y})
    return dataset.repeat().batch(params["batch_size"])


# --------------------------------------------------------------------------------------------
def good_bert_model_fn(features, labels, mode, params):
    """BERT's run_classifier model_fn, shrunk: eval_metrics, host_call and scaffold_fn."""
    label_ids = features["label_ids"]
    is_training = mode == tf.estimator.ModeKeys.TRAIN
    hidden = tf.layers.dense(features["x"], 8, activation=tf.tanh, name="encoder")
    if is_training:
        hidden = tf.nn.dropout(hidden, rate=0.1)
    logits = tf.layers.dense(hidden, NUM_CLASSES, name="output")
    probabilities = tf.nn.softmax(logits, axis=-1)
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    one_hot = tf.one_hot(label_ids, depth=NUM_CLASSES, dtype=tf.float32)
    per_example_loss = -tf.reduce_sum(one_hot * log_probs, axis=-1)
    total_loss = tf.reduce_mean(per_example_loss)

    encoder_kernel = tf.trainable_variables("encoder")[0]  # a Variable: fine to capture

    def tpu_scaffold():
        saver = tf.train.Saver(max_to_keep=2, keep_checkpoint_every_n_hours=1)
        ready = tf.report_uninitialized_variables([encoder_kernel])
        return tf.train.Scaffold(saver=saver, ready_for_local_init_op=ready)

    if mode == tf.estimator.ModeKeys.TRAIN:
        global_step = tf.train.get_global_step()
        optimizer = tf.train.AdamOptimizer(1e-3)
        if params["use_tpu"]:
            optimizer = tf.tpu.CrossShardOptimizer(optimizer)
        train_op = optimizer.minimize(total_loss, global_step=global_step)

        def host_call_fn(gs, loss):
            step = tf.cast(gs[0], tf.int64)
            with tf.compat.v2.summary.create_file_writer(params["summary_dir"]).as_default():
                tf.compat.v2.summary.scalar("loss", tf.reduce_mean(loss), step=step)
            return tf.summary.all_v2_summary_ops()

        host_call = (host_call_fn, [tf.reshape(global_step, [1]), tf.reshape(total_loss, [1])])
        return TPUEstimatorSpec(mode=mode, loss=total_loss, train_op=train_op,
                                host_call=host_call, scaffold_fn=tpu_scaffold)
    if mode == tf.estimator.ModeKeys.EVAL:

        def metric_fn(per_example_loss, label_ids, logits):
            predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
            return {
                "eval_accuracy": tf.metrics.accuracy(labels=label_ids, predictions=predictions),
                "eval_loss": tf.metrics.mean(values=per_example_loss),
            }

        eval_metrics = (metric_fn, [per_example_loss, label_ids, logits])
        return TPUEstimatorSpec(mode=mode, loss=total_loss, eval_metrics=eval_metrics,
                                scaffold_fn=tpu_scaffold)
    return TPUEstimatorSpec(mode=mode, predictions={"probabilities": probabilities},
                            scaffold_fn=tpu_scaffold)


# --------------------------------------------------------------------------------------------
# One misuse each.  `_body` is inlined on purpose: the static engine reads these functions too.
def bad_sl001_metric_ops_dict(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    eval_metrics = {"acc": tf.metrics.accuracy(features["label_ids"], tf.argmax(logits, 1))}
    return TPUEstimatorSpec(mode, loss=loss, eval_metrics=eval_metrics)  # tpusim: SL001


def bad_sl002_defaulted_param(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)

    def metric_fn(label_ids, logits, weights=None):
        return {"acc": tf.metrics.accuracy(label_ids, tf.argmax(logits, 1), weights=weights)}

    return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [features["label_ids"], logits]))  # tpusim: SL002


def bad_sl003_wrong_key(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)

    def metric_fn(label_ids, logits):
        return {"acc": tf.metrics.accuracy(label_ids, tf.argmax(logits, 1))}

    tensors = {"labels": features["label_ids"], "logits": logits}
    return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, tensors))  # tpusim: SL003


def bad_sl004_nested_dict(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)

    def metric_fn(features, logits):
        return {"acc": tf.metrics.accuracy(features["label_ids"], tf.argmax(logits, 1))}

    tensors = {"features": features, "logits": logits}
    return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, tensors))  # tpusim: SL004


def bad_sl005_scalar_loss_to_metric_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)

    def metric_fn(loss, label_ids, logits):
        return {"eval_loss": tf.metrics.mean(loss),
                "acc": tf.metrics.accuracy(label_ids, tf.argmax(logits, 1))}

    eval_metrics = (metric_fn, [loss, features["label_ids"], logits])
    return TPUEstimatorSpec(mode, loss=loss, eval_metrics=eval_metrics)  # tpusim: SL005


def bad_sl005_scalar_global_step_to_host_call(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    global_step = tf.train.get_global_step()
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=global_step)

    def host_call_fn(gs, loss):
        with tf.compat.v2.summary.create_file_writer(params["summary_dir"]).as_default():
            tf.compat.v2.summary.scalar("loss", loss, step=gs)
        return tf.summary.all_v2_summary_ops()

    host_call = (host_call_fn, [global_step, loss])
    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op, host_call=host_call)  # tpusim: SL005


def bad_sl007_metric_fn_closure(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)

    def metric_fn(label_ids):
        return {"acc": tf.metrics.accuracy(label_ids, tf.argmax(logits, 1))}  # tpusim: SL007

    return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [features["label_ids"]]))


def bad_sl008_keras_metric(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)

    def metric_fn(label_ids, logits):
        acc = tf.keras.metrics.Accuracy()
        acc.update_state(label_ids, tf.argmax(logits, 1, output_type=tf.int32))
        return {"acc": acc}

    return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [features["label_ids"], logits]))  # tpusim: SL008


def bad_sl010_v1_summary_in_host_call(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    global_step = tf.train.get_global_step()
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=global_step)

    def host_call_fn(loss):
        tf.summary.scalar("loss", tf.reduce_mean(loss))  # tpusim: SL010
        return []

    host_call = (host_call_fn, [tf.reshape(loss, [1])])
    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op, host_call=host_call)


def bad_sl011_host_fn_returns_none(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)

    def host_call_fn(loss):
        with tf.compat.v2.summary.create_file_writer(params["summary_dir"]).as_default():
            tf.compat.v2.summary.scalar("eval_loss", tf.reduce_mean(loss), step=0)

    host_call = (host_call_fn, [tf.reshape(loss, [1])])
    return TPUEstimatorSpec(mode, loss=loss, host_call=host_call)  # tpusim: SL011


def bad_sl012_v1_summary_in_model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    tf.summary.scalar("my_loss", loss)  # tpusim: SL012
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op)


def bad_sl013_scaffold_instance(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    scaffold = tf.train.Scaffold()
    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op, scaffold_fn=scaffold)  # tpusim: SL013


def bad_sl014_scaffold_fn_returns_none(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())

    def scaffold_fn():
        tf.logging.info("restoring nothing")

    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op, scaffold_fn=scaffold_fn)  # tpusim: SL014


def bad_sl015_scaffold_fn_captures_tensor(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    scale = tf.get_variable("scale", [], initializer=tf.ones_initializer())

    def scaffold_fn():
        init_op = tf.group(tf.assign(scale, scale * tf.reduce_mean(logits)))  # tpusim: SL015
        return tf.train.Scaffold(local_init_op=init_op)

    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op, scaffold_fn=scaffold_fn)


def bad_sl026_predictions_tensor(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    return TPUEstimatorSpec(mode, predictions=tf.nn.softmax(logits))  # tpusim: SL026


def bad_sl034_estimator_spec_in_eval(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    acc = tf.metrics.accuracy(features["label_ids"], tf.argmax(logits, 1))
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={"acc": acc})  # tpusim: SL034


def bad_sl043_no_cross_shard_optimizer(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())  # tpusim: SL043
    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op)


def bad_unmapped_reshape(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    grid = tf.reshape(logits, [7, 7])  # tpusim: SL102
    return TPUEstimatorSpec(mode, predictions={"grid": grid})


def bad_sl009_reserved_metric_name(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    per_example_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=features["label_ids"], logits=logits)
    loss = tf.reduce_mean(per_example_loss)

    def metric_fn(per_example_loss):
        return {"loss": tf.metrics.mean(per_example_loss)}

    return TPUEstimatorSpec(mode, loss=loss, eval_metrics=(metric_fn, [per_example_loss]))  # tpusim: SL009


def bad_sl016_init_from_checkpoint_in_model_fn(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES, name="output")
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    tf.train.init_from_checkpoint(params["init_checkpoint"], {"output/": "output/"})  # tpusim: SL016
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op)


def bad_sl021_bfloat16_loss(features, labels, mode, params):
    with tf.tpu.bfloat16_scope():
        logits = tf.layers.dense(tf.cast(features["x"], tf.bfloat16), NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)  # tpusim: SL021
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op)


def bad_sl031_logging_hook_on_tpu(features, labels, mode, params):
    logits = tf.layers.dense(features["x"], NUM_CLASSES)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label_ids"], logits)
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    if params["use_tpu"]:
        optimizer = tf.tpu.CrossShardOptimizer(optimizer)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    hook = tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=10)
    return TPUEstimatorSpec(mode, loss=loss, train_op=train_op, training_hooks=[hook])  # tpusim: SL031
