"""One `predict` call: checks first (so errors come before the first value), then a generator."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
import tensorflow as tf

from keras_estimator.errors import InputError
from keras_estimator.hook_list import HookList
from keras_estimator.hooks import RunContext


def predict(predict_fn: Any, dataset: tf.data.Dataset, predict_keys: list[str] | None,
            hooks: HookList, context: RunContext, yield_single_examples: bool) -> Iterator[Any]:
    """Checks `predict_keys` against the traced `predict_fn`'s outputs; returns the generator.

    Args:
        predict_fn: A concrete function from features to predictions.

    Raises:
        ValueError: for predict_keys with single-tensor predictions, or unknown keys.
    """
    outputs = predict_fn.structured_outputs
    if predict_keys is not None:
        if not isinstance(outputs, dict):
            raise ValueError("predict_keys given, but model_fn's predictions is a single tensor, not a dict.")
        unknown = [k for k in predict_keys if k not in outputs]
        if unknown:
            raise ValueError(
                f"Expected to run at least one output from {sorted(outputs)}, provided "
                f"{list(predict_keys)}: unknown key(s) {unknown}."
            )
    return _predictions(predict_fn, dataset, predict_keys, hooks, context, yield_single_examples)


def _predictions(predict_fn: Callable, dataset: tf.data.Dataset, predict_keys: list[str] | None,
                 hooks: HookList, context: RunContext, yield_single_examples: bool) -> Iterator[Any]:
    hooks.begin(context)
    batches = 0
    for element in dataset:
        features = element[0] if isinstance(element, tuple) else element
        predictions = _numpy(predict_fn(features), predict_keys)
        batches += 1
        context.steps_in_call = batches
        if yield_single_examples:
            yield from unbatch(predictions)
        else:
            yield predictions
        hooks.after_run(context)
        if context.stop_requested:
            break
    if batches == 0:
        raise InputError("input_fn for mode 'infer' returned an empty dataset: nothing to predict.")
    hooks.end(context)


def _numpy(predictions: Any, predict_keys: list[str] | None) -> Any:
    if isinstance(predictions, dict):
        if predict_keys is not None:
            predictions = {k: predictions[k] for k in predict_keys}
        return {k: v.numpy() for k, v in predictions.items()}
    return predictions.numpy()


def unbatch(predictions: Any) -> Iterator[Any]:
    """One example at a time from a batch of predictions (a dict or a single array).

    Raises:
        ValueError: if a prediction has no batch dimension, or their batch sizes differ.
    """
    if isinstance(predictions, dict):
        sizes = {k: (v.shape[0] if np.ndim(v) else None) for k, v in predictions.items()}
        distinct = set(sizes.values())
        if None in distinct or len(distinct) != 1:
            raise ValueError(
                "Batch length of predictions should be same and every prediction needs a batch "
                f"dimension to yield single examples; got first dimensions {sizes}. Use "
                "yield_single_examples=False."
            )
        for i in range(distinct.pop()):
            yield {k: v[i] for k, v in predictions.items()}
    else:
        if np.ndim(predictions) == 0:
            raise ValueError("predictions has no batch dimension; use yield_single_examples=False.")
        yield from predictions
