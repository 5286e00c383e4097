"""TensorFlow's tutorial "Multi-worker training with Estimator" (the program is
multi_worker_with_estimator_program.py, where its source and changes are cited).

It runs in a subprocess: the program calls tf.compat.v1.disable_eager_execution(), which would
change the rest of the test session. One worker: no TF_CONFIG, as the tutorial's single-process
run.

Idioms: tf.compat.v1.disable_eager_execution(); a Keras Sequential model built and called in
model_fn; tf.compat.v1.train.GradientDescentOptimizer.minimize(loss,
tf.compat.v1.train.get_or_create_global_step()) (global step passed positionally);
Keras SparseCategoricalCrossentropy(reduction=NONE) summed / BATCH_SIZE; input_fn(mode,
input_context) sharding by input_context; RunConfig(train_distribute=
MultiWorkerMirroredStrategy()); train_and_evaluate with TrainSpec/EvalSpec without steps.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = Path(__file__).with_name("multi_worker_with_estimator_program.py")


@pytest.mark.xfail(strict=True, reason=(
    "tf.compat.v1.disable_eager_execution(): keras_estimator refuses it (RuntimeError "
    "'keras_estimator needs TensorFlow 2 behaviour, but the program disabled eager "
    "execution') -- NOT in issue 18's list; then compat.v1 GradientDescentOptimizer.minimize "
    "with get_or_create_global_step (item 1)"))
def test_multi_worker_with_estimator(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_CONFIG", None)
    run = subprocess.run([sys.executable, str(PROGRAM), str(tmp_path / "multiworker")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
    eval_result = json.loads(line[len("RESULT "):])
    assert set(eval_result) == {"loss", "global_step"}
    # One pass over the 1500 training images in batches of 64.
    assert eval_result["global_step"] == math.ceil(1500 / 64)
    # GradientDescent at 1e-4 for 24 steps barely moves the loss: only below a 10-class
    # untrained bound is asserted (ln(10) = 2.30; the initial test loss is 2.3-2.6).
    assert eval_result["loss"] < 2.7
    # The program's PREDICT branch builds EstimatorSpec without mode (a TypeError under
    # tf.estimator too): the program never predicts.
