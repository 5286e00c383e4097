"""TensorFlow's migration guide "Migrate LoggingTensorHook and StopAtStepHook to Keras
callbacks", its TF1 Estimator part.

Source: tensorflow/docs, site/en/guide/migrate/logging_stop_hook.ipynb at commit
e886baaf15a4e3478de4387331a242a0e85bb7a2
(https://github.com/tensorflow/docs/blob/e886baaf15a4e3478de4387331a242a0e85bb7a2/site/en/guide/migrate/logging_stop_hook.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: only the imports (`import tensorflow as tf` / `import tensorflow.compat.v1 as tf1`
became `import keras_estimator.tensorflow as tf` / `... .compat.v1 as tf1`). The TF1 cells are
verbatim: data, input_fn and model_fn at module level, the calling lines in `run_program`. The
Keras cells are left out. The Estimator has no model_dir: the fixture puts its temporary
directory in tmp_path.

Idioms: EstimatorSpec(training_hooks=[...]) built inside model_fn: tf1.train.StopAtStepHook,
tf1.train.LoggingTensorHook of tensors (a list, every_n_iter) and of a {name: tensor} dict
(every_n_secs); layer weights read through `dense.weights`; tf1.layers.Dense;
AdagradOptimizer.minimize with get_global_step.
"""


import keras_estimator.tensorflow as tf  # was: import tensorflow as tf
import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1

from compat_support import untrained_loss

features = [[1., 1.5], [2., 2.5], [3., 3.5]]
labels = [[0.3], [0.5], [0.7]]

# Define an input function.
def _input_fn():
  return tf1.data.Dataset.from_tensor_slices((features, labels)).batch(1)


def _model_fn(features, labels, mode):
  dense = tf1.layers.Dense(1)
  logits = dense(features)
  loss = tf1.losses.mean_squared_error(labels=labels, predictions=logits)
  optimizer = tf1.train.AdagradOptimizer(0.05)
  train_op = optimizer.minimize(loss, global_step=tf1.train.get_global_step())

  # Define the stop hook.
  stop_hook = tf1.train.StopAtStepHook(num_steps=2)

  # Access tensors to be logged by names.
  kernel_name = tf.identity(dense.weights[0])
  bias_name = tf.identity(dense.weights[1])
  logging_weight_hook = tf1.train.LoggingTensorHook(
      tensors=[kernel_name, bias_name],
      every_n_iter=1)
  # Log the training loss by the tensor object.
  logging_loss_hook = tf1.train.LoggingTensorHook(
      {'loss from LoggingTensorHook': loss},
      every_n_secs=3)

  # Pass all hooks to `EstimatorSpec`.
  return tf1.estimator.EstimatorSpec(mode,
                                     loss=loss,
                                     train_op=train_op,
                                     training_hooks=[stop_hook,
                                                     logging_weight_hook,
                                                     logging_loss_hook])


def run_program():
  estimator = tf1.estimator.Estimator(model_fn=_model_fn)

  # Begin training.
  # The training will stop after 2 steps, and the weights/loss will also be logged.
  estimator.train(_input_fn)
  return estimator


def test_logging_stop_hook(program_dir, caplog, capsys):
    caplog.set_level("INFO")
    baseline = untrained_loss(
        lambda model_dir: tf1.estimator.Estimator(model_fn=_model_fn, model_dir=model_dir),
        _input_fn, program_dir / "untrained")
    estimator = run_program()
    # StopAtStepHook(num_steps=2) stops the 3-step input after 2 steps.
    assert estimator.latest_checkpoint().endswith("-2")
    logged = caplog.text + "".join(capsys.readouterr())
    assert "loss from LoggingTensorHook" in logged
    # The program does not evaluate; its evaluate is checked on its own input_fn.
    eval_result = estimator.evaluate(_input_fn)
    assert set(eval_result) == {"loss", "global_step"}
    assert eval_result["global_step"] == 2
    assert eval_result["loss"] < baseline  # 2 Adagrad steps from the same initial values
    # The model_fn defines no predictions: the program never predicts.
