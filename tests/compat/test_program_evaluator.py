"""TensorFlow's migration guide "Migrate evaluation", its TensorFlow 1 part (a
tf.estimator.DNNClassifier evaluated by tf.estimator.train_and_evaluate).

Source: tensorflow/docs, site/en/guide/migrate/evaluator.ipynb at commit
53f3748426001e4be9923a25f9f3394707f4e206
(https://github.com/tensorflow/docs/blob/53f3748426001e4be9923a25f9f3394707f4e206/site/en/guide/migrate/evaluator.ipynb),
Copyright 2021 The TensorFlow Authors, Apache License 2.0.

Changed: the imports (`import tensorflow.compat.v1 as tf1` became `import
keras_estimator.tensorflow.compat.v1 as tf1`, `import tensorflow as tf` became `import
keras_estimator.tensorflow as tf`). The MNIST download (`tf.keras.datasets.mnist.load_data()`)
became `compat_support.mnist_like()`: scikit-learn's digits in MNIST's layout (uint8 [n, 28,
28], int64 labels; 1500 train and 297 test images); the notebook's `/ 255.0` follows as
written. The value of `train_and_evaluate`, which the notebook displays, is assigned
(`result`) for the test. Dropped: the TensorFlow 2 cells
(Keras `Model.fit` with `ModelCheckpoint`, `tf.keras.utils.SidecarEvaluator`: not
tf.estimator). The steps are the notebook's (max_steps=10; evaluate 10 batches). Everything
else is verbatim: the imports at module level, the TensorFlow 1 cells from the data on in
`run_program` (which returns the classifier and `result`). The Estimator has no model_dir: the
fixture puts its temporary directory in tmp_path.

Idioms: a premade tf1.estimator.DNNClassifier with numeric_column("x", shape=[28, 28]) over
float64 images, hidden_units=[256, 32], optimizer=tf1.train.AdamOptimizer(0.001),
n_classes=10, dropout=0.2 and the default RunConfig (checkpoints every 600 s: the first and
the last); tf1.estimator.inputs.numpy_input_fn for training (num_epochs=10, batch_size=50,
shuffle=True) and evaluation (num_epochs=10, shuffle=False, default batch 128);
tf1.estimator.TrainSpec(max_steps=10), EvalSpec(steps=10, throttle_secs=0),
tf1.estimator.train_and_evaluate returning (metrics, export results).
"""

import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1
import keras_estimator.tensorflow as tf  # noqa: F401  (was: import tensorflow as tf; it loaded MNIST)
import numpy as np
import tempfile  # noqa: F401  (its TF2 cells use it)
import time
import os

from compat_support import mnist_like


def run_program():
  # was: mnist = tf.keras.datasets.mnist
  # was: (x_train, y_train),(x_test, y_test) = mnist.load_data()
  (x_train, y_train),(x_test, y_test) = mnist_like()
  x_train, x_test = x_train / 255.0, x_test / 255.0

  feature_columns = [tf1.feature_column.numeric_column("x", shape=[28, 28])]

  classifier = tf1.estimator.DNNClassifier(
      feature_columns=feature_columns,
      hidden_units=[256, 32],
      optimizer=tf1.train.AdamOptimizer(0.001),
      n_classes=10,
      dropout=0.2
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
  # dropped: the TensorFlow 2 cells (Model.fit with ModelCheckpoint, SidecarEvaluator)
  return classifier, result


def test_evaluator(program_dir):
    started = time.time()
    classifier, result = run_program()
    assert time.time() - started < 60  # tf.estimator 2.15: 1-2 s
    assert classifier.model_dir.startswith(str(program_dir))
    # train_and_evaluate gives (the last evaluation's metrics, the exporters' results: none).
    metrics, export_results = result
    assert export_results == []
    assert set(metrics) == {"accuracy", "average_loss", "loss", "global_step"}
    assert metrics["global_step"] == 10
    # tf.estimator 2.15, 21 runs: accuracy 0.41-0.69 (median 0.59) on the 10 evaluated batches
    # (chance 0.10), average_loss 1.38-1.77 (chance ln(10) = 2.30). These bars: all 21 pass.
    # ('loss' is not checked: tf.estimator 2.15's tf1.estimator.DNNClassifier is the V1 class,
    # whose loss is summed over each batch of 128, 177-227 here,
    # 128 x average_loss.)
    assert metrics["accuracy"] >= 0.3, metrics
    assert metrics["average_loss"] < 2.0, metrics
    assert tf1.train.latest_checkpoint(classifier.model_dir).endswith("model.ckpt-10")
    # The default RunConfig saves every 600 s: the 10 steps end with one new checkpoint, so
    # throttle_secs=0 gives one evaluation, of step 10 (tf.estimator 2.15: eval/ holds one
    # 'accuracy' summary, at step 10).
    eval_dir = os.path.join(classifier.model_dir, "eval")
    steps = []
    for name in sorted(os.listdir(eval_dir)):
        for event in tf1.train.summary_iterator(os.path.join(eval_dir, name)):
            steps += [event.step for value in event.summary.value if value.tag == "accuracy"]
    assert steps == [10]
    # The evaluated model predicts (not in the program): tf.estimator 2.15's keys.
    (_, _), (x_test, _) = mnist_like()
    predictions = list(classifier.predict(tf1.estimator.inputs.numpy_input_fn(
        x={"x": x_test / 255.0}, shuffle=False)))
    assert len(predictions) == 297
    assert set(predictions[0]) == {"logits", "probabilities", "class_ids", "classes",
                                   "all_class_ids", "all_classes"}
