"""input_fn for numbers written as words: padded batches of {"sequences", "lengths"}.

Two pipelines give the same encoding:
- "fast" (default): num2words runs once over a pool of numbers (cached per process); batches
  are gathered in-graph from a ragged tensor, so Python never runs per example.
- "generator": the seed article's `from_generator` over num2words, one example at a time.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np
import tensorflow as tf

from keras_estimator.mode_keys import ModeKeys
from keras_estimator.numbers.vocabulary import Vocabulary, number_words
from keras_estimator.validation import is_int

TARGETS = ("parity", "magnitude", "value", "last_digit")

DEFAULTS: dict[str, Any] = {
    "lang": "en",
    "max_num": 1_000_000,
    "batch_size": 64,
    "targets": ("parity",),
    "seed": 0,
    "eval_size": 2000,
    "pool_size": 50_000,
    "pipeline": "fast",
    "bucket_boundaries": None,
}


def resolve_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults filled in and checked.

    Raises:
        ValueError: naming an unknown target or pipeline, or a non-positive size.
    """
    p = {**DEFAULTS, **(params or {})}
    targets = p["targets"]
    if isinstance(targets, str):
        targets = tuple(t.strip() for t in targets.split(",") if t.strip())
    targets = tuple(targets)
    unknown = [t for t in targets if t not in TARGETS]
    if not targets or unknown:
        raise ValueError(f"Unknown target(s) {unknown or targets}; choose from {list(TARGETS)}.")
    p["targets"] = targets
    for key in ("max_num", "batch_size", "eval_size", "pool_size"):
        if not is_int(p[key]) or p[key] <= 0:
            raise ValueError(f"params[{key!r}] must be a positive integer, got {p[key]!r}.")
    if p["eval_size"] >= p["max_num"]:
        raise ValueError(f"params['eval_size'] ({p['eval_size']}) must be below max_num ({p['max_num']}).")
    if p["pipeline"] not in ("fast", "generator"):
        raise ValueError(f"params['pipeline'] must be 'fast' or 'generator', got {p['pipeline']!r}.")
    return p


def magnitude_classes(max_num: int) -> int:
    """Number of `magnitude` classes: digits of the largest number."""
    return len(str(max_num - 1))


def target_values(numbers: np.ndarray, target: str) -> np.ndarray:
    """The label of `target` for each number."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if target == "parity":
        return (numbers % 2).astype(np.int32)
    if target == "magnitude":
        return np.array([len(str(n)) - 1 for n in numbers], dtype=np.int32)
    if target == "last_digit":
        return (numbers % 10).astype(np.int32)
    if target == "value":
        return np.log10(numbers.astype(np.float64) + 1).astype(np.float32)
    raise ValueError(f"Unknown target {target!r}; choose from {list(TARGETS)}.")


@functools.lru_cache(maxsize=16)
def vocabulary(lang: str, max_num: int) -> Vocabulary:
    return Vocabulary.for_language(lang, max_num)


@functools.lru_cache(maxsize=8)
def eval_numbers(max_num: int, eval_size: int, seed: int) -> np.ndarray:
    """The fixed held-out numbers: the same for the same seed, never used for training."""
    rng = np.random.default_rng([seed, 1])
    return np.sort(rng.choice(max_num, size=eval_size, replace=False))


@functools.lru_cache(maxsize=8)
def train_numbers(max_num: int, pool_size: int, eval_size: int, seed: int) -> np.ndarray:
    """A pool of training numbers that excludes the held-out ones."""
    held_out = eval_numbers(max_num, eval_size, seed)
    size = min(pool_size, max_num - eval_size)
    rng = np.random.default_rng([seed, 2])
    if size == max_num - eval_size:
        return np.setdiff1d(np.arange(max_num), held_out)
    pool = np.empty(0, dtype=np.int64)
    while len(pool) < size:
        draw = rng.choice(max_num, size=size, replace=False)
        pool = np.concatenate([pool, draw[~np.isin(draw, held_out) & ~np.isin(draw, pool)]])
    return pool[:size]


def encode_numbers(numbers: np.ndarray, lang: str, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat ids, lengths, numbers kept): numbers the language cannot write are dropped."""
    ids, lengths, kept = [], [], []
    for n in numbers:
        try:
            encoded = vocab.encode(number_words(int(n), lang))
        except ValueError:
            continue
        ids.extend(encoded)
        lengths.append(len(encoded))
        kept.append(n)
    if not kept:
        raise ValueError(f"num2words could not write any of the numbers in {lang!r}.")
    return (np.asarray(ids, np.int32), np.asarray(lengths, np.int32), np.asarray(kept, np.int64))


def _numbers_for(key: tuple) -> np.ndarray:
    kind, *args = key
    if kind == "given":
        return np.asarray(args[0], dtype=np.int64)
    return eval_numbers(*args) if kind == "eval" else train_numbers(*args)


@functools.lru_cache(maxsize=16)
def _encoded(lang: str, numbers_key: tuple, max_num: int):
    return encode_numbers(_numbers_for(numbers_key), lang, vocabulary(lang, max_num))


def _labels(values: tf.Tensor, targets: tuple[str, ...]):
    labels = {}
    for target in targets:
        if target == "parity":
            labels[target] = tf.cast(values % 2, tf.int32)
        elif target == "last_digit":
            labels[target] = tf.cast(values % 10, tf.int32)
        elif target == "magnitude":
            digits = tf.strings.length(tf.strings.as_string(values))
            labels[target] = tf.cast(digits - 1, tf.int32)
        else:
            labels[target] = tf.cast(tf.math.log(tf.cast(values, tf.float64) + 1) / np.log(10), tf.float32)
    return labels[targets[0]] if len(targets) == 1 else labels


def input_fn(params: Mapping[str, Any] | None = None, mode: str = ModeKeys.TRAIN) -> tf.data.Dataset:
    """Padded batches of `({"sequences": int32 [B, T], "lengths": int32 [B]}, labels)`.

    Args:
        params: `lang` ("en"), `max_num` (1_000_000), `batch_size` (64), `targets`
            (("parity",); any of parity, magnitude, value, last_digit, or a comma-separated
            string), `seed` (0), `eval_size` (2000), `pool_size` (50_000 training numbers
            encoded once), `pipeline` ("fast" or "generator"), `bucket_boundaries` (None, or
            sequence lengths at which to bucket batches to cut padding).
        mode: TRAIN streams shuffled training numbers forever; EVAL gives the fixed held-out
            numbers once; PREDICT gives the held-out features without labels.

    Returns:
        A dataset padded per batch to its longest sequence. Labels are a tensor for one target
        and a dict keyed by target for several.

    Raises:
        ValueError: for invalid params or an unknown language.
    """
    p = resolve_params(params)
    ModeKeys.validate(mode)
    if mode == ModeKeys.TRAIN:
        key = ("train", p["max_num"], p["pool_size"], p["eval_size"], p["seed"])
    else:
        key = ("eval", p["max_num"], p["eval_size"], p["seed"])
    return _pipeline(p, key, mode)


def numbers_input_fn(
    numbers: Any, params: Mapping[str, Any] | None = None, mode: str = ModeKeys.EVAL
) -> tf.data.Dataset:
    """The `input_fn` pipeline over the given numbers, once, in order (EVAL: with labels,
    PREDICT: features only). Numbers the language cannot write are dropped.

    Raises:
        ValueError: for invalid params, TRAIN mode, an empty or negative list of numbers, or
            numbers none of which the language can write.
    """
    p = resolve_params(params)
    ModeKeys.validate(mode)
    if mode == ModeKeys.TRAIN:
        raise ValueError("numbers_input_fn reads its numbers once: use mode EVAL or PREDICT.")
    values = tuple(int(n) for n in np.asarray(numbers, dtype=np.int64).reshape(-1))
    if not values or min(values) < 0:
        raise ValueError(f"numbers must be a non-empty list of non-negative integers, got {list(values)[:5]}.")
    return _pipeline(p, ("given", values), mode)


def _pipeline(p: dict, key: tuple, mode: str) -> tf.data.Dataset:
    if p["pipeline"] == "fast" and not p["bucket_boundaries"]:
        dataset = _fast(p, key, mode, batched=True)  # Whole batches: no per-example work.
    else:
        if p["pipeline"] == "generator":
            examples = _generator_examples(p, key, mode)
        else:
            examples = _fast(p, key, mode, batched=False)
        if p["bucket_boundaries"]:
            boundaries = list(p["bucket_boundaries"])
            dataset = examples.bucket_by_sequence_length(
                lambda ids, length, value: length, boundaries, [p["batch_size"]] * (len(boundaries) + 1)
            )
        else:
            dataset = examples.padded_batch(p["batch_size"])
    targets = p["targets"]

    def to_features(ids, lengths, values):
        features = {"sequences": ids, "lengths": lengths}
        if mode == ModeKeys.PREDICT:
            return features
        return features, _labels(values, targets)

    return dataset.map(to_features, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _fast(p, key, mode, batched: bool) -> tf.data.Dataset:
    """Examples (or, batched, whole batches padded to their longest row) gathered in-graph from
    the pool encoded once."""
    ids, lengths, numbers = _encoded(p["lang"], key, p["max_num"])
    rows = tf.RaggedTensor.from_row_lengths(ids, lengths)
    lengths_t, numbers_t = tf.constant(lengths), tf.constant(numbers)
    index = tf.data.Dataset.range(len(lengths))
    if mode == ModeKeys.TRAIN:
        index = index.shuffle(len(lengths), seed=p["seed"], reshuffle_each_iteration=True).repeat()
    if batched:
        index = index.batch(p["batch_size"])

    def gather(i):
        ids_i = tf.gather(rows, i)
        return (ids_i.to_tensor() if batched else ids_i), tf.gather(lengths_t, i), tf.gather(numbers_t, i)

    return index.map(gather)


def _generator_examples(p, key, mode) -> tf.data.Dataset:
    lang, vocab = p["lang"], vocabulary(p["lang"], p["max_num"])
    numbers = _numbers_for(key)

    def generate():
        rng = np.random.default_rng(p["seed"])
        while True:
            for n in (rng.permutation(numbers) if mode == ModeKeys.TRAIN else numbers):
                try:
                    encoded = vocab.encode(number_words(int(n), lang))
                except ValueError:
                    continue
                yield encoded, len(encoded), int(n)
            if mode != ModeKeys.TRAIN:
                return

    return tf.data.Dataset.from_generator(
        generate,
        output_signature=(
            tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int64)
        ),
    )
