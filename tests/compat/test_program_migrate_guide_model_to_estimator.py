"""TensorFlow 2.0-2.5's migration guide "Migrate your TensorFlow 1 code to TensorFlow 2",
section "Estimators: Training with Estimators / Using a Keras model definition"
(model_to_estimator with train_and_evaluate).

Source: tensorflow/docs, site/en/guide/migrate.ipynb at commit
47a807024a49d648ff635434d49e3f03a8cfc57a (its last version before 8ba313fcc moved the guide to
site/en/guide/migrate/; https://github.com/tensorflow/docs/blob/47a807024a49d648ff635434d49e3f03a8cfc57a/site/en/guide/migrate.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: the import (`import tensorflow as tf` became `import keras_estimator.tensorflow as
tf`); `import tensorflow_datasets as tfds` (which downloads MNIST) became
`compat_support.FakeTfds()`. The guide's cells for this section (its constants NUM_EPOCHS=5
and STEPS_PER_EPOCH=5, the Estimator input_fn and specs, make_model) are verbatim; the calling
cell is in `run_program`, which returns the model, the estimator and train_and_evaluate's
result. The Estimator has no model_dir: the fixture puts its temporary directory in tmp_path.

Idioms: tf.keras.estimator.model_to_estimator(keras_model=) of a compiled Sequential with
Conv2D(kernel_regularizer=l2), Dropout, BatchNormalization, metrics=['accuracy'];
train_and_evaluate with TrainSpec(max_steps=25) / EvalSpec(steps=5) on a repeating input_fn
whose labels are [batch, 1] (label[..., tf.newaxis]) and whose features are a plain tensor.
"""

import itertools

import numpy as np

import keras_estimator.tensorflow as tf  # was: import tensorflow as tf

from compat_support import FakeTfds

tfds = FakeTfds()  # was: import tensorflow_datasets as tfds

NUM_EPOCHS = 5
STEPS_PER_EPOCH = 5


# Define the estimator's input_fn
def input_fn():
  datasets, info = tfds.load(name='mnist', with_info=True, as_supervised=True)
  mnist_train, mnist_test = datasets['train'], datasets['test']

  BUFFER_SIZE = 10000
  BATCH_SIZE = 64

  def scale(image, label):
    image = tf.cast(image, tf.float32)
    image /= 255

    return image, label[..., tf.newaxis]

  train_data = mnist_train.map(scale).shuffle(BUFFER_SIZE).batch(BATCH_SIZE)
  return train_data.repeat()


def make_model():
  return tf.keras.Sequential([
    tf.keras.layers.Conv2D(32, 3, activation='relu',
                           kernel_regularizer=tf.keras.regularizers.l2(0.02),
                           input_shape=(28, 28, 1)),
    tf.keras.layers.MaxPooling2D(),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dropout(0.1),
    tf.keras.layers.Dense(64, activation='relu'),
    tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Dense(10)
  ])


def run_program():
  # Define train and eval specs
  train_spec = tf.estimator.TrainSpec(input_fn=input_fn,
                                      max_steps=STEPS_PER_EPOCH * NUM_EPOCHS)
  eval_spec = tf.estimator.EvalSpec(input_fn=input_fn,
                                    steps=STEPS_PER_EPOCH)

  model = make_model()

  model.compile(optimizer='adam',
                loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=['accuracy'])

  estimator = tf.keras.estimator.model_to_estimator(
    keras_model = model
  )

  result = tf.estimator.train_and_evaluate(estimator, train_spec, eval_spec)
  return model, estimator, result


def test_migrate_guide_model_to_estimator(program_dir):
    model, estimator, (eval_result, _) = run_program()
    assert estimator.model_dir.startswith(str(program_dir))
    assert set(eval_result) == {"accuracy", "loss", "global_step"}
    assert eval_result["global_step"] == 25
    # The same model in Keras (Adam, batch 64, 25 steps) reaches an accuracy of 0.54-0.87 on
    # 5 batches of this input (seeds 0-2); chance is 0.1.
    assert eval_result["accuracy"] > 0.3
    # The program does not predict; predict is checked on its own input_fn (first 5 examples).
    predictions = list(itertools.islice(estimator.predict(input_fn), 5))
    assert set(predictions[0]) == {model.layers[-1].name}  # keyed by the output layer's name
    assert np.shape(predictions[0][model.layers[-1].name]) == (10,)
