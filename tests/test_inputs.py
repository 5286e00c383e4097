"""keras_estimator.inputs: tf.estimator's numpy_input_fn and pandas_input_fn on tf.data."""

import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from keras_estimator.inputs import numpy_input_fn, pandas_input_fn


def batches(input_fn):
    return [tf.nest.map_structure(lambda t: t.numpy(), b) for b in input_fn()]


def test_batches_run_across_epochs_in_order_with_the_data_dtypes():
    x = {"age": np.arange(4) * 1.0, "height": [32, 33, 34, 35]}  # float64 array, Python ints.
    fn = numpy_input_fn(x, np.arange(-32, -28), batch_size=3, num_epochs=2, shuffle=False)
    features_spec, labels_spec = fn().element_spec
    assert features_spec["age"].dtype == tf.float64 and features_spec["height"].dtype == tf.int64
    assert labels_spec.dtype == tf.int64
    got = batches(fn)
    assert [list(f["age"]) for f, _ in got] == [[0, 1, 2], [3, 0, 1], [2, 3]]  # 8 examples, last partial.
    assert [list(f["height"]) for f, _ in got] == [[32, 33, 34], [35, 32, 33], [34, 35]]
    assert [list(y) for _, y in got] == [[-32, -31, -30], [-29, -32, -31], [-30, -29]]


def test_an_array_x_gives_a_tensor_and_no_y_gives_features_only():
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    got = batches(numpy_input_fn(x, batch_size=2, shuffle=False))
    assert [b.shape for b in got] == [(2, 2), (2, 2), (1, 2)]
    np.testing.assert_array_equal(np.concatenate(got), x)
    labels = batches(numpy_input_fn(x, {"b": np.arange(5), "a": np.ones(5)}, batch_size=5, shuffle=False))[0][1]
    assert sorted(labels) == ["a", "b"]


def test_shuffle_permutes_each_epoch_and_forever_gives_full_batches():
    tf.random.set_seed(0)
    x = {"i": np.arange(20)}
    fn = numpy_input_fn(x, batch_size=10, num_epochs=3, shuffle=True)
    order = np.concatenate([f["i"] for f in batches(fn)])
    assert len(order) == 60
    for epoch in order.reshape(3, 20):
        assert sorted(epoch) == list(range(20))
    assert list(order[:20]) != list(range(20))
    forever = numpy_input_fn(x, batch_size=7, num_epochs=None, shuffle=False)()
    assert forever.element_spec["i"].shape == (7,)
    assert [list(b["i"][:2].numpy()) for b in forever.take(4)][-1] == [1, 2]  # 21 % 20, 22 % 20.


@pytest.mark.parametrize("kwargs, error, message", [
    ({"x": {"a": np.ones(3)}}, ValueError, "shuffle must be provided and explicitly set as boolean"),
    ({"x": {}, "shuffle": True}, ValueError, "x cannot be an empty dict"),
    ({"x": np.ones(0), "shuffle": True}, ValueError, "x cannot be an empty array"),
    ({"x": [1, 2], "shuffle": True}, TypeError, "x must be a dict or array; got list"),
    ({"x": {"a": np.ones(3)}, "y": {}, "shuffle": True}, ValueError, "y cannot be empty dict"),
    ({"x": {"a": np.ones(3)}, "y": {"a": np.ones(3)}, "shuffle": True}, ValueError, "duplicate keys"),
    ({"x": {"a": np.ones(3)}, "y": np.ones(4), "shuffle": True}, ValueError, "Length of tensors in x and y is mismatched"),
    ({"x": {"a": np.ones(3)}, "shuffle": True, "batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
    ({"x": {"a": np.ones(3)}, "shuffle": True, "num_epochs": 0}, ValueError, "num_epochs must be an integer >= 1"),
])
def test_bad_arguments_raise(kwargs, error, message):
    with pytest.raises(error, match=message):
        numpy_input_fn(**kwargs)


def model_fn(features, labels, mode):
    logits = keras.layers.Dense(1, name="out")(features["x"])[:, 0]
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions={"logits": logits})
    loss = tf.reduce_mean(tf.square(logits - tf.cast(labels, logits.dtype)))
    train_op = ke.minimize(loss, keras.optimizers.SGD(0.1)) if mode == ke.ModeKeys.TRAIN else None
    return ke.EstimatorSpec(mode, loss=loss, train_op=train_op)


def test_an_estimator_trains_evaluates_and_predicts_on_numpy_input_fns(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))  # float64, as TF1 programs pass it.
    y = x @ np.array([1.0, -2.0, 0.5])
    est = ke.Estimator(model_fn, tmp_path, ke.RunConfig(log_step_count_steps=None, save_summary_steps=None))
    est.train(numpy_input_fn({"x": x}, y, batch_size=16, num_epochs=None, shuffle=True), steps=150)
    assert est.get_variable_value("global_step") == 150
    est.train(numpy_input_fn({"x": x}, y, batch_size=16, num_epochs=2, shuffle=True))
    assert est.get_variable_value("global_step") == 158  # Two epochs of 4 batches.
    result = est.evaluate(numpy_input_fn({"x": x}, y, batch_size=64, shuffle=False))
    assert result["loss"] < 0.05
    predictions = list(est.predict(numpy_input_fn({"x": x[:5]}, batch_size=2, shuffle=False)))
    assert len(predictions) == 5


# -- pandas ---------------------------------------------------------------------------------------
def test_pandas_input_fn_without_pandas_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now fails.
    with pytest.raises(ImportError, match="pandas_input_fn needs pandas.*pip install pandas"):
        pandas_input_fn(object(), shuffle=False)


def test_pandas_input_fn_batches_columns_and_labels():
    pd = pytest.importorskip("pandas")
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0], "s": ["p", "q", "r"]}, index=[5, 6, 7])
    got = batches(pandas_input_fn(x, pd.Series([0, 1, 0], index=x.index), batch_size=2, shuffle=False))
    assert [list(f["a"]) for f, _ in got] == [[1.0, 2.0], [3.0]]
    assert list(got[0][0]["s"]) == [b"p", b"q"]
    assert [list(y) for _, y in got] == [[0, 1], [0]]
    y = pd.DataFrame({"t": [1, 2, 3], "a": [4.0, 5.0, 6.0]}, index=x.index)  # "a" is also a feature.
    (features, labels), = batches(pandas_input_fn(x, y, batch_size=3, shuffle=True, queue_capacity=None))
    assert sorted(features) == ["a", "s"] and sorted(labels) == ["a", "t"]
    assert sorted(labels["a"]) == [4.0, 5.0, 6.0] and sorted(features["a"]) == [1.0, 2.0, 3.0]
    assert batches(pandas_input_fn(x, batch_size=3, shuffle=False))[0].keys() == {"a", "s"}


def test_pandas_input_fn_bad_arguments_raise():
    pd = pytest.importorskip("pandas")
    x = pd.DataFrame({"target": [1.0, 2.0]})
    with pytest.raises(ValueError, match="Cannot use name target for target column"):
        pandas_input_fn(x, pd.Series([1, 2]), shuffle=False)
    with pytest.raises(ValueError, match="Index for x and y are mismatched"):
        pandas_input_fn(x, pd.Series([1, 2], index=[3, 4]), shuffle=False, target_column="y")
    with pytest.raises(TypeError, match="target_column must be a string"):
        pandas_input_fn(x, shuffle=False, target_column=1)
    with pytest.raises(ValueError, match="shuffle must be provided"):
        pandas_input_fn(x)
