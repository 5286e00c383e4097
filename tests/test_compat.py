"""`_compat` on the installed Keras and TensorFlow: each private API still does what we rely on.

A failure here after an upgrade names the function to port, instead of a checkpoint that
no longer resumes or a loss off by the number of replicas.
"""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import tensorflow as tf

from keras_estimator import _compat


def _number(name: str) -> int:
    return int(name.rpartition("_")[2]) if "_" in name else 0


def test_fresh_keras_naming_restarts_auto_names_and_restores_them():
    before = keras.layers.Dense(1).name  # Whatever came before in this process.
    with _compat.fresh_keras_naming():
        assert [keras.layers.Dense(1).name, keras.layers.Dense(1).name] == ["dense", "dense_1"]
    with _compat.fresh_keras_naming():
        assert keras.layers.Dense(1).name == "dense"
    assert _number(keras.layers.Dense(1).name) == _number(before) + 1  # Counting goes on.


def test_fresh_keras_naming_starts_outside_any_name_scope_and_restores_it():
    with keras.name_scope("outer"):
        with _compat.fresh_keras_naming():
            assert _compat.keras_name_scope_path() == ""
        assert _compat.keras_name_scope_path() == "outer"


def test_name_scope_path_and_stack():
    assert _compat.keras_name_scope_path() == ""
    assert _compat.keras_name_scope_stack() == []
    with keras.name_scope("a"), keras.name_scope("b"):
        assert _compat.keras_name_scope_path() == "a/b"
        assert [s.name for s in _compat.keras_name_scope_stack()] == ["a", "b"]


def test_a_metric_creates_its_variables_in_a_scope_whose_caller_is_the_metric():
    callers = []

    def creator(next_creator, **kwargs):
        callers.append([getattr(s, "caller", None) for s in _compat.keras_name_scope_stack()])
        return next_creator(**kwargs)

    with tf.variable_creator_scope(creator):
        metric = keras.metrics.Mean()
    assert callers and all(metric in stack for stack in callers)


def test_a_layer_variable_path_is_the_scope_path_and_the_variable_name():
    paths = []

    def creator(next_creator, **kwargs):
        paths.append(f"{_compat.keras_name_scope_path()}/{kwargs['name']}")
        return next_creator(**kwargs)

    with _compat.fresh_keras_naming(), tf.variable_creator_scope(creator):
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
    assert sorted(paths) == sorted(v.path for v in layer.weights) == ["dense/bias", "dense/kernel"]


def test_backing_variable_is_the_wrapped_tf_variable():
    variable = keras.Variable(np.ones(2, "float32"))
    backing = _compat.backing_variable(variable)
    assert isinstance(backing, tf.Variable) and backing is not variable
    variable.assign([3.0, 4.0])
    assert backing.numpy().tolist() == [3.0, 4.0]
    plain = tf.Variable(1.0)
    assert _compat.backing_variable(plain) is plain


def _functional():
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    return keras.Model({"a": a, "b": b}, keras.layers.Dense(1)(keras.layers.Concatenate()([a, b])))


def test_functional_of_a_sequential_is_its_inner_functional():
    sequential = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="out")])
    inner = _compat.functional_of(sequential)
    assert inner is not sequential and isinstance(inner, keras.Model)
    assert inner.output_names == ["out"]
    functional = _functional()
    assert _compat.functional_of(functional) is functional


def test_inputs_struct_keeps_the_structure_the_model_was_built_on():
    assert sorted(_compat.inputs_struct(_functional())) == ["a", "b"]
    x = keras.Input((2,), name="x")
    listed = keras.Model([x], keras.layers.Dense(1)(x))
    assert isinstance(_compat.inputs_struct(listed), list)
    sequential = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    single = _compat.inputs_struct(sequential)
    assert not isinstance(single, (dict, list, tuple)) and tuple(single.shape) == (None, 4)
    assert _compat.inputs_struct(keras.Sequential([keras.layers.Dense(1)])) is None


def test_unscale_loss_for_distribution_without_a_strategy_or_with_one_replica():
    loss = tf.constant(2.5)
    assert float(_compat.unscale_loss_for_distribution(loss)) == 2.5
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        assert float(_compat.unscale_loss_for_distribution(loss)) == 2.5


def test_unscale_loss_for_distribution_multiplies_by_the_replicas():
    # Two logical CPUs must be configured before TensorFlow starts: a fresh process.
    code = textwrap.dedent("""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from keras_estimator import _compat
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        values = strategy.run(lambda: _compat.unscale_loss_for_distribution(tf.constant(1.5)))
        print(sorted(float(v) for v in strategy.experimental_local_results(values)))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.stdout.strip().splitlines()[-1:] == ["[3.0, 3.0]"], done.stderr[-2000:]


def test_write_checkpoint_state_writes_relative_paths_and_timestamps(tmp_path):
    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
    paths = [checkpoint.write(str(tmp_path / f"model.ckpt-{step}")) for step in (1, 2)]
    _compat.write_checkpoint_state(str(tmp_path), paths[-1], paths, [10.0, 20.0], 5.0)
    text = (tmp_path / "checkpoint").read_text()
    assert str(tmp_path) not in text and 'model_checkpoint_path: "model.ckpt-2"' in text
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert list(state.all_model_checkpoint_paths) == paths
    assert list(state.all_model_checkpoint_timestamps) == [10.0, 20.0]
    assert state.last_preserved_timestamp == 5.0
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]
    assert not [p for p in os.listdir(tmp_path) if "tmp" in p]  # Written atomically, no leftovers.


def test_clone_lambda_keeps_the_function_output_shape_mask_and_arguments():
    def shape(s):
        return s[:-1] + (1,)

    layer = keras.layers.Lambda(lambda x, k: tf.reduce_sum(x, -1, keepdims=True) * k, output_shape=shape,
                                mask=lambda x, m: None, arguments={"k": 2.0}, name="sum2", dtype="float64")
    clone = _compat.clone_lambda(layer)
    assert clone is not layer and clone.function is layer.function and clone.mask is layer.mask
    assert (clone.name, clone.dtype, clone.arguments) == ("sum2", "float64", {"k": 2.0})
    assert clone.compute_output_shape((None, 3)) == (None, 1)
    np.testing.assert_allclose(clone(np.ones((2, 3))), [[6.0], [6.0]])
