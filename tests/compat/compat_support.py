"""Shared helpers for tests/compat (imported as compat_support: tests/ has several conftest.py): data standing in for the programs' downloads, and the
untrained baseline their learning thresholds are measured against.

Nothing here changes a program's model_fn, input_fn or Estimator calls: the stand-ins only
replace what the programs downloaded (MNIST and iris through tensorflow_datasets), with data
scikit-learn ships.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import keras
import numpy as np
import tensorflow
from sklearn.datasets import load_digits, load_iris


def mnist_like() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST's layout (uint8 images [n, 28, 28], int64 labels 0-9) from scikit-learn's digits:
    each 8x8 digit (values 0-16) scaled to 0-255, enlarged 3x to 24x24 and padded to 28x28.
    1500 train and 297 test images, a fixed split."""
    digits = load_digits()
    images = np.clip(digits.images * 16.0, 0, 255).astype(np.uint8)
    images = np.kron(images, np.ones((1, 3, 3), np.uint8))
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    labels = digits.target.astype(np.int64)
    return (images[:1500], labels[:1500]), (images[1500:], labels[1500:])


def iris() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's iris (float32 features [150, 4], int64 labels 0-2), shuffled with a fixed
    seed (tensorflow_datasets' 'iris' is one 'train' split of the same 150 examples)."""
    data = load_iris()
    order = np.random.default_rng(0).permutation(len(data.target))
    return data.data[order].astype(np.float32), data.target[order].astype(np.int64)


class FakeTfds:
    """Stands in for `tensorflow_datasets` (which downloads) for the two datasets the programs
    load: 'mnist' (from `mnist_like`, images [28, 28, 1] uint8, labels int64) and 'iris' (from
    `iris`, one 'train' split, features [4] float32, labels int64). Same `load` signature and return shapes as
    tfds: a dict of splits, or one split, as (image, label) tuples with `as_supervised=True`."""

    Split = SimpleNamespace(TRAIN="train", TEST="test")

    def load(self, name, split=None, as_supervised=False, with_info=False, shuffle_files=False, **kwargs):
        if name == "mnist":
            (x_train, y_train), (x_test, y_test) = mnist_like()
            x_train, x_test = x_train[..., None], x_test[..., None]
            arrays = {"train": (x_train, y_train), "test": (x_test, y_test)}
            keys = ("image", "label")
        elif name == "iris":
            arrays = {"train": iris()}
            keys = ("features", "label")
        else:
            raise ValueError(f"FakeTfds has no dataset {name!r}")

        def dataset(split_name):
            x, y = arrays[split_name]
            if as_supervised:
                return tensorflow.data.Dataset.from_tensor_slices((x, y))
            return tensorflow.data.Dataset.from_tensor_slices(dict(zip(keys, (x, y))))

        if split is None:
            result = {s: dataset(s) for s in arrays}
        elif isinstance(split, (list, tuple)):
            result = [dataset(s) for s in split]
        else:
            result = dataset(split)
        if with_info:
            info = SimpleNamespace(splits={k: SimpleNamespace(num_examples=len(v[1])) for k, v in arrays.items()})
            return result, info
        return result


def untrained_loss(make_estimator, input_fn, model_dir, seed=0) -> float:
    """The evaluate loss of the program's model before any training: `make_estimator(model_dir)`
    in a fresh model_dir, evaluated with the initial values (the same seed as `program_dir`, so
    the same initial values as the program's own run)."""
    keras.utils.set_random_seed(seed)
    estimator = make_estimator(str(model_dir))
    loss = float(estimator.evaluate(input_fn)["loss"])
    keras.utils.set_random_seed(seed)
    assert math.isfinite(loss)
    return loss
