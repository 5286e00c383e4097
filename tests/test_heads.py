"""Heads (`keras_estimator.canned`): loss, predictions, metrics, export outputs and errors, with
real TensorFlow/Keras and numbers computed by hand with numpy (and sklearn for AUC).

Metrics are measured through a real Estimator whose model_fn passes logits from the features
straight to the head (plus `0 *` a Dense output, so the optimizer has a variable), so the
expected values are functions of the data alone. The expected metric key sets are
tf.estimator 2.15's (measured on its DNNClassifier / DNNRegressor).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import average_precision_score, roc_auc_score

import keras_estimator as ke
from keras_estimator.export import ClassificationOutput, PredictOutput, RegressionOutput

N = 40  # examples per evaluation (one batch, so `loss` is the head's loss over all of them)


# --- numpy references ------------------------------------------------------------------------


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_sigmoid_ce(labels, logits):
    """tf.nn.sigmoid_cross_entropy_with_logits, element-wise."""
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


def np_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_softmax_ce(ids, logits):
    return -np.log(np_softmax(logits)[np.arange(len(ids)), ids])


def np_log_poisson(labels, logits, full=True):
    """tf.nn.log_poisson_loss: exp(c) - z*c, plus Stirling's term for z > 1 when full."""
    loss = np.exp(logits) - labels * logits
    if full:
        z = np.where(labels > 1, labels, 1.0)
        stirling = z * np.log(z) - z + 0.5 * np.log(2 * np.pi * z)
        loss = loss + np.where(labels > 1, stirling, 0.0)
    return loss


def wmean(values, weights=None):
    values = np.asarray(values, np.float64)
    if weights is None:
        return values.mean()
    weights = np.broadcast_to(np.asarray(weights, np.float64), values.shape)
    return (values * weights).sum() / weights.sum()


def value(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


# --- one real Estimator per head ---------------------------------------------------------------


def passthrough_logits(features, z):
    return features["logits"] + 0.0 * z


def run_estimator(head, features, labels, model_dir, logits_fn=passthrough_logits, predict=False):
    """Trains one step with SGD(0) (the logits stay the features'), evaluates one batch of all
    the data; returns (evaluate results, predictions per batch or None)."""
    first = next(iter(features))

    def model_fn(features, labels, mode):
        z = keras.layers.Dense(1, kernel_initializer="zeros")(features[first])
        logits = logits_fn(features, z)
        return head.create_estimator_spec(features, mode, logits, labels, optimizer=keras.optimizers.SGD(0.0))

    def input_fn():
        return tf.data.Dataset.from_tensor_slices((features, labels)).batch(N)

    est = ke.Estimator(model_fn, str(model_dir), ke.RunConfig(log_step_count_steps=None, save_summary_steps=None))
    est.train(input_fn, steps=1)
    results = est.evaluate(input_fn)
    predictions = list(est.predict(input_fn, yield_single_examples=False)) if predict else None
    return results, predictions


def binary_data(seed=0):
    rng = np.random.default_rng(seed)
    x = (2.0 * rng.normal(size=(N, 1))).astype(np.float32)
    y = (rng.uniform(size=N) < np_sigmoid(x[:, 0])).astype(np.int64)
    w = rng.choice([0.0, 0.5, 1.0, 2.0], size=(N, 1)).astype(np.float32)
    return x, y, w


@pytest.fixture(scope="module")
def binary_eval(tmp_path_factory):
    x, y, w = binary_data()
    head = ke.BinaryClassHead(thresholds=[0.3, 0.75])
    results, preds = run_estimator(head, {"logits": x, "w": w}, y, tmp_path_factory.mktemp("binary"), predict=True)
    return x, y, w, results, preds


@pytest.fixture(scope="module")
def binary_weighted_eval(tmp_path_factory):
    x, y, w = binary_data()
    head = ke.BinaryClassHead(weight_column="w", thresholds=[0.3])
    results, _ = run_estimator(head, {"logits": x, "w": w}, y, tmp_path_factory.mktemp("binary_w"))
    return x, y, w, results


BINARY_KEYS = {"accuracy", "accuracy_baseline", "auc", "auc_precision_recall", "average_loss", "global_step",
               "label/mean", "loss", "precision", "prediction/mean", "recall"}
MULTI_CLASS_KEYS = {"accuracy", "average_loss", "global_step", "loss"}
REGRESSION_KEYS = {"average_loss", "global_step", "label/mean", "loss", "prediction/mean"}


# --- loss ----------------------------------------------------------------------------------------


LOGITS_B = np.array([[1.0], [-2.0], [0.5], [0.0]], np.float32)
LABELS_B = np.array([[1], [0], [0], [1]], np.int64)
CE_B = np_sigmoid_ce(LABELS_B, LOGITS_B)  # [4, 1]


def test_binary_loss_is_mean_sigmoid_cross_entropy():
    head = ke.BinaryClassHead()
    loss = head.loss(LABELS_B, tf.constant(LOGITS_B))
    assert value(loss).shape == ()
    np.testing.assert_allclose(value(loss), CE_B.mean(), rtol=1e-6)
    # [batch] labels and float labels give the same loss.
    np.testing.assert_allclose(value(head.loss(LABELS_B[:, 0].astype(np.float32), LOGITS_B)), CE_B.mean(), rtol=1e-6)


def test_multi_class_loss_is_mean_softmax_cross_entropy():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 2.0, 2.0]], np.float32)
    ids = np.array([1, 0, 2])
    head = ke.MultiClassHead(3)
    np.testing.assert_allclose(value(head.loss(ids[:, None], logits)), np_softmax_ce(ids, logits).mean(), rtol=1e-6)


def test_regression_loss_is_mean_squared_error_over_every_value():
    logits = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]], np.float32)
    labels = np.array([[0.0, 2.5], [1.0, 1.0], [3.0, -2.0]], np.float32)
    head = ke.RegressionHead(label_dimension=2)
    np.testing.assert_allclose(value(head.loss(labels, logits)), ((logits - labels) ** 2).mean(), rtol=1e-6)
    head1 = ke.RegressionHead()
    np.testing.assert_allclose(value(head1.loss(labels[:, 0], logits[:, :1])),
                               ((logits[:, 0] - labels[:, 0]) ** 2).mean(), rtol=1e-6)


@pytest.mark.parametrize("full", [True, False])
def test_poisson_loss_is_log_poisson_loss(full):
    logits = np.array([[0.5], [-1.0], [1.0], [2.0]], np.float32)
    labels = np.array([[0.0], [1.0], [3.0], [5.0]], np.float32)
    head = ke.PoissonRegressionHead(compute_full_loss=full)
    expected = np_log_poisson(labels.astype(np.float64), logits.astype(np.float64), full).mean()
    np.testing.assert_allclose(value(head.loss(labels, logits)), expected, rtol=1e-5)
    if full:  # Stirling's term matters here: the two losses differ.
        assert abs(expected - np_log_poisson(labels, logits, False).mean()) > 0.1


def test_logistic_regression_loss_is_sigmoid_cross_entropy_on_rates():
    logits = np.array([[1.0], [-0.5], [2.0]], np.float32)
    labels = np.array([[0.0], [0.25], [1.0]], np.float32)
    head = ke.LogisticRegressionHead()
    np.testing.assert_allclose(value(head.loss(labels, logits)), np_sigmoid_ce(labels, logits).mean(), rtol=1e-6)


def test_multi_label_loss_is_mean_over_classes_then_batch():
    logits = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -3.0]], np.float32)
    labels = np.array([[1, 0, 1], [0, 0, 1]], np.int64)
    per_example = np_sigmoid_ce(labels, logits).mean(axis=1)
    head = ke.MultiLabelHead(3)
    np.testing.assert_allclose(value(head.loss(labels, logits)), per_example.mean(), rtol=1e-6)
    # Weighted: sum over batch of weighted per-example means / batch size.
    weighted = ke.MultiLabelHead(3, weight_column="w")
    w = np.array([[2.0], [0.0]], np.float32)
    np.testing.assert_allclose(value(weighted.loss(labels, logits, {"w": w})), (per_example * w[:, 0]).sum() / 2,
                               rtol=1e-6)


def test_multi_label_sparse_and_vocabulary_labels_match_multi_hot():
    logits = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -3.0]], np.float32)
    hot = np.array([[0, 0, 1], [1, 1, 0]], np.int64)
    expected = np_sigmoid_ce(hot, logits).mean()
    sparse_ids = tf.SparseTensor(indices=[[0, 0], [1, 0], [1, 1]], values=tf.constant([2, 0, 1], tf.int64),
                                 dense_shape=[2, 2])
    np.testing.assert_allclose(value(ke.MultiLabelHead(3).loss(sparse_ids, logits)), expected, rtol=1e-6)
    vocab_head = ke.MultiLabelHead(3, label_vocabulary=["a", "b", "c"])
    np.testing.assert_allclose(value(vocab_head.loss(tf.constant([["c", ""], ["a", "b"]]), logits)), expected,
                               rtol=1e-6)


WEIGHTS = np.array([[1.0], [0.0], [2.0], [0.5]], np.float32)


@pytest.mark.parametrize("weight_column", ["w", tf.feature_column.numeric_column("w")], ids=["key", "numeric_column"])
def test_weighted_loss_sum_over_batch_size_counts_zero_weight_examples(weight_column):
    head = ke.BinaryClassHead(weight_column=weight_column)
    loss = value(head.loss(LABELS_B, LOGITS_B, {"w": WEIGHTS}))
    # Sum of weighted losses / batch size (4), not / sum of weights (3.5) nor / nonzero weights (3).
    np.testing.assert_allclose(loss, (CE_B * WEIGHTS).sum() / 4, rtol=1e-6)
    # [batch] weights give the same loss.
    np.testing.assert_allclose(value(head.loss(LABELS_B, LOGITS_B, {"w": WEIGHTS[:, 0]})), loss, rtol=1e-6)


@pytest.mark.parametrize("weight_column", ["w", tf.feature_column.numeric_column("w")], ids=["key", "numeric_column"])
def test_weighted_loss_sum(weight_column):
    head = ke.BinaryClassHead(weight_column=weight_column, loss_reduction="sum")
    np.testing.assert_allclose(value(head.loss(LABELS_B, LOGITS_B, {"w": WEIGHTS})), (CE_B * WEIGHTS).sum(), rtol=1e-6)
    unweighted = ke.RegressionHead(loss_reduction="sum")
    np.testing.assert_allclose(value(unweighted.loss([[1.0], [3.0]], np.array([[0.0], [1.0]], np.float32))), 5.0)


def test_numeric_column_weight_normalizer_fn_is_applied():
    column = tf.feature_column.numeric_column("w", normalizer_fn=lambda w: 3.0 * w)
    head = ke.BinaryClassHead(weight_column=column)
    np.testing.assert_allclose(value(head.loss(LABELS_B, LOGITS_B, {"w": WEIGHTS})), 3.0 * (CE_B * WEIGHTS).sum() / 4,
                               rtol=1e-6)


def test_weighted_regression_loss_broadcasts_weights_over_label_dimension():
    logits = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]], np.float32)
    labels = np.array([[0.0, 2.5], [1.0, 1.0], [3.0, -2.0]], np.float32)
    w = np.array([[2.0], [0.0], [1.0]], np.float32)
    head = ke.RegressionHead(label_dimension=2, weight_column="w")
    np.testing.assert_allclose(value(head.loss(labels, logits, {"w": w})), (((logits - labels) ** 2) * w).sum() / 6,
                               rtol=1e-6)


@pytest.mark.parametrize("head", [ke.BinaryClassHead(), ke.RegressionHead(), ke.MultiLabelHead(2)],
                         ids=["binary", "regression", "multi_label"])
def test_regularization_losses_are_added(head):
    logits = np.array([[0.5, -0.5], [1.0, 2.0]], np.float32)[:, : head.logits_dimension]
    labels = np.array([[1, 0], [0, 1]], np.int64)[:, : head.logits_dimension]
    base = value(head.loss(labels, logits))
    reg = [tf.constant(0.25), tf.constant(1.5)]
    np.testing.assert_allclose(value(head.loss(labels, logits, regularization_losses=reg)), base + 1.75, rtol=1e-6)


def test_loss_reduction_accepts_tf_keras_2_names():
    assert ke.BinaryClassHead(loss_reduction="weighted_sum").loss_reduction == "sum"
    assert ke.RegressionHead(loss_reduction="weighted_sum_over_batch_size").loss_reduction == "sum_over_batch_size"


# --- predictions ------------------------------------------------------------------------------


def test_binary_predictions_keys_dtypes_and_shapes():
    head = ke.BinaryClassHead()
    logits = np.array([[1.0], [-2.0], [0.0]], np.float32)
    p = head.predictions(tf.constant(logits))
    assert set(p) == {"logits", "logistic", "probabilities", "class_ids", "classes", "all_class_ids", "all_classes"}
    expected_dtypes = {"logits": tf.float32, "logistic": tf.float32, "probabilities": tf.float32,
                       "class_ids": tf.int64, "classes": tf.string, "all_class_ids": tf.int32,
                       "all_classes": tf.string}
    expected_shapes = {"logits": (3, 1), "logistic": (3, 1), "probabilities": (3, 2), "class_ids": (3, 1),
                       "classes": (3, 1), "all_class_ids": (3, 2), "all_classes": (3, 2)}
    assert {k: v.dtype for k, v in p.items()} == expected_dtypes
    assert {k: tuple(v.shape) for k, v in p.items()} == expected_shapes
    s = np_sigmoid(logits)
    np.testing.assert_allclose(value(p["logits"]), logits)
    np.testing.assert_allclose(value(p["logistic"]), s, rtol=1e-6)
    np.testing.assert_allclose(value(p["probabilities"]), np.hstack([1 - s, s]), rtol=1e-6, atol=1e-7)
    # logit 0 is class 0, as tf.estimator's argmax over [0, logit].
    np.testing.assert_array_equal(value(p["class_ids"]), [[1], [0], [0]])
    np.testing.assert_array_equal(value(p["classes"]), [[b"1"], [b"0"], [b"0"]])
    np.testing.assert_array_equal(value(p["all_class_ids"]), [[0, 1]] * 3)
    np.testing.assert_array_equal(value(p["all_classes"]), [[b"0", b"1"]] * 3)
    # [batch] logits are accepted as [batch, 1].
    assert tuple(head.predictions(tf.constant(logits[:, 0]))["logits"].shape) == (3, 1)
    assert set(head.predictions(logits, keys=["logistic", "class_ids"])) == {"logistic", "class_ids"}


def test_multi_class_predictions_keys_dtypes_and_shapes():
    head = ke.MultiClassHead(3)
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], np.float32)
    p = head.predictions(logits)
    assert set(p) == {"logits", "probabilities", "class_ids", "classes", "all_class_ids", "all_classes"}
    assert {k: v.dtype for k, v in p.items()} == {
        "logits": tf.float32, "probabilities": tf.float32, "class_ids": tf.int64, "classes": tf.string,
        "all_class_ids": tf.int32, "all_classes": tf.string}
    assert {k: tuple(v.shape) for k, v in p.items()} == {
        "logits": (2, 3), "probabilities": (2, 3), "class_ids": (2, 1), "classes": (2, 1),
        "all_class_ids": (2, 3), "all_classes": (2, 3)}
    np.testing.assert_allclose(value(p["probabilities"]), np_softmax(logits), rtol=1e-6)
    np.testing.assert_array_equal(value(p["class_ids"]), [[1], [2]])
    np.testing.assert_array_equal(value(p["classes"]), [[b"1"], [b"2"]])
    np.testing.assert_array_equal(value(p["all_class_ids"]), [[0, 1, 2]] * 2)
    np.testing.assert_array_equal(value(p["all_classes"]), [[b"0", b"1", b"2"]] * 2)


def test_label_vocabulary_names_classes_and_maps_string_labels():
    head = ke.BinaryClassHead(label_vocabulary=["neg", "pos"])
    p = head.predictions(LOGITS_B)
    np.testing.assert_array_equal(value(p["classes"]), [[b"pos"], [b"neg"], [b"pos"], [b"neg"]])
    np.testing.assert_array_equal(value(p["all_classes"]), [[b"neg", b"pos"]] * 4)
    strings = tf.constant([["pos"], ["neg"], ["neg"], ["pos"]])
    np.testing.assert_allclose(value(head.loss(strings, LOGITS_B)), CE_B.mean(), rtol=1e-6)

    multi = ke.MultiClassHead(3, label_vocabulary=["a", "b", "c"])
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], np.float32)
    np.testing.assert_array_equal(value(multi.predictions(logits)["classes"]), [[b"b"], [b"c"]])
    np.testing.assert_array_equal(value(multi.predictions(logits)["all_classes"]), [[b"a", b"b", b"c"]] * 2)
    np.testing.assert_allclose(value(multi.loss(tf.constant(["c", "a"]), logits)),
                               np_softmax_ce(np.array([2, 0]), logits).mean(), rtol=1e-6)


def test_regression_predictions():
    logits = np.array([[1.5], [-2.0]], np.float32)
    p = ke.RegressionHead().predictions(logits)
    assert set(p) == {"predictions"}
    assert p["predictions"].dtype == tf.float32 and tuple(p["predictions"].shape) == (2, 1)
    np.testing.assert_allclose(value(p["predictions"]), logits)


def test_poisson_and_logistic_predictions_apply_the_inverse_link():
    logits = np.array([[0.5], [-1.0], [2.0]], np.float32)
    poisson = ke.PoissonRegressionHead().predictions(logits)
    assert set(poisson) == {"predictions", "logits"}
    np.testing.assert_allclose(value(poisson["predictions"]), np.exp(logits), rtol=1e-6)
    np.testing.assert_allclose(value(poisson["logits"]), logits)
    logistic = ke.LogisticRegressionHead().predictions(logits)
    assert set(logistic) == {"predictions", "logits"}
    np.testing.assert_allclose(value(logistic["predictions"]), np_sigmoid(logits), rtol=1e-6)


def test_multi_label_predictions():
    logits = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -3.0]], np.float32)
    p = ke.MultiLabelHead(3).predictions(logits)
    assert set(p) == {"logits", "probabilities", "all_class_ids", "all_classes"}
    assert {k: v.dtype for k, v in p.items()} == {"logits": tf.float32, "probabilities": tf.float32,
                                                  "all_class_ids": tf.int32, "all_classes": tf.string}
    np.testing.assert_allclose(value(p["probabilities"]), np_sigmoid(logits), rtol=1e-6)
    np.testing.assert_array_equal(value(p["all_class_ids"]), [[0, 1, 2]] * 2)
    vocab = ke.MultiLabelHead(3, label_vocabulary=["x", "y", "z"]).predictions(logits)
    np.testing.assert_array_equal(value(vocab["all_classes"]), [[b"x", b"y", b"z"]] * 2)


# --- metrics through a real Estimator ------------------------------------------------------------


def test_binary_evaluate_keys_and_values(binary_eval):
    x, y, _, r, _ = binary_eval
    logistic = np_sigmoid(x[:, 0].astype(np.float64))
    pred = (x[:, 0] > 0).astype(np.int64)
    tp, fp, fn = ((pred == 1) & (y == 1)).sum(), ((pred == 1) & (y == 0)).sum(), ((pred == 0) & (y == 1)).sum()
    ce = np_sigmoid_ce(y, x[:, 0].astype(np.float64))
    thresholds = {f"{k}/positive_threshold_{t:g}" for t in (0.3, 0.75) for k in ("accuracy", "precision", "recall")}
    assert set(r) == BINARY_KEYS | thresholds
    assert r["global_step"] == 1
    np.testing.assert_allclose(r["accuracy"], (pred == y).mean(), rtol=1e-6)
    np.testing.assert_allclose(r["precision"], tp / (tp + fp), rtol=1e-6)
    np.testing.assert_allclose(r["recall"], tp / (tp + fn), rtol=1e-6)
    np.testing.assert_allclose(r["label/mean"], y.mean(), rtol=1e-6)
    np.testing.assert_allclose(r["accuracy_baseline"], max(y.mean(), 1 - y.mean()), rtol=1e-6)
    np.testing.assert_allclose(r["prediction/mean"], logistic.mean(), rtol=1e-5)
    np.testing.assert_allclose(r["average_loss"], ce.mean(), rtol=1e-5)
    np.testing.assert_allclose(r["loss"], ce.mean(), rtol=1e-5)
    # Keras' AUC interpolates over 200 thresholds: close to the exact values, not equal.
    np.testing.assert_allclose(r["auc"], roc_auc_score(y, logistic), atol=1e-2)
    np.testing.assert_allclose(r["auc_precision_recall"], average_precision_score(y, logistic), atol=3e-2)
    for t in (0.3, 0.75):
        above = (logistic > t).astype(np.int64)
        tp_t = ((above == 1) & (y == 1)).sum()
        np.testing.assert_allclose(r[f"accuracy/positive_threshold_{t:g}"], (above == y).mean(), rtol=1e-6)
        np.testing.assert_allclose(r[f"precision/positive_threshold_{t:g}"], tp_t / above.sum(), rtol=1e-6)
        np.testing.assert_allclose(r[f"recall/positive_threshold_{t:g}"], tp_t / y.sum(), rtol=1e-6)
    assert r["accuracy/positive_threshold_0.3"] != r["accuracy/positive_threshold_0.75"]


def test_binary_weighted_evaluate_values(binary_weighted_eval):
    x, y, w, r = binary_weighted_eval
    w = w[:, 0].astype(np.float64)
    logistic = np_sigmoid(x[:, 0].astype(np.float64))
    pred = (x[:, 0] > 0).astype(np.int64)
    ce = np_sigmoid_ce(y, x[:, 0].astype(np.float64))
    assert (w == 0).any() and set(r) == BINARY_KEYS | {
        "accuracy/positive_threshold_0.3", "precision/positive_threshold_0.3", "recall/positive_threshold_0.3"}
    label_mean = wmean(y, w)
    np.testing.assert_allclose(r["accuracy"], wmean(pred == y, w), rtol=1e-5)
    np.testing.assert_allclose(r["precision"], (w * (pred == 1) * (y == 1)).sum() / (w * (pred == 1)).sum(), rtol=1e-5)
    np.testing.assert_allclose(r["recall"], (w * (pred == 1) * (y == 1)).sum() / (w * (y == 1)).sum(), rtol=1e-5)
    np.testing.assert_allclose(r["label/mean"], label_mean, rtol=1e-5)
    np.testing.assert_allclose(r["accuracy_baseline"], max(label_mean, 1 - label_mean), rtol=1e-5)
    np.testing.assert_allclose(r["prediction/mean"], wmean(logistic, w), rtol=1e-5)
    # average_loss: weighted mean; loss: the training loss, sum of weighted losses / batch size.
    np.testing.assert_allclose(r["average_loss"], wmean(ce, w), rtol=1e-5)
    np.testing.assert_allclose(r["loss"], (w * ce).sum() / N, rtol=1e-5)
    np.testing.assert_allclose(r["auc"], roc_auc_score(y, logistic, sample_weight=w), atol=1e-2)
    np.testing.assert_allclose(r["accuracy/positive_threshold_0.3"], wmean((logistic > 0.3) == y, w), rtol=1e-5)


def test_binary_estimator_predict_matches_head_predictions(binary_eval):
    x, _, _, _, preds = binary_eval
    (batch,) = preds
    assert set(batch) == {"logits", "logistic", "probabilities", "class_ids", "classes", "all_class_ids",
                          "all_classes"}
    np.testing.assert_allclose(batch["logistic"], np_sigmoid(x), rtol=1e-5)
    np.testing.assert_array_equal(batch["class_ids"], (x > 0).astype(np.int64))
    assert batch["class_ids"].dtype == np.int64 and batch["all_class_ids"].dtype == np.int32
    np.testing.assert_array_equal(batch["classes"], np.where(x > 0, b"1", b"0"))


def test_multi_class_evaluate_with_vocabulary(tmp_path):
    rng = np.random.default_rng(1)
    x = (1.5 * rng.normal(size=(N, 3))).astype(np.float32)
    ids = rng.integers(0, 3, size=N)
    vocab = np.array(["a", "b", "c"])
    head = ke.MultiClassHead(3, label_vocabulary=list(vocab))
    r, preds = run_estimator(head, {"logits": x}, vocab[ids][:, None], tmp_path, predict=True)
    ce = np_softmax_ce(ids, x.astype(np.float64))
    assert set(r) == MULTI_CLASS_KEYS
    np.testing.assert_allclose(r["accuracy"], (x.argmax(axis=1) == ids).mean(), rtol=1e-6)
    np.testing.assert_allclose(r["average_loss"], ce.mean(), rtol=1e-5)
    np.testing.assert_allclose(r["loss"], ce.mean(), rtol=1e-5)
    np.testing.assert_array_equal(preds[0]["classes"][:, 0], vocab[x.argmax(axis=1)].astype(bytes))


def test_regression_weighted_evaluate(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(N, 1)).astype(np.float32)
    y = (x + rng.normal(size=(N, 1))).astype(np.float32)
    w = rng.choice([0.0, 1.0, 3.0], size=(N, 1)).astype(np.float32)
    head = ke.RegressionHead(weight_column=tf.feature_column.numeric_column("w"))
    r, _ = run_estimator(head, {"logits": x, "w": w}, y, tmp_path)
    se = (x.astype(np.float64) - y) ** 2
    assert set(r) == REGRESSION_KEYS
    np.testing.assert_allclose(r["average_loss"], wmean(se, w), rtol=1e-5)
    np.testing.assert_allclose(r["loss"], (se * w).sum() / N, rtol=1e-5)
    np.testing.assert_allclose(r["label/mean"], wmean(y, w), rtol=1e-5)
    np.testing.assert_allclose(r["prediction/mean"], wmean(x, w), rtol=1e-5)


def test_multi_label_evaluate_with_class_metrics(tmp_path):
    rng = np.random.default_rng(3)
    x = (2.0 * rng.normal(size=(N, 3))).astype(np.float32)
    y = (rng.uniform(size=(N, 3)) < np_sigmoid(x)).astype(np.int64)
    head = ke.MultiLabelHead(3, thresholds=[0.5], label_vocabulary=None, classes_for_class_based_metrics=[0, 2])
    r, _ = run_estimator(head, {"logits": x}, y, tmp_path)
    p = np_sigmoid(x.astype(np.float64))
    per_class = {f"{k}/class{c}" for c in (0, 2) for k in ("probability_mean", "auc", "auc_precision_recall")}
    thresholds = {f"{k}/positive_threshold_0.5" for k in ("accuracy", "precision", "recall")}
    assert set(r) == {"average_loss", "auc", "auc_precision_recall", "global_step", "loss"} | per_class | thresholds
    ce = np_sigmoid_ce(y, x.astype(np.float64)).mean(axis=1)
    np.testing.assert_allclose(r["average_loss"], ce.mean(), rtol=1e-5)
    np.testing.assert_allclose(r["loss"], ce.mean(), rtol=1e-5)
    np.testing.assert_allclose(r["auc"], roc_auc_score(y.ravel(), p.ravel()), atol=1e-2)
    np.testing.assert_allclose(r["accuracy/positive_threshold_0.5"], ((p > 0.5) == y).mean(), rtol=1e-6)
    for c in (0, 2):
        np.testing.assert_allclose(r[f"probability_mean/class{c}"], p[:, c].mean(), rtol=1e-5)
        np.testing.assert_allclose(r[f"auc/class{c}"], roc_auc_score(y[:, c], p[:, c]), atol=1e-2)


def test_multi_label_class_metrics_by_vocabulary_name():
    head = ke.MultiLabelHead(3, label_vocabulary=["a", "b", "c"], classes_for_class_based_metrics=["c", 0])
    assert {"auc/class2", "probability_mean/class0"} <= set(head.metrics())
    with pytest.raises(ValueError, match=r"classes_for_class_based_metrics: 'd' is not a class"):
        ke.MultiLabelHead(3, label_vocabulary=["a", "b", "c"], classes_for_class_based_metrics=["d"])
    with pytest.raises(ValueError, match=r"classes_for_class_based_metrics: 3 is not a class"):
        ke.MultiLabelHead(3, classes_for_class_based_metrics=[3])


def test_eval_spec_metrics_with_regularization_eagerly():
    head = ke.BinaryClassHead()
    spec = head.create_estimator_spec({}, ke.ModeKeys.EVAL, LOGITS_B, LABELS_B,
                                      regularization_losses=[tf.constant(0.5)])
    np.testing.assert_allclose(value(spec.loss), CE_B.mean() + 0.5, rtol=1e-6)
    assert set(spec.eval_metric_ops) == (BINARY_KEYS - {"loss", "global_step"}) | {"regularization_loss"}
    np.testing.assert_allclose(value(spec.eval_metric_ops["average_loss"].result()), CE_B.mean(), rtol=1e-6)
    np.testing.assert_allclose(value(spec.eval_metric_ops["regularization_loss"].result()), 0.5)


# --- MultiHead ---------------------------------------------------------------------------------


def two_heads(weights=(1.0, 0.5)):
    return ke.MultiHead([ke.BinaryClassHead(name="ctr"), ke.RegressionHead(name="value")],
                        head_weights=None if weights is None else list(weights))


CTR_LOGITS = np.array([[1.0], [-2.0], [0.5]], np.float32)
CTR_LABELS = np.array([[1], [0], [0]], np.int64)
VALUE_LOGITS = np.array([[2.0], [0.0], [-1.0]], np.float32)
VALUE_LABELS = np.array([[1.0], [0.5], [-1.0]], np.float32)
CTR_LOSS = np_sigmoid_ce(CTR_LABELS, CTR_LOGITS).mean()
VALUE_LOSS = ((VALUE_LOGITS - VALUE_LABELS) ** 2).mean()


def test_multi_head_loss_is_weighted_sum_for_dict_and_concatenated_logits():
    head = two_heads()
    assert head.logits_dimension == 2
    labels = {"ctr": CTR_LABELS, "value": VALUE_LABELS}
    expected = CTR_LOSS + 0.5 * VALUE_LOSS
    as_dict = head.loss(labels, {"ctr": CTR_LOGITS, "value": VALUE_LOGITS})
    as_tensor = head.loss(labels, tf.constant(np.hstack([CTR_LOGITS, VALUE_LOGITS])))
    np.testing.assert_allclose(value(as_dict), expected, rtol=1e-6)
    np.testing.assert_allclose(value(as_tensor), expected, rtol=1e-6)
    np.testing.assert_allclose(value(head.loss(labels, np.hstack([CTR_LOGITS, VALUE_LOGITS]),
                                               regularization_losses=[tf.constant(1.0)])), expected + 1.0, rtol=1e-6)
    np.testing.assert_allclose(value(two_heads(None).loss(labels, {"ctr": CTR_LOGITS, "value": VALUE_LOGITS})),
                               CTR_LOSS + VALUE_LOSS, rtol=1e-6)


def test_multi_head_predictions_are_keyed_by_head():
    p = two_heads().predictions(tf.constant(np.hstack([CTR_LOGITS, VALUE_LOGITS])))
    assert set(p) == {f"ctr/{k}" for k in ("logits", "logistic", "probabilities", "class_ids", "classes",
                                           "all_class_ids", "all_classes")} | {"value/predictions"}
    np.testing.assert_allclose(value(p["ctr/probabilities"])[:, 1:], np_sigmoid(CTR_LOGITS), rtol=1e-6)
    np.testing.assert_allclose(value(p["value/predictions"]), VALUE_LOGITS)


def test_multi_head_export_outputs():
    head = two_heads()
    outputs = head.export_outputs(head.predictions({"ctr": CTR_LOGITS, "value": VALUE_LOGITS}))
    assert {"serving_default", "ctr/classification", "ctr/regression", "value/regression", "predict"} <= set(outputs)
    assert isinstance(outputs["serving_default"], ClassificationOutput)  # the first head's
    np.testing.assert_allclose(value(outputs["serving_default"].scores)[:, 1:], np_sigmoid(CTR_LOGITS), rtol=1e-6)
    np.testing.assert_allclose(value(outputs["value/regression"].value), VALUE_LOGITS)
    assert isinstance(outputs["predict"], PredictOutput)
    assert {"ctr/probabilities", "value/predictions"} <= set(outputs["predict"].outputs)



def test_multi_head_export_signature_names_match_tf_estimator():
    head = two_heads()
    outputs = head.export_outputs(head.predictions({"ctr": CTR_LOGITS, "value": VALUE_LOGITS}))
    assert set(outputs) == {"serving_default", "ctr", "ctr/classification", "ctr/regression", "ctr/predict",
                            "value", "value/regression", "value/predict", "predict"}


def test_multi_head_evaluate_and_predict(tmp_path):
    rng = np.random.default_rng(4)
    ctr_x = (2.0 * rng.normal(size=(N, 1))).astype(np.float32)
    ctr_y = (rng.uniform(size=(N, 1)) < np_sigmoid(ctr_x)).astype(np.int64)
    value_x = rng.normal(size=(N, 1)).astype(np.float32)
    value_y = (value_x + rng.normal(size=(N, 1))).astype(np.float32)

    def logits_fn(features, z):
        return {"ctr": features["ctr_logits"] + 0.0 * z, "value": features["value_logits"] + 0.0 * z}

    r, preds = run_estimator(two_heads(), {"ctr_logits": ctr_x, "value_logits": value_x},
                             {"ctr": ctr_y, "value": value_y}, tmp_path, logits_fn=logits_fn, predict=True)
    ce = np_sigmoid_ce(ctr_y, ctr_x.astype(np.float64)).mean()
    se = ((value_x.astype(np.float64) - value_y) ** 2).mean()
    assert set(r) == ({f"{k}/ctr" for k in BINARY_KEYS - {"global_step"}}
                      | {f"{k}/value" for k in REGRESSION_KEYS - {"global_step"}} | {"loss", "global_step"})
    np.testing.assert_allclose(r["loss"], ce + 0.5 * se, rtol=1e-5)
    np.testing.assert_allclose(r["loss/ctr"], ce, rtol=1e-5)
    np.testing.assert_allclose(r["average_loss/ctr"], ce, rtol=1e-5)
    np.testing.assert_allclose(r["accuracy/ctr"], ((ctr_x > 0) == ctr_y).mean(), rtol=1e-6)
    np.testing.assert_allclose(r["label/mean/ctr"], ctr_y.mean(), rtol=1e-6)
    np.testing.assert_allclose(r["loss/value"], se, rtol=1e-5)
    np.testing.assert_allclose(r["average_loss/value"], se, rtol=1e-5)
    np.testing.assert_allclose(r["label/mean/value"], value_y.mean(), rtol=1e-5)
    np.testing.assert_allclose(r["prediction/mean/value"], value_x.mean(), rtol=1e-5)
    (batch,) = preds
    np.testing.assert_allclose(batch["ctr/probabilities"][:, 1:], np_sigmoid(ctr_x), rtol=1e-5)
    np.testing.assert_allclose(batch["value/predictions"], value_x)


# --- export outputs ------------------------------------------------------------------------------


def test_binary_export_outputs():
    head = ke.BinaryClassHead()
    p = head.predictions(LOGITS_B)
    outputs = head.export_outputs(p)
    assert set(outputs) == {"serving_default", "classification", "regression", "predict"}
    assert isinstance(outputs["serving_default"], ClassificationOutput)
    assert isinstance(outputs["classification"], ClassificationOutput)
    np.testing.assert_allclose(value(outputs["serving_default"].scores), value(p["probabilities"]))
    np.testing.assert_array_equal(value(outputs["serving_default"].classes), [[b"0", b"1"]] * 4)
    assert isinstance(outputs["regression"], RegressionOutput)
    np.testing.assert_allclose(value(outputs["regression"].value), np_sigmoid(LOGITS_B), rtol=1e-6)
    assert isinstance(outputs["predict"], PredictOutput) and set(outputs["predict"].outputs) == set(p)


def test_multi_class_multi_label_and_regression_export_outputs():
    logits = np.array([[1.0, 2.0, 0.5]], np.float32)
    for head in (ke.MultiClassHead(3), ke.MultiLabelHead(3)):
        outputs = head.export_outputs(head.predictions(logits))
        assert set(outputs) == {"serving_default", "classification", "predict"}
        assert isinstance(outputs["serving_default"], ClassificationOutput)
    for head in (ke.RegressionHead(), ke.PoissonRegressionHead(), ke.LogisticRegressionHead()):
        p = head.predictions(logits[:, :1])
        outputs = head.export_outputs(p)
        assert set(outputs) == {"serving_default", "regression", "predict"}
        assert isinstance(outputs["serving_default"], RegressionOutput)
        np.testing.assert_allclose(value(outputs["regression"].value), value(p["predictions"]))


def test_predict_spec_carries_export_outputs():
    spec = ke.BinaryClassHead().create_estimator_spec({}, ke.ModeKeys.PREDICT, LOGITS_B)
    assert spec.loss is None and set(spec.export_outputs) == {"serving_default", "classification", "regression",
                                                              "predict"}
    assert "probabilities" in spec.predictions


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 1, 0, 2.5, "3", True, None])
def test_multi_class_head_rejects_bad_n_classes(n_classes):
    with pytest.raises(ValueError, match=r"n_classes must be an integer >= 3 for MultiClassHead, got"):
        ke.MultiClassHead(n_classes)


@pytest.mark.parametrize("n_classes", [1, 0, 2.0, "2"])
def test_multi_label_head_rejects_bad_n_classes(n_classes):
    with pytest.raises(ValueError, match=r"n_classes must be an integer >= 2 for MultiLabelHead"):
        ke.MultiLabelHead(n_classes)


def test_regression_head_rejects_bad_label_dimension():
    for bad in (0, 1.0, "1"):
        with pytest.raises(ValueError, match=r"label_dimension must be an integer >= 1"):
            ke.RegressionHead(label_dimension=bad)



def test_numpy_integer_n_classes_and_label_dimension_are_accepted():
    assert ke.MultiClassHead(np.int64(3)).logits_dimension == 3
    assert ke.MultiLabelHead(np.int32(4)).logits_dimension == 4
    assert ke.RegressionHead(label_dimension=np.int64(2)).logits_dimension == 2


def test_label_vocabulary_errors():
    with pytest.raises(ValueError, match=r"label_vocabulary has 3 entries, but n_classes is 2"):
        ke.BinaryClassHead(label_vocabulary=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"label_vocabulary has 2 entries, but n_classes is 3"):
        ke.MultiClassHead(3, label_vocabulary=["a", "b"])
    with pytest.raises(ValueError, match=r"label_vocabulary has duplicates: \['a', 'a'\]"):
        ke.BinaryClassHead(label_vocabulary=["a", "a"])
    with pytest.raises(ValueError, match=r"label_vocabulary has duplicates"):
        ke.MultiLabelHead(3, label_vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"label_vocabulary must be a list of strings, got \['a', 1\]"):
        ke.BinaryClassHead(label_vocabulary=["a", 1])
    with pytest.raises(ValueError, match=r"label_vocabulary must be a list of strings, got 'ab'"):
        ke.BinaryClassHead(label_vocabulary="ab")


@pytest.mark.parametrize("make", [ke.BinaryClassHead, lambda **kw: ke.MultiClassHead(3, **kw), ke.RegressionHead,
                                  ke.PoissonRegressionHead, ke.LogisticRegressionHead,
                                  lambda **kw: ke.MultiLabelHead(2, **kw)])
def test_unknown_loss_reduction(make):
    for bad in ("none", "mean", "SUM"):
        with pytest.raises(ValueError, match=r"Invalid loss_reduction: '%s'; expected 'sum_over_batch_size' or 'sum'"
                           % bad):
            make(loss_reduction=bad)


@pytest.mark.parametrize("threshold", [0.0, 1.0, 1.5, -0.2])
def test_threshold_outside_unit_interval(threshold):
    with pytest.raises(ValueError, match=r"thresholds must be in \(0, 1\)"):
        ke.BinaryClassHead(thresholds=[0.5, threshold])
    with pytest.raises(ValueError, match=r"thresholds must be in \(0, 1\)"):
        ke.MultiLabelHead(2, thresholds=[threshold])


def test_string_labels_without_vocabulary_and_numbers_with_one():
    with pytest.raises(ValueError, match=r"Labels are strings: give the head \(or estimator\) label_vocabulary"):
        ke.BinaryClassHead().loss(tf.constant([["1"], ["0"]]), LOGITS_B[:2])
    with pytest.raises(ValueError, match=r"Labels must be strings with label_vocabulary, got int64"):
        ke.BinaryClassHead(label_vocabulary=["neg", "pos"]).loss(LABELS_B, LOGITS_B)
    with pytest.raises(ValueError, match=r"Regression labels must be numbers, got strings"):
        ke.RegressionHead().loss(tf.constant([["1"]]), np.array([[1.0]], np.float32))


def test_label_outside_vocabulary_fails_at_run_time():
    head = ke.BinaryClassHead(label_vocabulary=["neg", "pos"])
    loss = tf.function(lambda labels: head.loss(labels, LOGITS_B[:2]))
    assert np.isfinite(value(loss(tf.constant([["pos"], ["neg"]]))))  # traces fine; valid labels run
    # In a graph TensorFlow prints the message with its quotes escaped: [\'neg\', \'pos\'].
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Labels must be in label_vocabulary \[\\?'neg\\?', \\?'pos\\?'\]"):
        loss(tf.constant([["pos"], ["maybe"]]))


@pytest.mark.parametrize("head,bad", [(ke.BinaryClassHead(), 2), (ke.BinaryClassHead(), -1),
                                      (ke.MultiClassHead(3), 3)], ids=["binary_2", "binary_-1", "multi_3"])
def test_label_out_of_range_fails_at_run_time(head, bad):
    logits = np.zeros((2, head.logits_dimension), np.float32)
    loss = tf.function(lambda labels: head.loss(labels, logits))
    assert np.isfinite(value(loss(tf.constant([[1], [0]], tf.int64))))
    pattern = r"Labels must be class ids in \[0, %d\] \(n_classes=%d\)" % (head.n_classes - 1, head.n_classes)
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern):
        loss(tf.constant([[1], [bad]], tf.int64))


def test_logistic_and_multi_label_label_range_fail_at_run_time():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"LogisticRegressionHead labels must be in \[0, 1\]"):
        ke.LogisticRegressionHead().loss(np.array([[0.5], [1.5]], np.float32), np.zeros((2, 1), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"MultiLabelHead labels must be 0 or 1"):
        ke.MultiLabelHead(2).loss(np.array([[0, 2]]), np.zeros((1, 2), np.float32))


@pytest.mark.parametrize("weight_column", ["w", tf.feature_column.numeric_column("w")], ids=["key", "numeric_column"])
def test_missing_weight_column(weight_column):
    head = ke.BinaryClassHead(weight_column=weight_column)
    with pytest.raises(ke.MissingFeatureError, match=r"Weight column 'w' is not among the features \['x'\]"):
        head.loss(LABELS_B, LOGITS_B, {"x": WEIGHTS})
    with pytest.raises(ke.MissingFeatureError, match=r"Weight column 'w'"):
        head.create_estimator_spec({"x": WEIGHTS}, ke.ModeKeys.EVAL, LOGITS_B, LABELS_B)


def test_logits_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"logits shape must be \[batch, 1\], got \(4, 2\)"):
        ke.BinaryClassHead().predictions(np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"logits shape must be \[batch, 3\], got \(4, 2\)"):
        ke.MultiClassHead(3).loss(np.zeros((4, 1), np.int64), np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"logits shape must be \[batch, 2\], got \(4, 3\)"):
        two_heads().predictions(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"logits must be a float tensor, got int32"):
        ke.RegressionHead().predictions(np.zeros((4, 1), np.int32))


def test_labels_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"Mismatched label shape: labels must be \[batch, 2\]"):
        ke.RegressionHead(label_dimension=2).loss(np.zeros((3, 3), np.float32), np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"a dict of labels needs a MultiHead"):
        ke.BinaryClassHead().loss({"ctr": LABELS_B}, LOGITS_B)


def test_multi_head_construction_errors():
    with pytest.raises(ValueError, match=r"Every head of a MultiHead needs its own name, got \['ctr', None\]"):
        ke.MultiHead([ke.BinaryClassHead(name="ctr"), ke.RegressionHead()])
    with pytest.raises(ValueError, match=r"Every head of a MultiHead needs its own name, got \['a', 'a'\]"):
        ke.MultiHead([ke.BinaryClassHead(name="a"), ke.RegressionHead(name="a")])
    with pytest.raises(ValueError, match=r"MultiHead needs at least one head"):
        ke.MultiHead([])
    with pytest.raises(ValueError, match=r"head_weights has 1 entries for 2 heads"):
        two_heads(weights=[1.0])
    with pytest.raises(ValueError, match=r"A head's name must be a non-empty string or None, got ''"):
        ke.BinaryClassHead(name="")


def test_multi_head_label_and_logit_errors():
    head = two_heads()
    logits = {"ctr": CTR_LOGITS, "value": VALUE_LOGITS}
    with pytest.raises(ValueError, match=r"MultiHead labels must be a dict keyed by head name, got ndarray"):
        head.loss(CTR_LABELS, logits)
    with pytest.raises(ValueError, match=r"MultiHead labels have no entry for head\(s\) \['value'\]; got \['ctr'\]"):
        head.loss({"ctr": CTR_LABELS}, logits)
    with pytest.raises(ValueError, match=r"MultiHead logits have no entry for head\(s\) \['value'\]"):
        head.loss({"ctr": CTR_LABELS, "value": VALUE_LABELS}, {"ctr": CTR_LOGITS})
    with pytest.raises(ValueError, match=r"MultiHead labels have no entry for head\(s\) \['value'\]"):
        head.create_estimator_spec({}, ke.ModeKeys.EVAL, logits, {"ctr": CTR_LABELS})


def test_create_estimator_spec_train_needs_exactly_one_of_optimizer_and_train_op_fn():
    head = ke.BinaryClassHead()
    with pytest.raises(ValueError, match=r"needs exactly one of optimizer and train_op_fn, got optimizer=None, "
                                         r"train_op_fn=None"):
        head.create_estimator_spec({}, ke.ModeKeys.TRAIN, LOGITS_B, LABELS_B)
    with pytest.raises(ValueError, match=r"needs exactly one of optimizer and train_op_fn"):
        head.create_estimator_spec({}, ke.ModeKeys.TRAIN, LOGITS_B, LABELS_B, optimizer=keras.optimizers.SGD(0.1),
                                   train_op_fn=lambda loss: tf.no_op())


@pytest.mark.parametrize("mode", [ke.ModeKeys.TRAIN, ke.ModeKeys.EVAL])
def test_train_and_eval_need_labels(mode):
    for head, logits in ((ke.BinaryClassHead(), LOGITS_B), (two_heads(), {"ctr": CTR_LOGITS, "value": VALUE_LOGITS})):
        with pytest.raises(ke.InputError, match=r"The head needs labels in mode '%s', but input_fn gave none" % mode):
            head.create_estimator_spec({}, mode, logits, None, optimizer=keras.optimizers.SGD(0.1))


def test_unknown_mode():
    with pytest.raises(ValueError, match=r"Unknown mode 'predict'"):
        ke.RegressionHead().create_estimator_spec({}, "predict", np.zeros((2, 1), np.float32), [[1.0], [2.0]])


# --- tf.estimator behaviours these tests first found missing (fixed since) ---------------------------



def test_class_ids_follow_the_logits_for_tiny_margins():
    np.testing.assert_array_equal(value(ke.BinaryClassHead().predictions([[1e-8], [-1e-8]])["class_ids"]), [[1], [0]])
    np.testing.assert_array_equal(
        value(ke.MultiClassHead(3).predictions([[0.0, 1e-8, -1.0]])["class_ids"]), [[1]])



def test_binary_loss_fn_receives_float_labels():
    seen = {}

    def loss_fn(labels, logits):
        seen["dtype"] = labels.dtype
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

    head = ke.BinaryClassHead(loss_fn=loss_fn)
    np.testing.assert_allclose(value(head.loss(LABELS_B, LOGITS_B)), CE_B.mean(), rtol=1e-6)
    assert seen["dtype"] == tf.float32



def test_binary_soft_labels_are_used_as_given():
    loss = ke.BinaryClassHead().loss(np.array([[0.3]], np.float32), np.array([[1.0]], np.float32))
    np.testing.assert_allclose(value(loss), np_sigmoid_ce(0.3, 1.0), rtol=1e-6)



def test_loss_fn_may_take_features():
    def loss_fn(labels, logits, features):
        return tf.abs(labels - logits) * features["scale"]

    head = ke.RegressionHead(loss_fn=loss_fn)
    features = {"scale": np.array([[2.0], [1.0]], np.float32)}
    loss = head.loss(np.array([[1.0], [0.0]], np.float32), np.array([[0.0], [3.0]], np.float32), features)
    np.testing.assert_allclose(value(loss), (2.0 + 3.0) / 2)
