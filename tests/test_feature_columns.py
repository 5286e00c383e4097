"""DenseFeatures: tf.feature_column columns inside model_fn and a Keras model, on Keras 3."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from keras_estimator.feature_columns import DenseFeatures

fc = tf.feature_column
N = 512
rng = np.random.default_rng(0)
AGE = rng.uniform(18, 80, N).astype("float32")
COLOR = rng.choice(["red", "green", "blue"], N)
CITY = rng.choice([f"city{i}" for i in range(30)], N)
TAG = rng.integers(0, 5, N)
LABEL = ((AGE > 50) ^ (COLOR == "red")).astype("int64")  # Needs the age buckets crossed with color.


def columns():
    age = fc.numeric_column("age", normalizer_fn=lambda x: (x - 50.0) / 20.0)
    buckets = fc.bucketized_column(fc.numeric_column("age"), [30.0, 50.0, 65.0])
    color = fc.categorical_column_with_vocabulary_list("color", ["red", "green", "blue"])
    city = fc.categorical_column_with_hash_bucket("city", 16)
    tag = fc.weighted_categorical_column(fc.categorical_column_with_identity("tag", 5), "tag_weight")
    return [age, buckets, fc.indicator_column(color), fc.embedding_column(city, 3),
            fc.indicator_column(fc.crossed_column([buckets, color], 24)), fc.indicator_column(tag)]


def features(n=N):
    return {"age": AGE[:n], "color": COLOR[:n], "city": CITY[:n], "tag": TAG[:n],
            "tag_weight": np.ones(n, "float32")}


def input_fn():
    return tf.data.Dataset.from_tensor_slices((features(), LABEL)).shuffle(N, seed=0).repeat().batch(32)


def eval_input_fn():
    return tf.data.Dataset.from_tensor_slices((features(), LABEL)).batch(64)


def model_fn(features, labels, mode):
    net = DenseFeatures(columns())(features)
    logits = keras.layers.Dense(1, name="logits")(keras.layers.Dense(16, activation="relu", name="hidden")(net))[:, 0]
    probability = tf.sigmoid(logits)
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions={"probability": probability}, export_outputs={
            "serving_default": ke.export.PredictOutput({"probability": probability})})
    loss = tf.reduce_mean(keras.losses.binary_crossentropy(tf.cast(labels, tf.float32)[:, None], probability[:, None]))
    if mode == ke.ModeKeys.TRAIN:
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.Adam(0.05)))
    accuracy = keras.metrics.BinaryAccuracy()
    accuracy.update_state(labels, probability)
    return ke.EstimatorSpec(mode, loss=loss, eval_metric_ops={"accuracy": accuracy})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("feature_columns")
    est = ke.Estimator(model_fn, str(model_dir), ke.RunConfig(tf_random_seed=0, log_step_count_steps=None,
                                                                save_summary_steps=None))
    est.train(input_fn, steps=150)
    return est


def test_columns_train_evaluate_and_predict_in_model_fn(trained):
    assert trained.evaluate(eval_input_fn)["accuracy"] > 0.95  # Learnt the crossed column's rule.
    names = trained.get_variable_names()
    assert "dense_features/city_embedding_embedding_weights" in names  # Under the column's name.
    assert trained.get_variable_value("dense_features/city_embedding_embedding_weights").shape == (16, 3)
    probabilities = [p["probability"] for p in trained.predict(eval_input_fn)]
    assert len(probabilities) == N and np.mean((np.array(probabilities) > 0.5) == LABEL) > 0.95


def test_an_export_parses_tf_examples_in_a_process_without_keras_estimator(trained, tmp_path):
    spec = fc.make_parse_example_spec(columns())
    path = trained.export_saved_model(tmp_path, ke.export.build_parsing_serving_input_receiver_fn(spec)).decode()
    expected = [p["probability"] for p in trained.predict(lambda: tf.data.Dataset.from_tensor_slices(features(4)).batch(4))]
    examples = [tf.train.Example(features=tf.train.Features(feature={
        "age": tf.train.Feature(float_list=tf.train.FloatList(value=[float(AGE[i])])),
        "color": tf.train.Feature(bytes_list=tf.train.BytesList(value=[COLOR[i].encode()])),
        "city": tf.train.Feature(bytes_list=tf.train.BytesList(value=[CITY[i].encode()])),
        "tag": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(TAG[i])])),
        "tag_weight": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0])),
    })).SerializeToString().hex() for i in range(4)]
    serve = textwrap.dedent(f"""
        import sys
        sys.modules["keras_estimator"] = None  # Serving must not need it.
        import tensorflow as tf
        signature = tf.saved_model.load({path!r}).signatures["serving_default"]
        examples = tf.constant([bytes.fromhex(h) for h in {examples!r}])
        print(list(signature(examples=examples)["probability"].numpy()))
    """)
    done = subprocess.run([sys.executable, "-c", serve], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    served = eval(done.stdout.strip().splitlines()[-1].replace("np.float32", ""))
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-5)


def test_in_a_keras_functional_model_fit_and_model_to_estimator(tmp_path):
    inputs = {"age": keras.Input((), name="age"), "color": keras.Input((), name="color", dtype="string"),
              "city": keras.Input((), name="city", dtype="string"), "tag": keras.Input((), name="tag", dtype="int64"),
              "tag_weight": keras.Input((), name="tag_weight")}
    hidden = keras.layers.Dense(16, activation="relu")(DenseFeatures(columns())(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="y")(hidden))
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(input_fn(), steps_per_epoch=20, epochs=1, verbose=0)
    est = ke.model_to_estimator(model, model_dir=tmp_path)
    keras_results = model.evaluate(eval_input_fn(), verbose=0, return_dict=True)
    results = est.evaluate(eval_input_fn)  # Starts from the model's fitted weights.
    assert results["accuracy"] == pytest.approx(keras_results["accuracy"], abs=1e-6)


def test_bad_columns_and_features_are_named():
    with pytest.raises(ValueError, match="'color' is a VocabularyListCategoricalColumn.*indicator_column"):
        DenseFeatures([fc.categorical_column_with_vocabulary_list("color", ["red"])])
    layer = DenseFeatures([fc.numeric_column("age"), fc.numeric_column("height")])
    with pytest.raises(ke.MissingFeatureError, match=r"read feature\(s\) \['height'\], not among \['age'\]"):
        layer({"age": tf.constant([1.0])})


def _feature_space():
    space = keras.utils.FeatureSpace(features={
        "age": keras.utils.FeatureSpace.float_normalized(),
        "color": keras.utils.FeatureSpace.string_categorical(num_oov_indices=1),
    }, output_mode="concat")
    space.adapt(tf.data.Dataset.from_tensor_slices({"age": AGE, "color": COLOR}))
    return space


def test_a_feature_space_in_model_fn_trains_and_its_export_serves_without_keras_estimator(tmp_path):
    """An adapted keras.utils.FeatureSpace where the columns were: its tables and statistics,
    made by adapt() outside model_fn, are saved with the export."""
    space = _feature_space()
    rule = ((AGE - AGE.mean()) / AGE.std() + (COLOR == "red") > 0.5).astype("int64")

    def space_model_fn(features, labels, mode):
        logits = keras.layers.Dense(1, name="logits")(DenseFeatures(space)(features))
        head = ke.BinaryClassHead()
        return head.create_estimator_spec(features, mode, logits, labels, optimizer=keras.optimizers.Adam(0.1))

    data = {"age": AGE, "color": COLOR}
    est = ke.Estimator(space_model_fn, str(tmp_path / "model"), ke.RunConfig(tf_random_seed=0))
    est.train(lambda: tf.data.Dataset.from_tensor_slices((data, rule)).repeat().batch(32), steps=100)
    assert est.evaluate(lambda: tf.data.Dataset.from_tensor_slices((data, rule)).batch(64))["accuracy"] > 0.95
    assert not any("normaliz" in n or "lookup" in n for n in est.get_variable_names())  # adapt()'s, not trained.
    receiver = ke.export.build_raw_serving_input_receiver_fn(
        {"age": tf.TensorSpec([None], tf.float32), "color": tf.TensorSpec([None], tf.string)})
    path = est.export_saved_model(tmp_path / "export", receiver).decode()
    expected = [p["probabilities"][1] for p in est.predict(
        lambda: tf.data.Dataset.from_tensor_slices({"age": AGE[:4], "color": COLOR[:4]}).batch(4))]
    serve = textwrap.dedent(f"""
        import sys
        sys.modules["keras_estimator"] = None
        import tensorflow as tf
        signature = tf.saved_model.load({path!r}).signatures["predict"]
        out = signature(age=tf.constant({AGE[:4].tolist()!r}), color=tf.constant({COLOR[:4].tolist()!r}))
        print(out["probabilities"].numpy()[:, 1].tolist())
    """)
    done = subprocess.run([sys.executable, "-c", serve], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(eval(done.stdout.strip().splitlines()[-1]), expected, atol=1e-5)


def test_a_feature_space_with_missing_features_or_another_output_mode_is_refused():
    with pytest.raises(ke.MissingFeatureError, match=r"FeatureSpace reads feature\(s\) \['color'\]"):
        DenseFeatures(_feature_space())({"age": tf.constant([30.0])})
    space = keras.utils.FeatureSpace(features={"age": "float"}, output_mode="dict")
    with pytest.raises(ValueError, match="output_mode='concat', got 'dict'"):
        DenseFeatures(space)


def test_vocabulary_file_and_shared_embedding_columns(tmp_path):
    """A vocabulary file's table, and shared embeddings (which TensorFlow builds only in a
    graph: made inside model_fn, as tf.estimator 2 programs had to) holding one table."""
    vocabulary = tmp_path / "colors.txt"
    vocabulary.write_text("red\ngreen\nblue\n")

    def shared_model_fn(features, labels, mode):
        color = fc.categorical_column_with_vocabulary_file("color", str(vocabulary), num_oov_buckets=1)
        first = fc.categorical_column_with_vocabulary_list("first", ["a", "b"])
        second = fc.categorical_column_with_vocabulary_list("second", ["a", "b"])
        net = DenseFeatures([fc.indicator_column(color), *fc.shared_embeddings([first, second], dimension=2)])(features)
        return ke.EstimatorSpec(mode, predictions=net)

    est = ke.Estimator(shared_model_fn, str(tmp_path / "model"), ke.RunConfig(tf_random_seed=0))
    batch = {"color": ["green", "pink"], "first": ["a", "b"], "second": ["a", "a"]}
    out = np.array(list(est.predict(lambda: tf.data.Dataset.from_tensor_slices(batch).batch(2))))
    np.testing.assert_array_equal(out[:, :4], [[0, 1, 0, 0], [0, 0, 0, 1]])  # pink: the OOV bucket.
    # Columns in name order (color, first, second); one table: the same id, the same embedding.
    np.testing.assert_allclose(out[0, 4:6], out[0, 6:8])
    np.testing.assert_allclose(out[1, 6:8], out[0, 4:6])
    assert not np.allclose(out[1, 4:6], out[0, 4:6])
