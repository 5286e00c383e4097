"""What an exported signature returns: `EstimatorSpec.export_outputs` values."""

from __future__ import annotations

import abc
from typing import Any, Mapping

import tensorflow as tf


class ExportOutput(abc.ABC):
    """One signature's outputs. Subclasses name their tensors."""

    @abc.abstractmethod
    def as_signature_outputs(self) -> dict[str, tf.Tensor]:
        """The signature's outputs: name -> tensor."""


def _check_tensor(what: str, value: Any) -> tf.Tensor:
    if not tf.is_tensor(value):
        raise ValueError(f"{what} must be a tensor, got {type(value).__name__}.")
    return value


class PredictOutput(ExportOutput):
    """Outputs of a predict signature (the TensorFlow Serving Predict API).

    Args:
        outputs: A tensor (output named `output`) or a dict of string name -> tensor.

    Raises:
        ValueError: for non-string keys, non-tensor values or an empty dict.
    """

    def __init__(self, outputs: tf.Tensor | Mapping[str, tf.Tensor]):
        if not isinstance(outputs, Mapping):
            outputs = {"output": outputs}
        if not outputs:
            raise ValueError("PredictOutput needs at least one output.")
        for key, value in outputs.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"PredictOutput keys must be non-empty strings, got {key!r}.")
            _check_tensor(f"PredictOutput output {key!r}", value)
        self._outputs = dict(outputs)

    @property
    def outputs(self) -> dict[str, tf.Tensor]:
        return dict(self._outputs)

    def as_signature_outputs(self) -> dict[str, tf.Tensor]:
        return dict(self._outputs)


class ClassificationOutput(ExportOutput):
    """Outputs of a classifier: `scores` (float [B, C]) and/or `classes` (string [B, C]).

    Exported as a predict-method signature with outputs `scores` and `classes` (see the
    README's migration notes: TensorFlow 2 SavedModels have no classify-method signatures).

    Raises:
        ValueError: if both are None, scores is not floating point, or classes not strings.
    """

    def __init__(self, scores: tf.Tensor | None = None, classes: tf.Tensor | None = None):
        if scores is None and classes is None:
            raise ValueError("ClassificationOutput needs scores, classes, or both.")
        if scores is not None and not _check_tensor("ClassificationOutput scores", scores).dtype.is_floating:
            raise ValueError(f"ClassificationOutput scores must be floating point, got {scores.dtype.name}.")
        if classes is not None and _check_tensor("ClassificationOutput classes", classes).dtype != tf.string:
            raise ValueError(f"ClassificationOutput classes must be strings, got {classes.dtype.name}.")
        self.scores, self.classes = scores, classes

    def as_signature_outputs(self) -> dict[str, tf.Tensor]:
        outputs = {}
        if self.scores is not None:
            outputs["scores"] = self.scores
        if self.classes is not None:
            outputs["classes"] = self.classes
        return outputs


class RegressionOutput(ExportOutput):
    """Output of a regressor: `outputs` (float [B] or [B, 1]).

    Raises:
        ValueError: if value is not a floating point tensor.
    """

    def __init__(self, value: tf.Tensor):
        if not _check_tensor("RegressionOutput value", value).dtype.is_floating:
            raise ValueError(f"RegressionOutput value must be floating point, got {value.dtype.name}.")
        self.value = value

    def as_signature_outputs(self) -> dict[str, tf.Tensor]:
        return {"outputs": self.value}
