"""One `evaluate` call: the loop over the eval data, the metric results, the eval summaries."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import tensorflow as tf

from keras_estimator.errors import InputError
from keras_estimator.hook_list import HookList
from keras_estimator.hooks import RunContext
from keras_estimator.model import Model
from keras_estimator.steps import CompiledSteps
from keras_estimator.summaries import SummaryWriter

logger = logging.getLogger("keras_estimator")


def evaluate(model: Model, steps: CompiledSteps, dataset: tf.data.Dataset, max_batches: int | None,
             hooks: HookList, context: RunContext, eval_dir: str) -> dict[str, Any]:
    """Evaluates the prepared model on `dataset`, at most `max_batches` batches.

    Returns:
        numpy scalars: `loss` (the mean of per-batch losses), `global_step`, each metric.

    Raises:
        InputError: if the dataset has no batch.
        ValueError: if two results have the same name (or one is named loss / global_step).
    """
    for metric in model.eval_metrics.values():
        metric.reset_state()
    model.store.reset_locals()
    batches, loss_sum, results = _run(model, steps, dataset, max_batches, hooks, context)
    output = metric_results({**results, **model.metric_values()})
    output["loss"] = np.float32(loss_sum / batches)
    output["global_step"] = np.int64(model.global_step.numpy())
    _write_summaries(eval_dir, output)
    logger.info(
        "Saving dict for global step %d: %s", output["global_step"],
        ", ".join(f"{k} = {v}" for k, v in sorted(output.items())),
    )
    return output


def _run(model: Model, steps: CompiledSteps, dataset: tf.data.Dataset, max_batches: int | None,
         hooks: HookList, context: RunContext) -> tuple[int, float, dict]:
    per_loop = model.config.steps_per_loop
    iterator = iter(dataset)
    hooks.begin(context)
    batches, loss_sum, results = 0, 0.0, {}
    while max_batches is None or batches < max_batches:
        size = per_loop if max_batches is None else min(per_loop, max_batches - batches)
        ran, loop_sum, _, results = steps.eval(iterator, tf.constant(size, tf.int64))
        batches += int(ran)
        loss_sum += float(loop_sum)
        context.steps_in_call = batches
        hooks.after_run(context)
        if int(ran) < size or context.stop_requested:
            break
    if batches == 0:
        raise InputError("input_fn for mode 'eval' returned an empty dataset: nothing to evaluate.")
    hooks.end(context)
    return batches, loss_sum, results


def _write_summaries(eval_dir: str, output: dict[str, Any]) -> None:
    writer = SummaryWriter(eval_dir)
    for key, value in output.items():
        if key != "global_step" and np.ndim(value) == 0:
            writer.scalar(key, float(value), int(output["global_step"]))
    writer.close()


def metric_results(results: dict) -> dict:
    """Numpy values by name. A metric whose result is a dict (Keras's compiled metrics) reports
    each of its entries under its own name, as Keras's `evaluate` does.

    Raises:
        ValueError: for two results of one name, or a result named loss or global_step.
    """
    output = {}
    for name, value in results.items():
        entries = value.items() if isinstance(value, dict) else [(name, value)]
        for key, entry in entries:
            if key in output or key in ("loss", "global_step"):
                raise ValueError(
                    f"Two evaluation results are named {key!r} (eval_metric_ops {name!r}); "
                    "'loss' and 'global_step' are reserved."
                )
            output[key] = _numpy(entry)
    return output


def _numpy(value: Any) -> Any:
    value = np.asarray(tf.nest.map_structure(lambda t: t.numpy(), value))
    return value[()] if value.ndim == 0 else value  # Scalars as numpy scalars, like tf.estimator.
