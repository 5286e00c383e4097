"""TensorFlow's migration guide "Migrate checkpoint saving", its TensorFlow 1 part
(tf.estimator.DNNClassifier under train_and_evaluate, saving a checkpoint every step).

Source: tensorflow/docs, site/en/guide/migrate/checkpoint_saver.ipynb at commit
4675fd8078690b7b9899626a1fdb107f2dbbb3d9
(https://github.com/tensorflow/docs/blob/4675fd8078690b7b9899626a1fdb107f2dbbb3d9/site/en/guide/migrate/checkpoint_saver.ipynb),
Copyright 2021 The TensorFlow Authors, Apache License 2.0.

Changed: the imports (`import tensorflow.compat.v1 as tf1` became `import
keras_estimator.tensorflow.compat.v1 as tf1`, `import tensorflow as tf` became `import
keras_estimator.tensorflow as tf`). The MNIST download (`tf.keras.datasets.mnist.load_data()`)
became `compat_support.mnist_like()`: scikit-learn's digits in MNIST's layout (uint8 [n, 28,
28], int64 labels; 1500 train and 297 test images); the notebook's `/ 255.0` follows as
written. The IPython cell `%ls {classifier.model_dir}` became `print(sorted(
os.listdir(classifier.model_dir)))` (and `import os`). The value of `train_and_evaluate`, which
the notebook displays, is assigned (`result`) for the test; `import time` is added for the
test. Dropped: the TensorFlow 2 cells (Keras `Model.fit` with
`ModelCheckpoint`: not tf.estimator). The steps are the notebook's (max_steps=10; evaluate 10
batches). Everything else is verbatim: the imports at module level, the TensorFlow 1 cells from
the data on in `run_program` (which returns the classifier and `result`).
`tempfile.mkdtemp()` makes the model_dir under tmp_path (the fixture).

Idioms: tf1.estimator.RunConfig(save_summary_steps=1, save_checkpoints_steps=1); a premade
tf1.estimator.DNNClassifier with numeric_column("x", shape=[28, 28]) over float64 images,
hidden_units=[256, 32], optimizer=tf1.train.AdamOptimizer(0.001), n_classes=10, dropout=0.2,
model_dir=, config=; tf1.estimator.inputs.numpy_input_fn for training (num_epochs=10,
batch_size=50, shuffle=True) and evaluation (num_epochs=10, shuffle=False, default batch 128);
tf1.estimator.TrainSpec(max_steps=10), EvalSpec(steps=10, throttle_secs=0),
tf1.estimator.train_and_evaluate (local: an evaluation after each new checkpoint); the
model_dir's listing.
"""

import os  # added: the notebook's `%ls` cell, in Python
import time  # added for the test

import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1
import keras_estimator.tensorflow as tf  # noqa: F401  (was: import tensorflow as tf; it loaded MNIST)
import numpy as np
import tempfile

from compat_support import mnist_like


def run_program():
  # was: mnist = tf.keras.datasets.mnist
  # was: (x_train, y_train),(x_test, y_test) = mnist.load_data()
  (x_train, y_train),(x_test, y_test) = mnist_like()
  x_train, x_test = x_train / 255.0, x_test / 255.0

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

  test_input_fn = tf1.estimator.inputs.numpy_input_fn(
      x={"x": x_test},
      y=y_test.astype(np.int32),
      num_epochs=10,
      shuffle=False
  )

  train_spec = tf1.estimator.TrainSpec(input_fn=train_input_fn, max_steps=10)
  eval_spec = tf1.estimator.EvalSpec(input_fn=test_input_fn,
                                     steps=10,
                                     throttle_secs=0)

  result = tf1.estimator.train_and_evaluate(estimator=classifier,  # was displayed
                                  train_spec=train_spec,
                                  eval_spec=eval_spec)

  # was: %ls {classifier.model_dir}
  print(sorted(os.listdir(classifier.model_dir)))
  # dropped: the TensorFlow 2 cells (ModelCheckpoint with Model.fit)
  return classifier, result


def _summary_steps(directory, tag):
    """The steps of every `tag` summary in the event files of `directory` (not its subfolders)."""
    steps = []
    for name in sorted(os.listdir(directory)):
        if name.startswith("events.out.tfevents"):
            for event in tf1.train.summary_iterator(os.path.join(directory, name)):
                steps += [event.step for value in event.summary.value if value.tag == tag]
    return sorted(steps)


def test_checkpoint_saver(program_dir, capsys):
    started = time.time()
    classifier, result = run_program()
    assert time.time() - started < 60  # tf.estimator 2.15: 4-5 s
    assert classifier.model_dir.startswith(str(program_dir))
    # train_and_evaluate gives (the last evaluation's metrics, the exporters' results: none).
    metrics, export_results = result
    assert export_results == []
    assert set(metrics) == {"accuracy", "average_loss", "loss", "global_step"}
    assert metrics["global_step"] == 10
    # tf.estimator 2.15, 21 runs: accuracy 0.42-0.73 (median 0.60) on the 10 evaluated batches
    # (chance 0.10), average_loss 1.36-1.81 (chance ln(10) = 2.30). These bars: all 21 pass.
    # ('loss' is not checked: tf.estimator 2.15's tf1.estimator.DNNClassifier is the V1 class,
    # whose loss is summed over each batch of 128, 174-231 here,
    # 128 x average_loss.)
    assert metrics["accuracy"] >= 0.3, metrics
    assert metrics["average_loss"] < 2.0, metrics
    # The notebook's `%ls`: save_checkpoints_steps=1 with the default 5 kept: steps 6 to 10, and
    # the evaluations' folder.
    listing = capsys.readouterr().out
    files = set(os.listdir(classifier.model_dir))
    assert str(sorted(files)) in listing
    assert {"checkpoint", "eval"} <= files
    checkpoints = {name.split(".")[1] for name in files if name.startswith("model.ckpt-")}
    assert checkpoints == {f"ckpt-{step}" for step in range(6, 11)}, sorted(files)
    for step in range(6, 11):
        assert f"model.ckpt-{step}.index" in files
    assert tf1.train.latest_checkpoint(classifier.model_dir).endswith("model.ckpt-10")
    # throttle_secs=0: train_and_evaluate evaluated each new checkpoint, steps 1 to 10, and
    # save_summary_steps=1 wrote the training loss of every step.
    assert _summary_steps(os.path.join(classifier.model_dir, "eval"), "accuracy") == list(range(1, 11))
    assert _summary_steps(classifier.model_dir, "loss") == list(range(1, 11))
