"""`pandas_input_fn`: tf.estimator's input_fn over a pandas DataFrame.

pandas is optional: it is imported when `pandas_input_fn` is called, and a clear ImportError
says how to install it. The batches are those of `numpy_input_fn` over the DataFrame's columns.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from keras_estimator.inputs.numpy_io import check_batching, dataset_input_fn

__all__ = ["pandas_input_fn"]


def pandas_input_fn(
    x: Any,
    y: Any = None,
    batch_size: int = 128,
    num_epochs: int | None = 1,
    shuffle: bool | None = None,
    queue_capacity: int | None = 1000,
    num_threads: int = 1,
    target_column: str = "target",
) -> Callable[[], tf.data.Dataset]:
    """An input_fn that feeds a pandas DataFrame (and a Series or DataFrame of labels).

    Args:
        x: A `pandas.DataFrame`: the features are a dict keyed by its columns, each with the
            column's dtype (object columns of strings become `tf.string`).
        y: The labels: None, a `pandas.Series` (a tensor) or a `DataFrame` (a dict keyed by
            its columns). Its index must equal x's.
        batch_size, num_epochs, shuffle, num_threads: As for `numpy_input_fn`.
        queue_capacity: The shuffle buffer, in examples; None: 4 * len(x) when shuffling,
            else len(x).
        target_column: tf.estimator's name for a Series label inside its queue; it must not
            be a column of x when y is a Series.

    Returns:
        A function of no arguments returning a `tf.data.Dataset` of `(features, labels)`
        batches, or of features alone when y is None.

    Raises:
        ImportError: if pandas is not installed.
        ValueError: if shuffle is not a bool, x already has a column `target_column` (for a
            Series y), the indexes of x and y differ, or a count is invalid.
        TypeError: if target_column is not a string, x is not a DataFrame, or y is neither a
            Series nor a DataFrame.
    """
    pd = _pandas()
    if queue_capacity is None and isinstance(x, pd.DataFrame):
        queue_capacity = max(4 * len(x) if shuffle else len(x), 1)
    check_batching(shuffle, batch_size, num_epochs, queue_capacity, num_threads)
    if not isinstance(target_column, str):
        raise TypeError("target_column must be a string type")
    if not isinstance(x, pd.DataFrame):
        raise TypeError(f"x must be a pandas DataFrame; got {type(x).__name__}")
    labels = None
    if y is not None:
        labels = _labels(pd, x, y, target_column)
    features = {column: _column(x[column]) for column in x.columns}
    return dataset_input_fn(features, labels, batch_size, num_epochs, shuffle, queue_capacity)


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError as e:
        raise ImportError(
            "pandas_input_fn needs pandas, which is not installed: pip install pandas"
        ) from e


def _labels(pd: Any, x: Any, y: Any, target_column: str) -> Any:
    if not isinstance(y, (pd.Series, pd.DataFrame)):
        raise TypeError(f"y must be a pandas Series or DataFrame; got {type(y).__name__}")
    if isinstance(y, pd.Series) and target_column in x:
        raise ValueError(
            f"Cannot use name {target_column} for target column: DataFrame already has a column "
            f"with that name: {list(x.columns)}"
        )
    if not np.array_equal(x.index, y.index):
        raise ValueError(f"Index for x and y are mismatched.\nIndex for x: {x.index}\nIndex for y: {y.index}\n")
    if isinstance(y, pd.DataFrame):
        return {column: _column(y[column]) for column in y.columns}
    return _column(y)


def _column(series: Any) -> np.ndarray:
    """A column's values (an object column of strings is read by tf.data as tf.string)."""
    return series.to_numpy()
