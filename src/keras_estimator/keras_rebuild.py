"""A Keras model rebuilt with new layers, as `model_to_estimator`'s model_fn does on every trace.

The model in memory is cloned layer by layer: each layer is rebuilt from its own class, and a
Lambda layer keeps calling the very function it was given, so Lambda layers of Python lambdas
and custom layers work without `custom_objects` or turning off Keras's safe mode. Every layer
keeps its name, under a fresh auto-naming counter, so variable names (checkpoint keys) are the
same on every rebuild.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import keras

from keras_estimator import _compat
from keras_estimator.feature_columns import DenseFeatures
from keras_estimator.variable_store import fresh_keras_naming


def clone(model: keras.Model, custom_objects: Mapping[str, Any] | None = None) -> keras.Model:
    """New layers and weights with `model`'s architecture; `model` itself is not changed.

    Args:
        model: A functional or Sequential model (nested ones are cloned too).
        custom_objects: Classes for layers nested inside other layers' configs (a wrapper's
            inner layer) that are not found by name; classes of layers reachable through
            `model.layers` and wrappers are found without it.

    Raises:
        ValueError: Keras's, for a subclassed model whose config does not rebuild it.
    """
    found = {type(layer).__name__: type(layer) for layer in _layers(model)}
    objects = {**found, **dict(custom_objects or {})}
    with keras.saving.custom_object_scope(objects), fresh_keras_naming():
        return keras.models.clone_model(_uncompiled(model), clone_function=_clone_layer, recursive=True)


def _uncompiled(model: keras.Model) -> keras.Model:
    """A functional model over `model`'s own layers, not compiled: clone_model compiles a clone
    of a compiled model from its compile config, which reads the optimizer's values and so
    fails inside a tf.function; the caller compiles the clone itself."""
    inputs = _compat.inputs_struct(model)
    if inputs is None:
        raise ValueError(
            f"{model.name!r} is a subclassed model (or an unbuilt Sequential): it has no "
            "graph of layers to clone."
        )
    return keras.Model(inputs, _compat.functional_of(model).output, name=model.name)


def _clone_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    if type(layer) is keras.layers.Lambda:
        return _compat.clone_lambda(layer)
    if isinstance(layer, DenseFeatures):  # The columns themselves: a normalizer_fn may be a lambda.
        return type(layer)(layer.feature_columns, trainable=layer.trainable, name=layer.name,
                           dtype=layer.dtype_policy)
    return type(layer).from_config(layer.get_config())


def _layers(layer: Any) -> Iterator[keras.layers.Layer]:
    """`layer` and every layer reachable below it through `layers` and wrappers' attributes."""
    seen: set[int] = set()
    stack = [layer]
    while stack:
        current = stack.pop()
        if not isinstance(current, keras.layers.Layer) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(getattr(current, "layers", None) or [])
        stack.extend(getattr(current, name, None) for name in ("layer", "forward_layer", "backward_layer"))
