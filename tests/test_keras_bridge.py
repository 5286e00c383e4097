"""model_to_estimator: the same Keras network through Keras and through the Estimator."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import dir_state

import keras_estimator as ke
from keras_estimator.numbers import input_fn, serving_input_receiver_fn
from keras_estimator.numbers.models import ARCHITECTURES, build_model

# eval_size is a multiple of batch_size: every eval batch is full, so the Estimator's mean of
# batch losses equals Keras's mean over examples.
SMALL = {"max_num": 10_000, "eval_size": 192, "pool_size": 2000, "batch_size": 32,
         "units": 16, "embedding_dim": 8}
PREDICT, EVAL, TRAIN = ke.ModeKeys.PREDICT, ke.ModeKeys.EVAL, ke.ModeKeys.TRAIN


def _batched_predictions(estimator, params):
    batches = list(estimator.predict(lambda: input_fn(params, PREDICT), yield_single_examples=False))
    return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


@pytest.mark.parametrize("targets", ["parity", "parity,magnitude,value"])
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_untrained_estimator_equals_keras(tmp_path, arch, targets):
    params = {**SMALL, "model": arch, "targets": targets}
    model = build_model(params)
    weights_before = [w.numpy() for w in model.weights]
    est = ke.model_to_estimator(model, model_dir=tmp_path)

    predictions = _batched_predictions(est, params)
    expected = model.predict(input_fn(params, PREDICT), verbose=0)
    assert sorted(predictions) == sorted(targets.split(","))
    for key in expected:
        np.testing.assert_allclose(predictions[key], expected[key], rtol=0, atol=1e-6, err_msg=key)

    results = est.evaluate(lambda: input_fn(params, EVAL))
    keras_results = model.evaluate(input_fn(params, EVAL), verbose=0, return_dict=True)
    assert set(results) == set(keras_results) | {"global_step"}
    for key, value in keras_results.items():
        assert results[key] == pytest.approx(value, abs=1e-5), key
    # Conversion neither changed nor broke the Keras model.
    for before, after in zip(weights_before, model.weights):
        np.testing.assert_array_equal(before, after.numpy())
    assert model.predict(input_fn(params, PREDICT), verbose=0).keys() == expected.keys()


def test_export_before_training_serves_the_keras_weights(tmp_path):
    """A model prototyped with fit exports through the bridge without Estimator training."""
    params = {**SMALL, "model": "cnn", "targets": "parity,magnitude"}
    model = build_model(params)
    est = ke.model_to_estimator(model, model_dir=tmp_path / "model")
    path = est.export_saved_model(tmp_path / "export", serving_input_receiver_fn(params))
    assert est.latest_checkpoint() is None  # Exporting wrote no checkpoint.
    served = tf.saved_model.load(path.decode()).signatures["serving_default"](
        words=tf.constant(["forty-two", "SEVEN", ""]))
    expected = model.predict(serving_input_receiver_fn(params).features(tf.constant(["forty-two", "seven", ""])),
                             verbose=0)
    for key in expected:
        np.testing.assert_allclose(served[key].numpy(), expected[key], rtol=0, atol=1e-6, err_msg=key)


@pytest.mark.slow
def test_training_through_the_bridge_matches_fit(tmp_path):
    params = {"lang": "en", "model": "gru", "units": 32, "pool_size": 5000, "eval_size": 1000}
    steps = 100  # fit reached 0.998-1.0 at 60 steps (seeds 0, 1).
    keras.utils.set_random_seed(0)
    fit_model = build_model(params)
    fit_model.fit(input_fn(params), steps_per_epoch=steps, epochs=1, verbose=0)
    fit_accuracy = fit_model.evaluate(input_fn(params, EVAL), verbose=0, return_dict=True)["accuracy"]

    keras.utils.set_random_seed(0)
    est = ke.model_to_estimator(build_model(params), model_dir=tmp_path,
                                config=ke.RunConfig(tf_random_seed=0, log_step_count_steps=None))
    est.train(lambda: input_fn(params), steps=steps)
    results = est.evaluate(lambda: input_fn(params, EVAL))
    assert results["global_step"] == steps
    assert fit_accuracy >= 0.97 and results["accuracy"] >= 0.97, (fit_accuracy, results)
    assert abs(results["accuracy"] - fit_accuracy) <= 0.03

    # The trained weights load back into Keras, which predicts what the Estimator predicts.
    trained = ke.load_keras_model(tmp_path)
    keras_accuracy = trained.evaluate(input_fn(params, EVAL), verbose=0, return_dict=True)["accuracy"]
    assert keras_accuracy == pytest.approx(results["accuracy"], abs=1e-6)


_CHILD = textwrap.dedent("""
    import sys
    import keras_estimator as ke
    from keras_estimator.numbers import input_fn
    path, model_dir, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    params = {params!r}
    est = ke.model_to_estimator(keras_model_path=path, model_dir=model_dir,
                                config=ke.RunConfig(save_checkpoints_steps=10))
    est.train(lambda: input_fn(params), steps=steps)
    print("EVAL_LOSS", repr(float(est.evaluate(lambda: input_fn(params, "eval"))["loss"])))
""")


def test_resume_across_processes_from_a_saved_keras_file(tmp_path):
    params = {**SMALL, "model": "cnn", "targets": "parity,magnitude"}
    path = str(tmp_path / "model.keras")
    build_model(params).save(path)
    model_dir = str(tmp_path / "model_dir")
    child = subprocess.run(
        [sys.executable, "-c", _CHILD.format(params=params), path, model_dir, "20"],
        capture_output=True, text=True, timeout=300,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    child_loss = float(child.stdout.split("EVAL_LOSS")[1].split()[0])

    est = ke.model_to_estimator(keras_model_path=path, model_dir=model_dir)
    results = est.evaluate(lambda: input_fn(params, EVAL))
    assert results["global_step"] == 20
    assert float(results["loss"]) == child_loss  # Same checkpoint, same graph: bit for bit.
    est.train(lambda: input_fn(params), steps=10)
    assert est.get_variable_value("global_step") == 30
    assert sorted(int(p.rsplit("-", 1)[1]) for p in tf.train.get_checkpoint_state(model_dir).all_model_checkpoint_paths) == [10, 20, 30]

    trained = ke.load_keras_model(model_dir)
    expected = trained.predict(input_fn(params, PREDICT), verbose=0)
    predictions = _batched_predictions(est, params)
    for key in expected:
        np.testing.assert_allclose(predictions[key], expected[key], rtol=0, atol=1e-6)
    # Optimizer state came back too: fit continues from step 30.
    assert int(trained.optimizer.iterations.numpy()) == 30


def test_models_compiled_in_one_process_share_checkpoint_names(tmp_path):
    """Keras auto-names the second Adam "adam_1"; checkpoints must not depend on that."""
    params = {**SMALL, "model": "gru"}
    first, second = build_model(params), build_model(params)
    assert first.optimizer.name != second.optimizer.name
    ke.model_to_estimator(first, model_dir=tmp_path).train(lambda: input_fn(params), steps=2)
    est = ke.model_to_estimator(second, model_dir=tmp_path)
    est.train(lambda: input_fn(params), steps=2)
    assert est.get_variable_value("global_step") == 4
    assert "adam/iteration" in est.get_variable_names()


def _dropout_model(rate):
    x = keras.Input((4,), name="x")
    h = keras.layers.Dense(32, activation="relu", name="hidden")(x)
    h = keras.layers.Dropout(rate, name="dropout")(h)
    model = keras.Model(x, keras.layers.Dense(1, name="y")(h))
    model.compile(keras.optimizers.SGD(0.0), "mse")  # Learning rate 0: weights never move.
    return model


class _LossRecorder(ke.Hook):
    def __init__(self):
        self.losses = []

    def after_run(self, context):
        self.losses.append(context.loss)


@pytest.mark.parametrize("rate", [0.0, 0.5])
def test_dropout_is_on_in_train_only(tmp_path, rate):
    keras.utils.set_random_seed(1)
    model = _dropout_model(rate)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = np.ones((64, 1), "float32")
    data = lambda: tf.data.Dataset.from_tensors(({"x": x}, y))  # noqa: E731
    est = ke.model_to_estimator(model, model_dir=tmp_path, config=ke.RunConfig(log_step_count_steps=None))
    recorder = _LossRecorder()
    est.train(lambda: data().repeat(), steps=1, hooks=[recorder])
    eval_loss = float(est.evaluate(data)["loss"])
    assert eval_loss == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)
    if rate:
        assert abs(recorder.losses[0] - eval_loss) > 1e-3  # Dropout changed the training loss.
    else:
        assert recorder.losses[0] == pytest.approx(eval_loss, rel=1e-6)
    predictions = np.stack([p["y"] for p in est.predict(lambda: tf.data.Dataset.from_tensors({"x": x}))])
    np.testing.assert_allclose(predictions, model.predict(x, verbose=0), atol=1e-6)


def test_list_inputs_and_sequential_models():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b", dtype="int32")
    merged = keras.layers.Concatenate()([a, keras.layers.Identity()(keras.ops.cast(b, "float32"))])
    two_inputs = keras.Model([a, b], keras.layers.Dense(1, name="out")(merged))
    two_inputs.compile("sgd", "mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(8, 3)).astype("float32"), "b": np.ones((8, 2), "int32")}
    y = np.ones((8, 1), "float32")
    results = ke.model_to_estimator(two_inputs).evaluate(
        lambda: tf.data.Dataset.from_tensor_slices((x, y)).batch(4))
    expected = two_inputs.evaluate([x["a"], x["b"]], y, verbose=0, return_dict=True)
    assert results["mae"] == pytest.approx(expected["mae"], rel=1e-5)

    sequential = keras.Sequential([keras.Input((4,), name="x"), keras.layers.Dense(2, name="d")])
    sequential.compile("adam", "mse")
    features = rng.normal(size=(8, 4)).astype("float32")
    est = ke.model_to_estimator(sequential)
    predictions = np.stack([p["d"] for p in est.predict(lambda: tf.data.Dataset.from_tensor_slices(features).batch(4))])
    np.testing.assert_allclose(predictions, sequential.predict(features, verbose=0), atol=1e-6)


# -- bad input ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def multi_target():
    params = {**SMALL, "model": "gru", "targets": "parity,magnitude"}
    return params, build_model(params)


def test_uncompiled_model_is_refused(multi_target):
    params, _ = multi_target
    x = keras.Input((4,), name="x")
    model = keras.Model(x, keras.layers.Dense(1)(x))
    with pytest.raises(ValueError, match="must be compiled"):
        ke.model_to_estimator(model)
    model.compile("adam")  # No loss.
    with pytest.raises(ValueError, match="must be compiled with an optimizer and a loss"):
        ke.model_to_estimator(model)


def test_model_arguments_are_checked(tmp_path, multi_target):
    _, model = multi_target
    with pytest.raises(ValueError, match="exactly one"):
        ke.model_to_estimator()
    with pytest.raises(ValueError, match="exactly one"):
        ke.model_to_estimator(model, keras_model_path="m.keras")
    with pytest.raises(FileNotFoundError, match="nope.keras"):
        ke.model_to_estimator(keras_model_path=tmp_path / "nope.keras")
    with pytest.raises(ValueError, match="must be a keras.Model"):
        ke.model_to_estimator(keras.layers.Dense(1))
    with pytest.raises(FileNotFoundError, match="not made by model_to_estimator"):
        ke.load_keras_model(tmp_path)


def test_subclassed_model_is_refused():
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Subclassed()
    model(np.ones((1, 2), "float32"))
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="cannot rebuild"):
        ke.model_to_estimator(model)


def _bad(params, change_features=None, change_labels=None):
    def fn():
        def edit(features, labels):
            if change_features:
                features = change_features(dict(features))
            if change_labels:
                labels = change_labels(labels)
            return features, labels
        return input_fn(params, EVAL).map(edit)
    return fn


@pytest.mark.parametrize("features, labels, error, match", [
    (lambda f: {"sequences": f["sequences"]}, None, ke.MissingFeatureError, r"missing key\(s\) \['lengths'\]"),
    (lambda f: {**f, "extra": f["lengths"]}, None, ke.InputError, r"\['extra'\] that are not inputs"),
    (lambda f: {**f, "sequences": tf.cast(f["sequences"], tf.float32)}, None, ke.InputError,
     r"features\['sequences'\] has dtype float32, but the Keras Input 'sequences' takes int32"),
    (lambda f: {**f, "sequences": tf.strings.as_string(f["sequences"])}, None, ke.InputError, "has dtype string"),
    (lambda f: {**f, "lengths": f["lengths"][:, None]}, None, ke.InputError,
     r"features\['lengths'\] has rank 2 .* takes rank 1"),
    (lambda f: f["sequences"], None, ke.InputError, "features must be a dict keyed by them"),
    (None, lambda l: l["parity"], ke.InputError, "labels must be a dict keyed by them"),
    (None, lambda l: {"parity": l["parity"]}, ke.InputError, r"missing \['magnitude'\]"),
    (None, lambda l: {**l, "colour": l["parity"]}, ke.InputError, r"unknown \['colour'\]"),
])
def test_bad_features_and_labels_raise_before_anything_is_written(tmp_path, multi_target, features, labels, error, match):
    params, model = multi_target
    est = ke.model_to_estimator(model, model_dir=tmp_path)
    before = dir_state(tmp_path)
    for call in (lambda: est.train(_bad(params, features, labels), steps=1),
                 lambda: est.evaluate(_bad(params, features, labels))):
        with pytest.raises(error, match=match):
            call()
    assert dir_state(tmp_path) == before
    assert est.latest_checkpoint() is None


# -- tf.estimator's names for automatically named inputs ----------------------------------------
def _unnamed_sequential():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="hidden"), keras.layers.Dense(1, name="out")])
    model.compile("sgd", "mse")
    return model


def test_an_automatically_named_input_answers_to_tf_estimators_names(tmp_path):
    model = _unnamed_sequential()
    input_name = model.inputs[0].name  # "keras_tensor_<n>": depends on the process's history.
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    expected = model.predict(x, verbose=0)
    est = ke.model_to_estimator(model, model_dir=tmp_path)
    for features in ({"hidden_input": x}, x, {input_name: x}):  # tf.keras 2's name, a tensor, the tensor's.
        predictions = np.stack([p["out"] for p in est.predict(lambda: tf.data.Dataset.from_tensor_slices(features).batch(3))])
        np.testing.assert_allclose(predictions, expected, atol=1e-6)
    # The Input layer's own name ("input_layer", "input_layer_1", ...) in train and evaluate.
    i = keras.Input((4,))
    functional = keras.Model(i, keras.layers.Dense(1, name="out")(i))
    functional.compile("sgd", "mse")
    own_name = functional.layers[0].name
    assert own_name.startswith("input_layer")
    data = lambda: tf.data.Dataset.from_tensor_slices(({own_name: x}, np.ones((6, 1), "float32"))).batch(3)  # noqa: E731
    est = ke.model_to_estimator(functional, model_dir=tmp_path / "functional")
    est.train(data, steps=2)
    assert est.evaluate(data)["global_step"] == 2
    # numpy_input_fn with an array x gives a tensor: tf.estimator's way to feed one input (a
    # model_dir keeps the features' structure of its first train: a new one).
    est = ke.model_to_estimator(functional, model_dir=tmp_path / "array")
    est.train(ke.inputs.numpy_input_fn(x, np.ones((6, 1), "float32"), batch_size=3, shuffle=False))
    assert est.get_variable_value("global_step") == 2


def test_two_names_of_one_input_and_missing_inputs_are_refused(tmp_path):
    model = _unnamed_sequential()
    est = ke.model_to_estimator(model, model_dir=tmp_path)
    x = np.ones((2, 4), "float32")
    y = np.ones((2, 1), "float32")
    both = {"hidden_input": x, model.inputs[0].name: x}
    with pytest.raises(ke.InputError, match="two names of the Keras input"):
        est.train(lambda: tf.data.Dataset.from_tensors((both, y)), steps=1)
    with pytest.raises(ke.MissingFeatureError, match=r"missing key\(s\).*Also accepted: .*'hidden_input' for"):
        est.train(lambda: tf.data.Dataset.from_tensors(({"x": x}, y)), steps=1)
    assert est.latest_checkpoint() is None


class Scale(keras.layers.Layer):
    """A custom layer that is neither registered nor given in custom_objects."""

    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, shape):
        self.w = self.add_weight(shape=(shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w * self.factor

    def compute_output_shape(self, shape):
        return shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _lambda_model():
    # The lambdas use this module's globals (`tf`, `keras`): Keras's own from_config would
    # rebuild them from bytecode without those.
    inputs = {"x": keras.Input((4,), name="x"), "y": keras.Input((3, 2), name="y")}
    squared = keras.layers.Lambda(lambda t: tf.square(t) * 0.5, name="half_square")(inputs["x"])
    pooled = keras.layers.Lambda(lambda t: keras.ops.sum(t, axis=1), name="pool")(
        keras.layers.TimeDistributed(Scale(2.0))(inputs["y"])
    )
    hidden = keras.layers.Concatenate()([Scale(3.0, name="scale")(squared), pooled])
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="p")(hidden))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def _lambda_input_fn():
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 4), "float32"), rng.random((64, 3, 2), "float32")
    labels = (x.sum(1) > 2).astype("float32")[:, None]
    return tf.data.Dataset.from_tensor_slices(({"x": x, "y": y}, labels)).batch(16)


def test_lambda_layers_and_custom_layers_in_memory_need_no_custom_objects(tmp_path):
    model = _lambda_model()
    expected = model.predict(_lambda_input_fn(), verbose=0)
    est = ke.model_to_estimator(model, model_dir=tmp_path)
    predictions = np.concatenate([b["p"] for b in est.predict(_lambda_input_fn, yield_single_examples=False)])
    np.testing.assert_allclose(predictions, expected, rtol=0, atol=1e-6)  # Same network, same weights.

    est.train(_lambda_input_fn, steps=4)
    results = est.evaluate(_lambda_input_fn)
    assert results["global_step"] == 4
    trained = ke.load_keras_model(tmp_path, keras_model=model)
    keras_results = trained.evaluate(_lambda_input_fn(), verbose=0, return_dict=True)
    assert results["loss"] == pytest.approx(keras_results["loss"], abs=1e-5)
    # The trained weights went to the clone, never to the model given.
    np.testing.assert_allclose(model.predict(_lambda_input_fn(), verbose=0), expected, rtol=0, atol=1e-6)
    # From the saved file alone, Keras's safe mode refuses the lambdas and says so.
    with pytest.raises(ValueError, match="Lambda"):
        ke.load_keras_model(tmp_path, custom_objects={"Scale": Scale})
