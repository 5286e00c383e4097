"""keras_estimator.steps: the one compiled loop body train and eval share."""

import tensorflow as tf

from keras_estimator.steps import make_loop, split

STRATEGY = tf.distribute.get_strategy()


def _numbers(n):
    return iter(tf.data.Dataset.range(1, n + 1).map(lambda x: (tf.cast(x, tf.float32), x)))


def _sum_loop(after_step=None):
    return make_loop(STRATEGY, lambda features, labels: features, lambda: tf.constant(0.0),
                     lambda total, loss: (total + loss, tf.constant(False)), after_step=after_step)


def test_a_loop_runs_at_most_num_steps_and_continues_where_it_stopped():
    loop, iterator = _sum_loop(), _numbers(5)
    ran, total, stopped, _ = loop(iterator, tf.constant(3, tf.int64))
    assert (int(ran), float(total), bool(stopped)) == (3, 6.0, False)
    ran, total, _, _ = loop(iterator, tf.constant(3, tf.int64))
    assert (int(ran), float(total)) == (2, 9.0)  # The data ended after 2 more.


def test_a_fold_that_stops_ends_the_loop_before_the_step_counts():
    counter = tf.Variable(0, dtype=tf.int64)
    loop = make_loop(STRATEGY, lambda f, l: f, lambda: tf.constant(0.0),
                     lambda _, loss: (loss, loss >= 3.0), after_step=lambda: counter.assign_add(1))
    ran, last, stopped, _ = loop(_numbers(5), tf.constant(10, tf.int64))
    assert (int(ran), float(last), bool(stopped), int(counter.numpy())) == (2, 3.0, True, 2)


def test_finish_is_returned_after_the_loop():
    total = tf.Variable(0.0)

    def step(features, labels):
        total.assign_add(features)
        return features

    loop = make_loop(STRATEGY, step, lambda: tf.constant(0.0), lambda s, loss: (s, tf.constant(False)),
                     finish=lambda: {"total": total.read_value()})
    assert float(loop(_numbers(4), tf.constant(10, tf.int64))[3]["total"]) == 10.0


def test_split_takes_features_alone_or_pairs():
    assert split(({"a": 1}, 2)) == ({"a": 1}, 2)
    assert split({"a": 1}) == ({"a": 1}, None)
