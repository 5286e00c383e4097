"""TensorFlow's migration guide "Migrate from Estimator to Keras APIs", its TF1 Estimator part.

Source: tensorflow/docs, site/en/guide/migrate/migrating_estimator.ipynb at commit
e886baaf15a4e3478de4387331a242a0e85bb7a2
(https://github.com/tensorflow/docs/blob/e886baaf15a4e3478de4387331a242a0e85bb7a2/site/en/guide/migrate/migrating_estimator.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: only the imports (`import tensorflow as tf` / `import tensorflow.compat.v1 as tf1`
became `import keras_estimator.tensorflow as tf` / `import keras_estimator.tensorflow.compat.v1
as tf1`). The TF1 cells are verbatim: the data and functions at module level, the calling cells
in `run_program` (which returns the estimator and the value the notebook displays). The TF2
(Keras) cells are left out. The Estimator has no model_dir: the fixture puts its temporary
directory in tmp_path.

Idioms: tf1.layers.Dense, tf1.losses.mean_squared_error, tf1.train.AdagradOptimizer.minimize
with tf1.train.get_global_step(), (features, labels) Dataset of Python lists, train to the end
of the data, evaluate.
"""


import keras_estimator.tensorflow as tf  # noqa: F401  (was: import tensorflow as tf)
import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1

from compat_support import untrained_loss

features = [[1., 1.5], [2., 2.5], [3., 3.5]]
labels = [[0.3], [0.5], [0.7]]
eval_features = [[4., 4.5], [5., 5.5], [6., 6.5]]
eval_labels = [[0.8], [0.9], [1.]]


def _input_fn():
  return tf1.data.Dataset.from_tensor_slices((features, labels)).batch(1)

def _eval_input_fn():
  return tf1.data.Dataset.from_tensor_slices(
      (eval_features, eval_labels)).batch(1)

def _model_fn(features, labels, mode):
  logits = tf1.layers.Dense(1)(features)
  loss = tf1.losses.mean_squared_error(labels=labels, predictions=logits)
  optimizer = tf1.train.AdagradOptimizer(0.05)
  train_op = optimizer.minimize(loss, global_step=tf1.train.get_global_step())
  return tf1.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def run_program():
  estimator = tf1.estimator.Estimator(model_fn=_model_fn)
  estimator.train(_input_fn)

  eval_result = estimator.evaluate(_eval_input_fn)
  return estimator, eval_result


def test_migrating_estimator(program_dir):
    baseline = untrained_loss(
        lambda model_dir: tf1.estimator.Estimator(model_fn=_model_fn, model_dir=model_dir),
        _eval_input_fn, program_dir / "untrained")
    estimator, eval_result = run_program()
    assert estimator.model_dir.startswith(str(program_dir))
    assert set(eval_result) == {"loss", "global_step"}
    assert eval_result["global_step"] == 3  # 3 examples, batch 1, one pass
    # 3 Adagrad steps from the same initial values (same seed): the loss must go down.
    assert eval_result["loss"] < baseline
    # The model_fn defines no predictions: the program never predicts.
