"""tensorflow/models' "DNNClassifier for the Iris dataset" (the getting-started sample that
TensorFlow 1's "Premade Estimators" guide walks through), with its iris_data module.

Source: tensorflow/models, samples/core/get_started/premade_estimator.py at commit
538a8a85457c6e4c716509739897eb36ff9a82eb
(https://github.com/tensorflow/models/blob/538a8a85457c6e4c716509739897eb36ff9a82eb/samples/core/get_started/premade_estimator.py)
and samples/core/get_started/iris_data.py at commit c173234fe1180347de9f809e8fea3e1b78da7489
(https://github.com/tensorflow/models/blob/c173234fe1180347de9f809e8fea3e1b78da7489/samples/core/get_started/iris_data.py),
Copyright 2016 The TensorFlow Authors, Apache License 2.0.

Changed: the import. The sample was written for TensorFlow 1.x (`import tensorflow as tf` in
both files; on TensorFlow 2.15 it ran as `import tensorflow.compat.v1 as tf`): it became
`import keras_estimator.tensorflow.compat.v1 as tf`. iris_data's `maybe_download` (two
`tf.keras.utils.get_file` downloads) became `compat_support.iris_csv`, which writes the same
CSV layout from scikit-learn's iris (120 and 30 rows) and returns its path, read by iris_data's
own `pd.read_csv` lines. The two files are one module here (the sample's `iris_data.` prefixes
dropped), `from __future__` imports left out. `main` returns the classifier and eval_result for
the test, and `tf.app.run(main)` became a call of `main` (`tf.app.run` exits the process).
The steps are the sample's argparse defaults (batch 100, 1000 steps: 2-3 s with tf.estimator
2.15). Everything else is verbatim, the argparse parser included (`main` parses
`argv[1:]`, empty here). The Estimator has no model_dir: the fixture puts its temporary
directory in tmp_path.

Idioms: a TF 1.x program's premade tf.estimator.DNNClassifier (tf.compat.v1's: on tf.estimator
2.15 the V1 class, default optimizer Adagrad at 0.05, loss summed over the batch) with
numeric_column(key=...) per pandas column, hidden_units=[10, 10], n_classes=3; float64 pandas
features and int64 labels through Dataset.from_tensor_slices((dict(features), labels)),
train(steps=) on a repeating input_fn, evaluate's 'accuracy' formatted with
`'{accuracy:0.3f}'.format(**eval_result)`, predict on Python lists of floats with labels=None,
pred_dict['class_ids'][0] indexing pred_dict['probabilities'].
"""

import argparse
import time  # added for the test

import numpy as np  # added for the test
import pandas as pd

import keras_estimator.tensorflow.compat.v1 as tf  # was: import tensorflow as tf

from compat_support import iris_csv

# -- iris_data.py ------------------------------------------------------------------------------
TRAIN_URL = "http://download.tensorflow.org/data/iris_training.csv"
TEST_URL = "http://download.tensorflow.org/data/iris_test.csv"

CSV_COLUMN_NAMES = ['SepalLength', 'SepalWidth',
                    'PetalLength', 'PetalWidth', 'Species']
SPECIES = ['Setosa', 'Versicolor', 'Virginica']

def maybe_download():
    # was: train_path = tf.keras.utils.get_file(TRAIN_URL.split('/')[-1], TRAIN_URL)
    train_path = iris_csv(TRAIN_URL.split('/')[-1])
    # was: test_path = tf.keras.utils.get_file(TEST_URL.split('/')[-1], TEST_URL)
    test_path = iris_csv(TEST_URL.split('/')[-1])

    return train_path, test_path

def load_data(y_name='Species'):
    """Returns the iris dataset as (train_x, train_y), (test_x, test_y)."""
    train_path, test_path = maybe_download()

    train = pd.read_csv(train_path, names=CSV_COLUMN_NAMES, header=0)
    train_x, train_y = train, train.pop(y_name)

    test = pd.read_csv(test_path, names=CSV_COLUMN_NAMES, header=0)
    test_x, test_y = test, test.pop(y_name)

    return (train_x, train_y), (test_x, test_y)


def train_input_fn(features, labels, batch_size):
    """An input function for training"""
    # Convert the inputs to a Dataset.
    dataset = tf.data.Dataset.from_tensor_slices((dict(features), labels))

    # Shuffle, repeat, and batch the examples.
    dataset = dataset.shuffle(1000).repeat().batch(batch_size)

    # Return the dataset.
    return dataset


def eval_input_fn(features, labels, batch_size):
    """An input function for evaluation or prediction"""
    features=dict(features)
    if labels is None:
        # No labels, use only features.
        inputs = features
    else:
        inputs = (features, labels)

    # Convert the inputs to a Dataset.
    dataset = tf.data.Dataset.from_tensor_slices(inputs)

    # Batch the examples
    assert batch_size is not None, "batch_size must not be None"
    dataset = dataset.batch(batch_size)

    # Return the dataset.
    return dataset


# The remainder of this file contains a simple example of a csv parser,
#     implemented using a the `Dataset` class.

# `tf.parse_csv` sets the types of the outputs to match the examples given in
#     the `record_defaults` argument.
CSV_TYPES = [[0.0], [0.0], [0.0], [0.0], [0]]

def _parse_line(line):
    # Decode the line into its fields
    fields = tf.decode_csv(line, record_defaults=CSV_TYPES)

    # Pack the result into a dictionary
    features = dict(zip(CSV_COLUMN_NAMES, fields))

    # Separate the label from the features
    label = features.pop('Species')

    return features, label


def csv_input_fn(csv_path, batch_size):
    # Create a dataset containing the text lines.
    dataset = tf.data.TextLineDataset(csv_path).skip(1)

    # Parse each line.
    dataset = dataset.map(_parse_line)

    # Shuffle, repeat, and batch the examples.
    dataset = dataset.shuffle(1000).repeat().batch(batch_size)

    # Return the dataset.
    return dataset


# -- premade_estimator.py ----------------------------------------------------------------------
parser = argparse.ArgumentParser()
parser.add_argument('--batch_size', default=100, type=int, help='batch size')
parser.add_argument('--train_steps', default=1000, type=int,
                    help='number of training steps')

def main(argv):
    args = parser.parse_args(argv[1:])

    # Fetch the data
    (train_x, train_y), (test_x, test_y) = load_data()

    # Feature columns describe how to use the input.
    my_feature_columns = []
    for key in train_x.keys():
        my_feature_columns.append(tf.feature_column.numeric_column(key=key))

    # Build 2 hidden layer DNN with 10, 10 units respectively.
    classifier = tf.estimator.DNNClassifier(
        feature_columns=my_feature_columns,
        # Two hidden layers of 10 nodes each.
        hidden_units=[10, 10],
        # The model must choose between 3 classes.
        n_classes=3)

    # Train the Model.
    classifier.train(
        input_fn=lambda:train_input_fn(train_x, train_y,
                                       args.batch_size),
        steps=args.train_steps)

    # Evaluate the model.
    eval_result = classifier.evaluate(
        input_fn=lambda:eval_input_fn(test_x, test_y,
                                      args.batch_size))

    print('\nTest set accuracy: {accuracy:0.3f}\n'.format(**eval_result))

    # Generate predictions from the model
    expected = ['Setosa', 'Versicolor', 'Virginica']
    predict_x = {
        'SepalLength': [5.1, 5.9, 6.9],
        'SepalWidth': [3.3, 3.0, 3.1],
        'PetalLength': [1.7, 4.2, 5.4],
        'PetalWidth': [0.5, 1.5, 2.1],
    }

    predictions = classifier.predict(
        input_fn=lambda:eval_input_fn(predict_x,
                                      labels=None,
                                      batch_size=args.batch_size))

    template = ('\nPrediction is "{}" ({:.1f}%), expected "{}"')

    for pred_dict, expec in zip(predictions, expected):
        class_id = pred_dict['class_ids'][0]
        probability = pred_dict['probabilities'][class_id]

        print(template.format(SPECIES[class_id],
                              100 * probability, expec))
    return classifier, eval_result, predict_x  # added for the test


def run_program():
    tf.logging.set_verbosity(tf.logging.INFO)
    return main(["premade_estimator.py"])  # was: tf.app.run(main)


def test_premade_estimator_iris(program_dir, capsys):
    started = time.time()
    classifier, eval_result, predict_x = run_program()
    tf.logging.set_verbosity(tf.logging.WARN)
    assert time.time() - started < 60  # tf.estimator 2.15: 1-3 s
    assert classifier.model_dir.startswith(str(program_dir))
    # tf.estimator 2.15's tf.compat.v1 DNNClassifier (n_classes=3) evaluates to these keys.
    assert set(eval_result) == {"accuracy", "average_loss", "loss", "global_step"}
    assert eval_result["global_step"] == 1000
    printed = capsys.readouterr().out
    assert f"Test set accuracy: {eval_result['accuracy']:0.3f}" in printed
    # tf.estimator 2.15 (the V1 DNNClassifier: Adagrad at 0.05), this program and data, 33 runs:
    # accuracy 0.933-1.000 on the 30 test rows (1.000 in 25), average_loss 0.036-0.146 (chance
    # ln(3) = 1.10); the three flowers predicted as the three species, in order, every time, at
    # 93.1%, 94.6% and 87.2% at least. These bars: all 33 runs pass them.
    assert eval_result["accuracy"] >= 0.9, eval_result
    assert eval_result["average_loss"] < 0.25, eval_result
    lines = [line for line in printed.splitlines() if line.startswith("Prediction is")]
    assert [line.split('"')[1] for line in lines] == SPECIES, lines
    assert all(float(line.split("(")[1].split("%")[0]) >= 75.0 for line in lines), lines
    # The same predictions again: tf.estimator 2.15's keys and shapes.
    predictions = list(classifier.predict(
        input_fn=lambda: eval_input_fn(predict_x, labels=None, batch_size=100)))
    assert len(predictions) == 3
    assert set(predictions[0]) == {"logits", "probabilities", "class_ids", "classes",
                                   "all_class_ids", "all_classes"}
    for pred_dict, species in zip(predictions, SPECIES):
        assert np.shape(pred_dict['probabilities']) == (3,)
        assert SPECIES[pred_dict['class_ids'][0]] == species
    # The V1 class's loss is summed over each batch (loss_reduction=SUM): one batch of 30 rows.
    assert np.isclose(eval_result["loss"], 30 * eval_result["average_loss"], rtol=1e-3), eval_result
