"""The numbers Keras models: inputs, outputs, masking, and the Keras fit path."""

import numpy as np
import pytest

import keras_estimator as ke
from keras_estimator.numbers import input_fn
from keras_estimator.numbers.models import build_model

SMALL = {"max_num": 100_000, "pool_size": 2000, "eval_size": 64, "batch_size": 16, "units": 8, "embedding_dim": 4}


# Padding and batch co-members never changing a prediction is a property of every
# architecture: tests/properties/test_model_properties.py. Here, the Keras fit path.
@pytest.mark.parametrize("arch", ["gru", "cnn"])
def test_fit_path_trains_and_validates_every_target(arch):
    params = {**SMALL, "model": arch, "targets": ("parity", "magnitude", "value", "last_digit"), "dropout": 0.2}
    model = build_model(params)
    assert {t.name for t in model.inputs} == {"sequences", "lengths"}
    assert set(model.output_names) == {"parity", "magnitude", "value", "last_digit"}
    history = model.fit(input_fn(params), steps_per_epoch=3, epochs=1,
                        validation_data=input_fn(params, ke.ModeKeys.EVAL), verbose=0)
    assert "val_parity_accuracy" in history.history and "val_value_mae" in history.history
    assert all(np.isfinite(v[-1]) for v in history.history.values())


def test_bad_model_params_name_the_field():
    with pytest.raises(ValueError, match="Unknown model 'lstm'"):
        build_model({**SMALL, "model": "lstm"})
    with pytest.raises(ValueError, match=r"params\['units'\]"):
        build_model({**SMALL, "units": 0})
    with pytest.raises(ValueError, match=r"params\['dropout'\]"):
        build_model({**SMALL, "dropout": 1.5})
