"""TF1 idioms inside model_fn (issue 18): compat.v1 optimizers with get_global_step, compat.v1
metrics tuples, a [1]-shaped loss, hooks named by the spec, and disable_eager_execution."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_estimator as ke
import keras_estimator.tensorflow as tf

X = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
Y = (X[:, 0] > 0).astype("int64")

OPTIMIZERS = {
    "Adam": lambda: tf.compat.v1.train.AdamOptimizer(0.1),
    "Adagrad": lambda: tf.compat.v1.train.AdagradOptimizer(0.5),
    "GradientDescent": lambda: tf.compat.v1.train.GradientDescentOptimizer(0.5),
    "Momentum": lambda: tf.compat.v1.train.MomentumOptimizer(0.2, momentum=0.9),
    "RMSProp": lambda: tf.compat.v1.train.RMSPropOptimizer(0.1),
    "Ftrl": lambda: tf.compat.v1.train.FtrlOptimizer(0.5),
}


def input_fn(repeat=True):
    dataset = tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(16)
    return dataset.repeat() if repeat else dataset


def model_fn(features, labels, mode, params):
    """Written as a tf.estimator 2.15 program would be."""
    logits = keras.layers.Dense(2, name="out")(features["x"])
    classes = tf.argmax(logits, 1)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"class": classes})
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
    if mode == tf.estimator.ModeKeys.EVAL:
        metrics = {"accuracy": tf.compat.v1.metrics.accuracy(labels, classes),
                   "label/mean": tf.compat.v1.metrics.mean(tf.cast(labels, tf.float32))}
        return tf.estimator.EstimatorSpec(mode, loss=tf.reshape(loss, [1]), eval_metric_ops=metrics)
    params["steps_seen"].append(tf.compat.v1.train.get_global_step())
    optimizer = OPTIMIZERS[params["optimizer"]]()
    train_op = optimizer.minimize(loss, global_step=tf.compat.v1.train.get_or_create_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, training_hooks=params["hooks"])


def estimator(model_dir, optimizer="Adam", hooks=(), **config):
    params = {"optimizer": optimizer, "steps_seen": [], "hooks": list(hooks)}
    config.setdefault("tf_random_seed", 0)  # 25 steps from a random start: the same start each run.
    return ke.Estimator(model_fn, str(model_dir), ke.RunConfig(**config), params=params)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_compat_v1_optimizers_train_and_count_each_step_once(tmp_path, optimizer):
    est = estimator(tmp_path, optimizer)
    before = est.evaluate(lambda: input_fn(False))["loss"] if optimizer == "Adam" else None
    est.train(input_fn, steps=25)
    result = est.evaluate(lambda: input_fn(False))
    assert result["global_step"] == 25 and est.get_variable_value("global_step") == 25
    assert result["accuracy"] > 0.85, result
    if before is not None:
        assert result["loss"] < before


@pytest.mark.parametrize("hooks", [(), (tf.compat.v1.train.SessionRunHook(),)], ids=["loops", "every-step hook"])
def test_a_compat_v1_optimizer_applies_tf1s_update_rule_step_for_step(tmp_path, hooks):
    """300 AdagradOptimizer steps, in compiled loops or one step per call (a SessionRunHook), end
    on the weights of TF1's rule (accum += g^2; w -= lr * g / sqrt(accum)) run eagerly."""
    x = np.array([[1.0, 1.5], [2.0, 2.5], [3.0, 3.5]], "float32")
    y = np.array([[0.3], [0.5], [0.7]], "float32")
    initial = np.array([[0.5], [-0.3]], "float32")

    def adagrad_model_fn(features, labels, mode):
        dense = tf.compat.v1.layers.Dense(1, kernel_initializer=tf.compat.v1.constant_initializer(initial))
        loss = tf.compat.v1.losses.mean_squared_error(labels, dense(features))
        train_op = tf.compat.v1.train.AdagradOptimizer(0.05).minimize(
            loss, global_step=tf.compat.v1.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    est = ke.Estimator(adagrad_model_fn, str(tmp_path))
    est.train(lambda: tf.data.Dataset.from_tensor_slices((x, y)).batch(1).repeat(100), hooks=list(hooks))

    w, b = tf.Variable(initial), tf.Variable([0.0])
    accumulators = [tf.Variable(tf.fill([2, 1], 0.1)), tf.Variable([0.1])]
    for step in range(300):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(x[step % 3:step % 3 + 1] @ w + b - y[step % 3:step % 3 + 1]))
        for variable, accumulator, grad in zip((w, b), accumulators, tape.gradient(loss, [w, b])):
            accumulator.assign_add(tf.square(grad))
            variable.assign_sub(0.05 * grad / tf.sqrt(accumulator))
    assert est.get_variable_value("global_step") == 300
    np.testing.assert_allclose(est.get_variable_value("dense/kernel"), w.numpy(), rtol=1e-5)
    np.testing.assert_allclose(est.get_variable_value("dense/bias"), b.numpy(), rtol=1e-5)


def test_slots_are_checkpointed_by_name_and_resumed(tmp_path):
    estimator(tmp_path).train(input_fn, steps=5)
    names = ke.Estimator(model_fn, str(tmp_path)).get_variable_names()
    assert {"out/kernel", "beta1_power", "out/kernel/Adam/", "out/kernel/Adam_1/"} <= set(names)
    again = estimator(tmp_path)
    again.train(input_fn, steps=5)
    assert again.get_variable_value("global_step") == 10
    assert again.get_variable_value("beta1_power") == pytest.approx(0.9 ** 11)  # One power per step.


def test_get_global_step_in_model_fn_is_the_step_running(tmp_path):
    seen = []

    def reading_model_fn(features, labels, mode):
        step = tf.identity(tf.compat.v1.train.get_global_step())  # Read before the update.
        spec = model_fn(features, labels, mode, {"optimizer": "GradientDescent", "steps_seen": [], "hooks": []})
        with tf.control_dependencies([spec.train_op]):
            record = tf.py_function(lambda s: seen.append(int(s)) or 0, [step], tf.int64)
        return spec._replace(train_op=record)

    ke.Estimator(reading_model_fn, str(tmp_path), ke.RunConfig(steps_per_loop=4)).train(input_fn, steps=6)
    assert seen == [0, 1, 2, 3, 4, 5]  # The value before each step: never advanced twice.


def test_metric_tuples_are_reset_per_evaluate_and_not_checkpointed(tmp_path):
    est = estimator(tmp_path)
    est.train(input_fn, steps=20)
    first, second = est.evaluate(lambda: input_fn(False)), est.evaluate(lambda: input_fn(False))
    predicted = np.array([p["class"] for p in est.predict(lambda: input_fn(False).map(lambda f, l: f))])
    assert first["accuracy"] == second["accuracy"] == pytest.approx(np.mean(predicted == Y))
    assert first["label/mean"] == pytest.approx(Y.mean())
    assert not [n for n in est.get_variable_names() if "accuracy" in n or "mean" in n]


def test_a_train_op_built_in_every_mode_runs_only_in_train(tmp_path):
    # tf.estimator programs often call minimize() whatever the mode: TF1 never ran it in eval.
    def every_mode_model_fn(features, labels, mode):
        logits = keras.layers.Dense(2, name="out")(features["x"])
        predictions = {"class": tf.argmax(logits, 1)}
        if mode == tf.estimator.ModeKeys.PREDICT:
            return tf.estimator.EstimatorSpec(mode, predictions=predictions)
        loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
        train_op = tf.compat.v1.train.GradientDescentOptimizer(0.5).minimize(
            loss, global_step=tf.compat.v1.train.get_global_step())
        metrics = {"accuracy": tf.compat.v1.metrics.accuracy(labels, predictions["class"]),
                   "mean_prob": keras.metrics.Mean()}
        metrics["mean_prob"].update_state(tf.nn.softmax(logits)[:, 1])
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, predictions=predictions,
                                          eval_metric_ops=metrics)

    est = ke.Estimator(every_mode_model_fn, str(tmp_path))
    est.train(input_fn, steps=20)
    kernel = est.get_variable_value("out/kernel")
    first, second = est.evaluate(lambda: input_fn(False)), est.evaluate(lambda: input_fn(False))
    predicted = np.array([p["class"] for p in est.predict(lambda: input_fn(False).map(lambda f, l: f))])
    assert first == second and first["global_step"] == 20
    assert first["accuracy"] == pytest.approx(np.mean(predicted == Y)) and first["accuracy"] > 0.85
    assert 0 < first["mean_prob"] < 1
    assert np.array_equal(est.get_variable_value("out/kernel"), kernel)
    est.train(input_fn, steps=5)
    assert est.get_variable_value("global_step") == 25


def test_hooks_named_by_the_spec_run(tmp_path):
    class Count(ke.Hook):
        calls = []

        def begin(self, context):
            self.calls.append(("begin", context.mode))

        def end(self, context):
            self.calls.append(("end", context.global_step))

    estimator(tmp_path, hooks=[Count()]).train(input_fn, steps=3)
    assert Count.calls == [("begin", "train"), ("end", 3)]


def test_disable_eager_execution_gets_a_clear_error():
    program = textwrap.dedent("""
        import keras_estimator.tensorflow as tf
        tf.compat.v1.disable_eager_execution()
        try:
            tf.estimator.Estimator(lambda features, labels, mode: None)
        except RuntimeError as e:
            print("ERROR:", e)
    """)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120).stdout
    assert "ERROR: keras_estimator needs TensorFlow 2 behaviour" in out
    assert "disable_eager_execution" in out


def test_tf1_metric_values_are_those_after_the_last_batch_across_loops(tmp_path):
    """tf.compat.v1.metrics values are read after the last batch's update, also when the
    evaluation runs in several loops (steps_per_loop=1: one batch per loop)."""
    estimator(tmp_path).train(input_fn, steps=5)
    whole = estimator(tmp_path).evaluate(lambda: input_fn(False))
    per_batch = estimator(tmp_path, steps_per_loop=1).evaluate(lambda: input_fn(False))
    assert whole["label/mean"] == per_batch["label/mean"] == pytest.approx(Y.mean())
    assert whole["accuracy"] == per_batch["accuracy"]
    assert whole["loss"] == pytest.approx(per_batch["loss"])
