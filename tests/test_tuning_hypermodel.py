"""NumbersHyperModel: the search space it registers, the params of a trial, and a fit-mode sweep
with a real keras-tuner tuner."""

import json

import keras
import keras_tuner
import pytest

from keras_estimator.tuning import SEARCH_SPACE, NumbersHyperModel
from keras_estimator.tuning.hypermodel import SearchSpaceError, merge_search_space, objective_names

TINY_DATA = {"max_num": 10_000, "pool_size": 500, "eval_size": 64}
TINY_SPACE = {"model": "gru", "units": 8, "embedding_dim": 4, "layers": 1, "batch_size": [16, 32]}


def test_default_space_builds_a_compiled_model_named_after_the_targets():
    hypermodel = NumbersHyperModel({**TINY_DATA, "targets": ["parity", "value"]})
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert set(model.output_names) == {"parity", "value"}
    assert model.compiled and model.optimizer is not None
    assert set(hp.values) == set(SEARCH_SPACE)
    assert hp.values["model"] == "gru" and hp.values["batch_size"] == 32  # Choice defaults: first value.


def test_overrides_are_registered_with_their_bounds():
    overrides = {
        "dropout": 0,  # fixed
        "model": ["gru", "cnn"],  # choice
        "units": {"min": 8, "max": 32, "step": 8},  # int range
        "learning_rate": {"min": 1e-3, "max": 1e-2, "sampling": "log"},  # float log range
    }
    hp = keras_tuner.HyperParameters()
    NumbersHyperModel(TINY_DATA, overrides).params(hp)
    space = {p.name: p for p in hp.space}
    assert type(space["dropout"]).__name__ == "Fixed" and space["dropout"].value == 0.0
    assert type(space["model"]).__name__ == "Choice" and list(space["model"].values) == ["gru", "cnn"]
    units = space["units"]
    assert type(units).__name__ == "Int" and (units.min_value, units.max_value, units.step) == (8, 32, 8)
    lr = space["learning_rate"]
    assert type(lr).__name__ == "Float" and (lr.min_value, lr.max_value, lr.sampling) == (1e-3, 1e-2, "log")
    defaults = space["embedding_dim"]  # Not overridden: the default entry.
    assert list(defaults.values) == list(SEARCH_SPACE["embedding_dim"]["values"])


def test_params_are_the_data_params_plus_every_hyperparameter():
    hypermodel = NumbersHyperModel({**TINY_DATA, "targets": ("parity",), "kernel_size": 3}, TINY_SPACE)
    params = hypermodel.params(keras_tuner.HyperParameters())
    assert params == {**TINY_DATA, "targets": ["parity"], "kernel_size": 3, "model": "gru", "units": 8,
                      "embedding_dim": 4, "layers": 1, "batch_size": 16, "dropout": 0.0, "learning_rate": 1e-3}
    assert json.loads(json.dumps(params)) == params  # Usable as an hparams JSON as is.


def test_untunable_hypermodel_leaves_the_space_alone():
    hp = keras_tuner.HyperParameters()
    params = NumbersHyperModel(TINY_DATA, TINY_SPACE, tunable=False).params(hp)
    assert hp.space == [] and params["batch_size"] == 16


def test_bad_arguments_name_the_field():
    with pytest.raises(ValueError, match=r"data_params \['batch_size'\] are hyperparameters"):
        NumbersHyperModel({"batch_size": 64})
    with pytest.raises(ValueError, match=r"Unknown data_params \['colour'\]"):
        NumbersHyperModel({"colour": "red"})
    with pytest.raises(ValueError, match=r"params\['max_num'\]"):
        NumbersHyperModel({"max_num": 0})
    with pytest.raises(SearchSpaceError, match=r"search_space\['units'\] needs min below max") as caught:
        NumbersHyperModel(TINY_DATA, {"units": {"min": 32, "max": 8}})
    assert caught.value.key == "units"


def test_merge_keeps_the_default_space_and_replaces_whole_entries():
    merged = merge_search_space({"units": {"min": 8, "max": 64}})
    assert merged["units"] == {"type": "int", "min": 8, "max": 64}  # No step inherited from the default.
    assert merged["dropout"] == dict(SEARCH_SPACE["dropout"])
    with pytest.raises(TypeError):
        SEARCH_SPACE["units"]["min"] = 1  # The default space is read-only data.


def test_objective_names_follow_keras_naming():
    assert objective_names(["parity"]) == ["loss", "accuracy"]
    assert objective_names("value") == ["loss", "mae"]
    assert objective_names(["parity", "value"]) == ["loss", "parity_loss", "parity_accuracy", "value_loss", "value_mae"]


def test_fit_needs_exactly_one_step_budget_and_no_data():
    hypermodel = NumbersHyperModel(TINY_DATA, TINY_SPACE)
    hp = keras_tuner.HyperParameters()
    with pytest.raises(ValueError, match="exactly one of steps_per_trial and steps_per_epoch"):
        hypermodel.fit(hp, None)
    with pytest.raises(ValueError, match="exactly one"):
        hypermodel.fit(hp, None, steps_per_trial=4, steps_per_epoch=2)
    with pytest.raises(TypeError, match="reads its data from input_fn"):
        hypermodel.fit(hp, None, "x", steps_per_trial=4)
    with pytest.raises(ValueError, match=r"steps_per_trial must be an integer >= epochs \(3\)"):
        hypermodel.fit(hp, None, steps_per_trial=2, epochs=3)
    hp.Fixed("tuner/epochs", 2)
    with pytest.raises(ValueError, match="With Hyperband, pass steps_per_epoch"):
        hypermodel.fit(hp, None, steps_per_trial=6)


def test_fit_mode_sweep_with_random_search(tmp_path):
    tuner = keras_tuner.RandomSearch(
        NumbersHyperModel(TINY_DATA, TINY_SPACE),
        objective="val_accuracy", max_trials=2, directory=tmp_path, project_name="p", seed=0,
    )
    epochs_seen = []  # (trial's batches so far, logged keys) per epoch, through a user callback.
    batches = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batches.append(batch),
        on_epoch_end=lambda epoch, logs: epochs_seen.append((len(batches), sorted(logs))),
    )
    tuner.search(steps_per_trial=6, epochs=2, validation_steps=1, callbacks=[record])
    # 2 trials x 2 epochs of 6 // 2 = 3 steps, validated every epoch.
    assert [n for n, _ in epochs_seen] == [3, 6, 9, 12]
    assert all(keys == ["accuracy", "loss", "val_accuracy", "val_loss"] for _, keys in epochs_seen)
    trials = tuner.oracle.get_best_trials(num_trials=5)
    assert len(trials) == 2 and all(t.status == "COMPLETED" for t in trials)
    assert all(0.0 <= t.score <= 1.0 for t in trials)
    best = tuner.get_best_hyperparameters()[0]
    assert best.values["units"] == 8 and best.values["batch_size"] in (16, 32)
