"""Premade estimators: tf.estimator's constructors, keys, accuracy and exports on Keras 3.

Each premade estimator trains, evaluates, predicts and exports on scikit-learn's iris
(classifiers, 3 classes) or breast_cancer (binary classifiers and regressors of the 0/1
label), and on generated data for the key lists. The keys are tf.estimator 2.15's, measured by
running its DNNClassifier, DNNRegressor, LinearClassifier, LinearRegressor and
DNNLinearCombined* (n_classes 2 and 3) on the same kind of data with TensorFlow 2.15.1 and
tensorflow-estimator 2.15.0 (the Baseline* use the same heads). The exports are served in a
fresh process that cannot import keras_estimator, from serialized tf.Examples.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_breast_cancer, load_iris

import keras_estimator as ke

# tf.estimator 2.15's evaluate keys, predict keys and export signatures.
BINARY_EVAL = {"accuracy", "accuracy_baseline", "auc", "auc_precision_recall", "average_loss", "global_step",
               "label/mean", "loss", "precision", "prediction/mean", "recall"}
MULTI_EVAL = {"accuracy", "average_loss", "global_step", "loss"}
REGRESSION_EVAL = {"average_loss", "global_step", "label/mean", "loss", "prediction/mean"}
BINARY_PREDICT = {"all_class_ids": ("int32", (2,)), "all_classes": ("object", (2,)), "class_ids": ("int64", (1,)),
                  "classes": ("object", (1,)), "logistic": ("float32", (1,)), "logits": ("float32", (1,)),
                  "probabilities": ("float32", (2,))}
MULTI_PREDICT = {"all_class_ids": ("int32", (3,)), "all_classes": ("object", (3,)), "class_ids": ("int64", (1,)),
                 "classes": ("object", (1,)), "logits": ("float32", (3,)), "probabilities": ("float32", (3,))}
REGRESSION_PREDICT = {"predictions": ("float32", (1,))}
BINARY_SIGNATURES = {"classification", "predict", "regression", "serving_default"}
MULTI_SIGNATURES = {"classification", "predict", "serving_default"}
REGRESSION_SIGNATURES = {"predict", "regression", "serving_default"}

IRIS_KEYS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _iris():
    data = load_iris()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data.target))
    x, y = data.data[order].astype("float32"), data.target[order].astype("int64")
    return {k: x[:, i] for i, k in enumerate(IRIS_KEYS)}, y


def _breast_cancer():
    data = load_breast_cancer()
    x = data.data[:, :8].astype("float32")
    x = (x - x.mean(0)) / x.std(0)  # The scale a user would give a numeric_column's normalizer.
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data.target))
    return {f"f{i}": x[order, i] for i in range(8)}, data.target[order].astype("int64")


def _input_fn(features, labels, batch=32, repeat=False):
    def input_fn():
        ds = tf.data.Dataset.from_tensor_slices((dict(features), labels))
        ds = ds.shuffle(len(labels), seed=0).repeat() if repeat else ds
        return ds.batch(batch)
    return input_fn


def _columns(features):
    return [tf.feature_column.numeric_column(k) for k in sorted(features)]


# name -> (make(columns, model_dir), dataset, steps, accuracy bar, expected keys)
IRIS_BAR, CANCER_BAR = 0.9, 0.9
SEEDED = ke.RunConfig(tf_random_seed=0)


def _adam():  # An optimizer given as a callable; a name or an instance elsewhere.
    return keras.optimizers.Adam(0.02)


CASES = {
    "DNNClassifier": (lambda c, d: ke.DNNClassifier([16, 8], c, d, n_classes=3, optimizer=_adam, config=SEEDED),
                      "iris", 300,
                      IRIS_BAR, (MULTI_EVAL, MULTI_PREDICT, MULTI_SIGNATURES)),
    "LinearClassifier": (lambda c, d: ke.LinearClassifier(c, d, n_classes=3, config=SEEDED), "iris", 300, IRIS_BAR,
                         (MULTI_EVAL, MULTI_PREDICT, MULTI_SIGNATURES)),
    "DNNLinearCombinedClassifier": (
        lambda c, d: ke.DNNLinearCombinedClassifier(d, linear_feature_columns=c, dnn_feature_columns=c,
                                                    dnn_hidden_units=[8], dnn_optimizer=_adam, config=SEEDED),
        "breast_cancer", 200, CANCER_BAR, (BINARY_EVAL, BINARY_PREDICT, BINARY_SIGNATURES)),
    "BaselineClassifier": (lambda c, d: ke.BaselineClassifier(d, n_classes=3), "iris", 100, None,
                           (MULTI_EVAL, MULTI_PREDICT, MULTI_SIGNATURES)),
    "DNNRegressor": (lambda c, d: ke.DNNRegressor([8], c, d, optimizer=_adam, config=SEEDED), "breast_cancer", 200,
                     CANCER_BAR,
                     (REGRESSION_EVAL, REGRESSION_PREDICT, REGRESSION_SIGNATURES)),
    "LinearRegressor": (lambda c, d: ke.LinearRegressor(c, d, config=SEEDED), "breast_cancer", 200, CANCER_BAR,
                        (REGRESSION_EVAL, REGRESSION_PREDICT, REGRESSION_SIGNATURES)),
    "DNNLinearCombinedRegressor": (
        lambda c, d: ke.DNNLinearCombinedRegressor(d, linear_feature_columns=c, dnn_feature_columns=c,
                                                   dnn_hidden_units=[8], dnn_optimizer=_adam, config=SEEDED),
        "breast_cancer", 200, CANCER_BAR, (REGRESSION_EVAL, REGRESSION_PREDICT, REGRESSION_SIGNATURES)),
    "BaselineRegressor": (lambda c, d: ke.BaselineRegressor(d), "breast_cancer", 100, None,
                          (REGRESSION_EVAL, REGRESSION_PREDICT, REGRESSION_SIGNATURES)),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each case trained on its dataset's first 80%, evaluated and predicted on the rest, exported."""
    datasets = {"iris": _iris(), "breast_cancer": _breast_cancer()}
    results = {}
    for name, (make, dataset, steps, _, _) in CASES.items():
        features, labels = datasets[dataset]
        cut = int(0.8 * len(labels))
        train = ({k: v[:cut] for k, v in features.items()}, labels[:cut])
        test = ({k: v[cut:] for k, v in features.items()}, labels[cut:])
        columns = _columns(features)
        est = make(columns, str(tmp_path_factory.mktemp(name)))
        est.train(_input_fn(*train, repeat=True), steps=steps)
        evaluation = est.evaluate(_input_fn(*test))
        predictions = list(est.predict(_input_fn(*test)))
        spec = tf.feature_column.make_parse_example_spec(columns)
        export_dir = est.export_saved_model(str(tmp_path_factory.mktemp(f"{name}_export")),
                                            ke.export.build_parsing_serving_input_receiver_fn(spec))
        results[name] = dict(estimator=est, evaluation=evaluation, predictions=predictions, test=test,
                             export_dir=export_dir.decode() if isinstance(export_dir, bytes) else str(export_dir))
    return results


@pytest.mark.parametrize("name", sorted(CASES))
def test_evaluate_and_predict_have_tf_estimator_keys(trained, name):
    eval_keys, predict_keys, _ = CASES[name][4]
    result = trained[name]
    assert set(result["evaluation"]) == eval_keys
    first = result["predictions"][0]
    assert {k: (np.asarray(v).dtype.name, np.shape(v)) for k, v in first.items()} == predict_keys
    assert len(result["predictions"]) == len(result["test"][1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_reaches_the_documented_accuracy(trained, name):
    """iris 3 classes and breast_cancer's label (regressors: prediction > 0.5) above 0.9 on the
    held-out 20%; the baselines reach the majority class's share, no more."""
    _, dataset, _, bar, _ = CASES[name]
    result = trained[name]
    labels = result["test"][1]
    if "Regressor" in name:
        predicted = np.array([p["predictions"][0] > 0.5 for p in result["predictions"]])
    else:
        predicted = np.array([p["class_ids"][0] for p in result["predictions"]])
    accuracy = float(np.mean(predicted == labels))
    if bar is None:
        majority = np.bincount(labels).max() / len(labels)
        assert accuracy <= majority + 1e-6
        if "Classifier" in name:  # The bias learned the training labels' class frequencies.
            probabilities = result["predictions"][0]["probabilities"]
            np.testing.assert_allclose(probabilities, np.bincount(_iris()[1][:120], minlength=3) / 120, atol=0.05)
    else:
        assert accuracy >= bar, (name, accuracy)
        if "accuracy" in result["evaluation"]:
            assert abs(result["evaluation"]["accuracy"] - accuracy) < 1e-6


SERVE = textwrap.dedent("""
    import json, sys
    sys.modules["keras_estimator"] = None  # The export must not need this library.
    import numpy as np
    import tensorflow as tf
    out = {}
    for name, (export_dir, rows) in json.loads(sys.argv[1]).items():
        examples = [tf.train.Example(features=tf.train.Features(feature={
            k: tf.train.Feature(float_list=tf.train.FloatList(value=[v])) for k, v in row.items()}))
            .SerializeToString() for row in rows]
        loaded = tf.saved_model.load(export_dir)
        signatures = loaded.signatures
        result = {"signatures": sorted(signatures), "inputs": {}}
        for key in signatures:
            fn = signatures[key]
            arg = list(fn.structured_input_signature[1])[0]
            result["inputs"][key] = sorted(fn.structured_input_signature[1])
            result[key] = {k: v.numpy().tolist() if v.dtype != tf.string else [[c.decode() for c in r] for r in v.numpy()]
                           for k, v in fn(**{arg: tf.constant(examples)}).items()}
        out[name] = result
    print(json.dumps(out))
""")


def test_exports_serve_tf_examples_without_keras_estimator(trained):
    request = {}
    for name, result in trained.items():
        features = result["test"][0]
        rows = [{k: float(v[i]) for k, v in features.items()} for i in range(3)]
        request[name] = (result["export_dir"], rows)
    done = subprocess.run([sys.executable, "-c", SERVE, json.dumps(request)], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-3000:]
    served = json.loads(done.stdout.strip().splitlines()[-1])
    for name, result in trained.items():
        _, _, signatures = CASES[name][4]
        assert set(served[name]["signatures"]) == signatures, name
        # tf.estimator 2.15's input names: classify/regress signatures "inputs", predict "examples".
        assert served[name]["inputs"] == {k: ["examples" if k == "predict" else "inputs"] for k in signatures}
        predicted = result["predictions"][:3]
        if "Regressor" in name:
            want = [p["predictions"][0] for p in predicted]
            np.testing.assert_allclose(np.array(served[name]["serving_default"]["outputs"])[:, 0], want, atol=1e-5)
            np.testing.assert_allclose(np.array(served[name]["predict"]["predictions"])[:, 0], want, atol=1e-5)
        else:  # TensorFlow Serving's classification output: every class with its score.
            scores = np.array(served[name]["serving_default"]["scores"])
            np.testing.assert_allclose(scores, [p["probabilities"] for p in predicted], atol=1e-5)
            classes = served[name]["serving_default"]["classes"]
            assert classes == [[c.decode() for c in p["all_classes"]] for p in predicted]
            assert np.array(served[name]["predict"]["class_ids"])[:, 0].tolist() == [
                int(p["class_ids"][0]) for p in predicted]


def _generated(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    return {"a": x[:, 0].copy(), "b": x[:, 1].copy()}, (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")


@pytest.mark.parametrize("optimizer", [
    "SGD", keras.optimizers.SGD(0.5), lambda: keras.optimizers.SGD(0.5),
    tf.compat.v1.train.GradientDescentOptimizer(0.5)], ids=["name", "instance", "callable", "compat_v1"])
def test_optimizer_by_name_instance_callable_or_compat_v1(tmp_path, optimizer):
    features, labels = _generated()
    est = ke.LinearClassifier(_columns(features), str(tmp_path), optimizer=optimizer)
    est.train(_input_fn(features, labels, repeat=True), steps=60)
    assert est.evaluate(_input_fn(features, labels))["accuracy"] > 0.9
    assert est.get_variable_value("global_step") == 60
    if isinstance(optimizer, keras.optimizers.Optimizer):  # Copied, not built by the Estimator.
        assert not optimizer.built


def test_warm_start_from_another_estimators_checkpoint(tmp_path):
    features, labels = _generated()
    columns = _columns(features)
    first = ke.DNNClassifier([4], columns, str(tmp_path / "first"))
    first.train(_input_fn(features, labels, repeat=True), steps=30)
    second = ke.DNNClassifier([4], columns, str(tmp_path / "second"), warm_start_from=first.model_dir)
    second.train(_input_fn(features, labels, repeat=True), steps=1)
    kernel = "dnn/hiddenlayer_0/kernel"
    assert kernel in first.get_variable_names()
    # One step of Adagrad(0.001) from the warm start moves the kernel by about 1e-3 at most.
    np.testing.assert_allclose(second.get_variable_value(kernel), first.get_variable_value(kernel), atol=2e-3)


def test_string_labels_with_label_vocabulary(tmp_path):
    features, labels = _iris()
    names = np.array(["setosa", "versicolor", "virginica"])[labels]
    est = ke.DNNClassifier([8], _columns(features), str(tmp_path), n_classes=3,
                           label_vocabulary=["setosa", "versicolor", "virginica"], optimizer=_adam, config=SEEDED)
    est.train(_input_fn(features, names, repeat=True), steps=150)
    assert est.evaluate(_input_fn(features, names))["accuracy"] > 0.85
    prediction = next(iter(est.predict(_input_fn(features, names))))
    assert prediction["classes"][0].decode() in ("setosa", "versicolor", "virginica")
    assert [c.decode() for c in prediction["all_classes"]] == ["setosa", "versicolor", "virginica"]


def test_weight_column_weights_the_loss(tmp_path):
    features, labels = _generated(64)
    features["w"] = np.where(labels == 1, 3.0, 0.0).astype("float32")  # Only positives count.
    columns = _columns({"a": 0, "b": 0})
    est = ke.LinearClassifier(columns, str(tmp_path), weight_column="w")
    est.train(_input_fn(features, labels, repeat=True), steps=20)
    evaluation = est.evaluate(_input_fn(features, labels))
    assert evaluation["label/mean"] == pytest.approx(1.0)  # Weighted: only positive labels.
    assert evaluation["recall"] == pytest.approx(1.0)


@pytest.mark.parametrize("make, message", [
    (lambda c: ke.DNNClassifier([], c), "hidden_units"),
    (lambda c: ke.DNNClassifier([4], []), "feature_columns should not be empty"),
    (lambda c: ke.DNNClassifier([4], c, n_classes=1), "n_classes"),
    (lambda c: ke.DNNClassifier([4], c, optimizer="Adamax"), "Unsupported optimizer name: 'Adamax'"),
    (lambda c: ke.DNNClassifier([4], c, optimizer=42), "optimizer must be a name"),
    (lambda c: ke.DNNClassifier([4], c, dropout=1.5), "dropout"),
    (lambda c: ke.LinearClassifier(c, sparse_combiner="max"), "sparse_combiner"),
    (lambda c: ke.LinearClassifier(c, n_classes=3, label_vocabulary=["a", "b"]), "label_vocabulary has 2"),
    (lambda c: ke.DNNLinearCombinedClassifier(), "Either linear_feature_columns or dnn_feature_columns"),
    (lambda c: ke.DNNLinearCombinedClassifier(dnn_feature_columns=c), "hidden_units"),
    (lambda c: ke.LinearRegressor(c, label_dimension=0), "label_dimension"),
    (lambda c: ke.BaselineClassifier(loss_reduction="none"), "loss_reduction"),
])
def test_bad_arguments_fail_when_the_estimator_is_made(make, message):
    with pytest.raises(ValueError, match=message):
        make(_columns({"a": 0}))


def test_the_tensorflow_proxy_answers_the_premade_names():
    import keras_estimator.tensorflow as proxy_tf
    import keras_estimator.tensorflow.compat.v1 as proxy_tf1

    assert proxy_tf.estimator.DNNClassifier is ke.DNNClassifier
    assert issubclass(proxy_tf1.estimator.LinearClassifier, ke.LinearClassifier)  # TF1 defaults.
    assert proxy_tf1.estimator.Estimator is ke.Estimator
    assert proxy_tf.estimator.BinaryClassHead is ke.BinaryClassHead
    assert proxy_tf.keras.layers.DenseFeatures is ke.DenseFeatures  # tf.keras 2's layer.
    assert proxy_tf.keras.layers.Dense is keras.layers.Dense
    assert proxy_tf1.keras.layers.DenseFeatures is ke.DenseFeatures


@pytest.mark.parametrize("make", [
    lambda space, d: ke.DNNClassifier([8], space, d, optimizer=_adam, config=SEEDED),
    lambda space, d: ke.LinearClassifier(space, d, optimizer=_adam, config=SEEDED),
    lambda space, d: ke.DNNLinearCombinedClassifier(d, linear_feature_columns=space, dnn_feature_columns=space,
                                                    dnn_hidden_units=[8], dnn_optimizer=_adam, config=SEEDED),
], ids=["dnn", "linear", "combined"])
def test_a_keras_feature_space_in_place_of_feature_columns(tmp_path, make):
    features, labels = _generated()
    features["kind"] = np.where(features["a"] > 1.0, "high", "low")
    space = keras.utils.FeatureSpace(features={"a": "float_normalized", "b": "float_normalized",
                                               "kind": "string_categorical"}, output_mode="concat")
    space.adapt(tf.data.Dataset.from_tensor_slices(features))
    est = make(space, str(tmp_path))
    est.train(_input_fn(features, labels, repeat=True), steps=100)
    assert est.evaluate(_input_fn(features, labels))["accuracy"] > 0.9


GENERATED = {  # Every premade estimator on generated data (two numeric features), a few steps.
    "DNNClassifier": lambda c, d: ke.DNNClassifier([4], c, d),
    "DNNRegressor": lambda c, d: ke.DNNRegressor([4], c, d),
    "LinearClassifier": lambda c, d: ke.LinearClassifier(c, d, n_classes=3),
    "LinearRegressor": lambda c, d: ke.LinearRegressor(c, d),
    "DNNLinearCombinedClassifier": lambda c, d: ke.DNNLinearCombinedClassifier(
        d, linear_feature_columns=c, dnn_feature_columns=c, dnn_hidden_units=[4], n_classes=3),
    "DNNLinearCombinedRegressor": lambda c, d: ke.DNNLinearCombinedRegressor(
        d, linear_feature_columns=c, dnn_feature_columns=c, dnn_hidden_units=[4]),
    "BaselineClassifier": lambda c, d: ke.BaselineClassifier(d),
    "BaselineRegressor": lambda c, d: ke.BaselineRegressor(d),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_every_premade_estimator_on_generated_data(tmp_path, name):
    features, labels = _generated(128)
    if name.endswith("Regressor"):
        labels, (eval_keys, predict_keys) = features["a"] * 2.0, (REGRESSION_EVAL, REGRESSION_PREDICT)
    elif "Linear" in name:
        labels = np.digitize(features["a"], [-0.5, 0.5]).astype("int64")
        eval_keys, predict_keys = MULTI_EVAL, MULTI_PREDICT
    else:
        eval_keys, predict_keys = BINARY_EVAL, BINARY_PREDICT
    est = GENERATED[name](_columns(features), str(tmp_path))
    est.train(_input_fn(features, labels, repeat=True), steps=20)
    results = est.evaluate(_input_fn(features, labels))
    assert set(results) == eval_keys and results["global_step"] == 20
    assert np.isfinite(results["loss"])
    predictions = list(est.predict(_input_fn(features, labels)))
    assert len(predictions) == 128
    assert {k: (np.asarray(v).dtype.name, np.shape(v)) for k, v in predictions[0].items()} == predict_keys


def test_training_from_tf_examples_parsed_with_classifier_parse_example_spec(tmp_path):
    """tf.estimator's idiom: an input_fn parsing tf.Examples (label included) with
    classifier_parse_example_spec, and an export whose receiver parses the columns' spec."""
    features, labels = _generated(128)
    columns = _columns(features)
    records = [tf.train.Example(features=tf.train.Features(feature={
        "a": tf.train.Feature(float_list=tf.train.FloatList(value=[features["a"][i]])),
        "b": tf.train.Feature(float_list=tf.train.FloatList(value=[features["b"][i]])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[labels[i]])),
    })).SerializeToString() for i in range(128)]
    spec = ke.classifier_parse_example_spec(columns, label_key="label", label_dtype=tf.int64)

    def input_fn():
        parsed = tf.data.Dataset.from_tensor_slices(records).batch(16).map(lambda s: tf.io.parse_example(s, spec))
        return parsed.map(lambda f: (f, f.pop("label")))

    est = ke.LinearClassifier(columns, str(tmp_path), optimizer=_adam)
    est.train(lambda: input_fn().repeat(), steps=100)
    assert est.evaluate(input_fn)["accuracy"] > 0.9
    receiver = ke.export.build_parsing_serving_input_receiver_fn(tf.feature_column.make_parse_example_spec(columns))
    served = tf.saved_model.load(est.export_saved_model(str(tmp_path / "export"), receiver).decode())
    scores = served.signatures["classification"](inputs=tf.constant(records[:4]))["scores"].numpy()  # tf.estimator's key.
    want = [p["probabilities"] for p in est.predict(input_fn)][:4]
    np.testing.assert_allclose(scores, want, atol=1e-5)


def test_tf_compat_v1_estimator_classes_sum_the_loss_over_the_batch(tmp_path, caplog):
    """tf.compat.v1.estimator's premade classes keep tf.estimator 1's defaults: the loss is a
    batch's sum (evaluate's loss = batch size x average_loss for equal batches), a DNN's named
    optimizer runs at 0.05; partitioners are accepted and ignored with a warning."""
    import keras_estimator.tensorflow.compat.v1 as tf1

    features, labels = _generated(64)
    with caplog.at_level("WARNING", logger="keras_estimator"):
        est = tf1.estimator.DNNClassifier([4], _columns(features), str(tmp_path), config=SEEDED,
                                          input_layer_partitioner=tf.compat.v1.min_max_variable_partitioner(1))
    assert "input_layer_partitioner: variable partitioners" in caplog.text
    est.train(_input_fn(features, labels, batch=16, repeat=True), steps=50)
    results = est.evaluate(_input_fn(features, labels, batch=16))
    assert results["loss"] == pytest.approx(16 * results["average_loss"], rel=1e-4)
    assert results["accuracy"] > 0.85  # 50 steps are enough at Adagrad(0.05) on summed losses.
    v2 = ke.DNNClassifier([4], _columns(features), str(tmp_path / "v2"), config=SEEDED)
    v2.train(_input_fn(features, labels, batch=16, repeat=True), steps=1)
    assert v2.evaluate(_input_fn(features, labels, batch=16))["loss"] < 2.0  # A batch mean.
