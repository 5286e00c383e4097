"""Training under tf.distribute: MirroredStrategy on two logical CPUs equals one device.

The script runs in a fresh process: logical devices must be configured before TensorFlow
starts, and this test process has started it already.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "distribute_script.py")


@pytest.fixture(scope="module")
def report():
    done = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _same_results(one, two):
    assert one.keys() == two.keys()
    for key in one:
        assert one[key] == pytest.approx(two[key], abs=1e-5), key


@pytest.mark.parametrize("kind", ["model_fn", "bridge"])
def test_two_replicas_on_a_global_batch_equal_one_device_on_that_batch(report, kind):
    """Per-replica batches of 32 on 2 replicas (train_distribute and eval_distribute) vs batches
    of 64 on one device, 6 Adam steps in two train calls (resumed from a checkpoint): the same
    weights; evaluation and predictions of 552 examples (the last step gives one replica 32,
    the other 8) the same, metrics summed over replicas (`examples` counts every one)."""
    result = report[kind]
    assert result["global_steps"] == [6, 6] and result["checkpoint"].endswith("model.ckpt-6")
    assert result["max_weight_difference"] < 1e-5
    one, two = result["eval"]
    _same_results(one, two)
    if kind == "model_fn":
        assert one["examples"] == two["examples"] == 552
    first, second = result["predictions"]
    assert len(first) == len(second) == 552  # In the input's order.
    np.testing.assert_allclose(first, second, rtol=0, atol=1e-5)


def test_eval_distribute_alone_with_tf1_metrics_equals_one_device(report):
    """Variables built on one device, evaluate and predict on two replicas; tf.compat.v1.metrics
    (value, update_op) tuples are accumulated over both."""
    result = report["eval_distribute_alone"]
    _same_results(*result["eval"])
    first, second = result["predictions"]
    assert len(first) == len(second) == 552
    np.testing.assert_allclose(first, second, rtol=0, atol=1e-5)


def test_input_fn_gets_the_input_context(report):
    assert report["replicas_seen_by_input_fn"] == [2]


def test_eval_distribute_that_cannot_run_is_refused_when_the_estimator_is_made(report):
    other_object, not_mirrored = report["refused"]
    assert other_object.startswith("eval_distribute must be the same strategy object as train_distribute")
    assert not_mirrored.startswith("eval_distribute must be a MirroredStrategy")
    assert "CentralStorageStrategy" in not_mirrored
