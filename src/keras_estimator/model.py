"""The model behind an Estimator: model_fn's variables, built once per mode and restored.

model_fn runs inside `tf.function`; the variables it creates live in a `VariableStore` keyed by
their Keras paths, so they persist across modes, calls and traces and are checkpointed under
readable names. Tracing a mode's step once (without running it) creates that mode's variables
outside any loop; each call then restores the checkpoint it runs on (or the initial snapshot).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable, Iterator

import keras
import tensorflow as tf

from keras_estimator import _compat
from keras_estimator import checkpoints as ckpt_lib
from keras_estimator import context as context_lib
from keras_estimator import datasets, fn_args, graph_collections, strategies
from keras_estimator import warm_start as warm_start_lib
from keras_estimator.warm_start import WarmStartSettings
from keras_estimator.errors import EstimatorSpecError, InputError
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.pruned_steps import kept_after_update, metric_values_fn, pruned_step
from keras_estimator.run_config import RunConfig
from keras_estimator.signature import InputSignature
from keras_estimator.spec import EstimatorSpec, is_metric_tuple
from keras_estimator.variable_store import VariableStore

logger = logging.getLogger("keras_estimator")


class Model:
    """model_fn with its variables, global step and input signature.

    Args:
        model_fn: The user's model_fn (see `Estimator`).
        config: The Estimator's `RunConfig` (model_dir set).
        params: Passed to model_fn as `params`.
        warm_start: Where a first `train` takes its initial weights from, or None.
    """

    def __init__(self, model_fn: Callable[..., EstimatorSpec], config: RunConfig, params: dict,
                 warm_start: WarmStartSettings | None = None):
        self.model_fn = model_fn
        # AutoGraph converts model_fn (and what it calls), not the runtime's own steps.
        _compat.autograph_skips_package(__name__.partition(".")[0])
        self.model_fn_to_call = model_fn  # Converted by AutoGraph once a trace needs it.
        self.config = config
        self.params = params
        self.warm_start = warm_start
        # model_to_estimator: with no checkpoint, the export serves the Keras model's weights.
        self.exports_initial_weights = bool(getattr(model_fn, "exports_initial_weights", False))
        # Variables are created in train_distribute's scope and training steps run through its
        # run/reduce; evaluation and prediction run through eval_distribute's (or one device).
        self.strategy = strategies.to_run(config.train_distribute)
        self.eval_strategy = strategies.eval_to_run(self.strategy, config.eval_distribute)
        with self.strategy.scope():
            self.global_step = tf.Variable(
                0, dtype=tf.int64, trainable=False, name="global_step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        self.store = VariableStore()
        self.signature = InputSignature(config.model_dir)
        self.eval_metrics: dict[str, keras.metrics.Metric] = {}
        self.metric_tuples: list[str] = []  # Names of EVAL's tf.estimator (value, update_op) metrics.
        self.spec_hooks: dict[str, list] = {}  # Mode -> the hooks model_fn's spec named when built.
        self.building = False  # True while a multi-replica build creates the variables.
        self._trains_in: set[str] = set()  # EVAL/PREDICT whose model_fn builds a train_op too.
        # Their steps, pruned to what the mode fetches, and the input specs they were pruned for.
        self._pruned: dict[str, tuple[Callable, Any]] = {}
        self._traced: dict[str, tuple[Callable, Any]] = {}  # EVAL's and PREDICT's steps as built.
        self._pruning = False
        self._eval_specs: tuple = (None, None)  # Features and labels of the eval input (metric_values).
        self._metric_values: Any = None  # Reads tf.estimator metrics' values (see metric_values).
        self._kept_values: dict[str, tf.Variable] = {}  # Their values after the last update.
        self._built_modes: set[str] = set()

    # -- one step of each mode (traced by the compiled loops) ---------------------------------
    def call(self, features: Any, labels: Any, mode: str, tape: tf.GradientTape | None = None) -> EstimatorSpec:
        """Calls model_fn in `mode` with its variables and context; checks what it returns.

        Raises:
            ValueError: if model_fn returns no `EstimatorSpec`, or one for another mode.
        """
        watch = graph_collections.AssignmentWatch(self.global_step if mode != ModeKeys.TRAIN else None)
        with self.store.scope() as keys:
            ctx = context_lib.ModelFnContext(
                mode, self.global_step, self.store, keys, tape, self.strategy, self.building
            )
            with context_lib.enter(ctx), graph_collections.global_step_of_graph(self.global_step), watch, \
                    _compat.autograph_enabled():
                spec = fn_args.call(self.model_fn_to_call, {
                    "features": datasets.wrap(features), "labels": datasets.wrap(labels, datasets.LabelDict),
                    "mode": mode, "params": self.params, "config": self.config,
                })
        if watch.assigned and not self._pruning:  # A train_op built outside TRAIN.
            self._trains_in.add(mode)
        if not isinstance(spec, EstimatorSpec):
            raise EstimatorSpecError(f"model_fn should return an EstimatorSpec, got {type(spec).__name__}.")
        if spec.mode != mode:
            raise EstimatorSpecError(f"model_fn was called in mode {mode!r} but returned an EstimatorSpec for mode {spec.mode!r}.")
        if mode not in self._built_modes:  # The build trace's: their tensors' names are top-level.
            self.spec_hooks[mode] = _hooks_of(spec, mode, self.config.is_chief)
        return spec

    def train_step(self, features: Any, labels: Any, fetch: tuple[str, ...] = ()) -> Any:
        """One training step: the loss, after train_op ran (and with `fetch`, a tuple of tensor
        names, `(loss, [their values])`). The compiled loop advances the global step; a
        train_op that advances it too (a compat.v1 optimizer's `minimize(global_step=...)`)
        is undone, so a step counts once."""
        start = self.global_step.read_value() if tf.inside_function() else None
        watch = graph_collections.AssignmentWatch(self.global_step)
        with tf.GradientTape() as tape, watch:
            spec = self.call(features, labels, ModeKeys.TRAIN, tape)
        # The global step as model_fn saw it (before this step); other tensors by name.
        values = [start if name == self.global_step.name and start is not None
                  else graph_collections.tensor_by_name(name) for name in fetch]
        deps = [t for t in tf.nest.flatten(spec.train_op) if isinstance(t, (tf.Tensor, tf.Operation))]
        with tf.control_dependencies(deps):
            loss = tf.identity(spec.loss)
        if watch.assigned and start is not None:
            with tf.control_dependencies([loss]):
                undo = self.global_step.assign(start)
            with tf.control_dependencies([undo]):
                loss = tf.identity(loss)
        return (loss, values) if fetch else loss

    def eval_step(self, features: Any, labels: Any) -> tf.Tensor:
        """One evaluation batch: the loss; eval_metric_ops are updated and kept in `eval_metrics`."""
        built = self._built_step(ModeKeys.EVAL)
        if built is not None:
            return built(features, labels)
        spec = self.call(features, labels, ModeKeys.EVAL)
        self._note_metrics(spec)
        updates = [m[1] for m in spec.eval_metric_ops.values() if is_metric_tuple(m)]
        kept = [] if tf.distribute.has_strategy() else kept_after_update(spec, self._kept_values)
        with tf.control_dependencies(updates + kept):  # tf.estimator metrics: update on every batch.
            return tf.identity(spec.loss)

    def _note_metrics(self, spec: EstimatorSpec) -> None:
        self.eval_metrics = {k: m for k, m in spec.eval_metric_ops.items() if isinstance(m, keras.metrics.Metric)}
        for metric in self.eval_metrics.values():
            self.store.exclude_from_checkpoints(metric.variables)
        self.metric_tuples = sorted(k for k, m in spec.eval_metric_ops.items() if is_metric_tuple(m))

    def metric_values(self) -> dict[str, tf.Tensor]:
        """The current value of each tf.estimator `(value, update_op)` metric of EVAL. In the
        loop a value is read before that batch's update (program order), so values are those
        each step kept (`kept_after_update`), or else read by a function pruned from a second
        trace of model_fn to the value tensors alone, running no update.

        Raises:
            ValueError: if a metric's value depends on the batch, not only on its variables.
        """
        if not self.metric_tuples:
            return {}
        kept = ModeKeys.EVAL not in self._pruned and self.eval_strategy.num_replicas_in_sync == 1
        if kept and set(self.metric_tuples) <= set(self._kept_values):
            return {k: self._kept_values[k].read_value() for k in self.metric_tuples}
        if self._metric_values is None:
            self._pruning = True  # A train_op traced there is pruned away with everything else.
            try:
                self._metric_values = metric_values_fn(self.call, *self._eval_specs)
            finally:
                self._pruning = False
        return self._metric_values()

    def predict_step(self, features: Any) -> Any:
        """One prediction batch: model_fn's predictions."""
        built = self._built_step(ModeKeys.PREDICT)
        if built is not None:
            return built(features, None)
        return self.call(features, None, ModeKeys.PREDICT).predictions

    def _built_step(self, mode: str) -> Callable | None:
        """EVAL's or PREDICT's step as built or pruned: the loops call it, not model_fn again."""
        if mode in self._pruned:
            return self._pruned[mode][0]
        several = self.eval_strategy.num_replicas_in_sync > 1
        return self._traced[mode][0] if mode in self._traced and not several else None

    # -- building and restoring ---------------------------------------------------------------
    def prepare(self, mode: str, features_spec: Any, labels_spec: Any, checkpoint: str | None,
                given_by: str = "input_fn") -> None:
        """Checks the input against the signature, builds mode's variables and restores them
        from `checkpoint` (None: the initial values, or the warm start for TRAIN). `given_by`
        names what produced the input, for errors ("serving_input_receiver_fn" for an export).

        Raises:
            InputError: if the input differs from the one the model was trained with.
        """
        needs_labels = labels_spec is None and mode in (ModeKeys.TRAIN, ModeKeys.EVAL)
        expected = self.signature.expected
        if needs_labels and expected is not None and expected.get("labels") is not None:
            raise datasets.labels_missing(mode, features_spec)  # Trained with labels.
        self.signature.check_or_record(mode, features_spec, labels_spec, given_by)
        if mode == ModeKeys.EVAL:
            self._eval_specs = (features_spec, labels_spec)
        with self.strategy.scope():
            try:
                self._build(mode, features_spec, labels_spec)
            except Exception as e:  # model_fn needed the labels it got as None.
                if needs_labels:
                    raise datasets.labels_missing(mode, features_spec) from e
                raise
            with trace_errors(mode, features_spec, labels_spec):  # A feature of another size.
                self._restore(mode, checkpoint)

    def prepare_dataset(self, mode: str, dataset: tf.data.Dataset, checkpoint: str | None) -> Any:
        """`prepare` for a dataset's element spec; returns the features' spec."""
        features_spec, labels_spec = datasets.split_element_spec(dataset.element_spec, mode)
        self.prepare(mode, features_spec, labels_spec, checkpoint)
        return features_spec

    def _build(self, mode: str, features_spec: Any, labels_spec: Any) -> None:
        if mode in self._built_modes:
            if self._traced.get(mode, (None, None))[1] not in (None, (features_spec, labels_spec)):
                del self._traced[mode]  # Built for other input shapes: the loops trace model_fn.
            if mode in self._pruned and self._pruned[mode][1] != (features_spec, labels_spec):
                self._prune(mode, features_spec, labels_spec)  # An export's receiver, then a dataset.
            return
        if not self._built_modes and self.config.tf_random_seed is not None:
            keras.utils.set_random_seed(self.config.tf_random_seed)
        step = {ModeKeys.TRAIN: self.train_step, ModeKeys.EVAL: self.eval_step}.get(
            mode, lambda f, l: self.predict_step(f))
        with trace_errors(mode, features_spec, labels_spec):
            if self.strategy.num_replicas_in_sync > 1:
                _build_eagerly(self, step, features_spec, labels_spec)
            else:  # Tracing (not running) the step creates the variables, outside any loop.
                concrete = self._trace_step(mode, step, features_spec, labels_spec)
                if mode != ModeKeys.TRAIN:  # Its trace after creating the variables: reusable.
                    self._traced[mode] = (lambda f, l: concrete(f) if l is None else concrete(f, l),
                                          (features_spec, labels_spec))
        if mode in self._trains_in:  # Traced again, pruned to what the mode fetches.
            self._prune(mode, features_spec, labels_spec)
        self.store.snapshot_initial()
        self._built_modes.add(mode)

    def _prune(self, mode: str, features_spec: Any, labels_spec: Any) -> None:
        self._pruning = True
        try:
            with trace_errors(mode, features_spec, labels_spec):
                step, spec = pruned_step(self.call, self.store.state_variables, mode, features_spec, labels_spec)
        finally:
            self._pruning = False
        if mode == ModeKeys.EVAL:
            self._note_metrics(spec)
        self._pruned[mode] = (step, (features_spec, labels_spec))

    def _trace_step(self, mode: str, step: Callable, features_spec: Any, labels_spec: Any) -> Any:
        """The step's concrete function. model_fn runs as written (as tf.estimator ran it) until
        a trace fails for want of AutoGraph (a tensor used as a Python bool, iterated over),
        then converted by AutoGraph from then on; converting costs a tenth of a second."""
        # Features alone when there are no labels: a concrete function takes no None.
        inputs = (features_spec,) if labels_spec is None or mode == ModeKeys.PREDICT else (features_spec, labels_spec)
        try:
            return _concrete_step(self.strategy, step, inputs)
        except tf.errors.OperatorNotAllowedInGraphError:
            if self.model_fn_to_call is not self.model_fn:
                raise
            self.model_fn_to_call = fn_args.autograph_converted(self.model_fn)
            return _concrete_step(self.strategy, step, inputs)

    def _restore(self, mode: str, path: str | None) -> None:
        if path is not None:
            checkpointed = self.store.checkpointed()
            ckpt_lib.restore(ckpt_lib.make(self.global_step, checkpointed), path, sorted(checkpointed))
            return
        self.store.reset_to_initial()
        self.global_step.assign(0)
        if mode == ModeKeys.TRAIN and self.warm_start is not None:
            warm_start_lib.apply(self.warm_start, self.store.checkpointed())
        elif mode != ModeKeys.TRAIN:
            logger.warning(
                "Could not find trained model in model_dir: %s, running initialization to %s.",
                self.config.model_dir, "evaluate" if mode == ModeKeys.EVAL else "predict",
            )


def _hooks_of(spec: EstimatorSpec, mode: str, chief: bool) -> list:
    if mode == ModeKeys.TRAIN:
        return list(spec.training_hooks) + (list(spec.training_chief_hooks) if chief else [])
    return list(spec.evaluation_hooks if mode == ModeKeys.EVAL else spec.prediction_hooks)


def _concrete_step(strategy: Any, step: Callable, inputs: tuple) -> Any:
    return tf.function(lambda f, *l: strategy.run(step, args=(f, *(l or [None]))),
                       autograph=False).get_concrete_function(*inputs)


def _build_eagerly(model: Model, step: Callable, features_spec: Any, labels_spec: Any) -> None:
    """Variables created once, in the strategy's cross-replica context (mirrored), eagerly on
    zeros shaped like one example: a mirrored variable created inside a tf.function trace
    cannot lift its initializer out of the graph. The replicas' steps then find them in the
    store, in traces of an AutoGraph-converted model_fn (it ran eagerly here)."""
    model.model_fn_to_call = fn_args.autograph_converted(model.model_fn)
    model.building = True
    try:
        step(_zeros_like_spec(features_spec), _zeros_like_spec(labels_spec))
    finally:
        model.building = False


def _zeros_like_spec(spec: Any) -> Any:
    """Zeros (empty strings) matching a TensorSpec structure, unknown dimensions set to 1."""
    if spec is None:
        return None
    return tf.nest.map_structure(lambda s: tf.zeros([d if d is not None else 1 for d in s.shape], s.dtype), spec)


@contextlib.contextmanager
def trace_errors(mode: str, features_spec: Any, labels_spec: Any) -> Iterator[None]:
    """Clear errors from tracing model_fn. AutoGraph re-raises exceptions wrapped ("in user
    code:" and frames): give back our own InputError (e.g. MissingFeatureError) and
    EstimatorSpecError, so their first line names the problem. Other errors get the input's
    keys, dtypes and shapes appended, since a wrong feature is their usual cause."""
    try:
        yield
    except (InputError, EstimatorSpecError):
        raise
    except Exception as e:
        cause, seen = e, set()
        while cause is not None and id(cause) not in seen:
            if isinstance(cause, InputError):
                raise cause.with_traceback(None) from None
            if isinstance(cause, EstimatorSpecError):  # Its traceback ends in model_fn's frame.
                raise cause from None
            seen.add(id(cause))
            cause = cause.__cause__ or cause.__context__
        if isinstance(e, (TypeError, ValueError)) and len(e.args) == 1 and isinstance(e.args[0], str):
            labels = datasets.describe(labels_spec) if labels_spec is not None else None
            e.args = (
                f"{e.args[0]}\n(keras_estimator) model_fn failed in mode {mode!r} with features "
                f"{datasets.describe(features_spec)} and labels {labels}.",
            )
        raise
