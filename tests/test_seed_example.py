"""The seed article's model_fn and input_fn, rewritten for TensorFlow 2 and Keras 3.

Numbers written as words (num2words), characters mapped to ids, padded batches of
{"sequences", "lengths"} with the number's parity as label. This is what users try first.
"""

import keras
import numpy as np
import tensorflow as tf
from num2words import num2words

import keras_estimator as ke

MAX_NUM = 3000
WORDS = {n: num2words(n) for n in range(MAX_NUM)}
VOCAB = {c: i + 1 for i, c in enumerate(sorted({c for w in WORDS.values() for c in w}))}  # 0 = padding
HELD_OUT = set(np.random.default_rng(1).choice(MAX_NUM, 300, replace=False).tolist())  # Never trained on.


def generator_function(params, numbers):
    rng = np.random.default_rng(params["seed"])
    while True:
        for value in rng.permutation(numbers):
            word = WORDS[int(value)]
            yield [VOCAB[char] for char in word], len(word), int(value)


def input_fn(params, mode):
    if mode == ke.ModeKeys.TRAIN:
        numbers = [n for n in WORDS if n not in HELD_OUT]
        generator = lambda: generator_function(params, numbers)  # noqa: E731
    else:
        generator = lambda: ((([VOCAB[c] for c in WORDS[n]]), len(WORDS[n]), n) for n in sorted(HELD_OUT))  # noqa: E731
    dataset = tf.data.Dataset.from_generator(
        generator,
        output_signature=(
            tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)
        ),
    )
    dataset = dataset.padded_batch(params["batch_size"])
    return dataset.map(lambda x, y, z: ({"sequences": x, "lengths": y}, z % 2))


def my_model_fn(features, labels, mode, params):
    mask = tf.sequence_mask(features["lengths"], tf.shape(features["sequences"])[1])
    embedded = keras.layers.Embedding(len(VOCAB) + 1, 16)(features["sequences"])
    hidden = keras.layers.GRU(32)(embedded, mask=mask)
    hidden = keras.layers.Dropout(0.1)(hidden, training=mode == ke.ModeKeys.TRAIN)
    logits = keras.layers.Dense(1)(hidden)[:, 0]
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions={"parity": tf.cast(logits > 0, tf.int32), "logits": logits})
    loss = tf.reduce_mean(
        keras.losses.binary_crossentropy(tf.cast(labels, tf.float32), logits, from_logits=True)
    )
    if mode == ke.ModeKeys.TRAIN:
        train_op = ke.minimize(loss, keras.optimizers.Adam(params["learning_rate"]))
        return ke.EstimatorSpec(mode, loss=loss, train_op=train_op)
    accuracy = keras.metrics.BinaryAccuracy(threshold=0.0)
    accuracy.update_state(tf.cast(labels, tf.float32), logits)
    return ke.EstimatorSpec(mode, loss=loss, eval_metric_ops={"accuracy": accuracy})


def test_seed_example_learns_parity_better_than_chance(tmp_path):
    params = {"batch_size": 32, "learning_rate": 0.01, "seed": 0}
    est = ke.Estimator(
        my_model_fn, str(tmp_path), ke.RunConfig(tf_random_seed=0, save_checkpoints_steps=100), params
    )
    before = est.evaluate(input_fn)
    est.train(input_fn, steps=200)
    after = est.evaluate(input_fn)
    assert after["global_step"] == 200
    assert after["loss"] < before["loss"]
    assert after["accuracy"] >= 0.9, after
    predictions = list(est.predict(input_fn))
    assert len(predictions) == len(HELD_OUT)
    truth = [n % 2 for n in sorted(HELD_OUT)]
    agree = np.mean([p["parity"] == t for p, t in zip(predictions, truth)])
    assert agree == np.float32(after["accuracy"]) or abs(agree - after["accuracy"]) < 1e-6
