"""Calling an exported SavedModel from Python, with requests checked by input name.

tf.estimator users called exports with `tf.contrib.predictor.from_saved_model(export_dir)`,
gone since TensorFlow 2.0; `predictor.from_saved_model` here answers to the same call. A
loaded signature called directly refuses a request of another dtype with TensorFlow's
"input #1(zero-based) was expected to be a int64 tensor"; the predictor names the input and
the dtype its serving_input_receiver_fn declared instead, and converts what converts without
loss of kind (Python lists, float64 NumPy arrays for a float32 input, ints for an int64 one).
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np
import tensorflow as tf

from keras_estimator.errors import InputError
from keras_estimator.saved_model import DEFAULT_SIGNATURE, is_export_dir

# Which NumPy kinds (dtype.kind) convert to an input of each kind.
_ACCEPTED_KINDS = {"b": "b", "i": "iu", "u": "iu", "f": "fiu", "c": "cfiu", "S": "SUO"}


class SavedModelPredictor:
    """A signature of a SavedModel as a function of a dict of inputs to a dict of NumPy arrays.

    Args:
        export_dir: A SavedModel directory, or an export base holding numeric version
            directories (the highest is used, as TensorFlow Serving does).
        signature_def_key: The signature to call; default "serving_default".
        tags: The MetaGraph tags to load; default TensorFlow's (serving).

    Attributes:
        export_dir: The SavedModel directory loaded.
        input_specs: Input name -> `tf.TensorSpec` (dtype and shape the signature declares).
        output_names: The signature's output names.

    Raises:
        FileNotFoundError: if export_dir holds neither a SavedModel nor a numeric version.
        ValueError: if the SavedModel has no signature signature_def_key (the message lists
            the signatures it has).
    """

    def __init__(self, export_dir: str | os.PathLike, signature_def_key: str | None = None,
                 tags: list[str] | None = None):
        self.export_dir = _saved_model_dir(os.fspath(export_dir))
        self._loaded = tf.saved_model.load(self.export_dir, tags=tags)
        key = signature_def_key or DEFAULT_SIGNATURE
        if key not in self._loaded.signatures:
            raise ValueError(
                f"{self.export_dir} has no signature {key!r}; it has {sorted(self._loaded.signatures)}."
            )
        self.signature_def_key = key
        self._function = self._loaded.signatures[key]
        self.input_specs: dict[str, tf.TensorSpec] = dict(self._function.structured_input_signature[1])
        self.output_names = sorted(self._function.structured_outputs)

    def __call__(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The signature's outputs for `inputs` (input name -> tensor, array or list).

        Raises:
            InputError: for a missing or unknown input name, or a value whose dtype does not
                convert to the input's (a number for a string input, a float for an int one),
                naming the input and both dtypes.
            tf.errors.InvalidArgumentError: for a value of the wrong shape (the export checks
                shapes itself, naming the input).
        """
        if not isinstance(inputs, Mapping):
            raise InputError(
                f"inputs must be a dict keyed by the signature's inputs {sorted(self.input_specs)}, "
                f"got {type(inputs).__name__}."
            )
        missing = sorted(set(self.input_specs) - set(inputs))
        unknown = sorted(set(inputs) - set(self.input_specs))
        if missing or unknown:
            raise InputError(
                f"Signature {self.signature_def_key!r} takes inputs {sorted(self.input_specs)}: "
                f"missing {missing}, unknown {unknown}."
            )
        request = {name: self._converted(name, value) for name, value in inputs.items()}
        return {name: tensor.numpy() for name, tensor in self._function(**request).items()}

    def _converted(self, name: str, value: Any) -> tf.Tensor:
        spec = self.input_specs[name]
        if isinstance(value, (tf.Tensor, tf.Variable)):
            if value.dtype == spec.dtype:
                return value
            value = value.numpy()
        array = np.asarray(value)
        wanted = "S" if spec.dtype == tf.string else np.dtype(spec.dtype.as_numpy_dtype).kind
        if array.dtype.kind not in _ACCEPTED_KINDS.get(wanted, wanted) or (
                array.dtype.kind == "O" and not all(isinstance(v, (str, bytes)) for v in array.flat)):
            raise InputError(
                f"Serving input {name!r} of signature {self.signature_def_key!r} takes "
                f"{spec.dtype.name} (its serving_input_receiver_fn's dtype), got {_dtype_name(array)}."
            )
        if wanted == "S":
            return tf.constant(array, tf.string)
        converted = array.astype(spec.dtype.as_numpy_dtype)
        if wanted in "iu" and not np.array_equal(converted, array):
            raise InputError(
                f"Serving input {name!r} holds values out of the range of {spec.dtype.name}."
            )
        return tf.constant(converted)


def from_saved_model(export_dir: str | os.PathLike, signature_def_key: str | None = None,
                     tags: list[str] | None = None) -> SavedModelPredictor:
    """A `SavedModelPredictor` for a signature of an export (tf.contrib.predictor's name).

    Args and Raises: as `SavedModelPredictor`.
    """
    return SavedModelPredictor(export_dir, signature_def_key=signature_def_key, tags=tags)


def _saved_model_dir(path: str) -> str:
    if os.path.isfile(os.path.join(path, "saved_model.pb")) or os.path.isfile(
            os.path.join(path, "saved_model.pbtxt")):
        return path
    versions = [n for n in os.listdir(path) if is_export_dir(os.path.join(path, n))] if os.path.isdir(path) else []
    if not versions:
        raise FileNotFoundError(
            f"{path} holds no SavedModel (saved_model.pb) and no numeric version directory."
        )
    return os.path.join(path, max(versions, key=int))


def _dtype_name(array: np.ndarray) -> str:
    if array.dtype.kind in "SU":
        return "strings"
    if array.dtype.kind == "O":
        return f"Python objects ({', '.join(sorted({type(v).__name__ for v in array.flat}))})"
    return array.dtype.name
