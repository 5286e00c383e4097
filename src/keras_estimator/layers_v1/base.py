"""The base of the TF1 layers: a variable scope per layer, variables from tf.compat.v1.get_variable.

A layer names its variable scope after itself (`dense`, `dense_1`, ... or the `name` given)
inside the variable scope it is called in, and creates its variables there with
`tf.compat.v1.get_variable`, so they are `dense/kernel`, `tower/conv2d/bias`, as in TF1, and
`reuse` and `tf.compat.v1.variable_scope(..., reuse=True)` share them as in TF1.

Inside model_fn the Estimator's variable store hands back the same variables by those names
in every trace and mode. Each model_fn call is a new TF1 "graph": default names restart, and
`reuse=True` finds the variables made earlier in the same call. TensorFlow keeps its TF1 stores
for the whole process, so a layer called in model_fn uses one store per model_fn call (unless
the runtime already opened one) and numbers default names at the root scope per call.
"""

from __future__ import annotations

import collections
import contextlib
import re
import threading
import weakref
from typing import Any, Iterator

import tensorflow as tf

from keras_estimator import _compat
from keras_estimator import context as context_lib

_local = threading.local()  # The CallState of the model_fn call running in this thread.


class CallState:
    """What the TF1 layers of one model_fn call share."""

    def __init__(self, ctx: context_lib.ModelFnContext):
        self.context = weakref.ref(ctx)
        self.building = ctx.building
        # None: the runtime opened a fresh TF1 store for the call; use that one.
        self.store = None if _compat.in_fresh_tf1_variables() else _compat.new_tf1_variable_store()
        # A tf.distribute strategy runs the replicas after the first with reuse=True, for one
        # TF1 store of the graph; the Estimator's store already shares the variables, and each
        # replica's call must create (be handed) its own, so their layers reuse if they can.
        self.reuse = tf.compat.v1.AUTO_REUSE if replica_id() > 0 else None
        self.root_names: collections.Counter = collections.Counter()

    def unique_root_name(self, base: str) -> str:
        """`base`, then `base_1`, `base_2`, ... for the default names at the root scope."""
        n = self.root_names[base]
        self.root_names[base] += 1
        return base if n == 0 else f"{base}_{n}"


def replica_id() -> int:
    """The replica of a multi-replica strategy running this model_fn call (0 without one)."""
    context = tf.distribute.get_replica_context()
    value = tf.get_static_value(context.replica_id_in_sync_group) if context is not None else 0
    return int(value or 0)


def call_state() -> CallState | None:
    """The state of the model_fn call running in this thread, or None outside model_fn."""
    ctx = context_lib.current()
    if ctx is None:
        return None
    state = getattr(_local, "state", None)
    if state is None or state.context() is not ctx:
        state = _local.state = CallState(ctx)
    return state


@contextlib.contextmanager
def tf1_variables() -> Iterator[CallState | None]:
    """get_variable uses the call's store inside the block; yields the call's state."""
    state = call_state()
    if state is None or state.store is None:
        yield state
        return
    with state.store.as_default():
        yield state


def tf1_function(fn):
    """`fn` run as written, never converted by AutoGraph when model_fn is traced: TF1 layers
    were plain graph-building code (Keras's own layers are not converted either)."""
    return tf.autograph.experimental.do_not_convert(fn)


def snake_case(name: str) -> str:
    """`Conv2D` -> `conv2d`, `BatchNormalization` -> `batch_normalization` (TF1's layer names)."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def in_graph() -> bool:
    """True while a graph is built (tf.function traces model_fn); False when running eagerly."""
    return not tf.executing_eagerly()


def variable_dtype(inputs: tf.Tensor, dtype: Any) -> tf.DType:
    """The layer's variable dtype: the one asked for, else the input's if floating, else float32."""
    if dtype is not None:
        return tf.as_dtype(dtype)
    return inputs.dtype.base_dtype if inputs.dtype.is_floating else tf.float32


class Layer:
    """A TF1 layer (`tf.compat.v1.layers.Layer`): called on a tensor, it creates its variables
    in its variable scope on the first call and reuses them on the next ones.

    Args:
        trainable: Whether the variables are trained (in TRAINABLE_VARIABLES).
        name: The layer's variable scope; default the snake-cased class name, made unique.
        dtype: The variables' dtype; default the first input's (float32 for integers).
        reuse: Reuse the variables of a layer with the same name (the functional forms' argument).
    """

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 reuse: Any = None, **kwargs: Any):
        unknown = set(kwargs) - {"activity_regularizer"}
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments {sorted(unknown)}.")
        self.trainable = trainable
        self.activity_regularizer = kwargs.get("activity_regularizer")
        self.built = False
        self.variables: list[tf.Variable] = []
        self._base_name = name or snake_case(type(self).__name__)
        self._explicit_name = name is not None
        self._dtype = None if dtype is None else tf.as_dtype(dtype)
        self._reuse = reuse
        self._scope: Any = None

    # -- what subclasses define ----------------------------------------------------------------
    def build(self, input_shape: tf.TensorShape) -> None:
        """Creates the variables (with `add_weight`), inside the layer's variable scope."""

    def call(self, inputs: tf.Tensor, **kwargs: Any) -> tf.Tensor:
        raise NotImplementedError

    # -- public API ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._scope.name if self._scope is not None else self._base_name

    @property
    def dtype(self) -> tf.DType | None:
        return self._dtype

    @property
    def trainable_variables(self) -> list[tf.Variable]:
        return [v for v in self.variables if v.trainable] if self.trainable else []

    @property
    def non_trainable_variables(self) -> list[tf.Variable]:
        return [v for v in self.variables if v not in self.trainable_variables]

    trainable_weights = trainable_variables
    non_trainable_weights = non_trainable_variables

    @property
    def weights(self) -> list[tf.Variable]:
        return list(self.variables)

    def add_weight(self, name: str, shape: Any, dtype: Any = None, initializer: Any = None,
                   regularizer: Any = None, trainable: bool = True, constraint: Any = None,
                   **kwargs: Any) -> tf.Variable:
        """A variable of the layer's scope, from `tf.compat.v1.get_variable` (which defaults to
        glorot_uniform for floating variables, as TF1 did)."""
        try:
            variable = tf.compat.v1.get_variable(
                name, shape=shape, dtype=dtype or self._dtype, initializer=initializer,
                regularizer=regularizer, trainable=trainable and self.trainable, constraint=constraint,
                **kwargs,
            )
        except AttributeError as e:  # TF 2.21 fails to format its own error for a tf.function's variable.
            if "Tensor.op is undefined" not in str(e):
                raise
            scope = tf.compat.v1.get_variable_scope().name
            raise ValueError(
                f"Variable {scope + '/' if scope else ''}{name} already exists, disallowed. Did you "
                "mean to set reuse=True or reuse=tf.AUTO_REUSE in VarScope?") from None
        self.variables.append(variable)
        return variable

    @tf1_function
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        inputs = tf.nest.map_structure(tf.convert_to_tensor, inputs)
        first = tf.nest.flatten(inputs)[0]
        with tf1_variables() as state:
            if self.built:
                with tf.name_scope(self.name.rpartition("/")[2]):
                    return self._finish(self.call(inputs, *args, **kwargs))
            with self._new_scope(state) as scope:
                self._scope = scope
                self._dtype = variable_dtype(first, self._dtype)
                self.build(tf.TensorShape(first.shape))
                self.built = True
                return self._finish(self.call(inputs, *args, **kwargs))

    apply = __call__

    # -- internals -----------------------------------------------------------------------------
    def _new_scope(self, state: CallState | None):
        """The variable scope of the first call: the given name as is, a default name unique."""
        reuse = state.reuse if state is not None and state.reuse is not None else self._reuse
        if self._explicit_name or self._reuse:
            return tf.compat.v1.variable_scope(self._base_name, reuse=reuse)
        if state is not None and not tf.compat.v1.get_variable_scope().name:
            # TensorFlow's own numbering at the root goes on from earlier model_fn calls.
            return tf.compat.v1.variable_scope(state.unique_root_name(self._base_name), reuse=reuse)
        return tf.compat.v1.variable_scope(None, default_name=self._base_name, reuse=reuse)

    def _finish(self, outputs: Any) -> Any:
        if self.activity_regularizer is not None and in_graph():
            for output in tf.nest.flatten(outputs):
                loss = self.activity_regularizer(output)
                tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, loss)
        return outputs


def building() -> bool:
    """True while the Estimator creates the variables of a multi-replica model eagerly, outside
    any step (like `minimize`, layers then skip their updates)."""
    state = call_state()
    return state is not None and state.building


def tuple_of(value: Any, n: int, what: str) -> tuple[int, ...]:
    """An int or a sequence of `n` ints as a tuple of `n` ints (kernel sizes, strides, ...)."""
    values = (value,) * n if isinstance(value, int) else tuple(value)
    if len(values) != n or not all(isinstance(v, int) for v in values):
        raise ValueError(f"The `{what}` argument must be an int or a tuple of {n} ints, got {value!r}.")
    return values


def nn_data_format(data_format: str, rank: int) -> str:
    """"channels_last" / "channels_first" as tf.nn's "NHWC" / "NCHW" (NWC, NDHWC, ...)."""
    spatial = {1: "W", 2: "HW", 3: "DHW"}[rank]
    if data_format == "channels_last":
        return f"N{spatial}C"
    if data_format == "channels_first":
        return f"NC{spatial}"
    raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}.")


def nn_padding(padding: str) -> str:
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    return padding.upper()


def layer_kwargs(arguments: dict[str, Any]) -> dict[str, Any]:
    """A functional form's `locals()` without `inputs`: the layer's constructor arguments."""
    return {k: v for k, v in arguments.items() if k != "inputs"}
