"""Variables that persist across `model_fn` calls.

`model_fn` builds new Keras layers, optimizers and metrics every time it is traced (once per mode
and input signature). The store intercepts variable creation while it runs: the first request for
a name creates the variable, later requests for the same name get the same variable back. Names
are Keras variable paths (`dense/kernel`, `adam/dense_kernel_momentum`), made deterministic by
giving each `model_fn` call a fresh Keras auto-naming counter, so names match across modes, calls
and processes, which is what makes checkpoints in model_dir resumable.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import keras
import numpy as np
import tensorflow as tf

from keras_estimator import _compat, graph_collections

# Auto-names ("dense", "dense_1", ...) restart for each model_fn call (keras_bridge uses it too).
fresh_keras_naming = _compat.fresh_keras_naming


def _created_by_metric() -> bool:
    """Keras metrics create their variables in a name scope whose caller is the metric. Metric
    state is per evaluation, never checkpointed (like tf.estimator's local variables)."""
    stack = _compat.keras_name_scope_stack()
    return any(isinstance(getattr(s, "caller", None), keras.metrics.Metric) for s in stack)


def _tf1_variables() -> contextlib.AbstractContextManager:
    """A fresh TF1 variable store per model_fn call, so `tf.compat.v1.get_variable` and
    `variable_scope` work as in a new TF1 graph; the store's creator then hands back the same
    variables on every trace. Under several replicas (threads sharing one graph) the calls share
    the graph's store instead (replicas after the first reuse the first's variables)."""
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        return contextlib.nullcontext()
    return _compat.fresh_tf1_variables()


def _is_local(kwargs: dict) -> bool:
    """TF1 local variables (tf.compat.v1.metrics' state): per evaluation, never checkpointed."""
    return tf.compat.v1.GraphKeys.LOCAL_VARIABLES in (kwargs.get("collections") or ())


_outside = threading.local()  # True while _create makes a variable outside the trace.


def _create(next_creator, kwargs: dict) -> tf.Variable:
    """A new variable; a Keras one (a callable initial value and TensorFlow 2 arguments) made
    outside the function being traced, unless a tf.distribute strategy's creator must make it:
    a `tf.function` that creates a variable is traced twice, so model_fn's build trace would
    run twice. So are TF1 local variables (`tf.compat.v1.metrics`' totals); other TF1
    variables (`tf.compat.v1.get_variable`, optimizer slots) are made in the trace, which their
    initializers' seeds and their slots' names come from. Creators stay active in `init_scope`:
    the store's passes the request on, tf.function's does not record a variable made without
    lifting."""
    v1_only = {k: kwargs[k] for k in ("collections", "use_resource", "expected_shape") if k in kwargs}
    outside = callable(kwargs.get("initial_value")) and (not v1_only or _is_local(kwargs))
    if not (outside and tf.inside_function() and not tf.distribute.has_strategy()):
        return next_creator(**kwargs)
    kwargs = {k: v for k, v in kwargs.items() if k not in v1_only}
    kwargs["experimental_enable_variable_lifting"] = False
    _outside.active = True
    try:
        with tf.init_scope():
            return tf.compat.v1.Variable(**kwargs, **v1_only) if v1_only else tf.Variable(**kwargs)
    finally:
        _outside.active = False


class VariableStore:
    """Name -> variable map filled by the variables `model_fn` creates."""

    def __init__(self) -> None:
        self._variables: dict[str, tf.Variable] = {}
        self._initial: dict[str, tf.Tensor] = {}
        self._not_checkpointed: set[str] = set()
        self._locals: set[str] = set()  # TF1 local variables (compat.v1 metrics' state).
        self._views: dict[str, keras.Variable] = {}
        self._external: dict[int, object] = {}  # State model_fn reads but did not create.
        # Per thread: a tf.distribute strategy runs model_fn once per replica, each in its
        # own thread, at the same time.
        self._local = threading.local()
        self._lock = threading.Lock()

    # -- creation ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def scope(self) -> Iterator[list[str]]:
        """Runs one model_fn call; yields the list of names it used, filled as it runs."""
        if getattr(self._local, "call_keys", None) is not None:
            raise RuntimeError("model_fn calls cannot be nested.")
        self._local.call_keys = []
        try:
            with fresh_keras_naming(), _compat.fresh_tf1_scope_names(), _tf1_variables(), \
                    tf.variable_creator_scope(self._creator):
                yield self._local.call_keys
        finally:
            self._local.call_keys = None

    def _creator(self, next_creator, **kwargs):
        if getattr(_outside, "active", False):
            return next_creator(**kwargs)
        path = _compat.keras_name_scope_path()
        name = (kwargs.get("name") or "Variable").split(":")[0]
        base = f"{path}/{name}" if path else name
        call_keys = self._local.call_keys
        key, n = base, 0
        while key in call_keys:  # Same name twice in one call: number them in order.
            n += 1
            key = f"{base}_{n}"
        call_keys.append(key)
        existing = self._variables.get(key)
        if existing is not None:
            dtype = kwargs.get("dtype")
            if dtype is not None and tf.as_dtype(dtype).base_dtype != existing.dtype.base_dtype:
                raise ValueError(
                    f"model_fn asked for variable {key!r} with dtype {tf.as_dtype(dtype).name}, "
                    f"but an earlier call created it with {existing.dtype.name}. model_fn must "
                    "build the same variables in every mode."
                )
            graph_collections.register(existing)
            return existing
        # Under a strategy, each replica asks; the strategy's own creator hands every replica
        # the one mirrored variable, so whichever replica stores it stores the same object.
        variable = _create(next_creator, kwargs)
        with self._lock:
            self._variables.setdefault(key, variable)
        if _is_local(kwargs):
            self._locals.add(key)
        if _created_by_metric() or _is_local(kwargs):
            self._not_checkpointed.add(key)
        graph_collections.register(variable)
        return variable

    def initialize(self, variable, value) -> None:
        """Gives a variable model_fn just created its starting value (instead of its
        initializer's), e.g. the weights of the Keras model `model_to_estimator` converts.
        Ignored for variables that already have a starting value, so a later trace never
        overwrites trained weights.

        Raises:
            ValueError: if the variable is not in the store or the shapes differ.
        """
        key = self.key_of(variable)
        if key is None:
            raise ValueError(f"Variable {getattr(variable, 'path', variable)} was not created by model_fn.")
        if key in self._initial:
            return
        target = self._variables[key]
        if tuple(target.shape) != tuple(np.shape(value)):
            raise ValueError(
                f"The starting value for variable {key!r} has shape {tuple(np.shape(value))}, "
                f"but model_fn created it with shape {tuple(target.shape)}."
            )
        with tf.init_scope():  # Eagerly, also while model_fn is being traced.
            target.assign(tf.cast(value, target.dtype))

    def keep_for_export(self, trackable: object) -> None:
        """Exports also save `trackable` (a Keras layer made and adapted outside model_fn,
        such as a `keras.utils.FeatureSpace`): its variables and lookup tables are not in the
        store, yet the serving graph reads them."""
        self._external.setdefault(id(trackable), trackable)

    def kept_for_export(self) -> list[object]:
        return list(self._external.values())

    # -- queries ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._variables)

    def names(self) -> list[str]:
        return list(self._variables)

    def get(self, key: str) -> tf.Variable | None:
        return self._variables.get(key)

    def key_of(self, variable) -> str | None:
        """The store name of a tf.Variable or of a Keras Variable wrapping one."""
        target = _compat.backing_variable(variable)
        for key, v in self._variables.items():
            if v is target or v is variable:
                return key
        return None

    def checkpointed(self) -> dict[str, tf.Variable]:
        """The variables saved in checkpoints: everything but metric state."""
        return {k: v for k, v in self._variables.items() if k not in self._not_checkpointed}

    def non_finite(self) -> list[str]:
        """The checkpointed floating-point variables holding NaN or Inf, by name."""
        return [key for key, variable in sorted(self.checkpointed().items())
                if variable.dtype.is_floating and not bool(tf.reduce_all(tf.math.is_finite(variable)))]

    def state_variables(self) -> list[tf.Variable]:
        """Metric state: the variables never checkpointed (Keras metrics, TF1 locals)."""
        return [v for k, v in self._variables.items() if k in self._not_checkpointed]

    def trainable_views(self, keys: list[str]) -> list[keras.Variable]:
        """Keras Variables for the trainable variables named in `keys`, for Keras optimizers
        (which name their slots after a variable's path)."""
        views = []
        for key in keys:
            variable = self._variables[key]
            if not variable.trainable:
                continue
            view = self._views.get(key)
            if view is None:
                with fresh_keras_naming():  # Path == store name, wherever minimize is called.
                    view = keras.Variable(
                        variable, name=key.replace("/", "_"), dtype=variable.dtype.base_dtype.name,
                        trainable=True,
                    )
                self._views[key] = view
            views.append(view)
        return views

    # -- state ------------------------------------------------------------------------------
    def exclude_from_checkpoints(self, variables) -> None:
        for variable in variables:
            key = self.key_of(variable)
            if key is not None:
                self._not_checkpointed.add(key)

    def snapshot_initial(self) -> None:
        """Remembers the value of every variable seen for the first time, so a model_dir with
        no checkpoint always starts from the same initial state."""
        for key, variable in self._variables.items():
            if key not in self._initial:
                self._initial[key] = tf.identity(variable.read_value())

    def reset_locals(self) -> None:
        """Gives the TF1 local variables (tf.compat.v1.metrics' totals and counts) their
        initial values again, as each tf.estimator evaluation started from them."""
        for key in self._locals:
            if key in self._initial:
                self._variables[key].assign(self._initial[key])

    def reset_to_initial(self) -> None:
        for key, value in self._initial.items():
            if key not in self._not_checkpointed:
                self._variables[key].assign(value)
