"""`numpy_input_fn`: tf.estimator's input_fn over numpy arrays, as a `tf.data` pipeline.

tf.estimator fed the arrays through a queue filled by Python threads; here the input_fn
returns a `tf.data.Dataset` with the same batches: examples in order (or shuffled through a
buffer of `queue_capacity` examples), `num_epochs` passes over the data, batches that run
across epoch boundaries, a last partial batch when the epochs are finite, and the arrays'
dtypes unchanged.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import tensorflow as tf

from keras_estimator.validation import check_int

__all__ = ["numpy_input_fn", "check_batching", "dataset_input_fn"]


def numpy_input_fn(
    x: Any,
    y: Any = None,
    batch_size: int = 128,
    num_epochs: int | None = 1,
    shuffle: bool | None = None,
    queue_capacity: int = 1000,
    num_threads: int = 1,
) -> Callable[[], tf.data.Dataset]:
    """An input_fn that feeds numpy arrays (or a dict of them) to an Estimator.

    Args:
        x: A numpy array (the features are then that one tensor, not a dict) or a dict of
            arrays (or lists, converted with `np.asarray`), all of the same length.
        y: The labels: None, an array, or a dict of arrays (keys distinct from x's).
        batch_size: Examples per batch.
        num_epochs: Passes over the data (None: forever, with every batch full).
        shuffle: Whether to shuffle the examples (True for training, False for evaluation
            and prediction). Required, as in tf.estimator.
        queue_capacity: The shuffle buffer, in examples (tf.estimator's queue size).
        num_threads: Accepted for tf.estimator programs; tf.data reads the arrays in one
            deterministic pipeline (tf.estimator ran num_epochs per thread).

    Returns:
        A function of no arguments returning a `tf.data.Dataset` of `(features, labels)`
        batches, or of features alone when y is None. Features are a dict keyed like x
        (a tensor when x is an array), labels a tensor or a dict keyed like y.

    Raises:
        ValueError: if shuffle is not a bool; x or y is an empty dict or x an empty array; x
            and y share keys; the arrays' lengths differ; or batch_size, num_epochs,
            queue_capacity or num_threads is not a positive integer.
        TypeError: if x is neither a dict nor a numpy array.
    """
    check_batching(shuffle, batch_size, num_epochs, queue_capacity, num_threads)
    features = _features(x)
    labels = _labels(y, features)
    _check_lengths(features, labels)
    return dataset_input_fn(features, labels, batch_size, num_epochs, shuffle, queue_capacity)


def check_batching(shuffle: Any, batch_size: Any, num_epochs: Any, queue_capacity: Any,
                   num_threads: Any) -> None:
    """The checks `numpy_input_fn` and `pandas_input_fn` share.

    Raises:
        ValueError: if shuffle is not a bool (tf.estimator's message), or a count is not a
            positive integer (num_epochs may be None).
    """
    if not isinstance(shuffle, bool):
        raise ValueError(
            "shuffle must be provided and explicitly set as boolean (it is recommended to set "
            f"it as True for training); got {shuffle}"
        )
    check_int("batch_size", batch_size, 1)
    check_int("num_epochs", num_epochs, 1, optional=True)
    check_int("queue_capacity", queue_capacity, 1)
    check_int("num_threads", num_threads, 1)


def dataset_input_fn(features: Any, labels: Any, batch_size: int, num_epochs: int | None,
                     shuffle: bool, buffer_size: int) -> Callable[[], tf.data.Dataset]:
    """The input_fn over in-memory `features` and `labels` (arrays, dicts of arrays, or None
    for no labels): shuffled through `buffer_size` examples, repeated, batched.

    Returns:
        A function of no arguments returning the `tf.data.Dataset`.
    """

    def input_fn() -> tf.data.Dataset:
        dataset = tf.data.Dataset.from_tensor_slices(features if labels is None else (features, labels))
        if shuffle:
            dataset = dataset.shuffle(buffer_size, reshuffle_each_iteration=True)
        if num_epochs != 1:
            dataset = dataset.repeat(num_epochs)  # None: forever.
        # Forever: every batch is full (tf.estimator's dequeue_many), with a static batch size.
        return dataset.batch(batch_size, drop_remainder=num_epochs is None)

    return input_fn


def _features(x: Any) -> Any:
    if isinstance(x, Mapping):
        if not x:
            raise ValueError("x cannot be an empty dict")
        return {key: _array(f"x[{key!r}]", x[key]) for key in sorted(x)}
    if isinstance(x, np.ndarray):
        if x.size == 0:
            raise ValueError("x cannot be an empty array")
        return _array("x", x)
    raise TypeError(f"x must be a dict or array; got {type(x).__name__}")


def _labels(y: Any, features: Any) -> Any:
    if y is None:
        return None
    if not isinstance(y, Mapping):
        return _array("y", y)
    if not y:
        raise ValueError("y cannot be empty dict, use None instead.")
    duplicates = sorted(set(y) & set(features)) if isinstance(features, dict) else []
    if duplicates:
        raise ValueError(f"{len(duplicates)} duplicate keys are found in both x and y: {duplicates}")
    return {key: _array(f"y[{key!r}]", y[key]) for key in sorted(y)}


def _array(what: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim == 0:
        raise ValueError(f"{what} must be an array of examples (at least one dimension), got a scalar.")
    return array


def _shapes(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: value.shape for key, value in data.items()}
    return None if data is None else data.shape


def _check_lengths(features: Any, labels: Any) -> None:
    arrays = [a for part in (features, labels) if part is not None
              for a in (part.values() if isinstance(part, dict) else [part])]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(
            "Length of tensors in x and y is mismatched. All elements in x and y must have the "
            f"same length.\nShapes in x: {_shapes(features)}\nShapes in y: {_shapes(labels)}\n"
        )
