"""TensorFlow's migration guide "Migrate the fault tolerance mechanism", its TensorFlow 1 part
(tf.estimator.DNNClassifier saving a checkpoint every step, interrupted by a hook, rebuilt and
resumed from the last checkpoint).

Source: tensorflow/docs, site/en/guide/migrate/fault_tolerance.ipynb at commit
74af507b8ea4bcdc8c5e24403b6920e9957f5891
(https://github.com/tensorflow/docs/blob/74af507b8ea4bcdc8c5e24403b6920e9957f5891/site/en/guide/migrate/fault_tolerance.ipynb),
Copyright 2021 The TensorFlow Authors, Apache License 2.0.

Changed: the imports (`import tensorflow.compat.v1 as tf1` became `import
keras_estimator.tensorflow.compat.v1 as tf1`, `import tensorflow as tf` became `import
keras_estimator.tensorflow as tf`). The MNIST download (`tf.keras.datasets.mnist.load_data()`)
became `compat_support.mnist_like()`: scikit-learn's digits in MNIST's layout (uint8 [n, 28,
28], int64 labels; 1500 train and 297 test images); the notebook's `/ 255.0` follows as
written. Dropped: the shell cell `!pip install tf-nightly` and every TensorFlow 2 cell (Keras
`Model.fit` with `BackupAndRestore`, the custom training loop with `CheckpointManager`: not
tf.estimator). Added, for the test: `latest_after_interruption =
tf1.train.latest_checkpoint(path)` right after the interrupted `train` (what the resumed
Estimator will restore), `run_program` returning the classifier, `path`, that value and the
test images, and `import os`. The steps are the notebook's (interrupted at
the hook's sixth `after_run`, resumed to max_steps=10). Everything else is verbatim: the
imports and `InterruptHook` at module level, the TensorFlow 1 cells from the data on in
`run_program`, in the notebook's order.
`tempfile.mkdtemp()` makes the model_dir under tmp_path (the fixture).

Idioms: a tf1.train.SessionRunHook raising RuntimeError from after_run (train must propagate
it, with the checkpoints of the steps before it kept); tf1.estimator.RunConfig(
save_summary_steps=1, save_checkpoints_steps=1); a premade tf1.estimator.DNNClassifier with
numeric_column("x", shape=[28, 28]) over float64 images, hidden_units=[256, 32],
optimizer=tf1.train.AdamOptimizer(0.001), n_classes=10, dropout=0.2, model_dir=, config=;
tf1.estimator.inputs.numpy_input_fn(x={"x": ...}, y=int32, num_epochs=10, batch_size=50,
shuffle=True); a second DNNClassifier on the same model_dir resuming with train(max_steps=10).
"""

import os  # added for the test


import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1
import keras_estimator.tensorflow as tf  # noqa: F401  (was: import tensorflow as tf; it loaded MNIST)
import numpy as np
import tempfile
import time

from compat_support import mnist_like


class InterruptHook(tf1.train.SessionRunHook):
  # A hook for artificially interrupting training.
  def begin(self):
    self._step = -1

  def before_run(self, run_context):
    self._step += 1

  def after_run(self, run_context, run_values):
    if self._step == 5:
      raise RuntimeError('Interruption')


def run_program():
  # was: mnist = tf.keras.datasets.mnist
  # was: (x_train, y_train),(x_test, y_test) = mnist.load_data()
  (x_train, y_train),(x_test, y_test) = mnist_like()
  x_train, x_test = x_train / 255.0, x_test / 255.0

  # (InterruptHook is at module level)

  feature_columns = [tf1.feature_column.numeric_column("x", shape=[28, 28])]
  config = tf1.estimator.RunConfig(save_summary_steps=1,
                                   save_checkpoints_steps=1)

  path = tempfile.mkdtemp()

  classifier = tf1.estimator.DNNClassifier(
      feature_columns=feature_columns,
      hidden_units=[256, 32],
      optimizer=tf1.train.AdamOptimizer(0.001),
      n_classes=10,
      dropout=0.2,
      model_dir=path,
      config = config
  )

  train_input_fn = tf1.estimator.inputs.numpy_input_fn(
      x={"x": x_train},
      y=y_train.astype(np.int32),
      num_epochs=10,
      batch_size=50,
      shuffle=True,
  )

  try:
    classifier.train(input_fn=train_input_fn,
                     hooks=[InterruptHook()],
                     max_steps=10)
  except Exception as e:
    print(f'{type(e).__name__}:{e}')
  latest_after_interruption = tf1.train.latest_checkpoint(path)  # added for the test

  classifier = tf1.estimator.DNNClassifier(
      feature_columns=feature_columns,
      hidden_units=[256, 32],
      optimizer=tf1.train.AdamOptimizer(0.001),
      n_classes=10,
      dropout=0.2,
      model_dir=path,
      config = config
  )
  classifier.train(input_fn=train_input_fn,
                     max_steps = 10)
  # dropped: the TensorFlow 2 cells (BackupAndRestore with Model.fit, a custom training loop)
  return classifier, path, latest_after_interruption, x_test, y_test


def _summary_steps(path, tag):
    """The steps of every `tag` summary in the model_dir's training event files (eval/ aside)."""
    steps = []
    for name in sorted(os.listdir(path)):
        if name.startswith("events.out.tfevents"):
            for event in tf1.train.summary_iterator(os.path.join(path, name)):
                steps += [event.step for value in event.summary.value if value.tag == tag]
    return sorted(steps)


def test_fault_tolerance(program_dir, capsys):
    started = time.time()
    classifier, path, latest_after_interruption, x_test, y_test = run_program()
    assert time.time() - started < 60  # tf.estimator 2.15: 2-3 s
    assert path.startswith(str(program_dir)) and classifier.model_dir == path
    # The hook's exception reaches the program's `except`, which prints it.
    assert "RuntimeError:Interruption" in capsys.readouterr().out
    # tf.estimator 2.15: the step the hook interrupted (the sixth) is checkpointed already (its
    # CheckpointSaverHook runs before the program's hook), so the rebuilt Estimator resumes from
    # model.ckpt-6 and trains steps 7 to 10.
    assert os.path.basename(latest_after_interruption) == "model.ckpt-6"
    assert classifier.get_variable_value("global_step") == 10
    state = tf1.train.get_checkpoint_state(path)
    assert os.path.basename(state.model_checkpoint_path) == "model.ckpt-10"
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        f"model.ckpt-{step}" for step in range(6, 11)]  # save_checkpoints_steps=1, 5 kept
    # save_summary_steps=1: one training 'loss' summary per step, 1 to 10, none twice (the
    # resumed run continued the step count instead of starting again).
    assert _summary_steps(path, "loss") == list(range(1, 11))
    # The resumed model evaluates and predicts on the test images (not in the program).
    # tf.estimator 2.15's tf1 DNNClassifier after these 10 steps of Adam, 21 runs: accuracy
    # 0.41-0.71 on the 297 test digits (median 0.62; chance 0.10), average_loss 1.44-1.76 (chance
    # ln(10) = 2.30). These bars: all 21 runs pass them.
    eval_input_fn = tf1.estimator.inputs.numpy_input_fn(
        x={"x": x_test}, y=y_test.astype(np.int32), shuffle=False)
    evaluated = classifier.evaluate(eval_input_fn)
    assert set(evaluated) == {"accuracy", "average_loss", "loss", "global_step"}
    assert evaluated["global_step"] == 10
    assert evaluated["accuracy"] >= 0.3, evaluated
    assert evaluated["average_loss"] < 2.0, evaluated
    predictions = list(classifier.predict(
        tf1.estimator.inputs.numpy_input_fn(x={"x": x_test}, shuffle=False)))
    assert len(predictions) == 297
    assert set(predictions[0]) == {"logits", "probabilities", "class_ids", "classes",
                                   "all_class_ids", "all_classes"}
    predicted = np.array([p["class_ids"][0] for p in predictions])
    assert np.isclose(np.mean(predicted == y_test), evaluated["accuracy"], atol=1e-6)
