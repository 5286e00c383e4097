"""EstimatorSpec: per-mode required fields and field validation, with real TF/Keras objects."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_estimator import EstimatorSpec, Hook, ModeKeys
from keras_estimator.export import PredictOutput

LOSS = tf.constant(0.5)
TRAIN_OP = tf.constant(True)  # any non-None marker; the update already ran in model_fn
PREDS = tf.constant([[0.1], [0.9]])


# --- required fields per mode ------------------------------------------------------------


def test_train_requires_loss():
    with pytest.raises(ValueError, match=r"mode 'train' is missing loss"):
        EstimatorSpec(ModeKeys.TRAIN, train_op=TRAIN_OP)


def test_train_requires_train_op():
    with pytest.raises(ValueError, match=r"mode 'train' is missing train_op"):
        EstimatorSpec(ModeKeys.TRAIN, loss=LOSS)


def test_eval_requires_loss():
    with pytest.raises(ValueError, match=r"mode 'eval' is missing loss"):
        EstimatorSpec(ModeKeys.EVAL, predictions=PREDS)


def test_predict_requires_predictions():
    with pytest.raises(ValueError, match=r"mode 'infer' is missing predictions"):
        EstimatorSpec(ModeKeys.PREDICT, loss=LOSS)


@pytest.mark.parametrize("mode", ["predict", "TRAIN", "training", None])
def test_unknown_mode_raises(mode):
    with pytest.raises(ValueError, match="Unknown mode"):
        EstimatorSpec(mode, predictions=PREDS, loss=LOSS, train_op=TRAIN_OP)


# --- valid specs keep their fields --------------------------------------------------------


def test_valid_train_spec_keeps_fields():
    spec = EstimatorSpec(ModeKeys.TRAIN, loss=LOSS, train_op=TRAIN_OP)
    assert spec.mode == "train"
    assert spec.loss is LOSS
    assert spec.train_op is TRAIN_OP
    assert spec.predictions is None
    assert spec.eval_metric_ops == {}
    assert spec.export_outputs is None


def test_valid_eval_spec_keeps_keras_metric():
    metric = keras.metrics.Mean(name="mean_loss")
    metric.update_state(2.0)
    spec = EstimatorSpec(ModeKeys.EVAL, loss=LOSS, eval_metric_ops={"mean_loss": metric})
    assert spec.mode == "eval"
    assert spec.eval_metric_ops["mean_loss"] is metric
    assert float(spec.eval_metric_ops["mean_loss"].result()) == pytest.approx(2.0)
    assert spec.train_op is None


def test_eval_metric_ops_copied_into_a_dict():
    metrics = {"acc": keras.metrics.BinaryAccuracy()}
    spec = EstimatorSpec(ModeKeys.EVAL, loss=LOSS, eval_metric_ops=metrics)
    assert isinstance(spec.eval_metric_ops, dict)
    assert spec.eval_metric_ops == metrics
    metrics["other"] = keras.metrics.Mean()
    assert "other" not in spec.eval_metric_ops


def test_valid_predict_spec_keeps_predictions_dict():
    preds = {"probabilities": PREDS, "classes": tf.constant([0, 1])}
    spec = EstimatorSpec(ModeKeys.PREDICT, predictions=preds)
    assert spec.mode == "infer"
    assert spec.predictions is preds
    assert set(spec.predictions) == {"probabilities", "classes"}
    assert spec.loss is None


def test_predict_spec_accepts_single_tensor():
    spec = EstimatorSpec(ModeKeys.PREDICT, predictions=PREDS)
    assert spec.predictions is PREDS


def test_export_outputs_dict_kept():
    outputs = {"serving_default": PredictOutput({"p": PREDS})}
    spec = EstimatorSpec(ModeKeys.PREDICT, predictions=PREDS, export_outputs=outputs)
    assert spec.export_outputs is outputs


def test_export_outputs_must_be_export_output_objects():
    with pytest.raises(ValueError, match="serving_default"):
        EstimatorSpec(ModeKeys.PREDICT, predictions=PREDS, export_outputs={"serving_default": PREDS})


def test_python_float_loss_converted_to_scalar_tensor():
    spec = EstimatorSpec(ModeKeys.EVAL, loss=1.5)
    assert tf.is_tensor(spec.loss)
    assert spec.loss.shape.rank == 0
    assert float(spec.loss) == pytest.approx(1.5)


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_float_loss_dtypes_accepted(dtype):
    spec = EstimatorSpec(ModeKeys.EVAL, loss=tf.constant(1.0, dtype=dtype))
    assert spec.loss.dtype == dtype


def test_spec_is_a_tuple_with_named_fields():
    spec = EstimatorSpec(ModeKeys.EVAL, loss=LOSS)
    assert spec._fields == (
        "mode",
        "predictions",
        "loss",
        "train_op",
        "eval_metric_ops",
        "export_outputs",
        # tf.estimator's fields, in its order: programs may pass them by position.
        "training_chief_hooks",
        "training_hooks",
        "scaffold",
        "evaluation_hooks",
        "prediction_hooks",
    )


# --- loss validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss", [tf.constant([1.0, 2.0]), tf.constant([[1.0]]), tf.constant([[0.5]])]
)
@pytest.mark.parametrize("mode", [ModeKeys.TRAIN, ModeKeys.EVAL])
def test_non_scalar_loss_raises(mode, loss):
    with pytest.raises(ValueError, match="Loss must be scalar"):
        EstimatorSpec(mode, loss=loss, train_op=TRAIN_OP)


def test_a_loss_of_unknown_length_is_a_scalar_when_it_holds_one_value():
    """tf.estimator took a per-example loss of shape [None] when a batch of 1 made it one value
    (TensorFlow's metrics migration guide relies on it); more values fail when run, naming why."""
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def spec_loss(per_example):
        return EstimatorSpec(ModeKeys.EVAL, loss=per_example).loss

    assert spec_loss(tf.constant([0.25])).numpy() == 0.25
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Loss must be scalar, given: \(None,\) .*more than one"):
        spec_loss(tf.constant([0.25, 0.5]))


@pytest.mark.parametrize("loss", [tf.constant(1), tf.constant(1, dtype=tf.int64), 3])
def test_integer_loss_rejected(loss):
    with pytest.raises(ValueError, match="floating-point"):
        EstimatorSpec(ModeKeys.EVAL, loss=loss)


def test_bool_loss_rejected():
    with pytest.raises(ValueError, match="floating-point"):
        EstimatorSpec(ModeKeys.EVAL, loss=tf.constant(True))


def test_loss_not_convertible_to_tensor_raises_naming_mode():
    with pytest.raises(ValueError, match=r"loss for mode 'eval' is not a tensor"):
        EstimatorSpec(ModeKeys.EVAL, loss=object())


# --- eval_metric_ops validation -----------------------------------------------------------


def test_eval_metric_ops_value_must_be_keras_metric_naming_key():
    # tf.estimator's (value, update_op) tuples are accepted (issue 18); a bare tensor is not.
    value = tf.constant(0.5)
    with pytest.raises(ValueError, match=r"eval_metric_ops\['accuracy'\].*keras\.metrics\.Metric"):
        EstimatorSpec(ModeKeys.EVAL, loss=LOSS, eval_metric_ops={"accuracy": value})


@pytest.mark.parametrize("bad", [tf.constant(0.5), 0.5, None, keras.losses.MeanSquaredError()])
def test_eval_metric_ops_rejects_non_metrics(bad):
    metrics = {"good": keras.metrics.Mean(), "bad_one": bad}
    with pytest.raises(ValueError, match=r"eval_metric_ops\['bad_one'\]"):
        EstimatorSpec(ModeKeys.EVAL, loss=LOSS, eval_metric_ops=metrics)


def test_eval_metric_ops_keys_must_be_strings():
    with pytest.raises(ValueError, match="eval_metric_ops keys must be strings"):
        EstimatorSpec(ModeKeys.EVAL, loss=LOSS, eval_metric_ops={1: keras.metrics.Mean()})


# --- predictions validation ---------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.array([1.0, 2.0]), [1.0, 2.0], 3.0, "text"])
def test_predictions_value_must_be_tensor_naming_key(bad):
    with pytest.raises(ValueError, match=r"predictions\['scores'\] for mode 'infer' must be a tensor"):
        EstimatorSpec(ModeKeys.PREDICT, predictions={"ok": PREDS, "scores": bad})


def test_single_prediction_must_be_tensor():
    with pytest.raises(ValueError, match=r"predictions for mode 'infer' must be a tensor"):
        EstimatorSpec(ModeKeys.PREDICT, predictions=np.zeros((2, 1)))


def test_predictions_checked_in_other_modes_too():
    with pytest.raises(ValueError, match=r"predictions\['p'\] for mode 'eval'"):
        EstimatorSpec(ModeKeys.EVAL, loss=LOSS, predictions={"p": [1.0]})


def test_predictions_keys_must_be_strings():
    with pytest.raises(ValueError, match="predictions keys must be strings"):
        EstimatorSpec(ModeKeys.PREDICT, predictions={0: PREDS})


# --- export_outputs validation ------------------------------------------------------------


@pytest.mark.parametrize("bad", [PREDS, [PREDS], "serving_default"])
def test_export_outputs_must_be_dict(bad):
    with pytest.raises(ValueError, match="export_outputs must be a dict"):
        EstimatorSpec(ModeKeys.PREDICT, predictions=PREDS, export_outputs=bad)


def test_replace_revalidates():
    spec = EstimatorSpec(ModeKeys.EVAL, loss=LOSS)
    with pytest.raises(ValueError, match="missing loss"):
        spec._replace(loss=None)


def test_a_loss_of_shape_1_is_a_scalar_as_in_tf_estimator():
    spec = EstimatorSpec(ModeKeys.EVAL, loss=tf.constant([0.5]))
    assert spec.loss.shape.rank == 0 and float(spec.loss) == 0.5


def test_tf_estimator_metric_tuples_are_accepted():
    value, update = tf.constant(0.5), tf.constant(1.0)
    spec = EstimatorSpec(ModeKeys.EVAL, loss=LOSS, eval_metric_ops={"acc": (value, update)})
    assert spec.eval_metric_ops["acc"] == (value, update)


@pytest.mark.parametrize("metric", [(LOSS,), (LOSS, LOSS, LOSS), ("a", "b"), 0.5])
def test_other_eval_metric_ops_values_are_refused(metric):
    with pytest.raises(ValueError, match=r"eval_metric_ops\['m'\] must be a keras.metrics.Metric .*or a \(value, update_op\) tuple"):
        EstimatorSpec(ModeKeys.EVAL, loss=LOSS, eval_metric_ops={"m": metric})


def test_hooks_and_scaffold_are_accepted_and_hooks_checked():
    hook = Hook()
    spec = EstimatorSpec(ModeKeys.TRAIN, loss=LOSS, train_op=TRAIN_OP, training_hooks=[hook],
                         scaffold=object(), evaluation_hooks=(hook,))
    assert spec.training_hooks == (hook,) and spec.evaluation_hooks == (hook,) and spec.prediction_hooks == ()
    with pytest.raises(ValueError, match="EstimatorSpec training_hooks must be Hook instances, got object"):
        EstimatorSpec(ModeKeys.TRAIN, loss=LOSS, train_op=TRAIN_OP, training_hooks=[object()])
