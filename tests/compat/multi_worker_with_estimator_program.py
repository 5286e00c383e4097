"""TensorFlow's tutorial "Multi-worker training with Estimator", run as its own process by
test_program_multi_worker_with_estimator.py (the program disables eager execution process-wide).

Source: tensorflow/docs, site/en/tutorials/distribute/multi_worker_with_estimator.ipynb at
commit 60c51e7a4b34ff7e02b339b361a5bff7f091cbf8
(https://github.com/tensorflow/docs/blob/60c51e7a4b34ff7e02b339b361a5bff7f091cbf8/site/en/tutorials/distribute/multi_worker_with_estimator.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: the import (`import tensorflow as tf` became `import keras_estimator.tensorflow as
tf`); `import tensorflow_datasets as tfds` (which downloads MNIST) became
`compat_support.FakeTfds()`; model_dir '/tmp/multiworker' became sys.argv[1]. The cells are
otherwise verbatim; the lines after the marked end print the result for the test.
"""

import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from compat_support import FakeTfds  # noqa: E402

tfds = FakeTfds()  # was: import tensorflow_datasets as tfds
import keras_estimator.tensorflow as tf  # noqa: E402  (was: import tensorflow as tf)

import os, json  # noqa: E401, E402, F811
tf.compat.v1.disable_eager_execution()

BUFFER_SIZE = 10000
BATCH_SIZE = 64

def input_fn(mode, input_context=None):
  datasets, info = tfds.load(name='mnist',
                                with_info=True,
                                as_supervised=True)
  mnist_dataset = (datasets['train'] if mode == tf.estimator.ModeKeys.TRAIN else
                   datasets['test'])

  def scale(image, label):
    image = tf.cast(image, tf.float32)
    image /= 255
    return image, label

  if input_context:
    mnist_dataset = mnist_dataset.shard(input_context.num_input_pipelines,
                                        input_context.input_pipeline_id)
  return mnist_dataset.map(scale).cache().shuffle(BUFFER_SIZE).batch(BATCH_SIZE)

LEARNING_RATE = 1e-4
def model_fn(features, labels, mode):
  model = tf.keras.Sequential([
      tf.keras.layers.Conv2D(32, 3, activation='relu', input_shape=(28, 28, 1)),
      tf.keras.layers.MaxPooling2D(),
      tf.keras.layers.Flatten(),
      tf.keras.layers.Dense(64, activation='relu'),
      tf.keras.layers.Dense(10)
  ])
  logits = model(features, training=False)

  if mode == tf.estimator.ModeKeys.PREDICT:
    predictions = {'logits': logits}
    return tf.estimator.EstimatorSpec(labels=labels, predictions=predictions)

  optimizer = tf.compat.v1.train.GradientDescentOptimizer(
      learning_rate=LEARNING_RATE)
  loss = tf.keras.losses.SparseCategoricalCrossentropy(
      from_logits=True, reduction=tf.keras.losses.Reduction.NONE)(labels, logits)
  loss = tf.reduce_sum(loss) * (1. / BATCH_SIZE)
  if mode == tf.estimator.ModeKeys.EVAL:
    return tf.estimator.EstimatorSpec(mode, loss=loss)

  return tf.estimator.EstimatorSpec(
      mode=mode,
      loss=loss,
      train_op=optimizer.minimize(
          loss, tf.compat.v1.train.get_or_create_global_step()))

strategy = tf.distribute.experimental.MultiWorkerMirroredStrategy()

config = tf.estimator.RunConfig(train_distribute=strategy)

classifier = tf.estimator.Estimator(
    model_fn=model_fn, model_dir=sys.argv[1], config=config)  # was: model_dir='/tmp/multiworker'
result = tf.estimator.train_and_evaluate(
    classifier,
    train_spec=tf.estimator.TrainSpec(input_fn=input_fn),
    eval_spec=tf.estimator.EvalSpec(input_fn=input_fn)
)
# ---- end of the program; the test reads this line:
print("RESULT " + json.dumps({k: float(v) for k, v in result[0].items()}))
