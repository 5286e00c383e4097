"""TensorFlow's migration guide "Migrate early stopping", its TF1 Estimator part.

Source: tensorflow/docs, site/en/guide/migrate/early_stopping.ipynb at commit
b2ad834983e77dceb7afdd89a7c853191d365ea7
(https://github.com/tensorflow/docs/blob/b2ad834983e77dceb7afdd89a7c853191d365ea7/site/en/guide/migrate/early_stopping.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: the imports (`import tensorflow as tf` / `import tensorflow.compat.v1 as tf1` became
`import keras_estimator.tensorflow as tf` / `... .compat.v1 as tf1`); `import
tensorflow_datasets as tfds` (which downloads MNIST) became `compat_support.FakeTfds()`,
MNIST-shaped images made from scikit-learn's digits; `max_train_seconds = 20` became 4 (the
test's time budget) and `repeat(100)` became 1000 (digits' 12 batches x 100 took under 4 s).
The TF1 cells are otherwise verbatim (module level, calling lines in `run_program`); the Keras
cells are left out. The Estimator has no model_dir: the fixture puts
its temporary directory in tmp_path.

Idioms: tf1.estimator.experimental.make_early_stopping_hook(estimator, should_stop_fn,
run_every_secs=1) in TrainSpec(hooks=); train_and_evaluate with an EvalSpec over the whole
test split; tf1.layers.Flatten / Dense; tf1.losses.sparse_softmax_cross_entropy; Adagrad
minimize with get_global_step; tf.data.AUTOTUNE.
"""

import time

import numpy as np  # noqa: F401  (imported by the program)

import keras_estimator.tensorflow as tf  # was: import tensorflow as tf
import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1

from compat_support import FakeTfds

tfds = FakeTfds()  # was: import tensorflow_datasets as tfds


def normalize_img(image, label):
  return tf.cast(image, tf.float32) / 255., label

def _input_fn():
  ds_train = tfds.load(
    name='mnist',
    split='train',
    shuffle_files=True,
    as_supervised=True)

  ds_train = ds_train.map(
      normalize_img, num_parallel_calls=tf.data.AUTOTUNE)
  ds_train = ds_train.batch(128)
  ds_train = ds_train.repeat(1000)  # was: 100
  return ds_train

def _eval_input_fn():
  ds_test = tfds.load(
    name='mnist',
    split='test',
    shuffle_files=True,
    as_supervised=True)
  ds_test = ds_test.map(
    normalize_img, num_parallel_calls=tf.data.AUTOTUNE)
  ds_test = ds_test.batch(128)
  return ds_test

def _model_fn(features, labels, mode):
  flatten = tf1.layers.Flatten()(features)
  features = tf1.layers.Dense(128, 'relu')(flatten)
  logits = tf1.layers.Dense(10)(features)

  loss = tf1.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
  optimizer = tf1.train.AdagradOptimizer(0.005)
  train_op = optimizer.minimize(loss, global_step=tf1.train.get_global_step())

  return tf1.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def run_program():
  estimator = tf1.estimator.Estimator(model_fn=_model_fn)

  start_time = time.time()
  max_train_seconds = 4  # was: 20

  def should_stop_fn():
    return time.time() - start_time > max_train_seconds

  early_stopping_hook = tf1.estimator.experimental.make_early_stopping_hook(
      estimator=estimator,
      should_stop_fn=should_stop_fn,
      run_every_secs=1,
      run_every_steps=None)

  train_spec = tf1.estimator.TrainSpec(
      input_fn=_input_fn,
      hooks=[early_stopping_hook])

  eval_spec = tf1.estimator.EvalSpec(input_fn=_eval_input_fn)

  result = tf1.estimator.train_and_evaluate(estimator, train_spec, eval_spec)
  return estimator, result


def test_early_stopping(program_dir):
    started = time.time()
    estimator, (eval_result, _) = run_program()
    assert set(eval_result) == {"loss", "global_step"}
    steps = int(eval_result["global_step"])
    # Stopped by should_stop_fn (after 4 s), well before the 12000 steps of the input.
    assert 0 < steps < 12000
    assert time.time() - started < 60
    # The same model in Keras (Adagrad(0.005), batch 128) goes from a test loss of 2.40-2.50 to
    # 1.78-1.84 after 20 steps (accuracy 0.58-0.65) and 0.88-0.94 after 50 (seeds 0-2).
    assert eval_result["loss"] < 2.1  # chance: ln(10) = 2.30
    # The model_fn defines no predictions: the program never predicts.
