"""TensorFlow's tutorial "Build a linear model with Estimators" (titanic with
tf.estimator.LinearClassifier).

Source: tensorflow/docs, site/en/tutorials/estimator/linear.ipynb at commit
60c51e7a4b34ff7e02b339b361a5bff7f091cbf8
(https://github.com/tensorflow/docs/blob/60c51e7a4b34ff7e02b339b361a5bff7f091cbf8/site/en/tutorials/estimator/linear.ipynb),
Copyright 2019 The TensorFlow Authors, Apache License 2.0.

Changed: the import (`import tensorflow as tf` became `import keras_estimator.tensorflow as
tf`; `import tensorflow.compat.v2.feature_column as fc`, never used by the notebook, is left as
is: TensorFlow 2.21 still has that module). The two `pd.read_csv` downloads of the titanic CSVs
became `compat_support.titanic()`: a SYNTHETIC table with the CSVs' columns, dtypes and sizes
(627 and 264 rows), generated from a seeded numpy generator with survival depending on sex,
class and age as in the real data (no real passenger is in it). Dropped: the shell cell
`!pip install sklearn`; the plotting and display lines (imports of matplotlib.pyplot and
IPython.display.clear_output, neither installed here; the cells `dftrain.age.hist`, the two
`value_counts().plot`, the survival-by-sex `plot`; both `clear_output()` calls;
`probs.plot(kind='hist', ...)`; the ROC cell's `from matplotlib import pyplot as plt` and its six
`plt.` lines, of which `roc_curve` itself is kept). Added: `base_result = result`, so the test
can check the first model's evaluate result too, and `import time` for the test. The training
steps are the notebook's (10 epochs of 627 rows in batches of 32: 200 steps per model; both
models train in 6-7 s with tf.estimator 2.15 on 2 cores). Everything else is verbatim: imports
and `make_input_fn` at module level, the cells from the data on in `run_program` in the
notebook's order (the table-inspection expressions included), which returns what the test
checks. The Estimators have no model_dir: the fixture puts their
temporary directories in tmp_path.

Idioms: tf.feature_column.categorical_column_with_vocabulary_list over a pandas column's
`unique()` (strings, and int64 for n_siblings_spouses and parch), numeric_column(dtype=
tf.float32) over float64 columns, crossed_column(['age', 'sex'], hash_bucket_size=100) of two raw
keys (a float and a string), tf.keras.layers.DenseFeatures of a numeric and of an indicator
column applied eagerly to a batch, a premade tf.estimator.LinearClassifier (binary, default
FTRL optimizer) with train(input_fn) running the input to its end (`repeat(num_epochs)`),
evaluate's binary metrics, predict's 'probabilities' read into a pandas Series, sklearn's
roc_curve of them.
"""

import os
import sys
import time  # added for the test

import numpy as np
import pandas as pd
# dropped: import matplotlib.pyplot as plt (plots; matplotlib is not installed here)
# dropped: from IPython.display import clear_output (display; IPython is not installed here)
from six.moves import urllib

import tensorflow.compat.v2.feature_column as fc

import keras_estimator.tensorflow as tf  # was: import tensorflow as tf

from compat_support import titanic


def make_input_fn(data_df, label_df, num_epochs=10, shuffle=True, batch_size=32):
  def input_function():
    ds = tf.data.Dataset.from_tensor_slices((dict(data_df), label_df))
    if shuffle:
      ds = ds.shuffle(1000)
    ds = ds.batch(batch_size).repeat(num_epochs)
    return ds
  return input_function


def run_program():
  # Load dataset.
  # was: dftrain = pd.read_csv('https://storage.googleapis.com/tf-datasets/titanic/train.csv')
  # was: dfeval = pd.read_csv('https://storage.googleapis.com/tf-datasets/titanic/eval.csv')
  dftrain, dfeval = titanic()
  y_train = dftrain.pop('survived')
  y_eval = dfeval.pop('survived')

  dftrain.head()

  dftrain.describe()

  dftrain.shape[0], dfeval.shape[0]

  # dropped (plots): dftrain.age.hist(bins=20)
  # dropped (plots): dftrain.sex.value_counts().plot(kind='barh')
  # dropped (plots): dftrain['class'].value_counts().plot(kind='barh')
  # dropped (plots): pd.concat([dftrain, y_train], axis=1).groupby('sex').survived.mean().plot(kind='barh').set_xlabel('% survive')

  CATEGORICAL_COLUMNS = ['sex', 'n_siblings_spouses', 'parch', 'class', 'deck',
                         'embark_town', 'alone']
  NUMERIC_COLUMNS = ['age', 'fare']

  feature_columns = []
  for feature_name in CATEGORICAL_COLUMNS:
    vocabulary = dftrain[feature_name].unique()
    feature_columns.append(tf.feature_column.categorical_column_with_vocabulary_list(feature_name, vocabulary))

  for feature_name in NUMERIC_COLUMNS:
    feature_columns.append(tf.feature_column.numeric_column(feature_name, dtype=tf.float32))

  # (make_input_fn is at module level)
  train_input_fn = make_input_fn(dftrain, y_train)
  eval_input_fn = make_input_fn(dfeval, y_eval, num_epochs=1, shuffle=False)

  ds = make_input_fn(dftrain, y_train, batch_size=10)()
  for feature_batch, label_batch in ds.take(1):
    print('Some feature keys:', list(feature_batch.keys()))
    print()
    print('A batch of class:', feature_batch['class'].numpy())
    print()
    print('A batch of Labels:', label_batch.numpy())

  age_column = feature_columns[7]
  tf.keras.layers.DenseFeatures([age_column])(feature_batch).numpy()

  gender_column = feature_columns[0]
  tf.keras.layers.DenseFeatures([tf.feature_column.indicator_column(gender_column)])(feature_batch).numpy()

  linear_est = tf.estimator.LinearClassifier(feature_columns=feature_columns)
  linear_est.train(train_input_fn)
  result = linear_est.evaluate(eval_input_fn)

  # dropped (display): clear_output()
  print(result)
  base_result = result  # added: the test checks the first model's result too

  age_x_gender = tf.feature_column.crossed_column(['age', 'sex'], hash_bucket_size=100)

  derived_feature_columns = [age_x_gender]
  linear_est = tf.estimator.LinearClassifier(feature_columns=feature_columns+derived_feature_columns)
  linear_est.train(train_input_fn)
  result = linear_est.evaluate(eval_input_fn)

  # dropped (display): clear_output()
  print(result)

  pred_dicts = list(linear_est.predict(eval_input_fn))
  probs = pd.Series([pred['probabilities'][1] for pred in pred_dicts])

  # dropped (plots): probs.plot(kind='hist', bins=20, title='predicted probabilities')

  from sklearn.metrics import roc_curve
  # dropped (plots): from matplotlib import pyplot as plt

  fpr, tpr, _ = roc_curve(y_eval, probs)
  # dropped (plots): plt.plot(fpr, tpr); plt.title('ROC curve'); plt.xlabel('false positive rate');
  # plt.ylabel('true positive rate'); plt.xlim(0,); plt.ylim(0,)
  return base_result, linear_est, result, pred_dicts, probs, y_eval, fpr, tpr


# tf.estimator 2.15's LinearClassifier (binary) evaluates to exactly these keys.
BINARY_EVAL_KEYS = {"accuracy", "accuracy_baseline", "auc", "auc_precision_recall", "average_loss",
                    "label/mean", "loss", "precision", "prediction/mean", "recall", "global_step"}


def test_linear_estimator(program_dir, capsys):
    started = time.time()
    base_result, linear_est, result, pred_dicts, probs, y_eval, fpr, tpr = run_program()
    assert time.time() - started < 60  # tf.estimator 2.15: 6-7 s for both models
    assert linear_est.model_dir.startswith(str(program_dir))
    printed = capsys.readouterr().out
    assert "A batch of class: [b'" in printed  # the input inspection cell: string features as bytes
    survived = np.asarray(y_eval, np.float64)
    for evaluated in (base_result, result):
        assert set(evaluated) == BINARY_EVAL_KEYS
        assert evaluated["global_step"] == 200  # 10 epochs of 627 rows in batches of 32
        # Label statistics: exact properties of dfeval (97 of 264 survive).
        assert np.isclose(evaluated["label/mean"], survived.mean(), atol=1e-6)
        assert np.isclose(evaluated["accuracy_baseline"], 1 - survived.mean(), atol=1e-6)
    # tf.estimator 2.15, this program and data, 40 runs (median; 10th percentile; worst):
    #   base columns:      accuracy 0.792; 0.769; 0.746   auc 0.856; 0.850; 0.835
    #   with age_x_gender: accuracy 0.784; 0.737; 0.678   auc 0.851; 0.829; 0.695
    # FTRL's last batches make either model bad now and then (in 30 runs with the base model held
    # to accuracy 0.70 and auc 0.80, 3 failed: 0.701 and 0.723 at worst); the better of the two
    # models, over 50 runs, at worst 0.754 accuracy and 0.847 auc. Always predicting 'died'
    # scores 0.633 accuracy; auc 0.5 is chance. These bars: 20 of 20 runs of this test passed.
    for evaluated in (base_result, result):
        assert evaluated["accuracy"] >= 0.65, evaluated
        assert evaluated["auc"] >= 0.65, evaluated
    assert max(base_result["accuracy"], result["accuracy"]) >= 0.72, (base_result, result)
    assert max(base_result["auc"], result["auc"]) >= 0.80, (base_result, result)
    # predict over eval_input_fn: one dict per passenger with tf.estimator 2.15's keys and shapes.
    assert len(pred_dicts) == len(y_eval) == 264
    assert set(pred_dicts[0]) == {"logits", "logistic", "probabilities", "class_ids", "classes",
                                  "all_class_ids", "all_classes"}
    for pred in pred_dicts:
        assert np.shape(pred['probabilities']) == (2,)
        assert np.shape(pred['logits']) == np.shape(pred['logistic']) == (1,)
        assert np.shape(pred['class_ids']) == (1,)
        assert np.isclose(np.sum(pred['probabilities']), 1.0, atol=1e-5)
        assert np.isclose(pred['logistic'][0], pred['probabilities'][1], atol=1e-6)
        assert pred['class_ids'][0] == int(pred['probabilities'][1] > 0.5)
        assert pred['classes'][0] == str(pred['class_ids'][0]).encode()  # b'0' or b'1'
        assert list(pred['all_class_ids']) == [0, 1]
        assert list(pred['all_classes']) == [b'0', b'1']
    # predict agrees with the evaluate just before it (tf.estimator 2.15: accuracy, precision,
    # recall and prediction/mean equal; its auc within 0.0015 of scikit-learn's).
    assert probs.between(0, 1).all() and len(fpr) == len(tpr) >= 2
    predicted = np.array([pred['class_ids'][0] for pred in pred_dicts])
    true_positives = np.sum((predicted == 1) & (survived == 1))
    assert np.isclose(result["accuracy"], np.mean(predicted == survived), atol=1e-6)
    assert np.isclose(result["precision"], true_positives / max(np.sum(predicted == 1), 1), atol=1e-6)
    assert np.isclose(result["recall"], true_positives / np.sum(survived == 1), atol=1e-6)
    assert np.isclose(result["prediction/mean"], probs.mean(), atol=1e-4)
    from sklearn.metrics import roc_auc_score
    assert abs(result["auc"] - roc_auc_score(y_eval, probs)) < 0.01
