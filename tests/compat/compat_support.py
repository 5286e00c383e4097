"""Shared helpers for tests/compat (imported as compat_support: tests/ has several conftest.py): data standing in for the programs' downloads, and the
untrained baseline their learning thresholds are measured against.

Nothing here changes a program's model_fn, input_fn or Estimator calls: the stand-ins only
replace what the programs downloaded (MNIST and iris through tensorflow_datasets, the iris
CSVs), with data scikit-learn ships, and the titanic CSVs with a synthetic table (`titanic`).
"""

from __future__ import annotations

import io
import math
import os
from types import SimpleNamespace

import keras
import numpy as np
import pandas as pd
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


def iris_csv(fname: str) -> str:
    """The file `tf.keras.utils.get_file(fname, ".../data/" + fname)` downloads from
    download.tensorflow.org, 'iris_training.csv' (120 rows) or 'iris_test.csv' (30 rows), written
    from `iris()` (its first 120 and last 30 examples) into the current directory; returns its
    path. The CSVs' layout: a header line `<rows>,4,setosa,versicolor,virginica`, then per row the
    four measurements (one decimal, in cm) and the species 0-2."""
    sizes = {"iris_training.csv": slice(0, 120), "iris_test.csv": slice(120, 150)}
    if fname not in sizes:
        raise ValueError(f"iris_csv has no file {fname!r}")
    x, y = iris()
    x, y = np.round(x[sizes[fname]].astype(np.float64), 1), y[sizes[fname]]
    lines = [f"{len(y)},4,setosa,versicolor,virginica"]
    lines += [",".join(f"{v:.1f}" for v in features) + f",{label}" for features, label in zip(x, y)]
    path = os.path.abspath(fname)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def titanic(seed: int = 1912) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SYNTHETIC stand-in for the titanic CSVs TensorFlow's tutorials read from
    storage.googleapis.com/tf-datasets/titanic/ (train.csv, eval.csv): (dftrain, dfeval) with
    their 627 and 264 rows, their columns (survived, sex, age, n_siblings_spouses, parch, fare,
    class, deck, embark_town, alone), values and dtypes (as `pd.read_csv` gives them with the
    installed pandas: the table goes through CSV text). No real passenger is in it: rows are drawn
    from a seeded numpy generator, with the real data's proportions roughly (a third women,
    about half in third class, decks mostly 'unknown', missing ages filled with 28 as in the CSVs)
    and survival drawn from a logistic model in which women, first class and children (boys most)
    survive more and men, third class and large families less: about 0.38 survive (female 0.8,
    male 0.18, by class 0.64, 0.46, 0.25); scikit-learn's LogisticRegression over the tutorial's
    columns scores 0.795 on dfeval, against 0.633 for always 'died' (the tutorial reports 0.75 and
    0.776 for its two LinearClassifiers on the real data)."""
    rng = np.random.default_rng(seed)
    n = 627 + 264
    klass = rng.choice(["First", "Second", "Third"], size=n, p=[0.24, 0.21, 0.55])
    female = rng.random(n) < np.select([klass == "First", klass == "Second"], [0.44, 0.41], 0.29)
    sex = np.where(female, "female", "male")
    adult_mean_age = np.select([klass == "First", klass == "Second"], [38.0, 30.0], 25.0)
    age = np.clip(rng.normal(adult_mean_age, 11.0), 14.0, 80.0)
    child = rng.random(n) < np.where(klass == "Third", 0.1, 0.05)
    age = np.where(child, rng.uniform(0.75, 12.0, n), age)
    age = np.round(age * 2) / 2
    age = np.where(age >= 1, np.round(age), age)
    age = np.where(rng.random(n) < 0.2, 28.0, age)  # the CSVs' missing ages are 28
    n_siblings_spouses = rng.choice([0, 1, 2, 3, 4, 5, 8], size=n,
                                    p=[0.68, 0.235, 0.03, 0.018, 0.02, 0.01, 0.007])
    parch = rng.choice([0, 1, 2, 3, 4, 5], size=n, p=[0.76, 0.13, 0.09, 0.007, 0.005, 0.008])
    parch = np.where(child & (parch == 0), 1 + rng.integers(0, 2, n), parch)
    family = n_siblings_spouses + parch
    base_fare = np.select([klass == "First", klass == "Second"], [60.0, 15.0], 8.0)
    fare = np.round(base_fare * rng.lognormal(0.0, 0.5, n) * (1 + 0.3 * family), 4)
    deck = np.select(
        [klass == "First", klass == "Second"],
        [rng.choice(["A", "B", "C", "D", "E", "unknown"], size=n,
                    p=[0.07, 0.2, 0.24, 0.14, 0.1, 0.25]),
         rng.choice(["D", "E", "F", "unknown"], size=n, p=[0.03, 0.03, 0.04, 0.9])],
        rng.choice(["E", "F", "G", "unknown"], size=n, p=[0.01, 0.01, 0.01, 0.97]))
    embark_town = rng.choice(["Southampton", "Cherbourg", "Queenstown", "unknown"], size=n,
                             p=[0.72, 0.19, 0.087, 0.003])
    alone = np.where(family == 0, "y", "n")
    logit = 1.3 * (-1.3 + 2.6 * female
                   + np.select([klass == "First", klass == "Second"], [1.0, 0.2], -0.9)
                   + np.where(age < 13, np.where(female, 0.5, 2.0), -0.02 * (age - 30))
                   - 1.2 * (family >= 4)
                   + 0.3 * (embark_town == "Cherbourg"))
    survived = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    table = pd.DataFrame({"survived": survived, "sex": sex, "age": age,
                          "n_siblings_spouses": n_siblings_spouses, "parch": parch, "fare": fare,
                          "class": klass, "deck": deck, "embark_town": embark_town, "alone": alone})
    return (pd.read_csv(io.StringIO(table[:627].to_csv(index=False))),
            pd.read_csv(io.StringIO(table[627:].to_csv(index=False))))


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
