"""RunConfig: tf.estimator defaults, validation of every field, immutability and replace()."""

import dataclasses

import pytest

from keras_estimator import RunConfig


# --- defaults -----------------------------------------------------------------------------


def test_defaults_match_tf_estimator():
    config = RunConfig()
    assert config.model_dir is None
    assert config.tf_random_seed is None
    assert config.save_summary_steps == 100
    assert config.save_checkpoints_steps is None
    assert config.save_checkpoints_secs == 600
    assert config.keep_checkpoint_max == 5
    assert config.keep_checkpoint_every_n_hours == 10000
    assert config.log_step_count_steps == 100
    assert config.steps_per_loop == 100
    assert config.jit_compile is False  # XLA is opt-in.


def test_save_checkpoints_steps_given_leaves_secs_unset():
    config = RunConfig(save_checkpoints_steps=50)
    assert config.save_checkpoints_steps == 50
    assert config.save_checkpoints_secs is None


def test_save_checkpoints_secs_given():
    config = RunConfig(save_checkpoints_secs=30)
    assert config.save_checkpoints_secs == 30
    assert config.save_checkpoints_steps is None


def test_explicit_values_kept(tmp_path):
    config = RunConfig(
        model_dir=str(tmp_path / "model"),
        tf_random_seed=0,
        save_summary_steps=0,
        save_checkpoints_secs=1.5,
        keep_checkpoint_max=0,
        keep_checkpoint_every_n_hours=0.5,
        log_step_count_steps=None,
        steps_per_loop=1,
    )
    assert config.model_dir == str(tmp_path / "model")
    assert config.tf_random_seed == 0
    assert config.save_summary_steps == 0
    assert config.save_checkpoints_secs == 1.5
    assert config.keep_checkpoint_max == 0
    assert config.keep_checkpoint_every_n_hours == 0.5
    assert config.log_step_count_steps is None
    assert config.steps_per_loop == 1


def test_model_dir_path_converted_to_str(tmp_path):
    config = RunConfig(model_dir=tmp_path / "model")
    assert config.model_dir == str(tmp_path / "model")
    assert isinstance(config.model_dir, str)


def test_optional_counts_accept_none():
    config = RunConfig(save_summary_steps=None, keep_checkpoint_max=None, log_step_count_steps=None)
    assert config.save_summary_steps is None
    assert config.keep_checkpoint_max is None
    assert config.log_step_count_steps is None


def test_equal_configs_compare_equal():
    assert RunConfig(save_checkpoints_steps=10) == RunConfig(save_checkpoints_steps=10)
    assert RunConfig(save_checkpoints_steps=10) != RunConfig(save_checkpoints_steps=20)


# --- validation ---------------------------------------------------------------------------


def test_both_checkpoint_cadences_raise():
    with pytest.raises(ValueError, match="both save_checkpoints_steps and save_checkpoints_secs"):
        RunConfig(save_checkpoints_steps=10, save_checkpoints_secs=60)


@pytest.mark.parametrize(
    "field, value",
    [
        # negative counts
        ("tf_random_seed", -1),
        ("save_summary_steps", -1),
        ("save_checkpoints_steps", -5),
        ("keep_checkpoint_max", -1),
        ("log_step_count_steps", -100),
        ("steps_per_loop", -1),
        # zero where a positive count is needed
        ("save_checkpoints_steps", 0),
        ("steps_per_loop", 0),
        # bools are not counts
        ("tf_random_seed", True),
        ("save_summary_steps", True),
        ("save_checkpoints_steps", True),
        ("keep_checkpoint_max", False),
        ("log_step_count_steps", True),
        ("steps_per_loop", True),
        # wrong types
        ("tf_random_seed", 1.5),
        ("save_summary_steps", "100"),
        ("save_checkpoints_steps", 10.0),
        ("keep_checkpoint_max", "5"),
        ("log_step_count_steps", 100.0),
        ("steps_per_loop", None),
        ("steps_per_loop", "10"),
    ],
)
def test_invalid_integer_fields_raise_naming_field(field, value):
    with pytest.raises(ValueError, match=rf"^{field} must be an integer"):
        RunConfig(**{field: value})


@pytest.mark.parametrize("value", [0, -1, -0.5, "600", [600], float("nan")])
def test_invalid_save_checkpoints_secs_raise_naming_field(value):
    with pytest.raises(ValueError, match="save_checkpoints_secs must be a positive number"):
        RunConfig(save_checkpoints_secs=value)


@pytest.mark.parametrize("value", [0, -1, None, "1"])
def test_invalid_keep_checkpoint_every_n_hours_raise_naming_field(value):
    with pytest.raises(ValueError, match="keep_checkpoint_every_n_hours must be a positive number"):
        RunConfig(keep_checkpoint_every_n_hours=value)


@pytest.mark.parametrize("field", ["save_checkpoints_secs", "keep_checkpoint_every_n_hours"])
def test_bool_rejected_for_float_fields(field):
    with pytest.raises(ValueError, match=field):
        RunConfig(**{field: True})


# --- immutability -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["model_dir", "save_checkpoints_steps", "steps_per_loop"])
def test_assigning_an_attribute_raises(field):
    config = RunConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(config, field, 1)


def test_config_is_hashable():
    assert hash(RunConfig()) == hash(RunConfig())


# --- replace ------------------------------------------------------------------------------


def test_replace_returns_new_config_and_leaves_original(tmp_path):
    # Paths of this test's own: a machine's /tmp/a may be anything (it was a file on CI).
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    original = RunConfig(model_dir=a, save_summary_steps=10)
    new = original.replace(model_dir=b, keep_checkpoint_max=2)
    assert new is not original
    assert new.model_dir == b
    assert new.keep_checkpoint_max == 2
    assert new.save_summary_steps == 10  # untouched fields carried over
    assert original.model_dir == a
    assert original.keep_checkpoint_max == 5


def test_replace_with_no_arguments_gives_equal_copy():
    original = RunConfig(save_checkpoints_steps=7)
    assert original.replace() == original


def test_replace_rejects_unknown_fields_naming_them():
    with pytest.raises(ValueError, match=r"no field\(s\) \['bogus', 'save_steps'\]"):
        RunConfig().replace(save_steps=10, bogus=1)


def test_replace_steps_on_default_config_clears_default_secs():
    config = RunConfig().replace(save_checkpoints_steps=10)
    assert config.save_checkpoints_steps == 10
    assert config.save_checkpoints_secs is None


def test_replace_secs_on_steps_config_clears_steps():
    config = RunConfig(save_checkpoints_steps=10).replace(save_checkpoints_secs=30)
    assert config.save_checkpoints_secs == 30
    assert config.save_checkpoints_steps is None


def test_replace_steps_to_none_restores_default_secs():
    config = RunConfig(save_checkpoints_steps=10).replace(save_checkpoints_steps=None)
    assert config.save_checkpoints_steps is None
    assert config.save_checkpoints_secs == 600


def test_replace_both_cadences_raises():
    with pytest.raises(ValueError, match="both save_checkpoints_steps and save_checkpoints_secs"):
        RunConfig().replace(save_checkpoints_steps=10, save_checkpoints_secs=60)


@pytest.mark.parametrize(
    "field, value",
    [("steps_per_loop", 0), ("save_checkpoints_steps", -1), ("keep_checkpoint_max", True)],
)
def test_replace_validates_new_values(field, value):
    original = RunConfig()
    with pytest.raises(ValueError, match=field):
        original.replace(**{field: value})
    assert original == RunConfig()


@pytest.mark.parametrize("value", [1, "yes", None])
def test_jit_compile_must_be_a_bool(value):
    with pytest.raises(ValueError, match="jit_compile must be True or False"):
        RunConfig(jit_compile=value)


# --- tf.estimator's TF1-only arguments ----------------------------------------------------


@pytest.fixture
def fresh_warnings(monkeypatch):
    from keras_estimator import run_config

    monkeypatch.setattr(run_config, "_warned", set())


def test_session_config_is_stored_and_warned_about_once(fresh_warnings, caplog):
    import tensorflow as tf

    session_config = tf.compat.v1.ConfigProto(allow_soft_placement=True)
    with caplog.at_level("WARNING", logger="keras_estimator"):
        config = RunConfig(session_config=session_config)
        copy = config.replace(save_checkpoints_steps=5)
        RunConfig(session_config=session_config)
    assert config.session_config is session_config and copy.session_config is session_config
    warnings = [r.getMessage() for r in caplog.records if "session_config" in r.getMessage()]
    assert len(warnings) == 1
    assert "has no effect" in warnings[0] and "tf.config" in warnings[0]
    assert config == RunConfig() and hash(config) == hash(RunConfig())  # Not compared: no effect.


def test_other_tf1_arguments_read_back_and_warn_only_off_their_defaults(fresh_warnings, caplog):
    with caplog.at_level("WARNING", logger="keras_estimator"):
        defaults = RunConfig()
        assert (defaults.session_config, defaults.device_fn, defaults.protocol) == (None, None, None)
        assert defaults.experimental_max_worker_delay_secs is None
        assert defaults.session_creation_timeout_secs == 7200 and defaults.checkpoint_save_graph_def is True
        assert caplog.records == []
        config = RunConfig(device_fn=lambda op: "/cpu:0", protocol="grpc", experimental_max_worker_delay_secs=5,
                           session_creation_timeout_secs=60, checkpoint_save_graph_def=False)
    assert config.protocol == "grpc" and config.session_creation_timeout_secs == 60
    warned = sorted(r.getMessage().split("=")[0] for r in caplog.records)
    assert warned == ["RunConfig(checkpoint_save_graph_def", "RunConfig(device_fn",
                      "RunConfig(experimental_max_worker_delay_secs", "RunConfig(protocol",
                      "RunConfig(session_creation_timeout_secs"]


@pytest.mark.parametrize("field, value, message", [
    ("session_config", {"allow_soft_placement": True}, "session_config must be a tf.compat.v1.ConfigProto"),
    ("device_fn", "/cpu:0", "device_fn must be callable"),
    ("protocol", 1, "protocol must be a string"),
    ("experimental_max_worker_delay_secs", -1, "experimental_max_worker_delay_secs must be an integer"),
    ("session_creation_timeout_secs", 0, "session_creation_timeout_secs must be an integer >= 1"),
    ("checkpoint_save_graph_def", 1, "checkpoint_save_graph_def must be True or False"),
])
def test_bad_tf1_arguments_raise_naming_them(field, value, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**{field: value})
