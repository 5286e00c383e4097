"""One training process per model_dir (keras_estimator.model_dir_lock)."""

import os
import signal
import subprocess
import sys
import time

import pytest

import keras_estimator as ke
from helpers import dir_state, estimator, input_fn
from keras_estimator import checkpoints as ckpt_lib
from keras_estimator.model_dir_lock import ModelDirLock

HELPERS = os.path.join(os.path.dirname(__file__), "helpers.py")


def test_a_second_training_into_a_locked_model_dir_is_refused_before_any_write(tmp_path):
    estimator(tmp_path, save_checkpoints_steps=5).train(input_fn(), steps=5)
    before = dir_state(tmp_path)
    with ModelDirLock(str(tmp_path)):
        with pytest.raises(ke.ModelDirInUseError, match="is in use: another process is training into it"):
            estimator(tmp_path).train(input_fn(), steps=5)
        # Reading is not locked: evaluate and predict work while a training runs.
        assert estimator(tmp_path).evaluate(input_fn(repeat=False))["global_step"] == 5
    assert {k: v for k, v in dir_state(tmp_path).items() if not k.startswith("eval")} == before
    estimator(tmp_path).train(input_fn(), steps=1)  # Released: training goes on.


def test_a_new_model_dir_is_locked_too_and_a_failed_call_leaves_no_directory(tmp_path):
    model_dir = tmp_path / "new"
    with pytest.raises(ke.InputError):
        estimator(model_dir).train(lambda: None, steps=1)
    assert not model_dir.exists()
    estimator(model_dir).train(input_fn(), steps=1)
    with ModelDirLock(str(model_dir)):
        with pytest.raises(ke.ModelDirInUseError):
            estimator(model_dir).train(input_fn(), steps=1)


def test_a_killed_trainer_leaves_no_stuck_lock(tmp_path):
    """Another process trains; a second is refused; SIGKILL the first and training resumes at once."""
    trainer = subprocess.Popen([sys.executable, HELPERS, str(tmp_path), "1000000"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not ckpt_lib.listed(str(tmp_path)):
            assert time.monotonic() < deadline and trainer.poll() is None, trainer.stderr.read()[-2000:]
            time.sleep(0.2)
        with pytest.raises(ke.ModelDirInUseError):
            estimator(tmp_path).train(input_fn(), steps=1)
        trainer.send_signal(signal.SIGKILL)
        trainer.wait(timeout=30)
    finally:
        trainer.kill()
    step = ckpt_lib.step_of(ckpt_lib.usable(str(tmp_path))[0])
    estimator(tmp_path, save_checkpoints_steps=5).train(input_fn(), steps=1)
    assert ckpt_lib.step_of(ckpt_lib.listed(str(tmp_path))[-1]) == step + 1
