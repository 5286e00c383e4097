"""TensorFlow's migration guide "Migrate SessionRunHook to Keras callbacks", its TF1
Estimator part.

Source: tensorflow/docs, site/en/guide/migrate/sessionrunhook_callback.ipynb at commit
e886baaf15a4e3478de4387331a242a0e85bb7a2
(https://github.com/tensorflow/docs/blob/e886baaf15a4e3478de4387331a242a0e85bb7a2/site/en/guide/migrate/sessionrunhook_callback.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: only the imports (`import tensorflow as tf` / `import tensorflow.compat.v1 as tf1`
became `import keras_estimator.tensorflow as tf` / `... .compat.v1 as tf1`). The TF1 cells are
verbatim (module level, calling lines in `run_program`); the Keras cells are left out. The
Estimator has no model_dir: the fixture puts its temporary directory in tmp_path.

Idioms: a user-written tf1.train.SessionRunHook subclass (begin / before_run / after_run every
step) passed to `train(hooks=...)`; tf1.layers.Dense; AdagradOptimizer.minimize with
get_global_step; a Dataset repeated 100 times (300 steps).
"""

import time
from datetime import datetime

from absl import flags  # noqa: F401  (imported by the program)

import keras_estimator.tensorflow as tf  # noqa: F401  (was: import tensorflow as tf)
import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1
from compat_support import untrained_loss

features = [[1., 1.5], [2., 2.5], [3., 3.5]]
labels = [[0.3], [0.5], [0.7]]
eval_features = [[4., 4.5], [5., 5.5], [6., 6.5]]
eval_labels = [[0.8], [0.9], [1.]]


def _input_fn():
  return tf1.data.Dataset.from_tensor_slices(
      (features, labels)).batch(1).repeat(100)

def _model_fn(features, labels, mode):
  logits = tf1.layers.Dense(1)(features)
  loss = tf1.losses.mean_squared_error(labels=labels, predictions=logits)
  optimizer = tf1.train.AdagradOptimizer(0.05)
  train_op = optimizer.minimize(loss, global_step=tf1.train.get_global_step())
  return tf1.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


class LoggerHook(tf1.train.SessionRunHook):
  """Logs loss and runtime."""

  def begin(self):
    self._step = -1
    self._start_time = time.time()
    self.log_frequency = 10

  def before_run(self, run_context):
    self._step += 1

  def after_run(self, run_context, run_values):
    if self._step % self.log_frequency == 0:
      current_time = time.time()
      duration = current_time - self._start_time
      self._start_time = current_time
      examples_per_sec = self.log_frequency / duration
      print('Time:', datetime.now(), ', Step #:', self._step,
            ', Examples per second:', examples_per_sec)


def run_program():
  estimator = tf1.estimator.Estimator(model_fn=_model_fn)

  # Begin training.
  estimator.train(_input_fn, hooks=[LoggerHook()])
  return estimator


def test_sessionrunhook_callback(program_dir, capsys):
    baseline = untrained_loss(lambda model_dir: tf1.estimator.Estimator(model_fn=_model_fn, model_dir=model_dir),
                              _input_fn, program_dir / "untrained")
    capsys.readouterr()
    estimator = run_program()
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Time:")]
    # before_run/after_run every step: steps 0, 10, ..., 290 of 300 are printed.
    assert [line.split("Step #: ")[1].split(" ")[0] for line in printed] == [str(s) for s in range(0, 300, 10)]
    # The program does not evaluate; its evaluate is checked on its own input_fn.
    eval_result = estimator.evaluate(_input_fn)
    assert set(eval_result) == {"loss", "global_step"}
    assert eval_result["global_step"] == 300
    # 300 Adagrad(0.05) steps (TF1's update rule, step for step: tests/test_graph_collections.py)
    # take seed 0's initial loss of 50.7 down to 1.4; Keras's Adagrad from other initial values
    # (losses 0.5-4.7) reached 0.0003-0.0024.
    assert eval_result["loss"] < baseline / 10
    # The model_fn defines no predictions: the program never predicts.
