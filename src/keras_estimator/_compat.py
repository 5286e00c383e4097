"""Every use of a Keras or TensorFlow private API, in one place.

Each function names the versions it was checked against and why no public API does the job;
tests/test_compat.py pins its behaviour on the installed versions, so a Keras or TensorFlow
upgrade that breaks one fails there, by name, rather than somewhere deep in training. Imports
are inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from typing import Any, Iterator, Sequence

# Keras keeps auto-naming counters and the name-scope stack in its global state; these are the
# only two entries this package touches.
_NAME_UIDS = "object_name_uids"
_NAME_SCOPE_STACK = "name_scope_stack"


# -- Keras naming -----------------------------------------------------------------------------
@contextlib.contextmanager
def fresh_keras_naming() -> Iterator[None]:
    """Auto-names ("dense", "dense_1", ...) and the name-scope stack restart inside the block,
    and are restored after it.

    Seen in Keras 3.15.1 on TensorFlow 2.21.0: the counters live in
    `keras.src.backend.common.global_state` under "object_name_uids", the scope stack under
    "name_scope_stack". Keras has no public way to reset auto-naming except
    `keras.backend.clear_session()`, which also drops every model and layer of the process.
    Needed so variable names (hence checkpoint keys) are the same in every model_fn call.
    """
    from keras.src.backend.common import global_state

    saved_uids = global_state.get_global_attribute(_NAME_UIDS)
    saved_stack = global_state.get_global_attribute(_NAME_SCOPE_STACK)
    global_state.set_global_attribute(_NAME_UIDS, collections.defaultdict(int))
    global_state.set_global_attribute(_NAME_SCOPE_STACK, [])
    try:
        yield
    finally:
        global_state.set_global_attribute(_NAME_UIDS, saved_uids)
        global_state.set_global_attribute(_NAME_SCOPE_STACK, saved_stack)


def keras_name_scope_stack() -> list:
    """The open `keras.name_scope`s, outermost first (empty outside any); each entry has `name`
    and `caller` (the layer, optimizer or metric that opened it, or None).

    Seen in Keras 3.15.1 on TensorFlow 2.21.0: the stack is the "name_scope_stack" entry of
    `keras.src.backend.common.global_state`; there is no public accessor. Needed to tell a
    variable a Keras metric creates (never checkpointed) from the model's own.
    """
    from keras.src.backend.common import global_state

    return list(global_state.get_global_attribute(_NAME_SCOPE_STACK) or [])


def keras_name_scope_path() -> str:
    """The path of the open `keras.name_scope`s ("" outside any, "dense" or "adam/dense" inside),
    the prefix Keras gives a variable's `path`.

    Seen in Keras 3.15.1 on TensorFlow 2.21.0: `keras.src.backend.common.name_scope.current_path`;
    not public. Needed to name the tf.Variables a `tf.variable_creator_scope` sees exactly as
    Keras names them (the creator gets only the last part of the name).
    """
    from keras.src.backend.common.name_scope import current_path

    return current_path()


# -- Keras variables and models -------------------------------------------------------------
def backing_variable(variable: Any) -> Any:
    """The tf.Variable a Keras Variable wraps on the TensorFlow backend; anything else as is.

    Seen in Keras 3.15.1 on TensorFlow 2.21.0: the private attribute `_value`. The public
    `keras.Variable.value` returns an autocast tensor under mixed precision, and the scope's
    value inside a `keras.StatelessScope`, instead of the variable. Needed to find
    which stored tf.Variable a Keras weight is.
    """
    return getattr(variable, "_value", variable)


def functional_of(model: Any) -> Any:
    """The Functional graph of a model: a Sequential's inner Functional, else the model itself.

    Seen in Keras 3.15.1 on TensorFlow 2.21.0: Sequential keeps it in the private `_functional`
    (None until the Sequential is built). Needed for the input structure and output names of
    a Sequential, which it does not expose itself.
    """
    return getattr(model, "_functional", None) or model


def inputs_struct(model: Any) -> Any:
    """The nested structure of `keras.Input` tensors a functional or Sequential model was built
    on (a dict, list or single KerasTensor, as given to `keras.Model(inputs=...)`), or None for
    a model without defined inputs (subclassed, unbuilt Sequential).

    Seen in Keras 3.15.1 on TensorFlow 2.21.0: the private `Functional._inputs_struct`. The public
    `model.inputs` is always a flat list, which loses whether the model takes a dict, a list or
    one tensor, and so how features must be handed to it.
    """
    return getattr(functional_of(model), "_inputs_struct", None)


def unscale_loss_for_distribution(loss: Any) -> Any:
    """`loss` times the number of replicas in sync of the current `tf.distribute` strategy:
    undoes the 1/replicas scaling `keras.Model.compute_loss` applies under a strategy.

    Seen in Keras 3.15.1 on TensorFlow 2.21.0: `keras.src.losses.loss.unscale_loss_for_distribution`;
    not public. Needed because model_fn returns the replica's mean loss and `minimize` does the
    scaling itself.
    """
    from keras.src.losses.loss import unscale_loss_for_distribution as unscale

    return unscale(loss)


# -- Keras cloning ----------------------------------------------------------------------------
def clone_lambda(layer: Any) -> Any:
    """A new `keras.layers.Lambda` calling the same in-memory function, output_shape and mask.

    Seen in Keras 3.15.1: Lambda keeps output_shape in the private `_output_shape`; its config
    round trip refuses Python lambdas in safe mode and rebuilds them without their module's
    globals (`tf`, `keras.ops` undefined) otherwise.
    """
    import keras

    base = keras.layers.Layer.get_config(layer)  # name, trainable, dtype: no function bytecode.
    return type(layer)(
        layer.function, output_shape=layer._output_shape, mask=layer.mask,
        arguments=dict(layer.arguments), **base,
    )


# -- AutoGraph ---------------------------------------------------------------------------------
def autograph_skips_package(package: str) -> None:
    """AutoGraph calls `package`'s functions unconverted, as it calls TensorFlow's own.

    Seen in TensorFlow 2.21.0: `tensorflow.python.autograph.core.config.CONVERSION_RULES`, read
    at every call; no public way adds one (`do_not_convert` is bypassed for a partial's keyword
    arguments). Needed because converting the runtime's steps cost over a second per process.
    """
    from tensorflow.python.autograph.core import config

    if not any(isinstance(r, config.DoNotConvert) and r.matches(package) for r in config.CONVERSION_RULES):
        config.CONVERSION_RULES = (config.DoNotConvert(package),) + tuple(config.CONVERSION_RULES)


@contextlib.contextmanager
def autograph_enabled() -> Iterator[None]:
    """Converted code converts what it calls inside the block, also under `autograph=False`.
    Seen in TensorFlow 2.21.0: `tensorflow.python.autograph.core.ag_ctx.ControlStatusCtx`; no
    public way turns the status back on. Needed for a converted model_fn's callees."""
    from tensorflow.python.autograph.core import ag_ctx

    with ag_ctx.ControlStatusCtx(status=ag_ctx.Status.ENABLED):
        yield


# -- Feature columns ---------------------------------------------------------------------------
def feature_column_types() -> Any:
    """`tf.__internal__.feature_column` (TensorFlow 2.21.0): the protocol tf.keras 2's
    DenseFeatures applied columns with; `tf.feature_column` makes columns but cannot apply them."""
    import tensorflow as tf

    return tf.__internal__.feature_column


@contextlib.contextmanager
def resources_created(created: list) -> Iterator[None]:
    """Appends to `created` every resource object (lookup table) made in the block.

    Seen in TensorFlow 2.21.0: `tensorflow.python.trackable.resource.resource_tracker_scope`
    (tf.keras 2's hook); no public API lists them. Needed to save the tables feature columns
    make while model_fn is traced for an export ("untracked resource" otherwise).
    """
    from tensorflow.python.trackable import resource

    tracker = resource.ResourceTracker()
    try:
        with resource.resource_tracker_scope(tracker):
            yield
    finally:
        created.extend(tracker.resources)


# -- TensorFlow checkpoints -----------------------------------------------------------------
def write_checkpoint_state(save_dir: str, model_checkpoint_path: str,
                           all_model_checkpoint_paths: Sequence[str],
                           all_model_checkpoint_timestamps: Sequence[float],
                           last_preserved_timestamp: float) -> None:
    """Writes the `checkpoint` state file in `save_dir` as `tf.train.CheckpointManager` does:
    atomically (a temporary file renamed), with paths relative to save_dir.

    Seen in TensorFlow 2.21.0: `tensorflow.python.checkpoint.checkpoint_management.
    update_checkpoint_state_internal`. The public `tf.compat.v1.train.update_checkpoint_state`
    always writes absolute paths (a moved model_dir would list checkpoints that are not there);
    CheckpointManager writes the state only as part of its own save. Needed to order the writes
    of a save so a crash never lists a deleted checkpoint.
    """
    from tensorflow.python.checkpoint import checkpoint_management

    checkpoint_management.update_checkpoint_state_internal(
        save_dir=save_dir, model_checkpoint_path=model_checkpoint_path,
        all_model_checkpoint_paths=list(all_model_checkpoint_paths), save_relative_paths=True,
        all_model_checkpoint_timestamps=list(all_model_checkpoint_timestamps),
        last_preserved_timestamp=last_preserved_timestamp,
    )


@contextlib.contextmanager
def fresh_tf1_scope_names() -> Iterator[None]:
    """TF1 variable-scope names (`default_name` uniquifying: "Adam", "Adam_1", ...) restart
    inside the block, like Keras auto-names do in `fresh_keras_naming`.

    Seen in TensorFlow 2.21.0: a compat.v1 optimizer creates its slots inside `tf.init_scope()`,
    where the scope counts live in the outermost graph's `_VariableScopeStore` and so carry over
    from one model_fn trace to the next ("out/kernel/Adam_2/" on the second trace), which would
    give the same slot another name, and a new variable, on every trace. Only
    `tensorflow.python.ops.variable_scope.get_variable_scope_store` reaches that store.
    """
    import tensorflow as tf
    from tensorflow.python.ops import variable_scope

    with tf.init_scope():
        store = variable_scope.get_variable_scope_store()
    saved, store.variable_scopes_count = store.variable_scopes_count, {}
    try:
        yield
    finally:
        store.variable_scopes_count = saved


# -- TF1 variables (tf.compat.v1.get_variable, variable_scope) -------------------------------
# The graph collections TensorFlow keeps its TF1 variable store and variable-scope store in.
# Every tf.function graph shares them with the eager context's graph (FuncGraph's
# ALLOWLIST_COLLECTIONS), so without a fresh pair per model_fn call a second trace finds the
# first trace's variables ("Variable dense/kernel already exists") and numbers default scopes on
# from it ("dense_1"). Swaps of one collection are counted so that model_fn calls overlapping in
# the replica threads of a tf.distribute strategy restore the original when the last one ends.
_TF1_SWAPS: dict[int, list] = {}  # id(collection list) -> [open swaps, original contents]
_TF1_SWAPS_LOCK = threading.Lock()


@contextlib.contextmanager
def _swapped_collection(key: Any, value: Any) -> Iterator[None]:
    from tensorflow.python.framework import ops

    collection = ops.get_collection_ref(key)
    with _TF1_SWAPS_LOCK:
        entry = _TF1_SWAPS.setdefault(id(collection), [0, list(collection)])
        entry[0] += 1
        collection[:] = [value]
    try:
        yield
    finally:
        with _TF1_SWAPS_LOCK:
            entry[0] -= 1
            if entry[0] == 0:
                collection[:] = entry[1]
                del _TF1_SWAPS[id(collection)]


@contextlib.contextmanager
def fresh_tf1_variables() -> Iterator[None]:
    """Inside the block, `tf.compat.v1.get_variable` and `tf.compat.v1.variable_scope` start
    from an empty variable store and scope store (as in a new TF1 graph): default scope names
    restart at "dense", `reuse=True` finds only variables made in the block, and eager calls
    keep their variables too (so reuse also works when model_fn runs eagerly). For one
    model_fn call, entered where the call starts (outside any variable scope).

    Seen in TensorFlow 2.21.0: the stores are `tensorflow.python.ops.variable_scope`'s
    `EagerVariableStore` and `_VariableScopeStore`, kept in the graph collections
    `_VARSTORE_KEY` and `_VARSCOPESTORE_KEY`; TensorFlow swaps the first with
    `EagerVariableStore.as_default()` and has no public way to start either afresh.
    """
    from tensorflow.python.ops import variable_scope

    store = variable_scope.EagerVariableStore()
    with _swapped_collection(variable_scope._VARSCOPESTORE_KEY, variable_scope._VariableScopeStore()):
        with _swapped_collection(variable_scope._VARSTORE_KEY, store._store):
            yield


def new_tf1_variable_store() -> Any:
    """An empty store for `tf.compat.v1.get_variable` that also keeps eager variables; its
    `as_default()` makes get_variable use it inside a `with` block. Unlike
    `fresh_tf1_variables` it leaves the variable scopes alone, so it can be entered anywhere.

    Seen in TensorFlow 2.21.0: `tensorflow.python.ops.variable_scope.EagerVariableStore`
    (exported as tf.contrib.eager.EagerVariableStore in TF1; not exported in TF2).
    """
    from tensorflow.python.ops import variable_scope

    return variable_scope.EagerVariableStore()


def in_fresh_tf1_variables() -> bool:
    """True inside `fresh_tf1_variables()` or a `new_tf1_variable_store().as_default()` block:
    the store `tf.compat.v1.get_variable` uses keeps eager variables. The default store of a
    graph does not.

    Seen in TensorFlow 2.21.0: `variable_scope._get_default_variable_store()` and the store's
    `_store_eager_variables` flag; neither is public.
    """
    from tensorflow.python.ops import variable_scope

    return bool(variable_scope._get_default_variable_store()._store_eager_variables)


# -- TF1 input_fns returning iterator.get_next() --------------------------------------------
@contextlib.contextmanager
def one_shot_iterators_recorded(recorded: list) -> Iterator[None]:
    """Inside the block, `make_one_shot_iterator()` (the Dataset method and
    `tf.compat.v1.data.make_one_shot_iterator`) returns iterators whose `get_next()` appends
    `(dataset, its flat output tensors)` to `recorded`, so an input_fn returning
    `dataset.make_one_shot_iterator().get_next()` (TF1's idiom) can be read as that dataset.
    Restored after the block.

    Seen in TensorFlow 2.21.0: both public spellings end in the private
    `DatasetV1._make_one_shot_iterator`, which in eager mode returns an iterator over the
    dataset; no public hook observes it, and the tensors get_next returns do not refer back to
    their dataset.
    """
    import tensorflow as tf
    from tensorflow.python.data.ops import dataset_ops

    original = dataset_ops.DatasetV1._make_one_shot_iterator

    def make(dataset: Any) -> Any:
        iterator = original(dataset)
        get_next = iterator.get_next

        def recording_get_next(*args: Any, **kwargs: Any) -> Any:
            element = get_next(*args, **kwargs)
            recorded.append((dataset, tf.nest.flatten(element)))
            return element

        iterator.get_next = recording_get_next
        return iterator

    dataset_ops.DatasetV1._make_one_shot_iterator = make
    try:
        yield
    finally:
        dataset_ops.DatasetV1._make_one_shot_iterator = original
