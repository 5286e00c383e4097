"""Input pipelines against what training consumes, and what length bucketing gains.

- fast / generator pipeline: examples/s read from `numbers.input_fn` (TRAIN), alone;
- consumption: examples/s the default model trains on through the Estimator, fed fixed batches
  (`common.fixed_batches`) so the pipeline is not part of the figure;
- bucketing: Estimator training on the real pipeline with and without `bucket_boundaries`,
  in alternating rounds (bucketed batches are padded to their bucket's longest row, not the
  batch's, so the GRU runs fewer steps).
"""

from __future__ import annotations

import shutil
import tempfile

import keras_estimator as ke
from keras_estimator.numbers import build_model, input_fn

import common
from training import EstimatorTrainer

BUCKETS = [20, 30, 40, 50, 60]


def examples_per_second(dataset, batches: int) -> float:
    iterator = iter(dataset)
    next(iterator)  # Warm-up: pool encoding, tracing.
    count = 0

    def read():
        nonlocal count
        for _ in range(batches):
            features, _ = next(iterator)
            count += int(features["lengths"].shape[0])

    seconds = common.timed(read)
    return count / seconds


def mean_width(dataset, batches: int) -> float:
    """Mean padded width of the first `batches` batches: the GRU steps per example."""
    widths = [int(f["sequences"].shape[1]) for f, _ in dataset.take(batches)]
    return sum(widths) / len(widths)


def run(rounds: int = 5, steps: int = 150) -> dict:
    batches = 200
    if common.QUICK:
        rounds, steps, batches = 1, 5, 10
    params = common.PARAMS
    fast = examples_per_second(input_fn({**params, "pipeline": "fast"}), batches)
    generator = examples_per_second(input_fn({**params, "pipeline": "generator"}), max(batches // 4, 5))
    bucketed_pipeline = examples_per_second(input_fn({**params, "bucket_boundaries": BUCKETS}), batches)

    padded_width = mean_width(input_fn(params), batches)
    bucketed_width = mean_width(input_fn({**params, "bucket_boundaries": BUCKETS}), batches)
    features, labels, width = common.fixed_batches()
    config = ke.RunConfig(tf_random_seed=0)
    consumer = EstimatorTrainer(lambda d: ke.model_to_estimator(build_model(params), model_dir=d, config=config),
                                common.dataset_of(features, labels), steps)
    padded = EstimatorTrainer(lambda d: ke.model_to_estimator(build_model(params), model_dir=d, config=config),
                              input_fn(params), steps)
    bucketed = EstimatorTrainer(lambda d: ke.model_to_estimator(build_model(params), model_dir=d, config=config),
                                input_fn({**params, "bucket_boundaries": BUCKETS}), steps)
    try:
        rates = common.alternate({"consumption": consumer, "padded per batch": padded,
                                  "bucketed": bucketed}, rounds)
    finally:
        for trainer in (consumer, padded, bucketed):
            trainer.close()
    batch = params["batch_size"]
    best = {name: max(r) for name, r in rates.items()}  # Each one's unthrottled round (see training.run).
    consumption = best["consumption"] * batch
    return {
        "fast_examples_per_s": fast,
        "generator_examples_per_s": generator,
        "consumption_examples_per_s": consumption,
        "consumption_width": width,
        "fast_x_consumption": fast / consumption,
        "generator_x_consumption": generator / consumption,
        "bucketed_examples_per_s": bucketed_pipeline,
        "bucketed_x_consumption": bucketed_pipeline / consumption,
        "padded_steps_per_s": best["padded per batch"],
        "bucketed_steps_per_s": best["bucketed"],
        "bucketing_gain": best["bucketed"] / best["padded per batch"],
        "buckets": BUCKETS,
        "padded_width": padded_width,
        "bucketed_width": bucketed_width,
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:28s} {value}")
