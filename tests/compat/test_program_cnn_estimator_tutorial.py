"""TensorFlow's tutorial "Build a Convolutional Neural Network using Estimators" (TF1, run
in TF2 through `tensorflow.compat.v1`).

Source: tensorflow/docs, site/en/r1/tutorials/estimators/cnn.ipynb at commit
023b91c89dc06b3c6462d8426cc655acd452282e
(https://github.com/tensorflow/docs/blob/023b91c89dc06b3c6462d8426cc655acd452282e/site/en/r1/tutorials/estimators/cnn.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: the import (`import tensorflow.compat.v1 as tf` became
`import keras_estimator.tensorflow.compat.v1 as tf`); `tf.keras.datasets.mnist.load_data()`
(a download) became `compat_support.mnist_like()` (scikit-learn's digits in MNIST's layout);
the long training call's steps=1000 became 40; the model_dir "/tmp/mnist_convnet_model" is the
fixture's tmp_path. The cells are otherwise verbatim (module level; the calling cells in
`run_program`).

Idioms: tf.layers.conv2d / max_pooling2d / dense / dropout(training=mode == TRAIN),
tf.losses.sparse_softmax_cross_entropy, GradientDescentOptimizer.minimize with
tf.train.get_global_step, tf.metrics.accuracy in eval_metric_ops, tf.train.LoggingTensorHook
of a tensor named in model_fn ("softmax_tensor"), tf.estimator.inputs.numpy_input_fn,
tf.logging.
"""

import keras_estimator.tensorflow.compat.v1 as tf  # was: import tensorflow.compat.v1 as tf

import numpy as np

from compat_support import mnist_like, untrained_loss

tf.logging.set_verbosity(tf.logging.INFO)


def cnn_model_fn(features, labels, mode):
  """Model function for CNN."""
  # Input Layer
  input_layer = tf.reshape(features["x"], [-1, 28, 28, 1])

  # Convolutional Layer #1
  conv1 = tf.layers.conv2d(
      inputs=input_layer,
      filters=32,
      kernel_size=[5, 5],
      padding="same",
      activation=tf.nn.relu)

  # Pooling Layer #1
  pool1 = tf.layers.max_pooling2d(inputs=conv1, pool_size=[2, 2], strides=2)

  # Convolutional Layer #2 and Pooling Layer #2
  conv2 = tf.layers.conv2d(
      inputs=pool1,
      filters=64,
      kernel_size=[5, 5],
      padding="same",
      activation=tf.nn.relu)
  pool2 = tf.layers.max_pooling2d(inputs=conv2, pool_size=[2, 2], strides=2)

  # Dense Layer
  pool2_flat = tf.reshape(pool2, [-1, 7 * 7 * 64])
  dense = tf.layers.dense(inputs=pool2_flat, units=1024, activation=tf.nn.relu)
  dropout = tf.layers.dropout(
      inputs=dense, rate=0.4, training=mode == tf.estimator.ModeKeys.TRAIN)

  # Logits Layer
  logits = tf.layers.dense(inputs=dropout, units=10)

  predictions = {
      # Generate predictions (for PREDICT and EVAL mode)
      "classes": tf.argmax(input=logits, axis=1),
      # Add `softmax_tensor` to the graph. It is used for PREDICT and by the
      # `logging_hook`.
      "probabilities": tf.nn.softmax(logits, name="softmax_tensor")
  }

  if mode == tf.estimator.ModeKeys.PREDICT:
    return tf.estimator.EstimatorSpec(mode=mode, predictions=predictions)

  # Calculate Loss (for both TRAIN and EVAL modes)
  loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)

  # Configure the Training Op (for TRAIN mode)
  if mode == tf.estimator.ModeKeys.TRAIN:
    optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.001)
    train_op = optimizer.minimize(
        loss=loss,
        global_step=tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)

  # Add evaluation metrics (for EVAL mode)
  eval_metric_ops = {
      "accuracy": tf.metrics.accuracy(
          labels=labels, predictions=predictions["classes"])
  }
  return tf.estimator.EstimatorSpec(
      mode=mode, loss=loss, eval_metric_ops=eval_metric_ops)


# Load training and eval data
((train_data, train_labels),
 (eval_data, eval_labels)) = mnist_like()  # was: tf.keras.datasets.mnist.load_data()

train_data = train_data/np.float32(255)
train_labels = train_labels.astype(np.int32)  # not required

eval_data = eval_data/np.float32(255)
eval_labels = eval_labels.astype(np.int32)  # not required


def run_program(model_dir):
  # Create the Estimator
  mnist_classifier = tf.estimator.Estimator(
      model_fn=cnn_model_fn, model_dir=model_dir)  # was: model_dir="/tmp/mnist_convnet_model"

  # Set up logging for predictions
  tensors_to_log = {"probabilities": "softmax_tensor"}

  logging_hook = tf.train.LoggingTensorHook(
      tensors=tensors_to_log, every_n_iter=50)

  # Train the model
  train_input_fn = tf.estimator.inputs.numpy_input_fn(
      x={"x": train_data},
      y=train_labels,
      batch_size=100,
      num_epochs=None,
      shuffle=True)

  # train one step and display the probabilties
  mnist_classifier.train(
      input_fn=train_input_fn,
      steps=1,
      hooks=[logging_hook])

  mnist_classifier.train(input_fn=train_input_fn, steps=40)  # was: steps=1000

  eval_input_fn = tf.estimator.inputs.numpy_input_fn(
      x={"x": eval_data},
      y=eval_labels,
      num_epochs=1,
      shuffle=False)

  eval_results = mnist_classifier.evaluate(input_fn=eval_input_fn)
  print(eval_results)
  return mnist_classifier, eval_input_fn, eval_results


def test_cnn_estimator_tutorial(program_dir, caplog):
    caplog.set_level("INFO")
    eval_input_fn = tf.estimator.inputs.numpy_input_fn(
        x={"x": eval_data}, y=eval_labels, num_epochs=1, shuffle=False)
    baseline = untrained_loss(lambda model_dir: tf.estimator.Estimator(cnn_model_fn, model_dir),
                              eval_input_fn, program_dir / "untrained")
    classifier, eval_input_fn, eval_results = run_program(str(program_dir / "mnist_convnet_model"))
    # The hook logged the softmax tensor of the first step (the step it fires on).
    assert "probabilities = [[" in caplog.text
    assert set(eval_results) == {"accuracy", "loss", "global_step"}
    assert eval_results["global_step"] == 41
    # 41 plain SGD steps at the tutorial's learning rate of 0.001 (it trains 1000) from the same
    # initial values: the loss falls slowly, from 2.314 to 2.291 when measured.
    assert eval_results["loss"] < baseline - 0.01
    predictions = list(classifier.predict(eval_input_fn))
    assert len(predictions) == len(eval_labels) and set(predictions[0]) == {"classes", "probabilities"}
    assert predictions[0]["probabilities"].shape == (10,)
    np.testing.assert_allclose(predictions[0]["probabilities"].sum(), 1.0, rtol=1e-5)
