"""fn_args: inspecting and calling user functions (model_fn, input_fn) by argument name."""

import functools

import pytest

from keras_estimator.fn_args import INPUT_FN_ARGS, MODEL_FN_ARGS, call, check_args, fn_args

AVAILABLE = {"features": "F", "labels": "L", "mode": "train", "params": {"p": 1}, "config": "C"}


def model_fn(features, labels, mode):
    return (features, labels, mode)


def test_fn_args_lists_named_parameters():
    def fn(a, b=1, *args, c, **kwargs):
        pass

    assert fn_args(fn) == (("a", "b", "c"), True)
    assert fn_args(model_fn) == (("features", "labels", "mode"), False)


def test_check_args_returns_names_for_valid_fn():
    assert check_args(model_fn, "model_fn", MODEL_FN_ARGS, required=("features",)) == (
        "features",
        "labels",
        "mode",
    )


def test_check_args_rejects_unexpected_args_naming_them():
    def bad_model_fn(features, labels, mode, batch_size):
        pass

    with pytest.raises(ValueError, match="has following not expected args") as info:
        check_args(bad_model_fn, "model_fn", MODEL_FN_ARGS)
    assert "batch_size" in str(info.value)
    assert "model_fn" in str(info.value)


def test_check_args_rejects_missing_required_args():
    def no_features(labels, mode):
        pass

    with pytest.raises(ValueError, match="must take argument") as info:
        check_args(no_features, "model_fn", MODEL_FN_ARGS, required=("features",))
    assert "features" in str(info.value)


@pytest.mark.parametrize("not_callable", [None, 3, "model_fn", {"features": 1}])
def test_check_args_rejects_non_callable(not_callable):
    with pytest.raises(ValueError, match="must be callable"):
        check_args(not_callable, "model_fn", MODEL_FN_ARGS)


def test_call_passes_only_named_args():
    seen = {}

    def fn(mode, params):
        seen.update(mode=mode, params=params)
        return "ok"

    assert call(fn, AVAILABLE) == "ok"
    assert seen == {"mode": "train", "params": {"p": 1}}


def test_call_with_no_args():
    assert call(lambda: 42, AVAILABLE) == 42


def test_call_skips_named_args_that_are_not_available():
    def fn(features, labels=None):
        return features, labels

    assert call(fn, {"features": "F"}) == ("F", None)


def test_call_passes_everything_to_kwargs_function():
    def fn(features, **kwargs):
        return features, kwargs

    features, kwargs = call(fn, AVAILABLE)
    assert features == "F"
    assert kwargs == {k: v for k, v in AVAILABLE.items() if k != "features"}


def test_kwargs_function_passes_check_args():
    def fn(**kwargs):
        pass

    assert check_args(fn, "input_fn", INPUT_FN_ARGS) == ()


def test_partial_with_positional_bound_arg():
    positional = functools.partial(model_fn, "bound-features")
    assert fn_args(positional) == (("labels", "mode"), False)
    assert check_args(positional, "model_fn", MODEL_FN_ARGS) == ("labels", "mode")
    assert call(positional, AVAILABLE) == ("bound-features", "L", "train")


def test_partial_with_keyword_bound_arg_is_called_with_it():
    def fn(features, labels, mode, hidden_units):
        return features, labels, mode, hidden_units

    bound = functools.partial(fn, hidden_units=8)
    assert call(bound, AVAILABLE) == ("F", "L", "train", 8)


def test_partial_keyword_bound_arg_is_not_an_unexpected_arg():
    def fn(features, labels, mode, hidden_units):
        return features, labels, mode, hidden_units

    bound = functools.partial(fn, hidden_units=8)
    assert check_args(bound, "model_fn", MODEL_FN_ARGS) == ("features", "labels", "mode")


def test_callable_object_is_called_by_name():
    class ModelFn:
        def __call__(self, features, mode):
            return features, mode

    obj = ModelFn()
    assert check_args(obj, "model_fn", MODEL_FN_ARGS) == ("features", "mode")
    assert call(obj, AVAILABLE) == ("F", "train")


def test_arguments_with_defaults_are_the_programs_own():
    # tf.estimator programs write input_fn(batch_size=32) and call it through the Estimator.
    def input_fn(mode, batch_size=32, data_dir=None):
        return mode, batch_size

    assert check_args(input_fn, "input_fn", INPUT_FN_ARGS) == ("mode", "batch_size", "data_dir")
    assert call(input_fn, {"mode": "train", "params": {}}) == ("train", 32)
