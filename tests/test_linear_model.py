"""LinearModel: tf.estimator's linear logits from feature columns, on Keras 3.

Values are checked against hand computations with assigned weights, and once against numbers
tf.estimator 2.15's `LinearModel` gave for the same columns, weights and features.
"""

import types

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from keras_estimator.canned.linear_model import LinearModel

fc = tf.feature_column


def logits(columns, features, weights=(), bias=0.0, **kwargs):
    """The layer's output after setting the named columns' weights (reshaped to theirs) and the bias."""
    layer = LinearModel(columns, **kwargs)
    layer(features)  # Builds: the weights exist from here on.
    for name, value in dict(weights).items():
        variable = layer.column_weights(name)
        variable.assign(np.asarray(value, "float32").reshape(variable.shape))
    layer.bias.assign(np.broadcast_to(np.float32(bias), layer.bias.shape))
    return layer(features).numpy()


def column_ids(column, features):
    """The bucket ids a categorical column gives each example, computed by the column itself."""
    cache = tf.__internal__.feature_column.FeatureTransformationCache(features)
    ids = tf.sparse.to_dense(column.get_sparse_tensors(cache, None).id_tensor, default_value=-1)
    return ids.numpy().reshape(len(ids), -1)


def test_numeric_column_is_features_times_weights_plus_bias():
    features = types.MappingProxyType({"x": np.array([[1.0, 2.0], [3.0, 4.0]], "float32")})  # Any Mapping.
    out = logits([fc.numeric_column("x", shape=(2,))], features, {"x": [[2.0], [3.0]]}, bias=0.5)
    np.testing.assert_allclose(out, [[8.5], [18.5]])


@pytest.mark.parametrize("combiner, expected", [("sum", [4.0, 5.0]), ("mean", [2.0, 2.5])])
def test_a_bucketized_column_is_categorical_one_weight_per_bucket(combiner, expected):
    # Two ages per example, 3 buckets each: ids bucket + 3 * position. A dense one-hot would
    # sum under "mean" too; tf.estimator averaged the ids' weights.
    column = fc.bucketized_column(fc.numeric_column("age", shape=(2,)), [10.0, 20.0])
    features = {"age": np.array([[5.0, 15.0], [25.0, 5.0]], "float32")}  # ids [0, 4] and [2, 3].
    layer = LinearModel([column], sparse_combiner=combiner)
    layer(features)
    assert layer.column_weights("age_bucketized").shape == (6, 1)
    layer.column_weights("age_bucketized").assign(np.arange(6, dtype="float32")[:, None])
    np.testing.assert_allclose(layer(features).numpy()[:, 0], expected)


def test_vocabulary_list_with_oov_buckets_and_with_a_default_value():
    features = {"color": np.array(["b", "zebra", "a"])}
    with_oov = fc.categorical_column_with_vocabulary_list("color", ["a", "b", "c"], num_oov_buckets=1)
    out = logits([with_oov], features, {"color": [1.0, 2.0, 3.0, 4.0]}, bias=0.25)
    np.testing.assert_allclose(out[:, 0], [2.25, 4.25, 1.25])  # "zebra" in the OOV bucket 3.
    without = fc.categorical_column_with_vocabulary_list("color", ["a", "b", "c"])  # Unknown: id -1, no weight.
    np.testing.assert_allclose(logits([without], features, {"color": [1.0, 2.0, 3.0]}, 0.25)[:, 0], [2.25, 0.25, 1.25])


def test_vocabulary_file(tmp_path):
    vocabulary = tmp_path / "colors.txt"
    vocabulary.write_text("a\nb\nc\n")
    column = fc.categorical_column_with_vocabulary_file("color", str(vocabulary), vocabulary_size=3, num_oov_buckets=1)
    out = logits([column], {"color": np.array(["c", "q", "a"])}, {"color": [1.0, 2.0, 3.0, 4.0]})
    np.testing.assert_allclose(out[:, 0], [3.0, 4.0, 1.0])


def test_identity_column():
    out = logits([fc.categorical_column_with_identity("i", 4)], {"i": np.array([0, 3, 2])}, {"i": [10, 20, 30, 40]})
    np.testing.assert_allclose(out[:, 0], [10.0, 40.0, 30.0])


def test_hash_bucket_column_weighs_the_columns_own_bucket():
    column = fc.categorical_column_with_hash_bucket("city", 10)
    features = {"city": np.array(["paris", "lima", "oslo", "pune"])}
    out = logits([column], features, {"city": np.arange(10)})  # Weight of bucket b is b.
    np.testing.assert_allclose(out[:, 0], column_ids(column, features)[:, 0])


def test_crossed_column_weighs_the_crossed_bucket():
    age = fc.bucketized_column(fc.numeric_column("age"), [30.0, 50.0])
    column = fc.crossed_column([age, "color"], 16)
    features = {"age": np.array([20.0, 40.0, 60.0], "float32"), "color": np.array(["red", "blue", "red"])}
    out = logits([column], features, {"age_bucketized_X_color": np.arange(16) * 2.0})
    np.testing.assert_allclose(out[:, 0], column_ids(column, features)[:, 0] * 2.0)


@pytest.mark.parametrize("combiner, expected", [("sum", [9.0, 4.0]), ("mean", [3.6, 2.0]),
                                                ("sqrtn", [9.0 / np.sqrt(4.25), 4.0 / np.sqrt(2.0)])])
def test_weighted_categorical_column_weighs_each_id(combiner, expected):
    column = fc.weighted_categorical_column(fc.categorical_column_with_identity("tag", 5), "tag_weight")
    features = {"tag": np.array([[1, 3], [2, 0]]), "tag_weight": np.array([[0.5, 2.0], [1.0, 1.0]], "float32")}
    # Weights 1..5: 0.5 * 2 + 2 * 4 = 9, 3 + 1 = 4; mean divides by the id weights' sum, sqrtn by its norm.
    out = logits([column], features, {"tag_weighted_by_tag_weight": [1, 2, 3, 4, 5]}, sparse_combiner=combiner)
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-6)


@pytest.mark.parametrize("combiner, expected", [("sum", [3.0, 4.0]), ("mean", [1.5, 4.0]),
                                                ("sqrtn", [3.0 / np.sqrt(2.0), 4.0])])
def test_multivalent_categorical_column_combines_its_ids(combiner, expected):
    column = fc.categorical_column_with_vocabulary_list("tags", ["a", "b", "c"])
    dense = {"tags": np.array([["a", "b"], ["c", ""]])}  # "" is no id.
    sparse = {"tags": tf.SparseTensor([[0, 0], [0, 1], [1, 0]], ["a", "b", "c"], [2, 2])}
    for features in (dense, sparse):
        out = logits([column], features, {"tags": [1.0, 2.0, 4.0]}, sparse_combiner=combiner)
        np.testing.assert_allclose(out[:, 0], expected, rtol=1e-6)


def test_three_units_and_several_columns_sum():
    features = {"i": np.array([2, 0]), "x": np.array([1.0, -2.0], "float32")}
    w_i, w_x, bias = np.arange(9.0).reshape(3, 3), np.array([[1.0, 10.0, 100.0]]), np.array([1.0, 2.0, 3.0])
    columns = [fc.numeric_column("x"), fc.categorical_column_with_identity("i", 3)]
    out = logits(columns, features, {"i": w_i, "x": w_x}, bias, units=3)
    np.testing.assert_allclose(out, w_i[[2, 0]] + features["x"][:, None] * w_x + bias)


def test_indicator_and_embedding_columns_are_dense():
    columns = [fc.indicator_column(fc.categorical_column_with_identity("j", 3)),
               fc.embedding_column(fc.categorical_column_with_identity("e", 3), 2, combiner="sum")]
    features = {"j": np.array([0, 2]), "e": np.array([0, 2])}
    layer = LinearModel(columns)
    layer(features)
    table = next(w for w in layer.weights if w.name == "e_embedding_embedding_weights")
    table.assign([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    layer.column_weights("e_embedding").assign([[1.0], [10.0]])
    layer.column_weights("j_indicator").assign([[1.0], [2.0], [3.0]])
    np.testing.assert_allclose(layer(features).numpy()[:, 0], [21.0 + 1.0, 65.0 + 3.0])


# Every kind of column at once; the expected numbers are tf.estimator 2.15's LinearModel's.
GOLDEN_FEATURES = {
    "x": np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]], "float32"),
    "age": np.array([[5.0, 15.0], [25.0, 5.0], [11.0, 12.0]], "float32"),
    "c": np.array([["a", "b"], ["z", ""], ["zz", "c"]]), "h": np.array(["u", "v", "w"]),
    "i": np.array([1, 3, 0]), "j": np.array([0, 2, 1]), "t": np.array([[1, 3], [2, 0], [4, 4]]),
    "w": np.array([[0.5, 2.0], [1.0, -1.0], [0.3, 3.0]], "float32"), "s": np.array(["p", "q", "r"])}
GOLDEN = {
    "sum": [[-3.420747, -3.953417], [-4.364802, -3.143276], [-4.854144, -2.513257]],
    "mean": [[-1.94467, -1.993396], [-4.589404, -2.359085], [-2.29732, -0.818654]],
    "sqrtn": [[-2.461118, -2.582672], [-4.717078, -2.626905], [-2.543347, -1.075606]],
}


def golden_columns():
    age = fc.bucketized_column(fc.numeric_column("age", shape=(2,)), [10.0, 20.0])
    return [fc.numeric_column("x", shape=(2,)), age,
            fc.categorical_column_with_vocabulary_list("c", ["a", "b", "c"], num_oov_buckets=2),
            fc.categorical_column_with_hash_bucket("h", 11),
            fc.embedding_column(fc.categorical_column_with_identity("i", 4), 2),
            fc.indicator_column(fc.categorical_column_with_identity("j", 3)),
            fc.weighted_categorical_column(fc.categorical_column_with_identity("t", 5), "w"),
            fc.crossed_column(["c", "s"], 7), fc.crossed_column([age, "s"], 13)]


@pytest.mark.parametrize("combiner", sorted(GOLDEN))
def test_every_column_kind_matches_tf_estimator(combiner):
    layer = LinearModel(golden_columns(), units=2, sparse_combiner=combiner)
    layer(GOLDEN_FEATURES)
    for weight in layer.weights:  # The same made-up weights as given to tf.estimator's.
        size = int(np.prod(weight.shape))
        weight.assign(np.cos(np.arange(size) * 0.7 + len(weight.name)).reshape(weight.shape))
    np.testing.assert_allclose(layer(GOLDEN_FEATURES).numpy(), GOLDEN[combiner], atol=2e-6)


def test_columns_in_name_order_zero_weights_and_config():
    columns = [fc.numeric_column("x"), fc.categorical_column_with_identity("b_id", 3)]
    layer = LinearModel(columns, units=2, sparse_combiner="mean", name="lin")
    features = {"x": np.array([1.0, 2.0], "float32"), "b_id": np.array([0, 1])}
    np.testing.assert_array_equal(layer(features).numpy(), np.zeros((2, 2)))  # tf.estimator started at zero.
    assert [c.name for c in layer.feature_columns] == ["b_id", "x"]
    assert [w.path for w in layer.weights] == ["lin/b_id_weights", "lin/x_weights", "lin/bias_weights"]
    assert layer.bias.shape == (2,) and layer.column_weights("b_id").shape == (3, 2)
    layer.set_weights([np.ones((3, 2)), np.full((1, 2), 2.0), np.array([0.5, -0.5])])
    copy = LinearModel.from_config(layer.get_config())
    assert (copy.name, copy.units, copy.sparse_combiner) == ("lin", 2, "mean")
    copy(features)
    copy.set_weights(layer.get_weights())
    np.testing.assert_array_equal(copy(features).numpy(), layer(features).numpy())


def test_inside_tf_function_the_layer_builds_and_computes_as_eagerly():
    columns = [fc.numeric_column("x"), fc.categorical_column_with_vocabulary_list("c", ["a", "b"])]
    layer = LinearModel(columns)
    call = tf.function(lambda features: layer(features))
    features = {"x": tf.constant([1.0, 2.0, 3.0]), "c": tf.constant(["b", "a", "q"])}
    np.testing.assert_array_equal(call(features).numpy(), np.zeros((3, 1)))  # Built while traced.
    layer.column_weights("c").assign([[10.0], [20.0]])
    layer.column_weights("x").assign([[2.0]])
    np.testing.assert_allclose(call(features).numpy()[:, 0], [22.0, 14.0, 6.0])
    np.testing.assert_allclose(layer(features).numpy()[:, 0], [22.0, 14.0, 6.0])


REGRESSION_N = 64
_rng = np.random.default_rng(0)
X = _rng.normal(size=REGRESSION_N).astype("float32")
COLOR = _rng.choice(["red", "green", "blue"], REGRESSION_N)
TAGS = _rng.choice(["a", "b", "c", ""], (REGRESSION_N, 2))
Y = (2.0 * X + np.select([COLOR == "red", COLOR == "green"], [1.0, -1.0], 0.5) + 0.3).astype("float32")


def regression_columns():
    return [fc.numeric_column("x"), fc.categorical_column_with_vocabulary_list("color", ["red", "green", "blue"])]


def test_in_a_keras_functional_model_fit_reduces_the_loss():
    inputs = {"x": keras.Input((), name="x"), "color": keras.Input((), name="color", dtype="string"),
              "tags": keras.Input((2,), name="tags", dtype="string")}
    columns = regression_columns() + [fc.categorical_column_with_vocabulary_list("tags", ["a", "b", "c"])]
    model = keras.Model(inputs, LinearModel(columns, sparse_combiner="mean")(inputs))
    model.compile(keras.optimizers.Adam(0.1), "mse")
    data = tf.data.Dataset.from_tensor_slices(({"x": X, "color": COLOR, "tags": TAGS}, Y)).batch(16)
    before = model.evaluate(data, verbose=0)
    model.fit(data.repeat(), steps_per_epoch=40, epochs=1, verbose=0, shuffle=False)
    assert model.evaluate(data, verbose=0) < 0.2 * before


def estimator_input_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": X, "color": COLOR}, Y)).batch(16)


def model_fn(features, labels, mode):
    predictions = LinearModel(regression_columns(), name="linear")(features)[:, 0]
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions={"y": predictions})
    loss = tf.reduce_mean(tf.square(predictions - labels))
    if mode == ke.ModeKeys.TRAIN:
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.Adam(0.1)))
    return ke.EstimatorSpec(mode, loss=loss)


def test_in_an_estimator_model_fn_trains_evaluates_predicts_and_checkpoints(tmp_path):
    config = ke.RunConfig(tf_random_seed=0, log_step_count_steps=None, save_summary_steps=None)
    est = ke.Estimator(model_fn, str(tmp_path), config)
    est.train(lambda: estimator_input_fn().repeat(), steps=60)
    assert est.evaluate(estimator_input_fn)["loss"] < 0.2 * np.mean(Y ** 2)  # The zero model's loss.
    names = est.get_variable_names()
    assert {"linear/x_weights", "linear/color_weights", "linear/bias_weights"} <= set(names)
    w_x, w_color, bias = (est.get_variable_value(f"linear/{n}") for n in ("x_weights", "color_weights", "bias_weights"))
    assert w_color.shape == (3, 1) and np.any(w_color != 0)
    color_ids = np.select([COLOR == "red", COLOR == "green"], [0, 1], 2)
    expected = X * w_x[0, 0] + w_color[color_ids, 0] + bias[0]
    predicted = [p["y"] for p in est.predict(estimator_input_fn)]
    np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-5)


def test_bad_arguments_and_features_are_named():
    age = fc.numeric_column("age")
    with pytest.raises(ValueError, match="at least one feature column"):
        LinearModel([])
    with pytest.raises(ValueError, match="sparse_combiner.*'max'"):
        LinearModel([age], sparse_combiner="max")
    with pytest.raises(ValueError, match="units must be an integer >= 1, got 0"):
        LinearModel([age], units=0)
    with pytest.raises(ValueError, match="'age' is a str"):
        LinearModel(["age"])
    with pytest.raises(ValueError, match="'seq' is a SequenceNumericColumn"):
        LinearModel([tf.feature_column.sequence_numeric_column("seq")])
    with pytest.raises(ValueError, match="two columns named 'age'"):
        LinearModel([age, fc.numeric_column("age", shape=(2,))])
    with pytest.raises(ValueError, match="named 'bias'"):
        LinearModel([fc.numeric_column("bias")])
    layer = LinearModel([age, fc.weighted_categorical_column(fc.categorical_column_with_identity("t", 2), "tw")])
    with pytest.raises(ke.MissingFeatureError, match=r"read feature\(s\) \['t', 'tw'\], not among \['age'\]"):
        layer({"age": tf.constant([1.0])})
    with pytest.raises(ValueError, match="no weights before it is built"):
        LinearModel([age]).column_weights("age")
    layer({"age": tf.constant([1.0]), "t": tf.constant([0]), "tw": tf.constant([1.0])})
    with pytest.raises(ValueError, match=r"no column 'height'; its columns are \['age', 't_weighted_by_tw'\]"):
        layer.column_weights("height")
