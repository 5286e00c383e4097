"""TensorFlow's migration guide "Migrate single-worker multiple-GPU training", its TF1
Estimator part (tf.distribute.MirroredStrategy through RunConfig).

Source: tensorflow/docs, site/en/guide/migrate/mirrored_strategy.ipynb at commit
bf88d9a039d81b63c9ec18a9364b2f6492f6e9fc
(https://github.com/tensorflow/docs/blob/bf88d9a039d81b63c9ec18a9364b2f6492f6e9fc/site/en/guide/migrate/mirrored_strategy.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: only the imports (`import tensorflow.compat.v1 as tf1` became `import
keras_estimator.tensorflow.compat.v1 as tf1`; the notebook's `import tensorflow as tf` is used
by its Keras cells only, which are left out). The TF1 cells are verbatim (module level, calling
lines in `run_program`). The Estimator has no model_dir: the fixture puts its temporary
directory in tmp_path. On this CPU machine MirroredStrategy has one replica.

Idioms: RunConfig(train_distribute=MirroredStrategy, eval_distribute=MirroredStrategy);
train_and_evaluate with TrainSpec/EvalSpec without steps; tf1.layers.Dense;
AdagradOptimizer.minimize with get_global_step.
"""

import pytest

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
  strategy = tf1.distribute.MirroredStrategy()
  config = tf1.estimator.RunConfig(
      train_distribute=strategy, eval_distribute=strategy)
  estimator = tf1.estimator.Estimator(model_fn=_model_fn, config=config)

  train_spec = tf1.estimator.TrainSpec(input_fn=_input_fn)
  eval_spec = tf1.estimator.EvalSpec(input_fn=_eval_input_fn)
  result = tf1.estimator.train_and_evaluate(estimator, train_spec, eval_spec)
  return estimator, result


def test_mirrored_strategy(program_dir):
    def make_estimator(model_dir):
        strategy = tf1.distribute.MirroredStrategy()
        config = tf1.estimator.RunConfig(train_distribute=strategy, eval_distribute=strategy)
        return tf1.estimator.Estimator(model_fn=_model_fn, config=config, model_dir=model_dir)

    baseline = untrained_loss(make_estimator, _eval_input_fn, program_dir / "untrained")
    estimator, (eval_result, export_results) = run_program()
    assert set(eval_result) == {"loss", "global_step"}
    assert eval_result["global_step"] == 3
    assert export_results == []  # no exporters in the EvalSpec
    assert eval_result["loss"] < baseline  # 3 Adagrad steps from the same initial values
    # The model_fn defines no predictions: the program never predicts.
