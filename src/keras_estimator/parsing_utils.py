"""Parsing specs for `tf.io.parse_example`: feature columns plus the label (and weight).

tf.estimator's `classifier_parse_example_spec` and `regressor_parse_example_spec`: the spec of
the feature columns (`tf.feature_column.make_parse_example_spec`) with a `FixedLenFeature` for
the label and, optionally, the weight column, since features, label and weight are all parsed
from the same `tf.train.Example`.
"""

from __future__ import annotations

from typing import Any, Iterable

import tensorflow as tf

__all__ = ["classifier_parse_example_spec", "regressor_parse_example_spec"]


def classifier_parse_example_spec(
    feature_columns: Iterable[Any],
    label_key: str,
    label_dtype: tf.dtypes.DType = tf.int64,
    label_default: Any = None,
    weight_column: str | Any = None,
) -> dict[str, Any]:
    """The parsing spec of a classifier's examples: feature columns, label and weight.

    Args:
        feature_columns: The feature columns (`tf.feature_column.*`, or the TF1
            `tf.compat.v1.feature_column.*` ones).
        label_key: The key of the label in the `tf.train.Example`.
        label_dtype: The label's dtype: `tf.int64` (class ids, the default), `tf.string`
            (with a label vocabulary) or `tf.float32` (binary classification).
        label_default: The label of examples without `label_key` (None: such an example is an
            error when parsed).
        weight_column: None, a feature key, or a `tf.feature_column.numeric_column` of the
            example weights.

    Returns:
        A dict of key -> `tf.io.FixedLenFeature` / `tf.io.VarLenFeature` / ...; the label is a
        `FixedLenFeature((1,), label_dtype, label_default)`.

    Raises:
        ValueError: if label_key or the weight column's key is also a feature, if
            weight_column is neither a string nor a numeric column, or if a feature column is
            not a feature column.
    """
    label = tf.io.FixedLenFeature((1,), label_dtype, label_default)
    return _with_label_and_weight(_feature_spec(feature_columns), label_key, label, weight_column)


def regressor_parse_example_spec(
    feature_columns: Iterable[Any],
    label_key: str,
    label_dtype: tf.dtypes.DType = tf.float32,
    label_default: Any = None,
    label_dimension: int = 1,
    weight_column: str | Any = None,
) -> dict[str, Any]:
    """The parsing spec of a regressor's examples: feature columns, label and weight.

    Args:
        feature_columns, label_key, label_default, weight_column: As for
            `classifier_parse_example_spec`.
        label_dtype: The label's dtype (default `tf.float32`).
        label_dimension: The number of regression targets per example.

    Returns:
        The spec dict; the label is a `FixedLenFeature((label_dimension,), label_dtype,
        label_default)`.

    Raises:
        ValueError: as for `classifier_parse_example_spec`.
    """
    label = tf.io.FixedLenFeature((label_dimension,), label_dtype, label_default)
    return _with_label_and_weight(_feature_spec(feature_columns), label_key, label, weight_column)


def _feature_spec(feature_columns: Iterable[Any]) -> dict[str, Any]:
    """TF2 feature columns through the v2 function; TF1-only columns (which it refuses)
    through tf.compat.v1's, as tf.compat.v1.estimator did."""
    feature_columns = list(feature_columns)
    try:
        return dict(tf.feature_column.make_parse_example_spec(feature_columns))
    except ValueError:
        return dict(tf.compat.v1.feature_column.make_parse_example_spec(feature_columns))


def _numeric_column_type() -> type:
    """The class `tf.feature_column.numeric_column` returns (not public by name)."""
    return type(tf.feature_column.numeric_column("weight"))


def _with_label_and_weight(spec: dict[str, Any], label_key: str, label: Any, weight_column: Any) -> dict[str, Any]:
    if label_key is None:
        raise ValueError("label_key must be given.")
    if label_key in spec:
        raise ValueError(f"label should not be used as feature. label_key: {label_key}, features: {list(spec)}")
    spec[label_key] = label
    if weight_column is None:
        return spec
    if isinstance(weight_column, str):
        weight_column = tf.feature_column.numeric_column(weight_column)
    if not isinstance(weight_column, _numeric_column_type()):
        raise ValueError(
            "weight_column should be an instance of tf.feature_column.numeric_column. "
            f"Given type: {type(weight_column).__name__} value: {weight_column!r}"
        )
    if weight_column.key in spec:
        raise ValueError(
            f"weight_column should not be used as feature. weight_column: {weight_column.key}, "
            f"features: {list(spec)}"
        )
    spec.update(weight_column.parse_example_spec)
    return spec
