"""tensorflow/models' official r1 MNIST: "Convolutional Neural Network Estimator for MNIST".

Source: tensorflow/models, official/r1/mnist/mnist.py at commit
714e077aa3d97969b53e9dc5b4e5b7ff44f28e40
(https://github.com/tensorflow/models/blob/714e077aa3d97969b53e9dc5b4e5b7ff44f28e40/official/r1/mnist/mnist.py),
with its helpers official/r1/utils/logs/hooks_helper.py (get_train_hooks and
get_logging_tensor_hook, at ec7fbf0d5858cf765f33e0c015dfa8ad56e3aa13) and
official/utils/misc/distribution_utils.py / model_helpers.py (the branches a CPU run takes),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: the imports (`import tensorflow.compat.v1 as tf` became `import
keras_estimator.tensorflow.compat.v1 as tf`; hooks_helper's `import tensorflow as tf` became
`import keras_estimator.tensorflow as tf2` here, as it is inlined in the same file);
`official.r1.mnist.dataset` (which downloads MNIST) became `dataset` below with the same
train/test functions over MNIST-shaped images from scikit-learn's digits (float32 [784] in
[0, 1], int32 labels); the absl flags became `flags_obj`, the defaults of define_mnist_flags and
official's define_base/define_performance/define_image for a CPU run (`--num_gpus=0`), with
model_dir under tmp_path and train_epochs 40 -> 1 (15 steps of 100); export_dir keeps its
default (None), see make_flags. create_model,
model_fn and run_mnist are verbatim, except a last line added to run_mnist returning the
estimator and the last evaluate result for the test.

Idioms: `import tensorflow.compat.v1 as tf` for the whole program; a tf.keras.Sequential
(Reshape, Conv2D, MaxPooling2D, Dense, Dropout) built in model_fn; tf.compat.v1.train.
AdamOptimizer.minimize(loss, get_or_create_global_step()); tf.compat.v1.losses and
tf.losses.sparse_softmax_cross_entropy; tf.compat.v1.metrics.accuracy (value, update_op), in
training too (accuracy[1] logged and summarised); tf.identity(..., name) read by a
LoggingTensorHook by tensor name; tf.summary.scalar in model_fn; export_outputs
PredictOutput; RunConfig(train_distribute=OneDeviceStrategy, session_config=ConfigProto(...));
an eval input_fn returning make_one_shot_iterator().get_next(); train/evaluate in a loop;
export_savedmodel(..., strip_default_attrs=True) with a tf.compat.v1.placeholder receiver (not
run: see make_flags).
"""

import shutil
from types import SimpleNamespace

import numpy as np
import pytest
from absl import logging  # noqa: F401  (imported by the program)
from six.moves import range

import keras_estimator.tensorflow as tf2  # hooks_helper's: was import tensorflow as tf
import keras_estimator.tensorflow.compat.v1 as tf  # was: import tensorflow.compat.v1 as tf

from compat_support import mnist_like

LEARNING_RATE = 1e-4


class dataset:  # noqa: N801  (stands in for official.r1.mnist.dataset, which downloads MNIST)
  @staticmethod
  def _dataset(images, labels):
    images = images.reshape(-1, 784).astype(np.float32) / 255.0
    return tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int32)))

  @staticmethod
  def train(directory):
    return dataset._dataset(*mnist_like()[0])

  @staticmethod
  def test(directory):
    return dataset._dataset(*mnist_like()[1])


# official/r1/utils/logs/hooks_helper.py: its LoggingTensorHook code, without docstrings and
# without the TPU branch (use_tpu is False).
_TENSORS_TO_LOG = dict((x, x) for x in ['learning_rate',
                                        'cross_entropy',
                                        'train_accuracy'])


def get_logging_tensor_hook(every_n_iter=100, tensors_to_log=None, **kwargs):  # pylint: disable=unused-argument
  if tensors_to_log is None:
    tensors_to_log = _TENSORS_TO_LOG

  return tf2.estimator.LoggingTensorHook(
      tensors=tensors_to_log,
      every_n_iter=every_n_iter)


def get_train_hooks(name_list, use_tpu=False, **kwargs):
  if not name_list:
    return []
  train_hooks = []
  for name in name_list:
    hook_name = HOOKS.get(name.strip().lower())
    if hook_name is None:
      raise ValueError('Unrecognized training hook requested: {}'.format(name))
    else:
      train_hooks.append(hook_name(**kwargs))
  return train_hooks


HOOKS = {'loggingtensorhook': get_logging_tensor_hook}
hooks_helper = SimpleNamespace(get_train_hooks=get_train_hooks)


# official/utils: the branches taken with the flags below.
def apply_clean(flags_obj):
  if flags_obj.clean and tf.io.gfile.exists(flags_obj.model_dir):
    shutil.rmtree(flags_obj.model_dir)


def past_stop_threshold(stop_threshold, eval_metric):
  return stop_threshold is not None and eval_metric >= stop_threshold


def get_distribution_strategy(distribution_strategy="default", num_gpus=0, all_reduce_alg=None):
  # distribution_strategy == "default" and num_gpus == 0:
  return tf.distribute.OneDeviceStrategy("device:CPU:0")


model_helpers = SimpleNamespace(apply_clean=apply_clean, past_stop_threshold=past_stop_threshold)
distribution_utils = SimpleNamespace(get_distribution_strategy=get_distribution_strategy)
flags_core = SimpleNamespace(get_num_gpus=lambda flags_obj: flags_obj.num_gpus)


def create_model(data_format):
  """Model to recognize digits in the MNIST dataset.

  Network structure is equivalent to:
  https://github.com/tensorflow/tensorflow/blob/r1.5/tensorflow/examples/tutorials/mnist/mnist_deep.py

  But uses the tf.keras API.

  Args:
    data_format: Either 'channels_first' or 'channels_last'. 'channels_first' is
      typically faster on GPUs while 'channels_last' is typically faster on
      CPUs. See
      https://www.tensorflow.org/performance/performance_guide#data_formats

  Returns:
    A tf.keras.Model.
  """
  if data_format == 'channels_first':
    input_shape = [1, 28, 28]
  else:
    assert data_format == 'channels_last'
    input_shape = [28, 28, 1]

  l = tf.keras.layers  # noqa: E741
  max_pool = l.MaxPooling2D(
      (2, 2), (2, 2), padding='same', data_format=data_format)
  # The model consists of a sequential chain of layers, so tf.keras.Sequential
  # (a subclass of tf.keras.Model) makes for a compact description.
  return tf.keras.Sequential(
      [
          l.Reshape(
              target_shape=input_shape,
              input_shape=(28 * 28,)),
          l.Conv2D(
              32,
              5,
              padding='same',
              data_format=data_format,
              activation=tf.nn.relu),
          max_pool,
          l.Conv2D(
              64,
              5,
              padding='same',
              data_format=data_format,
              activation=tf.nn.relu),
          max_pool,
          l.Flatten(),
          l.Dense(1024, activation=tf.nn.relu),
          l.Dropout(0.4),
          l.Dense(10)
      ])


def model_fn(features, labels, mode, params):
  """The model_fn argument for creating an Estimator."""
  model = create_model(params['data_format'])
  image = features
  if isinstance(image, dict):
    image = features['image']

  if mode == tf.estimator.ModeKeys.PREDICT:
    logits = model(image, training=False)
    predictions = {
        'classes': tf.argmax(logits, axis=1),
        'probabilities': tf.nn.softmax(logits),
    }
    return tf.estimator.EstimatorSpec(
        mode=tf.estimator.ModeKeys.PREDICT,
        predictions=predictions,
        export_outputs={
            'classify': tf.estimator.export.PredictOutput(predictions)
        })
  if mode == tf.estimator.ModeKeys.TRAIN:
    optimizer = tf.compat.v1.train.AdamOptimizer(learning_rate=LEARNING_RATE)

    logits = model(image, training=True)
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels=labels,
                                                            logits=logits)
    accuracy = tf.compat.v1.metrics.accuracy(
        labels=labels, predictions=tf.argmax(logits, axis=1))

    # Name tensors to be logged with LoggingTensorHook.
    tf.identity(LEARNING_RATE, 'learning_rate')
    tf.identity(loss, 'cross_entropy')
    tf.identity(accuracy[1], name='train_accuracy')

    # Save accuracy scalar to Tensorboard output.
    tf.summary.scalar('train_accuracy', accuracy[1])

    return tf.estimator.EstimatorSpec(
        mode=tf.estimator.ModeKeys.TRAIN,
        loss=loss,
        train_op=optimizer.minimize(
            loss,
            tf.compat.v1.train.get_or_create_global_step()))
  if mode == tf.estimator.ModeKeys.EVAL:
    logits = model(image, training=False)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    return tf.estimator.EstimatorSpec(
        mode=tf.estimator.ModeKeys.EVAL,
        loss=loss,
        eval_metric_ops={
            'accuracy':
                tf.metrics.accuracy(
                    labels=labels, predictions=tf.argmax(logits, axis=1)),
        })


def run_mnist(flags_obj):
  """Run MNIST training and eval loop.

  Args:
    flags_obj: An object containing parsed flag values.
  """
  model_helpers.apply_clean(flags_obj)
  model_function = model_fn

  session_config = tf.compat.v1.ConfigProto(
      inter_op_parallelism_threads=flags_obj.inter_op_parallelism_threads,
      intra_op_parallelism_threads=flags_obj.intra_op_parallelism_threads,
      allow_soft_placement=True)

  distribution_strategy = distribution_utils.get_distribution_strategy(
      distribution_strategy=flags_obj.distribution_strategy,
      num_gpus=flags_core.get_num_gpus(flags_obj),
      all_reduce_alg=flags_obj.all_reduce_alg)

  run_config = tf.estimator.RunConfig(
      train_distribute=distribution_strategy, session_config=session_config)

  data_format = flags_obj.data_format
  if data_format is None:
    data_format = ('channels_first' if tf.config.list_physical_devices('GPU')
                   else 'channels_last')
  mnist_classifier = tf.estimator.Estimator(
      model_fn=model_function,
      model_dir=flags_obj.model_dir,
      config=run_config,
      params={
          'data_format': data_format,
      })

  # Set up training and evaluation input functions.
  def train_input_fn():
    """Prepare data for training."""

    # When choosing shuffle buffer sizes, larger sizes result in better
    # randomness, while smaller sizes use less memory. MNIST is a small
    # enough dataset that we can easily shuffle the full epoch.
    ds = dataset.train(flags_obj.data_dir)
    ds = ds.cache().shuffle(buffer_size=50000).batch(flags_obj.batch_size)

    # Iterate through the dataset a set number (`epochs_between_evals`) of times
    # during each training session.
    ds = ds.repeat(flags_obj.epochs_between_evals)
    return ds

  def eval_input_fn():
    return dataset.test(flags_obj.data_dir).batch(
        flags_obj.batch_size).make_one_shot_iterator().get_next()

  # Set up hook that outputs training logs every 100 steps.
  train_hooks = hooks_helper.get_train_hooks(
      flags_obj.hooks, model_dir=flags_obj.model_dir,
      batch_size=flags_obj.batch_size)

  # Train and evaluate model.
  for _ in range(flags_obj.train_epochs // flags_obj.epochs_between_evals):
    mnist_classifier.train(input_fn=train_input_fn, hooks=train_hooks)
    eval_results = mnist_classifier.evaluate(input_fn=eval_input_fn)
    print('\nEvaluation results:\n\t%s\n' % eval_results)

    if model_helpers.past_stop_threshold(flags_obj.stop_threshold,
                                         eval_results['accuracy']):
      break

  # Export the model
  if flags_obj.export_dir is not None:
    image = tf.compat.v1.placeholder(tf.float32, [None, 28, 28])
    input_fn = tf.estimator.export.build_raw_serving_input_receiver_fn({
        'image': image,
    })
    mnist_classifier.export_savedmodel(flags_obj.export_dir, input_fn,
                                       strip_default_attrs=True)
  return mnist_classifier, eval_results  # added: what the test checks


def make_flags(tmp_path):
  """define_mnist_flags' defaults for a CPU run (`--num_gpus=0`), paths under tmp_path."""
  return SimpleNamespace(
      data_dir=str(tmp_path / "mnist_data"), model_dir=str(tmp_path / "mnist_model"),
      clean=False, train_epochs=1,  # was: 40
      epochs_between_evals=1, stop_threshold=None, batch_size=100, num_gpus=0,
      # export_dir keeps its default, None: the export lines build a tf.compat.v1.placeholder
      # eagerly, which TensorFlow 2 (2.15 too) refuses ("tf.placeholder() is not compatible
      # with eager execution"); the program exported under TensorFlow 1.x graph mode only.
      hooks=["LoggingTensorHook"], export_dir=None,
      distribution_strategy="default", inter_op_parallelism_threads=0,
      intra_op_parallelism_threads=0, all_reduce_alg=None, data_format=None)


def test_official_r1_mnist(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    flags_obj = make_flags(tmp_path)
    mnist_classifier, eval_results = run_mnist(flags_obj)
    assert set(eval_results) == {"accuracy", "loss", "global_step"}
    assert eval_results["global_step"] == 15  # 1500 images, batch 100, 1 epoch
    # The same model in Keras (Adam(1e-4)) reaches a test accuracy of 0.72-0.77 after this one
    # epoch of 15 steps (seeds 0-1); chance is 0.1.
    assert eval_results["accuracy"] > 0.4
    # The program does not predict; predict is checked on its test data.
    predictions = list(mnist_classifier.predict(lambda: dataset.test(None).batch(100)))
    assert len(predictions) == 297
    assert set(predictions[0]) == {"classes", "probabilities"}
    assert np.shape(predictions[0]["probabilities"]) == (10,)
