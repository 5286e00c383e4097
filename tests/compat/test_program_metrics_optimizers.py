"""TensorFlow's migration guide "Migrate metrics and optimizers", its TF1 Estimator part.

Source: tensorflow/docs, site/en/guide/migrate/metrics_optimizers.ipynb at commit
f4b9a61f81e7808a3a25e0b594bf0ec566168b0e
(https://github.com/tensorflow/docs/blob/f4b9a61f81e7808a3a25e0b594bf0ec566168b0e/site/en/guide/migrate/metrics_optimizers.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: only the imports (`import tensorflow as tf` / `import tensorflow.compat.v1 as tf1`
became `import keras_estimator.tensorflow as tf` / `... .compat.v1 as tf1`). The TF1 cells are
verbatim (module level, calling lines in `run_program`, which returns the two evaluate results
the notebook displays); the Keras cells are left out. The Estimator has no model_dir: the
fixture puts its temporary directory in tmp_path.

Idioms: tf1.metrics.accuracy (value, update_op) in eval_metric_ops; a per-example loss of
shape [batch] = [1] (tf1.nn.sparse_softmax_cross_entropy_with_logits, not reduced); a single
predictions tensor (not a dict) in one EstimatorSpec for every mode; tf1.layers.Dense;
AdagradOptimizer.minimize with get_global_step; tf1.estimator.add_metrics with a
tf1.metrics.mean_squared_error metric_fn.
"""


import keras_estimator.tensorflow as tf  # was: import tensorflow as tf
import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1

from compat_support import untrained_loss

features = [[1., 1.5], [2., 2.5], [3., 3.5]]
labels = [0, 0, 1]
eval_features = [[4., 4.5], [5., 5.5], [6., 6.5]]
eval_labels = [0, 1, 1]


def _input_fn():
  return tf1.data.Dataset.from_tensor_slices((features, labels)).batch(1)

def _eval_input_fn():
  return tf1.data.Dataset.from_tensor_slices(
      (eval_features, eval_labels)).batch(1)

def _model_fn(features, labels, mode):
  logits = tf1.layers.Dense(2)(features)
  predictions = tf.math.argmax(input=logits, axis=1)
  loss = tf1.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
  optimizer = tf1.train.AdagradOptimizer(0.05)
  train_op = optimizer.minimize(loss, global_step=tf1.train.get_global_step())
  accuracy = tf1.metrics.accuracy(labels=labels, predictions=predictions)
  return tf1.estimator.EstimatorSpec(mode, 
                                     predictions=predictions,
                                     loss=loss, 
                                     train_op=train_op,
                                     eval_metric_ops={'accuracy': accuracy})


def run_program():
  estimator = tf1.estimator.Estimator(model_fn=_model_fn)
  estimator.train(_input_fn)
  eval_result = estimator.evaluate(_eval_input_fn)

  def mean_squared_error(labels, predictions):
    labels = tf.cast(labels, predictions.dtype)
    return {"mean_squared_error": 
            tf1.metrics.mean_squared_error(labels=labels, predictions=predictions)}

  estimator = tf1.estimator.add_metrics(estimator, mean_squared_error)
  added_result = estimator.evaluate(_eval_input_fn)
  return estimator, eval_result, added_result


def test_metrics_optimizers(program_dir):
    baseline = untrained_loss(
        lambda model_dir: tf1.estimator.Estimator(model_fn=_model_fn, model_dir=model_dir),
        _input_fn, program_dir / "untrained")
    estimator, eval_result, added_result = run_program()
    assert set(eval_result) == {"accuracy", "loss", "global_step"}
    assert eval_result["global_step"] == 3
    assert 0.0 <= eval_result["accuracy"] <= 1.0
    # add_metrics keeps the model's metrics and adds the metric_fn's.
    assert set(added_result) == {"accuracy", "mean_squared_error", "loss", "global_step"}
    assert added_result["accuracy"] == eval_result["accuracy"]
    # No predict: the model_fn computes its loss from labels in every mode, so it cannot
    # predict (labels=None) under tf.estimator either; the program never predicts.
    # 3 Adagrad steps from the same initial values: the training loss must go down.
    assert estimator.evaluate(_input_fn)["loss"] < baseline
