"""tensorflow/models' "custom Estimator for the Iris dataset" (the getting-started sample that
TensorFlow's "Creating Custom Estimators" guide walks through), with its iris_data module.

Source: tensorflow/models, samples/core/get_started/custom_estimator.py at commit
245f66dd6304869c082840dedce2f45c6af4e78f
(https://github.com/tensorflow/models/blob/245f66dd6304869c082840dedce2f45c6af4e78f/samples/core/get_started/custom_estimator.py)
and samples/core/get_started/iris_data.py at commit c173234fe1180347de9f809e8fea3e1b78da7489
(https://github.com/tensorflow/models/blob/c173234fe1180347de9f809e8fea3e1b78da7489/samples/core/get_started/iris_data.py),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: the import. The sample was written for TensorFlow 1.x (`import tensorflow as tf`; on
TensorFlow 2.15 it ran as `import tensorflow.compat.v1 as tf`): it became
`import keras_estimator.tensorflow.compat.v1 as tf`. iris_data's `maybe_download` (two CSV
downloads) became `compat_support.iris()` (scikit-learn's iris: 120 training and 30 test rows,
the CSVs' sizes, in a DataFrame with the CSVs' column names); iris_data's CSV parser, unused by
the sample, is left out. `main`'s argparse defaults are inlined (batch_size 100), train_steps
1000 became 200, and `tf.app.run(main)` became a call; the Estimator's temporary model_dir is
in the fixture's tmp_path. Everything else is verbatim.

Idioms: tf.feature_column.input_layer of numeric columns inside model_fn, tf.layers.dense,
tf.losses.sparse_softmax_cross_entropy, tf.metrics.accuracy(name=...), tf.summary.scalar of a
metric's update op, AdagradOptimizer.minimize with tf.train.get_global_step, pandas features
(float64) with predictions asked for on Python lists (float32), params in model_fn.
"""

import numpy as np
import pandas as pd

import keras_estimator.tensorflow.compat.v1 as tf  # was: import tensorflow as tf

from compat_support import iris

# -- iris_data.py ------------------------------------------------------------------------------
CSV_COLUMN_NAMES = ['SepalLength', 'SepalWidth',
                    'PetalLength', 'PetalWidth', 'Species']
SPECIES = ['Setosa', 'Versicolor', 'Virginica']


def load_data(y_name='Species'):
    """Returns the iris dataset as (train_x, train_y), (test_x, test_y)."""
    # was: train_path, test_path = maybe_download(); pd.read_csv(...) of each
    x, y = iris()
    table = pd.DataFrame(np.column_stack([x.astype(np.float64), y]), columns=CSV_COLUMN_NAMES)
    table['Species'] = table['Species'].astype(np.int64)
    train, test = table[:120].reset_index(drop=True), table[120:].reset_index(drop=True)

    train_x, train_y = train, train.pop(y_name)

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


# -- custom_estimator.py -----------------------------------------------------------------------
def my_model(features, labels, mode, params):
    """DNN with three hidden layers and learning_rate=0.1."""
    # Create three fully connected layers.
    net = tf.feature_column.input_layer(features, params['feature_columns'])
    for units in params['hidden_units']:
        net = tf.layers.dense(net, units=units, activation=tf.nn.relu)

    # Compute logits (1 per class).
    logits = tf.layers.dense(net, params['n_classes'], activation=None)

    # Compute predictions.
    predicted_classes = tf.argmax(logits, 1)
    if mode == tf.estimator.ModeKeys.PREDICT:
        predictions = {
            'class_ids': predicted_classes[:, tf.newaxis],
            'probabilities': tf.nn.softmax(logits),
            'logits': logits,
        }
        return tf.estimator.EstimatorSpec(mode, predictions=predictions)

    # Compute loss.
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)

    # Compute evaluation metrics.
    accuracy = tf.metrics.accuracy(labels=labels,
                                   predictions=predicted_classes,
                                   name='acc_op')
    metrics = {'accuracy': accuracy}
    tf.summary.scalar('accuracy', accuracy[1])

    if mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(
            mode, loss=loss, eval_metric_ops=metrics)

    # Create training op.
    assert mode == tf.estimator.ModeKeys.TRAIN

    optimizer = tf.train.AdagradOptimizer(learning_rate=0.1)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def main(argv):
    # was: args = parser.parse_args(argv[1:]) (defaults: batch_size 100, train_steps 1000)
    batch_size, train_steps = 100, 200

    # Fetch the data
    (train_x, train_y), (test_x, test_y) = load_data()

    # Feature columns describe how to use the input.
    my_feature_columns = []
    for key in train_x.keys():
        my_feature_columns.append(tf.feature_column.numeric_column(key=key))

    # Build 2 hidden layer DNN with 10, 10 units respectively.
    classifier = tf.estimator.Estimator(
        model_fn=my_model,
        params={
            'feature_columns': my_feature_columns,
            # Two hidden layers of 10 nodes each.
            'hidden_units': [10, 10],
            # The model must choose between 3 classes.
            'n_classes': 3,
        })

    # Train the Model.
    classifier.train(
        input_fn=lambda:train_input_fn(train_x, train_y, batch_size),
        steps=train_steps)

    # Evaluate the model.
    eval_result = classifier.evaluate(
        input_fn=lambda:eval_input_fn(test_x, test_y, batch_size))

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
                                      batch_size=batch_size))

    for pred_dict, expec in zip(predictions, expected):
        template = ('\nPrediction is "{}" ({:.1f}%), expected "{}"')

        class_id = pred_dict['class_ids'][0]
        probability = pred_dict['probabilities'][class_id]

        print(template.format(SPECIES[class_id],
                              100 * probability, expec))
    return classifier, eval_result


def test_custom_estimator_iris(program_dir, capsys):
    tf.logging.set_verbosity(tf.logging.INFO)
    classifier, eval_result = main(["custom_estimator.py"])  # was: tf.app.run(main)
    assert set(eval_result) == {"accuracy", "loss", "global_step"}
    assert eval_result["global_step"] == 200
    # The same network in Keras (Adagrad 0.1, 200 steps of 100) classifies iris's test rows at
    # 0.9 and above; the three flowers the sample predicts are the three species, in order.
    assert eval_result["accuracy"] >= 0.9, eval_result
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Prediction is")]
    assert [line.split('"')[1] for line in printed] == ["Setosa", "Versicolor", "Virginica"]
