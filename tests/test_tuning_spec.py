"""Sweep specs: TOML parsing, defaults, and errors that name the offending field."""

import textwrap

import pytest

from keras_estimator.tuning import SpecError, SweepSpec, load_spec

FULL = """
[sweep]
name = "parity-en"
mode = "fit"
oracle = "hyperband"
max_trials = 2
steps_per_trial = 90
hyperband_factor = 2
max_epochs = 3
objective = "parity_accuracy"
seed = 7
eval_steps = 4

[data]
lang = "en"
targets = ["parity", "value"]
max_num = 10000
eval_size = 64
pool_size = 500

[search_space]
model = ["gru", "cnn"]
units = {min = 16, max = 64, step = 16}
learning_rate = {min = 1e-3, max = 1e-2, sampling = "log"}
dropout = 0
batch_size = [32, 64]
"""


def write(tmp_path, text, name="sweep.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_full_spec_loads_with_normalised_values(tmp_path):
    spec = load_spec(write(tmp_path, FULL))
    assert (spec.name, spec.mode, spec.oracle) == ("parity-en", "fit", "hyperband")
    assert (spec.max_trials, spec.steps_per_trial) == (2, 90)
    assert (spec.hyperband_factor, spec.max_epochs, spec.seed, spec.eval_steps) == (2, 3, 7, 4)
    assert (spec.objective, spec.direction) == ("parity_accuracy", "max")
    assert spec.data == {
        "lang": "en", "targets": ["parity", "value"], "max_num": 10000, "eval_size": 64, "pool_size": 500,
    }
    assert spec.search_space == {
        "model": ["gru", "cnn"],
        "units": {"min": 16, "max": 64, "step": 16},
        "learning_rate": {"min": 1e-3, "max": 1e-2, "sampling": "log"},
        "dropout": 0.0,  # An int for a float hyperparameter becomes a float.
        "batch_size": [32, 64],
    }
    assert isinstance(spec.search_space["dropout"], float)
    assert spec.source == str(tmp_path / "sweep.toml")
    assert SweepSpec.from_dict(spec.to_dict()) == spec  # Round trip; source is not compared.


def test_empty_file_gives_defaults_and_the_file_stem_as_name(tmp_path):
    spec = load_spec(write(tmp_path, "", name="parity_en.toml"))
    assert spec == SweepSpec(name="parity_en")
    assert (spec.mode, spec.oracle, spec.max_trials, spec.steps_per_trial) == ("estimator", "random", 4, 300)
    assert (spec.hyperband_factor, spec.max_epochs, spec.objective, spec.direction) == (3, 3, "accuracy", "max")
    assert (spec.seed, spec.eval_steps, spec.data, spec.search_space) == (0, None, {}, {})
    assert "eval_steps" not in spec.to_dict()["sweep"]


@pytest.mark.parametrize("objective, targets, direction", [
    ("loss", ["parity"], "min"),
    ("mae", ["value"], "min"),
    ("value_mae", ["parity", "value"], "min"),
    ("parity_loss", ["parity", "value"], "min"),
    ("accuracy", ["magnitude"], "max"),
])
def test_direction_defaults_from_the_objective(objective, targets, direction):
    sweep = {"name": "s", "objective": objective}
    assert SweepSpec.from_dict({"sweep": sweep, "data": {"targets": targets}}).direction == direction
    explicit = SweepSpec.from_dict({"sweep": {**sweep, "direction": "min"}, "data": {"targets": targets}})
    assert explicit.direction == "min"


def test_targets_string_is_stored_as_a_list():
    spec = SweepSpec.from_dict({"sweep": {"name": "s", "objective": "loss"}, "data": {"targets": "parity, value"}})
    assert spec.data["targets"] == ["parity", "value"]


def space(key, value):
    return {"search_space": {key: value}}


# (document, field the message must name, words it must contain).
INVALID = [
    ({"sweeps": {}}, "[sweeps]", "allowed: [sweep], [data], [search_space]"),
    ({"sweep": {"orcale": "random"}}, "[sweep].orcale", "allowed: name, mode, oracle"),
    ({"sweep": {"oracle": "grid"}}, "[sweep].oracle", "must be one of random, bayesian, hyperband; got 'grid'"),
    ({"sweep": {"mode": "keras"}}, "[sweep].mode", "must be one of estimator, fit"),
    ({"sweep": {"max_trials": 0}}, "[sweep].max_trials", "integer >= 1; got 0"),
    ({"sweep": {"steps_per_trial": "300"}}, "[sweep].steps_per_trial", "got '300'"),
    ({"sweep": {"max_trials": True}}, "[sweep].max_trials", "got True"),
    ({"sweep": {"hyperband_factor": 1}}, "[sweep].hyperband_factor", ">= 2"),
    ({"sweep": {"eval_steps": 0}}, "[sweep].eval_steps", ">= 1"),
    ({"sweep": {"direction": "up"}}, "[sweep].direction", "one of max, min"),
    ({"sweep": {"name": "a/b"}}, "[sweep].name", "'a/b'"),
    ({"sweep": {"oracle": "hyperband", "steps_per_trial": 2, "max_epochs": 3}}, "[sweep].steps_per_trial",
     "must be at least [sweep].max_epochs (3)"),
    ({"sweep": {"objective": "parity_accuracy"}}, "[sweep].objective", "loss, accuracy"),
    ({"data": {"targets": ["parity", "value"]}}, "[sweep].objective", "parity_accuracy"),
    ({"sweep": 3}, "[sweep]", "must be a table"),
    ({"data": {"batch_size": 64}}, "[data].batch_size", "hyperparameter"),
    ({"data": {"langauge": "en"}}, "[data].langauge", "allowed: lang, max_num"),
    ({"data": {"targets": ["parity", "colour"]}}, "[data].targets", "colour"),
    ({"data": {"max_num": 0}}, "[data].max_num", "positive integer"),
    ({"data": {"eval_size": 100, "max_num": 50}}, "[data].eval_size", "below max_num"),
    ({"data": {"lang": "xx"}}, "[data].lang", "num2words"),
    ({"data": {"seed": -1}}, "[data].seed", ">= 0"),
    (space("kernel", 3), "[search_space].kernel", "choose from model, embedding_dim"),
    (space("units", {"min": 64, "max": 16}), "[search_space].units", "needs min below max; got min = 64, max = 16"),
    (space("units", {"min": 16, "max": 16}), "[search_space].units", "min below max"),
    (space("dropout", {"min": 0.0, "max": 0.5, "sampling": "log"}), "[search_space].dropout", "needs min > 0 for sampling = 'log'"),
    (space("learning_rate", {"min": 0.0, "max": 0.1, "sampling": "log"}), "[search_space].learning_rate", "takes numbers > 0; got 0.0"),
    (space("learning_rate", {"min": 1e-3, "max": 0.1, "sampling": "cubic"}), "[search_space].learning_rate", "has sampling 'cubic'; choose linear or log"),
    (space("units", {"min": 16, "max": 64, "stpe": 16}), "[search_space].units", "unknown key(s) stpe"),
    (space("units", {"min": 16, "max": 64, "step": 2, "sampling": "log"}), "[search_space].units", "cannot combine step"),
    (space("units", {"min": 16.5, "max": 64}), "[search_space].units", "takes positive integers; got 16.5"),
    (space("units", {"min": 16, "max": 64, "step": 0}), "[search_space].units", "positive integer step; got step = 0"),
    (space("units", "many"), "[search_space].units", "got 'many'"),
    (space("model", ["gru", "lstm"]), "[search_space].model", "takes one of gru, bigru, cnn; got 'lstm'"),
    (space("model", {"min": 1, "max": 2}), "[search_space].model", "not a {min, max} table"),
    (space("dropout", 1.0), "[search_space].dropout", "takes numbers in [0, 1); got 1.0"),
    (space("batch_size", [32, 0]), "[search_space].batch_size", "takes positive integers; got 0"),
    (space("batch_size", []), "[search_space].batch_size", "has an empty list"),
    (space("layers", [1, 1]), "[search_space].layers", "repeats"),
]


@pytest.mark.parametrize("document, field, words", INVALID, ids=[f"{i}:{c[1]}" for i, c in enumerate(INVALID)])
def test_invalid_spec_names_the_field(document, field, words):
    with pytest.raises(SpecError) as caught:
        SweepSpec.from_dict(document, source="tuning/s.toml")
    message = str(caught.value)
    assert message.startswith(f"tuning/s.toml: {field} "), message
    assert words in message, message
    assert caught.value.field == field


def test_errors_read_as_the_issue_shows_them(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(write(tmp_path, '[sweep]\noracle = "grid"\n', name="parity_en.toml"))
    expected = "[sweep].oracle must be one of random, bayesian, hyperband; got 'grid'"
    assert str(caught.value) == f"{tmp_path / 'parity_en.toml'}: {expected}"


def test_unknown_keys_are_all_named(tmp_path):
    with pytest.raises(SpecError, match=r"\[sweep\]\.foo, \[sweep\]\.bar are not known keys; allowed: name, mode"):
        load_spec(write(tmp_path, "[sweep]\nfoo = 1\nbar = 2\n"))


def test_invalid_toml_names_the_file_and_the_parse_error(tmp_path):
    path = write(tmp_path, "[sweep]\nmax_trials = = 3\n")
    with pytest.raises(SpecError, match=r"sweep\.toml: invalid TOML: .*line 2"):
        load_spec(path)


def test_missing_file(tmp_path):
    with pytest.raises(SpecError, match=r"nope\.toml: spec file not found"):
        load_spec(tmp_path / "nope.toml")


def test_name_is_required_without_a_file():
    with pytest.raises(SpecError, match=r"^\[sweep\]\.name is required"):
        SweepSpec.from_dict({})


def test_direct_construction_is_checked_too():
    with pytest.raises(SpecError, match=r"^\[sweep\]\.max_trials must be an integer >= 1; got 0$"):
        SweepSpec(name="s", max_trials=0)
