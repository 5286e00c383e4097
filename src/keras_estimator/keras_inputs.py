"""The inputs of a Keras model converted by `model_to_estimator`, and how features reach them.

Features are a dict keyed by the model's input names, or a single tensor for a single-input
model. A Keras 3 `keras.Input` without a name gets an automatic one ("input_layer",
"input_layer_1", ...), and tf.estimator programs written for tf.keras 2 keyed a Sequential's
input `<first layer name>_input`; each input therefore also answers to:

- the name of its `keras.Input` layer (for a dict of inputs, the dict key is the name);
- the name of its Keras tensor (what this module used before, e.g. "keras_tensor_3");
- for a Sequential model, `<name of its first layer>_input` (tf.keras 2's name).

An alias that would name two inputs, or another input's name, is not accepted.
"""

from __future__ import annotations

from typing import Any, Mapping

import keras
import tensorflow as tf

from keras_estimator import _compat
from keras_estimator.errors import InputError, MissingFeatureError

__all__ = ["KerasInputs", "conform"]


class KerasInputs:
    """A Keras model's inputs: names, dtypes, ranks, aliases and structure.

    Args:
        model: A functional or Sequential model built on `keras.Input`s.

    Raises:
        ValueError: for a model without defined inputs (subclassed, unbuilt Sequential).
    """

    def __init__(self, model: keras.Model):
        self.struct = _input_structure(model)
        tensors = _named_tensors(model, self.struct)
        self.specs: dict[str, tuple[str, int]] = {name: (t.dtype, len(t.shape)) for name, t in tensors.items()}
        self.aliases = _aliases(model, tensors)

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    def model_inputs(self, features: Any) -> Any:
        """The model's inputs (its dict, list or single tensor) from input_fn's features.

        Raises:
            MissingFeatureError: if an input has no feature.
            InputError: for features that are no input, a single tensor for several inputs,
                two keys for one input, or a dtype or rank the input does not take.
        """
        names = self.names
        if not isinstance(features, Mapping):
            if len(names) != 1:
                raise InputError(
                    f"The Keras model has inputs {names}: features must be a dict keyed by them, "
                    f"got a single {type(features).__name__}."
                )
            features = {names[0]: features}
        given = sorted(features)
        features = self._resolve_aliases(features)
        missing = [n for n in names if n not in features]
        if missing:
            raise MissingFeatureError(
                f"features are missing key(s) {missing}: the Keras model's inputs are {names}, "
                f"input_fn gave {given}.{self._also_accepted()}"
            )
        unknown = sorted(set(features) - set(names))
        if unknown:
            raise InputError(
                f"features have key(s) {unknown} that are not inputs of the Keras model "
                f"({names}); remove them in input_fn.{self._also_accepted()}"
            )
        tensors = {n: conform(n, features[n], *self.specs[n]) for n in names}
        if isinstance(self.struct, Mapping):
            return tensors
        if isinstance(self.struct, (list, tuple)):
            return [tensors[n] for n in names]
        return tensors[names[0]]

    def _resolve_aliases(self, features: Mapping[str, Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = {}
        keys: dict[str, str] = {}
        for key, value in features.items():
            name = key if key in self.specs else self.aliases.get(key, key)
            if name in resolved:
                raise InputError(
                    f"features have both {keys[name]!r} and {key!r}, two names of the Keras input "
                    f"{name!r}: give one."
                )
            resolved[name], keys[name] = value, key
        return resolved

    def _also_accepted(self) -> str:
        if not self.aliases:
            return ""
        accepted = ", ".join(f"{alias!r} for {name!r}" for alias, name in sorted(self.aliases.items()))
        return f" Also accepted: {accepted}."


def conform(name: str, tensor: Any, dtype: str, rank: int) -> tf.Tensor:
    """Checks a feature against the Keras Input it feeds; casts where Keras would.

    Raises:
        InputError: for a dtype the input does not take, or another rank.
    """
    tensor = tf.convert_to_tensor(tensor) if not isinstance(tensor, tf.Tensor) else tensor
    expected = tf.as_dtype(dtype)
    given = tensor.dtype
    if given != expected:
        ok = (
            (expected.is_integer and given.is_integer)
            or (expected.is_floating and (given.is_floating or given.is_integer))
        )
        if not ok:
            raise InputError(
                f"features[{name!r}] has dtype {given.name}, but the Keras Input {name!r} takes "
                f"{expected.name}."
            )
        tensor = tf.cast(tensor, expected)
    if tensor.shape.rank is not None and tensor.shape.rank != rank:
        raise InputError(
            f"features[{name!r}] has rank {tensor.shape.rank} (shape {tensor.shape}), but the "
            f"Keras Input {name!r} takes rank {rank}."
        )
    return tensor


def _input_structure(model: keras.Model) -> Any:
    struct = _compat.inputs_struct(model)
    if struct is None:
        raise ValueError(
            f"The Keras model {model.name!r} has no defined inputs: build it with keras.Input "
            "(functional or Sequential with an Input) before model_to_estimator."
        )
    return struct


def _input_layer_names(model: keras.Model) -> dict[int, str]:
    """id(Keras tensor) -> the name of the `keras.Input` layer that made it."""
    layers = _compat.functional_of(model).layers
    return {id(layer.output): layer.name for layer in layers if isinstance(layer, keras.layers.InputLayer)}


def _named_tensors(model: keras.Model, struct: Any) -> dict[str, Any]:
    """Input name -> Keras tensor: the dict keys, else each Input layer's name (its tensor's
    name when no layer is found)."""
    if isinstance(struct, Mapping):
        return dict(struct.items())
    layer_names = _input_layer_names(model)
    return {layer_names.get(id(t), t.name): t for t in tf.nest.flatten(struct)}


def _aliases(model: keras.Model, tensors: dict[str, Any]) -> dict[str, str]:
    """Alias -> input name, without aliases that are input names or name two inputs."""
    layer_names = _input_layer_names(model)
    candidates: list[tuple[str, str]] = []
    for name, tensor in tensors.items():
        candidates += [(layer_names.get(id(tensor), name), name), (tensor.name, name)]
    if isinstance(model, keras.Sequential) and len(tensors) == 1 and model.layers:
        candidates.append((f"{model.layers[0].name}_input", next(iter(tensors))))
    targets: dict[str, set[str]] = {}
    for alias, name in candidates:
        targets.setdefault(alias, set()).add(name)
    return {alias: next(iter(names)) for alias, names in targets.items()
            if len(names) == 1 and alias not in tensors}
