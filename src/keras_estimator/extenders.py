"""`add_metrics`: an Estimator with more evaluation metrics (tf.estimator.add_metrics)."""

from __future__ import annotations

from typing import Any, Callable

from keras_estimator import fn_args
from keras_estimator.estimator import Estimator
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.spec import EstimatorSpec

__all__ = ["add_metrics"]

METRIC_FN_ARGS = ("features", "labels", "predictions", "config")


def add_metrics(estimator: Estimator, metric_fn: Callable[..., dict[str, Any]]) -> Estimator:
    """A new Estimator whose evaluations also report the metrics of `metric_fn`.

    The new Estimator has the same model_fn, model_dir, config and params (it trains,
    predicts and exports as the original, on the same checkpoints). In EVAL mode its model_fn
    calls `metric_fn` and adds its results to the spec's `eval_metric_ops`; on a name clash
    metric_fn's metric wins.

    Args:
        estimator: An `Estimator`.
        metric_fn: Takes any of `features`, `labels`, `predictions` (the spec's, in EVAL mode)
            and `config`, by name, and returns a dict of metric name to a `keras.metrics.Metric`
            it updated (e.g. `m = keras.metrics.AUC(); m.update_state(labels, p); {"auc": m}`)
            or to a tf.estimator `(value, update_op)` tuple (e.g. `tf.compat.v1.metrics.auc`).

    Returns:
        The new `Estimator`. The original's `warm_start_from` is not carried over: it only
        applies to a first `train` on an empty model_dir (pass it again to a new Estimator if
        needed).

    Raises:
        ValueError: if estimator is not an Estimator, or metric_fn is not callable or takes
            other arguments (tf.estimator's message); during evaluation, if metric_fn does not
            return a dict.
    """
    if not isinstance(estimator, Estimator):
        raise ValueError(f"estimator must be a keras_estimator.Estimator, got {type(estimator).__name__}.")
    fn_args.check_args(metric_fn, "metric_fn", METRIC_FN_ARGS)
    model_fn = estimator.model_fn

    def new_model_fn(features, labels, mode, params, config):
        spec = fn_args.call(model_fn, {"features": features, "labels": labels, "mode": mode,
                                       "params": params, "config": config})
        if mode != ModeKeys.EVAL or not isinstance(spec, EstimatorSpec):
            return spec  # The Estimator checks the spec.
        metrics = fn_args.call(metric_fn, {"features": features, "labels": labels,
                                           "predictions": spec.predictions, "config": config})
        if not isinstance(metrics, dict):
            raise ValueError(f"metric_fn must return a dict of metric name to metric, got {type(metrics).__name__}.")
        return spec._replace(eval_metric_ops={**(spec.eval_metric_ops or {}), **metrics})

    new_model_fn.__name__ = f"add_metrics({getattr(model_fn, '__name__', type(model_fn).__name__)})"
    # model_to_estimator: with no checkpoint, an export serves the Keras model's weights.
    new_model_fn.exports_initial_weights = bool(getattr(model_fn, "exports_initial_weights", False))
    return Estimator(new_model_fn, model_dir=estimator.model_dir, config=estimator.config,
                     params=estimator.params)
