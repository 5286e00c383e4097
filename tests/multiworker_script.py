"""One task of a local MultiWorkerMirroredStrategy cluster (TF_CONFIG from the environment),
run by tests/test_multiworker.py.

    python multiworker_script.py MODEL_DIR MAX_STEPS [train|train_and_evaluate|early_stop]

Prints a JSON report as its last line: the task, the final step and a digest of its weights;
the evaluator adds the global steps it evaluated and the exports it returned.
"""

import hashlib
import json
import os
import sys

import tensorflow as tf

import keras_estimator as ke
from helpers import FEATURES, dense_model_fn as model_fn, make_data  # tests/ is sys.path[0]

X, Y = make_data(64 * 8)
EVAL_X, EVAL_Y = make_data(64, seed=1)


def input_fn(input_context=None):
    dataset = tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(32).repeat()
    if input_context is not None:  # Each worker reads its own shard.
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    return dataset


def eval_input_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": EVAL_X}, EVAL_Y)).batch(32)


model_dir, max_steps = sys.argv[1], int(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else "train"
strategy = tf.distribute.MultiWorkerMirroredStrategy()  # The same program on every task.
config = ke.RunConfig(tf_random_seed=3, train_distribute=strategy, save_checkpoints_steps=2, save_summary_steps=2)
estimator = ke.Estimator(model_fn, model_dir, config)
report = {"task": config.task_type, "pid": os.getpid(), "replicas": strategy.num_replicas_in_sync}
if mode == "train":
    estimator.train(input_fn, max_steps=max_steps)
else:
    hooks = []
    if mode == "early_stop":  # Stops once any evaluation reports a loss below 1e9: the first one.
        hooks = [ke.stop_if_lower_hook(estimator, "loss", 1e9, run_every_secs=None, run_every_steps=1)]
    receiver = ke.export.build_raw_serving_input_receiver_fn({"x": tf.TensorSpec([None, FEATURES], tf.float32)})
    exporter = ke.LatestExporter("latest", receiver, exports_to_keep=None)
    result, exports = ke.train_and_evaluate(
        estimator, ke.TrainSpec(input_fn, max_steps=max_steps, hooks=hooks),
        ke.EvalSpec(eval_input_fn, steps=None, exporters=[exporter], start_delay_secs=0, throttle_secs=0),
    )
    report["result"] = {k: (None if v is None else float(v)) for k, v in result.items()}
    report["exports"] = [e.decode() if isinstance(e, bytes) else e for e in exports]
values = {k: v.numpy() for k, v in estimator._model.store.checkpointed().items() if v.trainable}  # The model's weights.
report["digest"] = hashlib.sha256(b"".join(values[k].tobytes() for k in sorted(values))).hexdigest()
report["step"] = int(estimator._model.global_step.numpy())
print(json.dumps(report))
