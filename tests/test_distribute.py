"""Training under tf.distribute: MirroredStrategy on two logical CPUs equals one device.

The script runs in a fresh process: logical devices must be configured before TensorFlow
starts, and this test process has started it already.
"""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "distribute_script.py")


@pytest.fixture(scope="module")
def report():
    done = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["model_fn", "bridge"])
def test_two_replicas_on_a_global_batch_equal_one_device_on_that_batch(report, kind):
    """Per-replica batches of 32 on 2 replicas vs batches of 64 on one device, 6 Adam steps in
    two train calls (resumed from a checkpoint): the same weights, evaluation and predictions."""
    result = report[kind]
    assert result["global_steps"] == [6, 6] and result["checkpoint"].endswith("model.ckpt-6")
    assert result["max_weight_difference"] < 1e-5
    one, two = result["eval"]
    assert one["accuracy"] == two["accuracy"] and abs(one["loss"] - two["loss"]) < 1e-5
    assert abs(result["predictions"][0] - result["predictions"][1]) < 1e-5


def test_input_fn_gets_the_input_context(report):
    assert report["replicas_seen_by_input_fn"] == [2]
