"""Writing SavedModels that TensorFlow Serving loads, from a `Model` (`Estimator.export_saved_model`).

The serving graph is model_fn in PREDICT mode fed by a serving input receiver. Receivers create
their inputs with `tf.compat.v1.placeholder` (as in tf.estimator), so the graph is traced with
`tf.compat.v1.wrap_function` and pruned to a function from those placeholders to the outputs.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import time
from typing import Any, Callable, Mapping

import tensorflow as tf

from keras_estimator import _compat
from keras_estimator import checkpoints as ckpt_lib
from keras_estimator.export.export_output import ClassificationOutput, ExportOutput, PredictOutput, RegressionOutput
from keras_estimator.export.serving_input import ServingInputReceiver
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.files import fsync_tree, process_alive
from keras_estimator.model import Model, trace_errors

logger = logging.getLogger("keras_estimator")

DEFAULT_SIGNATURE = "serving_default"
TEMP_PREFIX = "temp-"


def export_saved_model(
    model: Model,
    export_dir_base: str | os.PathLike,
    serving_input_receiver_fn: Callable[[], ServingInputReceiver],
    assets_extra: Mapping[str, str] | None = None,
    as_text: bool = False,
    checkpoint_path: str | None = None,
) -> bytes:
    """See `Estimator.export_saved_model`."""
    if not callable(serving_input_receiver_fn):
        raise ValueError(
            f"serving_input_receiver_fn must be a function returning a ServingInputReceiver, got "
            f"{type(serving_input_receiver_fn).__name__}."
        )
    assets_extra = _check_assets_extra(assets_extra)
    model_dir = model.config.model_dir
    checkpoint = ckpt_lib.resolve(model_dir, checkpoint_path)
    if checkpoint is None and not model.exports_initial_weights:
        raise ValueError(f"Couldn't find trained model at {model_dir}: train before exporting.")
    features_spec = _prepare(model, serving_input_receiver_fn, checkpoint)
    signatures, resources = _signatures(model, serving_input_receiver_fn, features_spec)
    module = _module_to_save(model, signatures, serving_input_receiver_fn)
    module.resources = resources  # Tables model_fn made (feature columns' vocabularies).
    final = _publish(os.fspath(export_dir_base), module, signatures, as_text, assets_extra)
    logger.info("SavedModel written to %s from %s.", final, checkpoint)
    return final.encode()


def _prepare(model: Model, receiver_fn: Callable, checkpoint: str | None) -> Any:
    """The receiver's features must be those the model was trained with (checked before
    anything is written, naming the receiver); then the PREDICT variables are built and
    restored, and refused if they hold NaN or Inf (never serve NaN, as tf.estimator)."""
    receiver = _trace_receiver(receiver_fn)
    features_spec = tf.nest.map_structure(tf.type_spec_from_value, receiver.features)
    model.prepare(ModeKeys.PREDICT, features_spec, None, checkpoint, given_by="serving_input_receiver_fn")
    if checkpoint is not None:
        bad = model.store.non_finite()
        if bad:
            raise ValueError(f"Checkpoint {checkpoint} holds NaN or Inf in {bad[:5]}: refusing to export it.")
    return features_spec


def _signatures(model: Model, receiver_fn: Callable, features_spec: Any) -> tuple[dict[str, Any], list]:
    """The serving graph (receiver, then model_fn), pruned to one function per signature, and
    the resources (lookup tables) made while tracing it."""
    traced: dict[str, Any] = {}
    resources: list = []

    def serving_graph():
        receiver = _call_receiver(receiver_fn)
        spec = model.call(receiver.features, None, ModeKeys.PREDICT)
        traced["inputs"] = receiver.receiver_tensors
        exported = export_outputs_of(spec)
        traced["outputs"] = {name: output.as_signature_outputs() for name, output in exported.items()}
        # tf.estimator's classify and regress signatures take one string tensor named "inputs".
        traced["single_input"] = {name for name, output in exported.items()
                                  if isinstance(output, (ClassificationOutput, RegressionOutput))}

    with trace_errors(ModeKeys.PREDICT, features_spec, None), _compat.resources_created(resources):
        graph = tf.compat.v1.wrap_function(serving_graph, signature=[])
    inputs = traced["inputs"]
    single = list(inputs.values())[0] if len(inputs) == 1 else None
    as_inputs = {"inputs": single} if isinstance(single, tf.Tensor) and single.dtype == tf.string else inputs
    return {
        name: _named_signature(graph, as_inputs if name in traced["single_input"] else inputs, outputs)
        for name, outputs in traced["outputs"].items()
    }, resources


def _module_to_save(model: Model, signatures: dict[str, Any], receiver_fn: Callable) -> tf.Module:
    """Only what the signatures use is saved: model variables, not optimizer slots."""
    captured = {id(t) for fn in signatures.values() for t in fn.captured_inputs}
    module = tf.Module()
    module.model_variables = {  # Saved under their checkpoint names.
        key: v for key, v in model.store.checkpointed().items() if id(v.handle) in captured
    }
    if id(model.global_step.handle) in captured:  # A model_fn's PREDICT graph may read it.
        module.global_step = model.global_step
    if isinstance(receiver_fn, tf.Module):  # Tracks its tables and assets.
        module.receiver = receiver_fn
    module.external = model.store.kept_for_export()  # A FeatureSpace's tables and statistics.
    return module


def _publish(base: str, module: tf.Module, signatures: dict[str, Any], as_text: bool,
             assets_extra: dict[str, str]) -> str:
    """Written under a temporary name, renamed when complete: Serving never sees a partial one."""
    os.makedirs(base, exist_ok=True)
    # Later exports always sort after earlier ones, also within one second and after an
    # exporter's garbage collection freed an older name.
    newest = max((int(n) for n in os.listdir(base) if n.isdigit()), default=0)
    timestamp = max(int(time.time()), newest + 1)
    # The temporary name says which process writes it, so a later export can tell a killed
    # export's leftover from another process's export in progress.
    temp = os.path.join(base, f"{TEMP_PREFIX}{timestamp}-{socket.gethostname()}-{os.getpid()}")
    final = os.path.join(base, str(timestamp))
    try:
        tf.saved_model.save(module, temp, signatures=signatures)
        if as_text:
            _to_text(temp)
        for dest, source in assets_extra.items():
            target = os.path.join(temp, "assets.extra", dest)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)
        fsync_tree(temp)
        os.rename(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    remove_abandoned_temps(base)
    return final


def remove_abandoned_temps(base: str) -> None:
    """Removes the temporary directories of exports that can no longer complete: those whose
    process (on this host) is gone, and those that name no writer (an older format). An export
    in progress on another host, or in a live process here, is left alone."""
    host = socket.gethostname()
    for name in os.listdir(base):
        if not name.startswith(TEMP_PREFIX):
            continue
        match = re.fullmatch(rf"{TEMP_PREFIX}\d+-(.+)-(\d+)", name)
        if match and (match.group(1) != host or process_alive(int(match.group(2)))):
            continue
        logger.info("Removing %s, left by an export that did not complete.", os.path.join(base, name))
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def export_outputs_of(spec) -> dict[str, ExportOutput]:
    """Signature name -> export output, from `spec.export_outputs` or else all predictions.

    Raises:
        ValueError: for export_outputs values that are not `ExportOutput`s, or several without
            a `serving_default`.
    """
    export_outputs = spec.export_outputs
    if export_outputs is None:
        export_outputs = {DEFAULT_SIGNATURE: PredictOutput(spec.predictions)}
    export_outputs = dict(export_outputs)
    for name, output in export_outputs.items():
        if not isinstance(output, ExportOutput):
            raise ValueError(
                f"export_outputs[{name!r}] must be a PredictOutput, ClassificationOutput or "
                f"RegressionOutput (keras_estimator.export), got {type(output).__name__}."
            )
    if DEFAULT_SIGNATURE not in export_outputs:
        if len(export_outputs) != 1:
            raise ValueError(
                f"Multiple export_outputs were provided ({sorted(export_outputs)}), but none of "
                f"them is named {DEFAULT_SIGNATURE!r}: name the default signature."
            )
        export_outputs[DEFAULT_SIGNATURE] = next(iter(export_outputs.values()))
    return export_outputs


def _named_signature(graph, inputs: dict, outputs: dict):
    """A concrete function from the receiver tensors, named by their receiver_tensors keys
    (placeholder op names may differ), to the outputs."""
    keys = sorted(inputs)
    for key in keys:
        if not isinstance(inputs[key], tf.Tensor):
            raise ValueError(
                f"receiver_tensors[{key!r}] must be a dense tensor (a placeholder), got "
                f"{type(inputs[key]).__name__}."
            )
    pruned = graph.prune(feeds=[inputs[k] for k in keys], fetches=outputs)
    specs = {k: tf.TensorSpec(inputs[k].shape, inputs[k].dtype, name=k) for k in keys}

    @tf.function(input_signature=[specs], autograph=False)
    def signature(receiver_tensors):
        return pruned(*[_checked_request(k, receiver_tensors[k], specs[k].shape) for k in keys])

    return signature.get_concrete_function()


def _checked_request(name: str, tensor: tf.Tensor, shape: tf.TensorShape) -> tf.Tensor:
    """A serving request's input, checked against the signature's shape when the request runs.

    A loaded signature checks a request's dtype, not its shape, and TensorFlow's graph optimizer
    trusts the declared shape, so a request of another rank used to run on and fail deep inside
    the model ("In[0] is not a matrix") or, for a `[batch]` string input, silently return one
    row per string of a `[2, 2]` request. Now it fails at once, naming the input: `EnsureShape`
    checks the actual shape. A `[batch]` input also takes a scalar, as a batch of one (as
    before), and a `[batch, 1]` tensor; a tensor with more than one value per example is
    refused.
    """
    if shape.rank == 1 and shape[0] is None:
        # tf.rank/tf.size(tf.shape(...)) would be folded to the declared rank: compare values.
        rows = tf.concat([tf.shape(tensor), [1]], 0)[0]
        check = tf.debugging.Assert(
            tf.equal(tf.size(tensor), rows),
            [f"Serving input {name} must hold one value per example (shape [batch]); got shape",
             tf.shape(tensor)],
        )
        with tf.control_dependencies([check]):
            return tf.identity(tensor)
    return tf.ensure_shape(tensor, shape)  # "Shape of tensor <name> [2,4,1] is not compatible ..."


def _call_receiver(fn: Callable) -> ServingInputReceiver:
    receiver = fn()
    if not isinstance(receiver, ServingInputReceiver):
        raise ValueError(
            f"serving_input_receiver_fn must return a ServingInputReceiver, got {type(receiver).__name__}."
        )
    return receiver


def _trace_receiver(fn: Callable) -> ServingInputReceiver:
    holder = []
    tf.compat.v1.wrap_function(lambda: holder.append(_call_receiver(fn)), signature=[])
    return holder[0]


def _check_assets_extra(assets_extra) -> dict[str, str]:
    if assets_extra is None:
        return {}
    if not isinstance(assets_extra, Mapping):
        raise ValueError("assets_extra must be a dict of destination path -> source file.")
    checked = {}
    for dest, source in assets_extra.items():
        dest = os.path.normpath(str(dest))
        if os.path.isabs(dest) or dest.startswith(".."):
            raise ValueError(f"assets_extra destination {dest!r} must be a relative path inside the export.")
        if not os.path.isfile(source):
            raise ValueError(f"assets_extra source {source!r} (for {dest!r}) is not a file.")
        checked[dest] = os.fspath(source)
    return checked


def _to_text(export_dir: str) -> None:
    """saved_model.pbtxt instead of saved_model.pb (TensorFlow Serving reads either)."""
    from google.protobuf import text_format
    from tensorflow.core.protobuf import saved_model_pb2

    binary = os.path.join(export_dir, "saved_model.pb")
    proto = saved_model_pb2.SavedModel()
    with open(binary, "rb") as f:
        proto.ParseFromString(f.read())
    with open(os.path.join(export_dir, "saved_model.pbtxt"), "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(proto))
    os.remove(binary)


def is_export_dir(path: str) -> bool:
    """A complete export: a directory named by digits only (what TensorFlow Serving loads)."""
    return os.path.basename(os.path.normpath(path)).isdigit() and os.path.isdir(path)
