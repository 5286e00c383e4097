"""Serving input receivers: what an exported model takes, and how it becomes features.

A `serving_input_receiver_fn` takes no arguments and returns a `ServingInputReceiver`. It is
called while the export graph is built, so it creates its inputs with
`tf.compat.v1.placeholder` (as in tf.estimator) and may transform them with any TensorFlow ops,
for example split strings into characters and look them up in a table.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import tensorflow as tf

_TENSOR_TYPES = (tf.Tensor, tf.SparseTensor, tf.RaggedTensor)


def _as_dict(value: Any, default_key: str, what: str) -> dict:
    if not isinstance(value, Mapping):
        value = {default_key: value}
    if not value:
        raise ValueError(f"{what} must not be empty.")
    for key, tensor in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{what} keys must be non-empty strings, got {key!r}.")
        if not isinstance(tensor, _TENSOR_TYPES):
            raise ValueError(f"{what}[{key!r}] must be a tensor, got {type(tensor).__name__}.")
    return dict(value)


class ServingInputReceiver:
    """The features an exported model_fn gets, and the tensors serving requests feed.

    Args:
        features: A tensor or a dict of name -> tensor passed to model_fn as `features`
            (a single tensor becomes `{"feature": tensor}`, as in tf.estimator).
        receiver_tensors: A tensor or a dict of name -> placeholder: the signature's inputs
            (a single tensor is named `input`).

    Raises:
        ValueError: for non-string keys, non-tensor values or empty dicts.
    """

    def __init__(self, features: Any, receiver_tensors: Any):
        self.features = _as_dict(features, "feature", "ServingInputReceiver features")
        self.receiver_tensors = _as_dict(receiver_tensors, "input", "ServingInputReceiver receiver_tensors")


class TensorServingInputReceiver(ServingInputReceiver):
    """Like `ServingInputReceiver`, but a single-tensor `features` reaches model_fn as that
    tensor, not wrapped in a dict."""

    def __init__(self, features: Any, receiver_tensors: Any):
        if isinstance(features, Mapping):
            raise ValueError("TensorServingInputReceiver features must be a single tensor, not a dict.")
        super().__init__(features, receiver_tensors)
        self.features = features


def _placeholder_shape(spec_shape: tf.TensorShape, default_batch_size: int | None, name: str) -> list:
    """The batch dimension replaces the first one; a scalar (a dummy example, as TensorFlow's
    guides pass) becomes a batch of scalars, as in tf.estimator."""
    if spec_shape.rank is None:
        raise ValueError(f"Serving feature {name!r} needs a known rank, got {spec_shape}.")
    return [default_batch_size] + spec_shape.as_list()[1:]


def build_raw_serving_input_receiver_fn(
    features: Mapping[str, tf.TensorSpec | tf.Tensor], default_batch_size: int | None = None
) -> Callable[[], ServingInputReceiver]:
    """A receiver that takes the features themselves, one input per feature.

    Args:
        features: name -> `tf.TensorSpec` (or a tensor): dtype and full shape, batch first (a
            scalar stands for a batch of scalars).
        default_batch_size: The batch dimension of the inputs; None accepts any batch.

    Returns:
        A `serving_input_receiver_fn`.

    Raises:
        ValueError: for an empty dict, non-string names, or a shape of unknown rank.
    """
    if not isinstance(features, Mapping) or not features:
        raise ValueError("build_raw_serving_input_receiver_fn needs a non-empty dict of name -> tf.TensorSpec.")
    specs = {}
    for name, value in features.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"Serving feature names must be non-empty strings, got {name!r}.")
        if isinstance(value, tf.TensorSpec):
            spec = value
        elif tf.is_tensor(value):
            spec = tf.TensorSpec(value.shape, value.dtype)
        else:
            raise ValueError(f"Serving feature {name!r} must be a tf.TensorSpec or a tensor, got {type(value).__name__}.")
        specs[name] = (spec.dtype, _placeholder_shape(spec.shape, default_batch_size, name))

    def serving_input_receiver_fn() -> ServingInputReceiver:
        inputs = {
            name: tf.compat.v1.placeholder(dtype, shape, name=name) for name, (dtype, shape) in specs.items()
        }
        return ServingInputReceiver(inputs, inputs)

    return serving_input_receiver_fn


_FEATURE_TYPES = (tf.io.FixedLenFeature, tf.io.VarLenFeature, tf.io.FixedLenSequenceFeature,
                  tf.io.SparseFeature, tf.io.RaggedFeature)


def build_parsing_serving_input_receiver_fn(
    feature_spec: Mapping[str, Any], default_batch_size: int | None = None
) -> Callable[[], ServingInputReceiver]:
    """A receiver that takes serialized `tf.train.Example` protos (input `examples`) and parses
    them with `feature_spec`.

    Args:
        feature_spec: name -> `tf.io.FixedLenFeature`, `tf.io.VarLenFeature`, ...
        default_batch_size: The batch dimension of the input; None accepts any batch.

    Returns:
        A `serving_input_receiver_fn`.

    Raises:
        ValueError: for an empty spec or values that are not tf.io feature configurations.
    """
    if not isinstance(feature_spec, Mapping) or not feature_spec:
        raise ValueError("build_parsing_serving_input_receiver_fn needs a non-empty feature_spec dict.")
    for name, value in feature_spec.items():
        if not isinstance(value, _FEATURE_TYPES):
            raise ValueError(
                f"feature_spec[{name!r}] must be a tf.io feature (e.g. tf.io.FixedLenFeature), "
                f"got {type(value).__name__}."
            )
    feature_spec = dict(feature_spec)

    def serving_input_receiver_fn() -> ServingInputReceiver:
        serialized = tf.compat.v1.placeholder(tf.string, [default_batch_size], name="input_example_tensor")
        features = tf.io.parse_example(serialized, feature_spec)
        return ServingInputReceiver(features, {"examples": serialized})

    return serving_input_receiver_fn
