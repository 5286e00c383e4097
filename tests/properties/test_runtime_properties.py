"""Property: splitting training into several `train` calls changes nothing.

For any split of N training steps into several `train` calls (by `steps` or cumulative
`max_steps`, with any `steps_per_loop`, the same or a new Estimator over the same model_dir), the
final global step is N and every saved variable (weights, Adam slots and iterations) equals one
call of N steps with one step per loop. Each batch is a function of `get_global_step()` read inside
model_fn, so this also guards that the step seen by model_fn is the step actually running, also
when several steps run in one `tf.function` call.
"""

import os
import shutil
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from tensorflow.python.framework import config as tf_config
from tensorflow.python.ops import control_flow_util_v2

import keras_estimator as ke

SEED = 7
BATCH, FEATURES = 8, 4
LOOPS = (1, 2, 3, 5, 100)
MAX_N = 12
STEP_KEY = "global_step/.ATTRIBUTES/VARIABLE_VALUE"


@pytest.fixture(autouse=True, scope="module")
def op_determinism():
    """Deterministic ops while this module runs. Process-wide, and pytest imports every test
    module before running any, so it is switched on here and back off after, not at import."""
    was_enabled = tf_config.is_op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    yield
    if not was_enabled:
        tf_config.disable_op_determinism()


def _batch(step):
    """The training batch of global step `step`: the same whichever call runs that step."""
    seed = tf.stack([tf.cast(step, tf.int64), tf.constant(0, tf.int64)])
    x = tf.random.stateless_normal([BATCH, FEATURES], seed=seed)
    y = tf.cast(x[:, 0] + 0.5 * x[:, 1] > 0, tf.float32)
    return x, y


def _train_spec(x, y, mode):
    assert mode == ke.ModeKeys.TRAIN
    logits = keras.layers.Dense(1)(x)[:, 0]
    loss = tf.reduce_mean(keras.losses.binary_crossentropy(y, logits, from_logits=True))
    return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.Adam(0.05)))


def step_batch_model_fn(features, labels, mode):
    """Trains on the batch of the step running (ignores the dummy input)."""
    return _train_spec(*_batch(ke.get_global_step()), mode)


def _outside_control_flow():
    """The graph of the enclosing `tf.function` itself, outside its loop and cond bodies."""
    graph = tf.compat.v1.get_default_graph()
    while isinstance(graph, (control_flow_util_v2.WhileBodyFuncGraph, control_flow_util_v2.WhileCondFuncGraph,
                             control_flow_util_v2.CondBranchFuncGraph)):
        graph = graph.outer_graph
    return graph


def stale_step_model_fn(features, labels, mode):
    """Mutant: reads the global step once per `tf.function` call (before the steps loop), so
    every step of a multi-step loop trains on the batch of the loop's first step."""
    with _outside_control_flow().as_default():
        step = tf.identity(ke.get_global_step().read_value())
    return _train_spec(*_batch(step), mode)


def _input_fn():
    return tf.data.Dataset.from_tensors(({"x": tf.zeros([1, FEATURES])}, tf.zeros([1]))).repeat()


def _estimator(model_fn, model_dir, steps_per_loop):
    config = ke.RunConfig(
        tf_random_seed=SEED, steps_per_loop=steps_per_loop, log_step_count_steps=None, save_summary_steps=None
    )
    return ke.Estimator(model_fn, model_dir, config)


def _saved(path):
    """{checkpoint key: value} of the global step and every model_fn variable (weights, Adam
    slots and iterations) in the checkpoint at path; not the checkpoint's own save_counter."""
    reader = tf.train.load_checkpoint(path)
    keys = reader.get_variable_to_shape_map()
    return {k: reader.get_tensor(k) for k in keys if k == STEP_KEY or k.startswith("variables/")}


_REFERENCE = {}  # model_fn -> {n: saved values after step n of one uninterrupted call}.


def _reference(model_fn, n):
    """The state after n steps of one `train` call with one step per loop. One call of MAX_N
    steps saving every step gives every n at the cost of one trace (tracing dominates)."""
    if model_fn not in _REFERENCE:
        model_dir = tempfile.mkdtemp(prefix="ke_reference_")
        try:
            config = ke.RunConfig(
                tf_random_seed=SEED, steps_per_loop=1, save_checkpoints_steps=1, keep_checkpoint_max=None,
                log_step_count_steps=None, save_summary_steps=None,
            )
            ke.Estimator(model_fn, model_dir, config).train(_input_fn, steps=MAX_N)
            _REFERENCE[model_fn] = {i: _saved(os.path.join(model_dir, f"model.ckpt-{i}")) for i in range(1, MAX_N + 1)}
        finally:
            shutil.rmtree(model_dir, ignore_errors=True)
    return _REFERENCE[model_fn][n]


def check_split_training(model_fn, n, parts, loops, new_estimator=None, by_max_steps=None):
    """Trains n steps as len(parts) `train` calls, call i running parts[i] steps with
    steps_per_loop loops[i] (by `steps`, or by cumulative `max_steps` where by_max_steps[i]; a new
    Estimator on the same model_dir where new_estimator[i] or steps_per_loop changes), then checks
    the latest checkpoint is at step n and equals the one-call reference exactly."""
    assert sum(parts) == n and len(loops) == len(parts)
    new_estimator = new_estimator or [False] * len(parts)
    by_max_steps = by_max_steps or [False] * len(parts)
    expected = _reference(model_fn, n)
    model_dir = tempfile.mkdtemp(prefix="ke_split_")
    try:
        est, done = None, 0
        for part, loop, new, absolute in zip(parts, loops, new_estimator, by_max_steps):
            if est is None or new or est.config.steps_per_loop != loop:
                est = _estimator(model_fn, model_dir, loop)
            done += part
            if absolute:
                est.train(_input_fn, max_steps=done)
            else:
                est.train(_input_fn, steps=part)
        path = tf.train.latest_checkpoint(model_dir)
        got = _saved(path)
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)
    assert path.endswith(f"model.ckpt-{n}"), path
    assert got[STEP_KEY] == n
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        # Exact (bitwise) equality holds: the same ops run on the same values in the same order.
        np.testing.assert_array_equal(got[key], value, err_msg=f"{key} differs from one uninterrupted call")


@st.composite
def splits(draw):
    """(n, parts, loops, new_estimator, by_max_steps): n in [1, MAX_N] split into 1..4 calls, each
    with its steps_per_loop, whether it gets a new Estimator and whether it passes max_steps."""
    n = draw(st.integers(1, MAX_N))
    cuts = draw(st.lists(st.integers(1, n - 1), unique=True, max_size=min(3, n - 1))) if n > 1 else []
    bounds = [0, *sorted(cuts), n]
    parts = [b - a for a, b in zip(bounds, bounds[1:])]
    k = len(parts)
    loops = draw(st.lists(st.sampled_from(LOOPS), min_size=k, max_size=k))
    new_estimator = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    by_max_steps = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    return n, parts, loops, new_estimator, by_max_steps


@given(splits())
@example((2, [2], [2], [False], [False]))  # The mutant's shrunk counterexample: 2 steps in one loop.
def test_split_training_equals_one_call(split):
    """N steps in several train calls (any steps_per_loop, resumed or not) == one call of N."""
    n, parts, loops, new_estimator, by_max_steps = split
    check_split_training(step_batch_model_fn, n, parts, loops, new_estimator, by_max_steps)


def test_split_property_catches_a_step_read_once_per_loop():
    """The property fails for a model_fn that sees the step once per tf.function call."""

    # No shrinking (minutes at ~1 s per example): any failure is the point here.
    @settings(max_examples=30, derandomize=True, database=None, deadline=None, phases=[Phase.generate])
    @given(splits())
    def prop(split):
        n, parts, loops, new_estimator, by_max_steps = split
        check_split_training(stale_step_model_fn, n, parts, loops, new_estimator, by_max_steps)

    with pytest.raises(AssertionError, match="differs from one uninterrupted call"):
        prop()
