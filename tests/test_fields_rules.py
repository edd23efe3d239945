"""Field contracts SL021-SL032: idioms from real Estimator/TPU code that must stay clean, each with
a bad twin that must be flagged where annotated (so that a clean case cannot pass vacuously)."""
import textwrap

import pytest

from expect import actual, expected

CODES = ("SL021", "SL022", "SL023", "SL024", "SL025", "SL026", "SL028", "SL030", "SL032")

HEAD = """\
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.python.saved_model import signature_constants
from tensorflow_estimator.python.estimator.tpu import tpu_estimator


"""


def _check(source: str, target: str = "auto"):
    source = HEAD + textwrap.dedent(source)
    got, diags = actual(source, "case.py", target=target, select=CODES)
    want = {k: n for k, n in expected(source).items() if k[1] in CODES}
    assert dict(got) == want, [f"{d.line}: {d.code} {d.message[:120]}" for d in diags]


# name -> (good idiom, bad twin)
CASES = {
    # ---- SL021 --------------------------------------------------------------------------------
    "loss_none_in_predict_then_tensor": ("""
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            loss = None
            if mode != tf.estimator.ModeKeys.PREDICT:
                loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                              predictions={"logits": logits})
        """, """
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            loss = 0.0
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),  # expect: SL021
                                              predictions={"logits": logits})
        """),
    "bfloat16_model_cast_back_to_float32": ("""
        def model_fn(features, labels, mode, params):
            with tf.tpu.bfloat16_scope():
                logits = tf.layers.dense(tf.cast(features["image"], tf.bfloat16), 10)
            logits = tf.cast(logits, tf.float32)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            with tf.tpu.bfloat16_scope():
                logits = tf.layers.dense(tf.cast(features["image"], tf.bfloat16), 10)
            logits = tf.cast(logits, tf.bfloat16)
            loss = tf.reduce_mean(tf.square(logits)) * 0.5
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)  # expect: SL021
        """),
    "float_scores_of_any_precision_are_accepted_by_export_outputs": ("""
        def model_fn(features, labels, mode, params):
            probs = tf.nn.softmax(tf.layers.dense(features["x"], 4))
            return tf.estimator.EstimatorSpec(
                mode, predictions={"p": probs},
                export_outputs={"serving_default": tf.estimator.export.ClassificationOutput(
                    scores=tf.cast(probs, tf.float64)),
                    "value": tf.estimator.export.RegressionOutput(value=tf.to_bfloat16(probs[:, 0]))})
        """, """
        def model_fn(features, labels, mode, params):
            probs = tf.nn.softmax(tf.layers.dense(features["x"], 4))
            return tf.estimator.EstimatorSpec(
                mode, predictions={"p": probs},
                export_outputs={"serving_default": tf.estimator.export.ClassificationOutput(
                    scores=tf.cast(probs, tf.float64)),
                    "value": tf.estimator.export.RegressionOutput(value=tf.to_int64(probs[:, 0]))})  # expect: SL028
        """),
    "bfloat16_layers_cast_back_before_the_loss": ("""
        def model_fn(features, labels, mode, params):
            with tf.tpu.bfloat16_scope():
                net = tf.layers.conv2d(tf.cast(features["image"], tf.bfloat16), 64, 3)
                net = tf.layers.batch_normalization(net, training=True)
                logits = tf.layers.dense(tf.layers.flatten(net), 1000)
            logits = tf.cast(logits, tf.float32)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            huber = tf.losses.huber_loss(tf.to_double(labels), tf.to_double(logits[:, 0]))
            optimizer = tf.tpu.CrossShardOptimizer(tf.train.MomentumOptimizer(0.1, 0.9))
            train_op = optimizer.minimize(loss + huber, tf.train.get_global_step())
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss + huber, train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            with tf.tpu.bfloat16_scope():
                net = tf.layers.conv2d(tf.cast(features["image"], tf.bfloat16), 64, 3)
                net = tf.layers.batch_normalization(net, training=True)
                logits = tf.layers.dense(tf.layers.flatten(net), 1000)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            optimizer = tf.tpu.CrossShardOptimizer(tf.train.MomentumOptimizer(0.1, 0.9))
            train_op = optimizer.minimize(loss, tf.train.get_global_step())
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)  # expect: SL021
        """),
    "float64_loss_on_the_cpu_path_only": ("""
        def model_fn(features, labels, mode, params):
            loss = tf.reduce_mean(tf.square(tf.to_double(features["x"]) - labels))
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            if not params["use_tpu"]:
                return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
            return tpu_estimator.TPUEstimatorSpec(mode, loss=tf.cast(loss, tf.float32), train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            loss = tf.reduce_mean(tf.square(tf.to_double(features["x"]) - labels))
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            if not params["use_tpu"]:
                return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)  # expect: SL021
        """),
    # ---- SL022 --------------------------------------------------------------------------------
    "train_op_and_learning_rate_from_a_helper": ("""
        def create_train_op(loss, params):
            lr = tf.train.exponential_decay(params["lr"], tf.train.get_global_step(), 1000, 0.9)
            op = tf.train.MomentumOptimizer(lr, 0.9).minimize(loss, tf.train.get_global_step())
            return op, lr

        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            train_op, lr = create_train_op(loss, params)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def create_train_op(loss, params):
            lr = tf.train.exponential_decay(params["lr"], tf.train.get_global_step(), 1000, 0.9)
            op = tf.train.MomentumOptimizer(lr, 0.9).minimize(loss, tf.train.get_global_step())
            return op, lr

        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            train_op = create_train_op(loss, params)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)  # expect: SL022
        """),
    "train_op_is_the_loss_under_control_dependencies": ("""
        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            minimize = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            with tf.control_dependencies([minimize]):
                train_op = tf.identity(loss)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            gs = tf.train.get_global_step()
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=gs)  # expect: SL022
        """),
    # a restricted Boltzmann machine pre-training step (the bad twin is a pattern seen in public code)
    "rbm_updates_grouped": ("""
        def model_fn(features, labels, mode, params):
            v0 = features["x"]
            w = tf.get_variable("w", [784, 64])
            h_bias = tf.get_variable("hb", [64])
            h0 = tf.nn.sigmoid(tf.matmul(v0, w) + h_bias)
            v1 = tf.nn.sigmoid(tf.matmul(h0, tf.transpose(w)))
            err = tf.reduce_mean(tf.square(v0 - v1))
            global_step = tf.train.get_or_create_global_step()
            w_update = tf.assign_add(w, 0.01 * tf.matmul(tf.transpose(v0), h0))
            hb_update = tf.assign_add(h_bias, 0.01 * tf.reduce_mean(h0, 0))
            gs_update = tf.assign_add(global_step, 1)
            return tf.estimator.EstimatorSpec(mode=mode, loss=err,
                                              train_op=tf.group(w_update, hb_update, gs_update))
        """, """
        def model_fn(features, labels, mode, params):
            v0 = features["x"]
            w = tf.get_variable("w", [784, 64])
            h_bias = tf.get_variable("hb", [64])
            h0 = tf.nn.sigmoid(tf.matmul(v0, w) + h_bias)
            v1 = tf.nn.sigmoid(tf.matmul(h0, tf.transpose(w)))
            err = tf.reduce_mean(tf.square(v0 - v1))
            global_step = tf.train.get_or_create_global_step()
            w_update = tf.assign_add(w, 0.01 * tf.matmul(tf.transpose(v0), h0))
            hb_update = tf.assign_add(h_bias, 0.01 * tf.reduce_mean(h0, 0))
            gs_update = tf.assign_add(global_step, 1)
            return tf.estimator.EstimatorSpec(mode=mode, loss=err,
                                              train_op=[w_update, hb_update, gs_update])  # expect: SL022
        """),
    # ---- SL023 --------------------------------------------------------------------------------
    "bert_create_optimizer_increments_the_step_itself": ("""
        class AdamWeightDecayOptimizer(tf.train.Optimizer):
            def apply_gradients(self, grads_and_vars, global_step=None, name=None):
                return tf.no_op()

        def create_optimizer(loss, init_lr):
            global_step = tf.train.get_or_create_global_step()
            optimizer = AdamWeightDecayOptimizer(learning_rate=init_lr)
            tvars = tf.trainable_variables()
            grads = tf.gradients(loss, tvars)
            train_op = optimizer.apply_gradients(zip(grads, tvars), global_step=global_step)
            new_global_step = global_step + 1
            train_op = tf.group(train_op, [global_step.assign(new_global_step)])
            return train_op

        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            train_op = create_optimizer(loss, 1e-4)
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def create_optimizer(loss, init_lr):
            optimizer = tf.train.AdamOptimizer(learning_rate=init_lr)
            tvars = tf.trainable_variables()
            grads = tf.gradients(loss, tvars)
            return optimizer.apply_gradients(zip(grads, tvars))  # expect: SL023

        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            train_op = create_optimizer(loss, 1e-4)
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
        """),
    "assign_add_on_the_global_step_elsewhere": ("""
        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            increment = tf.assign_add(tf.train.get_or_create_global_step(), 1)
            with tf.control_dependencies([increment]):
                train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=None)  # expect: SL023
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """),
    "keras_optimizer_bound_to_the_global_step": ("""
        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            optimizer = tf.keras.optimizers.Adam(1e-3)
            optimizer.iterations = tf.train.get_or_create_global_step()
            tvars = tf.trainable_variables()
            train_op = optimizer.apply_gradients(zip(tf.gradients(loss, tvars), tvars))
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            optimizer = tf.keras.optimizers.Adam(1e-3)
            tvars = tf.trainable_variables()
            train_op = optimizer.apply_gradients(zip(tf.gradients(loss, tvars), tvars))  # expect: SL023
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """),
    "cross_shard_wrapper_of_a_custom_optimizer": ("""
        from bert import optimization

        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            opt = tf.tpu.CrossShardOptimizer(optimization.AdamWeightDecayOptimizer(1e-4))
            tvars = tf.trainable_variables()
            train_op = opt.apply_gradients(zip(tf.gradients(loss, tvars), tvars))
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            opt = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-4))
            tvars = tf.trainable_variables()
            train_op = opt.apply_gradients(zip(tf.gradients(loss, tvars), tvars))  # expect: SL023
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
        """),
    "global_step_by_position_and_unknown_optimizers": ("""
        from official.nlp import optimization

        def minimize(optimizer, loss, **kwargs):
            return optimizer.minimize(loss, **kwargs)

        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            if params["kwargs"]:
                train_op = minimize(tf.train.AdamOptimizer(1e-3), loss,
                                    global_step=tf.train.get_global_step())
                return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
            if params["custom"]:
                train_op = optimization.create_optimizer(loss, 1e-4, 1000, 100, False)
            else:
                opt = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3))
                train_op = opt.minimize(loss, tf.train.get_global_step())
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            opt = tf.tpu.CrossShardOptimizer(tf.train.AdamOptimizer(1e-3))
            train_op = opt.minimize(loss, var_list=tf.trainable_variables())  # expect: SL023
            return tpu_estimator.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
        """),
    "minimize_without_step_only_outside_train": ("""
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            if mode == tf.estimator.ModeKeys.PREDICT:
                return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            if mode == tf.estimator.ModeKeys.EVAL:
                return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.train.AdamOptimizer(0.1).minimize(loss))
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            if mode == tf.estimator.ModeKeys.PREDICT:
                return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            if mode == tf.estimator.ModeKeys.EVAL:
                return tf.estimator.EstimatorSpec(mode, loss=loss)
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss)  # expect: SL023
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """),
    # ---- SL024 --------------------------------------------------------------------------------
    "flat_predictions_built_key_by_key": ("""
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            predictions = {"unique_ids": features["unique_ids"]}
            predictions["start_logits"] = logits
            predictions["probabilities"] = tf.nn.softmax(logits)
            return tf.estimator.EstimatorSpec(mode, predictions=predictions)
        """, """
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            predictions = {"unique_ids": features["unique_ids"]}
            predictions["heads"] = {"start": logits, "end": logits}  # expect: SL024
            return tf.estimator.EstimatorSpec(mode, predictions=predictions)
        """),
    "none_entries_dropped_in_place_by_a_helper": ("""
        def _del_dict_non_tensors(d):
            for k in list(d.keys()):
                if not isinstance(d[k], tf.Tensor):
                    del d[k]

        def model_fn(features, labels, mode, params):
            outputs = tf.layers.dense(features["inputs"], 4)
            scores = None
            predictions = {"outputs": outputs, "scores": scores}
            _del_dict_non_tensors(predictions)
            return tf.estimator.EstimatorSpec(mode, predictions=predictions)
        """, """
        def model_fn(features, labels, mode, params):
            outputs = tf.layers.dense(features["inputs"], 4)
            predictions = {"outputs": outputs, "beam_size": 4}  # expect: SL024
            return tf.estimator.EstimatorSpec(mode, predictions=predictions)
        """),
    "integer_keys_only_matter_in_predict": ("""
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            if mode == tf.estimator.ModeKeys.EVAL:
                return tf.estimator.EstimatorSpec(mode, loss=loss, predictions={0: logits})
            if mode == tf.estimator.ModeKeys.PREDICT:
                return tf.estimator.EstimatorSpec(mode, predictions={"0": logits})
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            if mode == tf.estimator.ModeKeys.PREDICT:
                return tf.estimator.EstimatorSpec(mode, predictions={0: logits})  # expect: SL024
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """),
    # ---- SL025 --------------------------------------------------------------------------------
    "per_example_reductions_over_axis_1": ("""
        def model_fn(features, labels, mode, params):
            probs = tf.nn.softmax(tf.layers.dense(features["x"], 4))
            predictions = {"confidence": tf.reduce_max(probs, axis=1),
                           "probs": probs, "normalized": probs / tf.reduce_sum(probs, axis=0),
                           "ids": tf.argmax(probs, -1)}
            return tf.estimator.EstimatorSpec(mode, predictions=predictions)
        """, """
        def model_fn(features, labels, mode, params):
            probs = tf.nn.softmax(tf.layers.dense(features["x"], 4))
            predictions = {"confidence": tf.reduce_max(probs, axis=1),
                           "prior": tf.reduce_sum(probs, axis=[0]),  # expect: SL025
                           "batch_mean": tf.reduce_mean(probs)}  # expect: SL025
            return tf.estimator.EstimatorSpec(mode, predictions=predictions)
        """),
    "scalar_predictions_outside_predict": ("""
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            if mode == tf.estimator.ModeKeys.PREDICT:
                return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                              predictions={"loss": loss})
        """, """
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            if mode == tf.estimator.ModeKeys.PREDICT:
                return tf.estimator.EstimatorSpec(mode, predictions=tf.reduce_mean(logits))  # expect: SL025
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                              predictions={"loss": loss})
        """),
    # ---- SL026 --------------------------------------------------------------------------------
    "bare_tensor_predictions_on_cpu_and_in_estimator_spec": ("""
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            if params["use_tpu"]:
                return tpu_estimator.TPUEstimatorSpec(mode, predictions={"logits": logits})
            return tpu_estimator.TPUEstimatorSpec(mode, predictions=logits)

        def cpu_model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            return tf.estimator.EstimatorSpec(mode, predictions=logits)
        """, """
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            if params["use_tpu"]:
                return tpu_estimator.TPUEstimatorSpec(mode, predictions=logits)  # expect: SL026
            return tpu_estimator.TPUEstimatorSpec(mode, predictions=logits)
        """),
    "three_argument_where_keeps_the_batch": ("""
        def model_fn(features, labels, mode, params):
            probs = tf.nn.softmax(tf.layers.dense(features["x"], 2))
            keep = probs > 0.5
            return tpu_estimator.TPUEstimatorSpec(mode, predictions={
                "masked": tf.where(keep, probs, tf.zeros_like(probs)), "keep": keep})
        """, """
        def model_fn(features, labels, mode, params):
            probs = tf.nn.softmax(tf.layers.dense(features["x"], 2))
            keep = probs > 0.5
            return tpu_estimator.TPUEstimatorSpec(mode, predictions={
                "kept": tf.where(keep), "keep": keep})  # expect: SL026
        """),
    # ---- SL028 --------------------------------------------------------------------------------
    "export_outputs_single_key_and_default_constant": ("""
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            probs = tf.nn.softmax(logits)
            if mode == tf.estimator.ModeKeys.PREDICT:
                if params["single"]:
                    outputs = {"predict": tf.estimator.export.PredictOutput({"probs": probs})}
                else:
                    outputs = {
                        signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
                            tf.estimator.export.PredictOutput({"probs": probs}),
                        "classes": tf.estimator.export.ClassificationOutput(
                            scores=probs, classes=tf.as_string(tf.argmax(logits, 1))),
                    }
                return tf.estimator.EstimatorSpec(mode, predictions={"probs": probs},
                                                  export_outputs=outputs)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op(),
                                              export_outputs={"a": probs, "b": probs})
        """, """
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 2)
            probs = tf.nn.softmax(logits)
            if mode == tf.estimator.ModeKeys.PREDICT:
                outputs = {  # expect: SL028
                    "predict": tf.estimator.export.PredictOutput({"probs": probs}),
                    "regress": tf.estimator.export.RegressionOutput(
                        value=tf.argmax(probs, axis=1)),  # expect: SL028
                }
                return tf.estimator.EstimatorSpec(mode, predictions={"probs": probs},
                                                  export_outputs=outputs)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op())
        """),
    # ---- SL030 --------------------------------------------------------------------------------
    "hooks_in_lists_and_user_hook_classes": ("""
        class EtaHook(tf.train.SessionRunHook):
            def after_run(self, run_context, run_values):
                pass

        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            hooks = []
            if params["log"]:
                hooks.append(tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=10))
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op,
                                              training_hooks=hooks + [EtaHook()],
                                              evaluation_hooks=(EtaHook(),))
        """, """
        class EtaHook(tf.train.SessionRunHook):
            def after_run(self, run_context, run_values):
                pass

        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op,
                                              training_hooks=EtaHook(),  # expect: SL030
                                              evaluation_hooks=[lambda: None])  # expect: SL030
        """),
    "hooks_list_built_with_list_and_append": ("""
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 10)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            logging_hook = list()
            logging_hook.append(tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=50))
            return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op,
                                              training_hooks=logging_hook)
        """, """
        def model_fn(features, labels, mode, params):
            logits = tf.layers.dense(features["x"], 10)
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            logging_hook = tf.train.LoggingTensorHook({"loss": loss, "logits": logits}, every_n_iter=50)
            return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op,
                                              training_hooks=logging_hook)  # expect: SL030
        """),
    # ---- SL032 --------------------------------------------------------------------------------
    "module_level_layers_numpy_and_shadowed_names": ("""
        DENSE = tf.keras.layers.Dense(2)
        WEIGHTS = np.array([1.0, 2.0], dtype=np.float32)
        SCALE = tf.constant(2.0)

        def model_fn(features, labels, mode, params):
            SCALE = tf.constant(3.0)
            logits = DENSE(features["x"]) * SCALE
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits, weights=tf.gather(WEIGHTS, labels))
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
        """, """
        DENSE = tf.keras.layers.Dense(2)
        SCALE = tf.constant(2.0)
        ZERO_LOSS = tf.zeros([])

        def model_fn(features, labels, mode, params):
            logits = DENSE(features["x"]) * SCALE  # expect: SL032
            if mode == tf.estimator.ModeKeys.PREDICT:
                return tf.estimator.EstimatorSpec(mode, predictions={"logits": logits})
            loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            return tf.estimator.EstimatorSpec(mode, loss=ZERO_LOSS, train_op=train_op)  # expect: SL032
        """),
    "self_attributes_of_a_model_built_inside_model_fn": ("""
        class BertModel(object):
            def __init__(self, input_ids):
                self.pooled_output = tf.layers.dense(input_ids, 8)

            def get_pooled_output(self):
                return self.pooled_output

        class Trainer(object):
            def __init__(self, learning_rate):
                self.learning_rate = learning_rate

            def model_fn(self, features, labels, mode, params):
                model = BertModel(features["input_ids"])
                logits = tf.layers.dense(model.get_pooled_output(), 2)
                loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
                train_op = tf.train.AdamOptimizer(self.learning_rate).minimize(
                    loss, tf.train.get_global_step())
                return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

        def main():
            trainer = Trainer(1e-3)
            return tf.estimator.Estimator(model_fn=trainer.model_fn)
        """, """
        class Trainer(object):
            def __init__(self, learning_rate):
                self.learning_rate = tf.constant(learning_rate)

            def model_fn(self, features, labels, mode, params):
                logits = tf.layers.dense(features["x"], 2)
                loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
                train_op = tf.train.AdamOptimizer(self.learning_rate * 0.1).minimize(  # expect: SL032
                    loss, tf.train.get_global_step())
                return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

        def main():
            trainer = Trainer(1e-3)
            return tf.estimator.Estimator(model_fn=trainer.model_fn)
        """),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_good_idiom_is_clean(name):
    good, _ = CASES[name]
    assert not expected(good)
    _check(good)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_twin_is_flagged(name):
    _, bad = CASES[name]
    assert expected(bad)
    _check(bad)


def test_tpu_rules_follow_the_target():
    bad = CASES["bare_tensor_predictions_on_cpu_and_in_estimator_spec"][1]
    source = HEAD + textwrap.dedent(bad)
    assert not actual(source, "case.py", target="cpu", select=CODES)[1]
    got, _ = actual(source, "case.py", target="tpu", select=CODES)
    # --target tpu: every model_fn runs on TPU, but a CPU-only guard (`else:` of use_tpu) still counts
    assert sum(n for (_, code), n in got.items() if code == "SL026") == 1


def test_messages_name_the_value_and_the_fix():
    bad = CASES["bert_create_optimizer_increments_the_step_itself"][1]
    _, diags = actual(HEAD + textwrap.dedent(bad), "case.py", select=CODES)
    (d,) = diags
    assert "apply_gradients" in d.message and "global_step=" in d.message
    assert "has not been increased" in d.message


# Message variants not exercised above: each must be reported where annotated (and format).
MORE_BAD = {
    "direct_not_batch_prediction": """
        def model_fn(features, labels, mode, params):
            probs = tf.nn.softmax(tf.layers.dense(features["x"], 4))
            return tf.estimator.EstimatorSpec(mode, predictions=tf.reduce_sum(probs, axis=0))  # expect: SL025
        """,
    "export_outputs_not_a_dict_and_integer_scores": """
        def model_fn(features, labels, mode, params):
            probs = tf.nn.softmax(tf.layers.dense(features["x"], 4))
            if mode == tf.estimator.ModeKeys.PREDICT:
                if params["one"]:
                    return tf.estimator.EstimatorSpec(
                        mode, predictions={"p": probs},
                        export_outputs=tf.estimator.export.PredictOutput({"p": probs}))  # expect: SL028
                return tf.estimator.EstimatorSpec(
                    mode, predictions={"p": probs},
                    export_outputs={"serving_default": tf.estimator.export.ClassificationOutput(
                        scores=tf.cast(probs * 100, tf.int32))})  # expect: SL028
            loss = tf.losses.sparse_softmax_cross_entropy(labels, probs)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.no_op())
        """,
    "hooks_function_dict_constant_and_keras_callback": """
        def log_loss():
            print("step")

        def model_fn(features, labels, mode, params):
            loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features["x"], 1))
            train_op = tf.train.AdamOptimizer(0.1).minimize(loss, tf.train.get_global_step())
            hook = tf.train.StepCounterHook(every_n_steps=10)
            return tf.estimator.EstimatorSpec(
                mode, loss=loss, train_op=train_op,
                training_chief_hooks=log_loss,  # expect: SL030
                training_hooks={"steps": hook},  # expect: SL030
                evaluation_hooks=[hook, 10],  # expect: SL030
                prediction_hooks=tf.keras.callbacks.TensorBoard())  # expect: SL030
        """,
}


@pytest.mark.parametrize("name", sorted(MORE_BAD))
def test_more_variants_are_flagged(name):
    _check(MORE_BAD[name])


# Helpers in sibling modules of the same run (the module index).
OPTIMIZATION_GOOD = """
import tensorflow.compat.v1 as tf

class AdamWeightDecayOptimizer(tf.train.Optimizer):
    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        return tf.no_op()

def create_optimizer(loss, init_lr):
    global_step = tf.train.get_or_create_global_step()
    optimizer = tf.train.AdamOptimizer(init_lr)
    tvars = tf.trainable_variables()
    train_op = optimizer.apply_gradients(zip(tf.gradients(loss, tvars), tvars))
    return tf.group(train_op, [global_step.assign(global_step + 1)])
"""
OPTIMIZATION_BAD = """
import tensorflow.compat.v1 as tf

def create_optimizer(loss, init_lr):
    optimizer = tf.train.AdamOptimizer(init_lr)
    tvars = tf.trainable_variables()
    return optimizer.apply_gradients(zip(tf.gradients(loss, tvars), tvars))
"""
MODELING = """
import tensorflow.compat.v1 as tf

{prior}

def create_model(features, num_labels):
    logits = tf.layers.dense(features["input_ids"], num_labels)
    return logits / {use}
"""
RUN = """
import tensorflow.compat.v1 as tf
import modeling
import optimization

def model_fn(features, labels, mode, params):
    logits = modeling.create_model(features, 3)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    train_op = optimization.create_optimizer(loss, 2e-5)
    return tf.estimator.tpu.TPUEstimatorSpec(mode, loss=loss, train_op=train_op)
"""


def _run_tree(tmp_path, files):
    from speclint import engine
    from speclint.config import Resolver
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    result = engine.check_paths([str(tmp_path)], Resolver(overrides={"select": CODES}))
    assert not result.internal_errors
    return sorted((d.path.rsplit("/", 1)[-1], d.line, d.code) for d in result.diagnostics)


def test_helpers_in_sibling_modules_clean(tmp_path):
    assert _run_tree(tmp_path, {
        "optimization.py": OPTIMIZATION_GOOD, "run.py": RUN,
        "modeling.py": MODELING.format(prior="PRIOR = [0.2, 0.3, 0.5]", use="tf.constant(PRIOR)")}) == []


def test_helpers_in_sibling_modules_bad_twin(tmp_path):
    assert _run_tree(tmp_path, {
        "optimization.py": OPTIMIZATION_BAD, "run.py": RUN,
        "modeling.py": MODELING.format(prior="PRIOR = tf.constant([0.2, 0.3, 0.5])", use="PRIOR")}) == [
        ("modeling.py", 8, "SL032"), ("optimization.py", 7, "SL023")]
