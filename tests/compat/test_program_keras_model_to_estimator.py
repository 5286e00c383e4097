"""TensorFlow's tutorial "Create an Estimator from a Keras model".

Source: tensorflow/docs, site/en/tutorials/estimator/keras_model_to_estimator.ipynb at commit
60c51e7a4b34ff7e02b339b361a5bff7f091cbf8
(https://github.com/tensorflow/docs/blob/60c51e7a4b34ff7e02b339b361a5bff7f091cbf8/site/en/tutorials/estimator/keras_model_to_estimator.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: the import (`import tensorflow as tf` became `import keras_estimator.tensorflow as
tf`); `import tensorflow_datasets as tfds` (which downloads iris) became
`compat_support.FakeTfds()`, scikit-learn's iris as tfds' one 'train' split of 150 examples.
The cells are otherwise verbatim (the model cell in `make_model`, run per test; input_fn at
module level; the rest in `run_program`, which
returns the model, the estimator and the evaluate result the notebook prints);
`tempfile.mkdtemp()` lands in tmp_path.

Idioms: tf.keras.estimator.model_to_estimator(keras_model=, model_dir=) of a compiled
Sequential model (string optimizer 'adam', no metrics); features keyed by the automatic Keras 2
input name 'dense_input'; tfds.Split.TRAIN; train(steps=500) and evaluate(steps=10) on a
repeating input_fn.
"""

import itertools

import numpy as np

import keras_estimator.tensorflow as tf  # was: import tensorflow as tf

from compat_support import FakeTfds

tfds = FakeTfds()  # was: import tensorflow_datasets as tfds


def make_model():
  model = tf.keras.models.Sequential([
      tf.keras.layers.Dense(16, activation='relu', input_shape=(4,)),
      tf.keras.layers.Dropout(0.2),
      tf.keras.layers.Dense(3)
  ])
  model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                optimizer='adam')
  model.summary()
  return model

def input_fn():
  split = tfds.Split.TRAIN
  dataset = tfds.load('iris', split=split, as_supervised=True)
  dataset = dataset.map(lambda features, labels: ({'dense_input':features}, labels))
  dataset = dataset.batch(32).repeat()
  return dataset


def run_program():
  model = make_model()
  for features_batch, labels_batch in input_fn().take(1):
    print(features_batch)
    print(labels_batch)

  import tempfile
  model_dir = tempfile.mkdtemp()
  keras_estimator = tf.keras.estimator.model_to_estimator(
      keras_model=model, model_dir=model_dir)

  keras_estimator.train(input_fn=input_fn, steps=500)
  eval_result = keras_estimator.evaluate(input_fn=input_fn, steps=10)
  print('Eval result: {}'.format(eval_result))
  return model, keras_estimator, eval_result


def test_keras_model_to_estimator(program_dir):
    model, keras_estimator, eval_result = run_program()
    assert keras_estimator.model_dir.startswith(str(program_dir))
    assert set(eval_result) == {"loss", "global_step"}  # compiled without metrics
    assert eval_result["global_step"] == 500
    # The same model in Keras (Adam, batch 32) goes from 1.45-2.21 to 0.35-0.43 after 500 steps
    # (seeds 0-2); chance is ln(3) = 1.10.
    assert eval_result["loss"] < 0.7
    # The program does not predict; predict is checked on its own input_fn (first 5 examples).
    predictions = list(itertools.islice(keras_estimator.predict(input_fn), 5))
    assert len(predictions) == 5
    assert set(predictions[0]) == {model.layers[-1].name}  # keyed by the output layer's name
    assert np.shape(predictions[0][model.layers[-1].name]) == (3,)
