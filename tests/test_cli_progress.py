"""Training progress: a progress bar on a terminal, log lines otherwise, from either path."""

import io
import re
import sys

import keras
import pytest
import tensorflow as tf

import keras_estimator as ke
from keras_estimator.cli.progress import Progress, ProgressCallback, ProgressHook, _round_interval


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_round_intervals():
    assert [_round_interval(n) for n in (0, 1, 3, 7, 10, 19, 49, 99, 120, 999)] == [1, 1, 2, 5, 10, 10, 20, 50, 100, 500]


def test_log_lines_when_not_a_terminal():
    out = io.StringIO()
    progress = Progress(100, 300, stream=out)  # Resuming at 100: about ten lines, at round steps.
    assert not progress.interactive and progress.every == 20
    step = 100
    while step < 300:
        step = progress.next_report(step)
        progress.update(step, 0.5)
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and lines[0].startswith("step 120/300  loss 0.5000") and lines[-1].startswith("step 300/300")
    assert all("steps/s" in line and "ETA" in line for line in lines)


def test_progress_bar_on_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)  # keras.utils.Progbar writes to sys.stdout.
    progress = Progress(0, 50, stream=terminal)
    assert progress.interactive
    for step in range(1, 51):
        progress.update(step, 1.0 / step)
    shown = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue())  # Without colours.
    # Keras's bar, redrawn in place: steps done, time left, steps/s and loss.
    assert shown.count("\r") >= 2 and "━" in shown and "50/50" in shown
    assert "steps/s:" in shown and "loss: 0.0200" in shown
    assert "step 50/50  loss" not in shown  # Not the log-line format.


def _model_fn(features, labels, mode):
    logits = keras.layers.Dense(1)(features["x"])[:, 0]
    loss = tf.reduce_mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))
    return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.1)))


def _input_fn():
    return tf.data.Dataset.from_tensors(({"x": tf.ones([4, 2])}, tf.ones([4]))).repeat()


def test_estimator_hook_reports_at_its_steps_whatever_steps_per_loop(tmp_path):
    out = io.StringIO()
    config = ke.RunConfig(steps_per_loop=100, log_step_count_steps=None, save_summary_steps=None)
    estimator = ke.Estimator(_model_fn, str(tmp_path), config)
    estimator.train(_input_fn, steps=12, hooks=[ProgressHook(lambda start: Progress(start, start + 12, stream=out))])
    estimator.train(_input_fn, steps=6, hooks=[ProgressHook(lambda start: Progress(start, start + 6, stream=out))])
    steps = [int(line.split()[1].split("/")[0]) for line in out.getvalue().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]


def test_fit_callback_reports_like_the_hook():
    out = io.StringIO()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    progress = Progress(0, 20, stream=out, log_every=5)
    model.fit(tf.ones([80, 2]), tf.ones([80, 1]), batch_size=4, epochs=1, verbose=0, callbacks=[ProgressCallback(progress)])
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["5/20", "10/20", "15/20", "20/20"]
    assert all(float(line.split()[3]) >= 0 for line in lines)
