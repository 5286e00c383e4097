"""TensorFlow's Estimator guide, "Estimators with TF2 code: object-based checkpoints" (a
model_fn written with a Keras model, a Keras optimizer and a GradientTape).

Source: tensorflow/docs, site/en/guide/estimator.ipynb at commit
5b8ed9affd9fd675cb9f8a1a11c2f16f73db2550
(https://github.com/tensorflow/docs/blob/5b8ed9affd9fd675cb9f8a1a11c2f16f73db2550/site/en/guide/estimator.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: only the imports (`import tensorflow as tf` became `import keras_estimator.tensorflow
as tf`; `import tensorflow.compat.v1 as tf_compat` became `import
keras_estimator.tensorflow.compat.v1 as tf_compat`). The cells of that section are verbatim
(module level, calling lines in `run_program`, which returns the estimator and the restored
`ckpt.step.numpy()` the notebook displays); the guide's premade-estimator sections (issue 20)
and its MobileNetV2 model_to_estimator section (downloads ImageNet weights) are left out. The
relative model_dir './tf_estimator_example/' is under tmp_path.

Idioms: a tf.keras.Model subclass built in model_fn; tf.keras.optimizers.Adam;
tf.GradientTape and opt.apply_gradients in model_fn; tf.train.Checkpoint(step=
tf_compat.train.get_global_step(), optimizer=opt, net=net) as
EstimatorSpec(scaffold=tf_compat.train.Scaffold(saver=ckpt)); train_op = tf.group(...,
ckpt.step.assign_add(1)); tf.keras.backend.clear_session(); an input_fn yielding features only
(labels None); restoring the Estimator's checkpoint into a fresh tf.train.Checkpoint.
"""

import pytest

import keras_estimator.tensorflow as tf  # was: import tensorflow as tf
import keras_estimator.tensorflow.compat.v1 as tf_compat  # was: import tensorflow.compat.v1 as tf_compat

from compat_support import untrained_loss


def toy_dataset():
  inputs = tf.range(10.)[:, None]
  labels = inputs * 5. + tf.range(5.)[None, :]
  return tf.data.Dataset.from_tensor_slices(
    dict(x=inputs, y=labels)).repeat().batch(2)

class Net(tf.keras.Model):
  """A simple linear model."""

  def __init__(self):
    super(Net, self).__init__()
    self.l1 = tf.keras.layers.Dense(5)

  def call(self, x):
    return self.l1(x)

def model_fn(features, labels, mode):
  net = Net()
  opt = tf.keras.optimizers.Adam(0.1)
  ckpt = tf.train.Checkpoint(step=tf_compat.train.get_global_step(),
                             optimizer=opt, net=net)
  with tf.GradientTape() as tape:
    output = net(features['x'])
    loss = tf.reduce_mean(tf.abs(output - features['y']))
  variables = net.trainable_variables
  gradients = tape.gradient(loss, variables)
  return tf.estimator.EstimatorSpec(
    mode,
    loss=loss,
    train_op=tf.group(opt.apply_gradients(zip(gradients, variables)),
                      ckpt.step.assign_add(1)),
    # Tell the Estimator to save "ckpt" in an object-based format.
    scaffold=tf_compat.train.Scaffold(saver=ckpt))


def run_program():
  tf.keras.backend.clear_session()
  est = tf.estimator.Estimator(model_fn, './tf_estimator_example/')
  est.train(toy_dataset, steps=10)

  opt = tf.keras.optimizers.Adam(0.1)
  net = Net()
  ckpt = tf.train.Checkpoint(
    step=tf.Variable(1, dtype=tf.int64), optimizer=opt, net=net)
  ckpt.restore(tf.train.latest_checkpoint('./tf_estimator_example/'))
  return est, ckpt.step.numpy()  # From est.train(..., steps=10)


@pytest.mark.xfail(strict=True, reason=(
    "tf.group(opt.apply_gradients(...), ...): TypeError ''inputs' should be zero or more (nested) "
    "Tensors. Received <Variable path=adam/iteration ...>' -- Keras 3's apply_gradients returns "
    "the optimizer's iteration variable, not an op (NOT in issue 18's list: a Keras 2 API, the "
    "same failure outside any Estimator); then EstimatorSpec(scaffold=Scaffold(saver="
    "tf.train.Checkpoint(...))) read back with the Checkpoint's object-based keys"))
def test_estimator_guide_tf2_model_fn(program_dir):
    baseline = untrained_loss(lambda model_dir: tf.estimator.Estimator(model_fn, model_dir),
                              lambda: toy_dataset().take(5), program_dir / "untrained")
    est, restored_step = run_program()
    assert restored_step == 10  # the object-based checkpoint has the scaffold's step
    # The program does not evaluate; evaluate is checked on 5 batches of its own input_fn.
    eval_result = est.evaluate(toy_dataset, steps=5)
    assert set(eval_result) == {"loss", "global_step"}
    assert eval_result["global_step"] == 10
    # L1 loss of y = 5x + k: each Adam(0.1) step moves the kernel ~0.1 toward 5, lowering the
    # loss by ~0.45 per step from the same initial values.
    assert eval_result["loss"] < baseline - 1.0
    # The model_fn defines no predictions: the program never predicts.
