"""The compiled inner loops: up to N steps of one mode inside one `tf.function` call.

Train and eval share one loop body (`make_loop`): take the next element, run the step through
`strategy.run`, reduce the per-replica losses, fold the loss into the loop's state, stop early
at the data end or when the fold says so. The Python loop around them (`train_loop`,
`evaluation`) decides how many steps each call runs.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import tensorflow as tf

from keras_estimator.model import Model


def split(element: Any) -> tuple[Any, Any]:
    """(features, labels) of a dataset element; labels None for features alone."""
    if isinstance(element, tuple):
        return element
    return element, None


def make_loop(strategy: Any, step_fn: Callable, initial: Callable[[], Any],
              fold: Callable[[Any, tf.Tensor], tuple[Any, tf.Tensor]],
              after_step: Callable[[], Any] | None = None,
              finish: Callable[[], Any] | None = None, reduction: str = "MEAN") -> Callable:
    """A `tf.function(iterator, num_steps) -> (ran, state, stopped, finished)`.

    Args:
        strategy: Runs `step_fn(features, labels)` per replica and reduces its result
            (`reduction` over replicas) for `fold`.
        initial: The loop state before the first step.
        fold: `(state, loss) -> (state, stop)`; a true `stop` ends the loop before the step
            counts (`after_step` does not run).
        after_step: Runs after each counted step (e.g. advancing the global step).
        finish: Its result is returned as `finished` (e.g. metric results, read after the loop).
    """
    # A partial, not a closure: TensorFlow counts retracings per code object, and every
    # Estimator's loops share this code, so a process making many Estimators (a sweep) would
    # be warned of "excessive retracing" that is one trace per loop.
    return tf.function(functools.partial(_loop, strategy=strategy, step_fn=step_fn, initial=initial,
                                         fold=fold, after_step=after_step, finish=finish,
                                         reduction=reduction),
                       reduce_retracing=True, autograph=False)


def _loop(iterator, num_steps, *, strategy, step_fn, initial, fold, after_step, finish, reduction):
    # tf.while_loop and tf.cond, not AutoGraph: converting this function cost every process
    # about 0.2 s in its first call.
    def take_step(ran, state, stopped):
        element = iterator.get_next_as_optional()

        def run():
            features, labels = split(element.get_value())
            per_replica = strategy.run(step_fn, args=(features, labels))
            new_state, stop = fold(state, strategy.reduce(reduction, per_replica, axis=None))

            def count():
                with tf.control_dependencies([after_step()] if after_step is not None else []):
                    return ran + 1

            return tf.cond(stop, lambda: ran, count), new_state, stop, stop

        return tf.cond(element.has_value(), run, lambda: (ran, state, stopped, tf.constant(True)))

    def body(i, ran, state, stopped, done):
        return (i + 1, *take_step(ran, state, stopped))

    _, ran, state, stopped, _ = tf.while_loop(
        lambda i, ran, state, stopped, done: tf.logical_and(i < num_steps, tf.logical_not(done)), body,
        (tf.constant(0, num_steps.dtype), tf.constant(0, tf.int64), initial(), tf.constant(False),
         tf.constant(False)))
    return ran, state, stopped, (finish() if finish is not None else {})


def make_train_loop(model: Model, jit_compile: bool = False) -> Callable:
    """Training: the state is the last step's loss; a NaN/Inf loss stops the loop before the
    global step advances, so that step is never counted or saved."""
    step_fn = model.train_step
    if jit_compile:  # The step only: iterators and the loop stay outside XLA.
        step_fn = tf.function(model.train_step, jit_compile=True)

    def fold(_, loss):
        loss = tf.cast(loss, tf.float32)
        return loss, tf.logical_not(tf.math.is_finite(loss))

    return make_loop(model.strategy, step_fn, lambda: tf.constant(0.0, tf.float32), fold,
                     after_step=lambda: model.global_step.assign_add(1))


def make_eval_loop(model: Model) -> Callable:
    """Evaluation under eval_distribute (or on one device): the state is the sum of batch
    losses (float64). Under several replicas a step's loss is the replicas' losses weighted by
    their examples, so it is the loss of the global batch (also at the uneven end, where a
    replica may get a smaller or an empty batch). The metrics' results are read after the
    loop (they were created while tracing its body)."""
    def fold(total, loss):
        return total + tf.cast(loss, tf.float64), tf.constant(False)

    def weighted_step(features, labels):
        loss = tf.cast(model.eval_step(features, labels), tf.float64)
        examples = tf.cast(tf.shape(tf.nest.flatten(features)[0])[0], tf.float64)
        return tf.stack([tf.where(examples > 0, loss * examples, 0.0), examples])  # No NaN of empty.

    def fold_weighted(total, sums):  # sums: (sum of losses times examples, examples)
        return fold(total, sums[0] / sums[1])

    strategy = model.eval_strategy
    one = strategy.num_replicas_in_sync == 1
    return make_loop(strategy, model.eval_step if one else weighted_step, lambda: tf.constant(0.0, tf.float64),
                     fold if one else fold_weighted, reduction="MEAN" if one else "SUM",
                     finish=lambda: {k: m.result() for k, m in model.eval_metrics.items()})


def make_predict(model: Model) -> Callable:
    """A `tf.function(features) -> predictions` under eval_distribute: each replica predicts
    its batch, and the batches are concatenated in replica order (the input's order)."""
    strategy = model.eval_strategy
    if strategy.num_replicas_in_sync == 1:
        return tf.function(model.predict_step, reduce_retracing=True, autograph=False)

    def predict(features):
        per_replica = strategy.experimental_local_results(strategy.run(model.predict_step, args=(features,)))
        return tf.nest.map_structure(lambda *parts: tf.concat(parts, 0), *per_replica)

    return tf.function(predict, reduce_retracing=True, autograph=False)


def make_stop_agreement(strategy: Any) -> Callable[[tf.Tensor], tf.Tensor]:
    """A `tf.function(wanted) -> sum over replicas`: non-zero if any task wants to stop."""
    @tf.function
    def agree(wanted):
        per_replica = strategy.run(tf.identity, args=(wanted,))
        return strategy.reduce("SUM", per_replica, axis=None)

    return agree


def make_fetching_step(model: Model, fetch: tuple[str, ...]) -> Callable:
    """A `tf.function(element) -> (loss, bad, values)`: one training step on a dataset element
    that also returns the values of the tensors named in `fetch` (from the first replica),
    for hooks that asked for them. A NaN/Inf loss does not advance the global step."""
    strategy = model.strategy

    def step(element):
        features, labels = split(element)
        loss, values = strategy.run(model.train_step, args=(features, labels, fetch))
        loss = tf.cast(strategy.reduce("MEAN", loss, axis=None), tf.float32)
        bad = tf.logical_not(tf.math.is_finite(loss))
        if not bad:
            model.global_step.assign_add(1)
        return loss, bad, [strategy.experimental_local_results(v)[0] for v in values]

    return tf.function(step, reduce_retracing=True)


class CompiledSteps:
    """The compiled loops of one model, kept across calls so repeated calls reuse their traces.

    Args:
        model: The `Model` whose steps run.
        jit_compile: Compile the training step with XLA.
        agree_on_stop: Build the stop agreement (tasks of a multi-worker cluster).
    """

    def __init__(self, model: Model, jit_compile: bool = False, agree_on_stop: bool = False):
        self.train = make_train_loop(model, jit_compile)
        self.eval = make_eval_loop(model)
        self.predict = make_predict(model)
        self.agree_on_stop = make_stop_agreement(model.strategy) if agree_on_stop else None
        self._model = model
        self._fetching: dict[tuple[str, ...], Callable] = {}

    def predict_fn(self, element_spec: Any) -> Any:
        """The concrete predict function for a dataset's (or distributed dataset's) elements."""
        return self.predict.get_concrete_function(split(element_spec)[0])

    def fetching(self, fetch: tuple[str, ...]) -> Callable:
        """The one-step function fetching these tensor names (compiled once per set)."""
        if fetch not in self._fetching:
            self._fetching[fetch] = make_fetching_step(self._model, fetch)
        return self._fetching[fetch]
