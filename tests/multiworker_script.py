"""One task of a local MultiWorkerMirroredStrategy cluster (TF_CONFIG from the environment),
run by tests/test_multiworker.py: trains to max_steps and prints a JSON report."""

import hashlib
import json
import os
import sys

import tensorflow as tf

import keras_estimator as ke
from helpers import dense_model_fn as model_fn, make_data  # tests/ is sys.path[0]

X, Y = make_data(64 * 8)


def input_fn(input_context=None):
    dataset = tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(32).repeat()
    if input_context is not None:  # Each worker reads its own shard.
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    return dataset


model_dir, max_steps = sys.argv[1], int(sys.argv[2])
strategy = tf.distribute.MultiWorkerMirroredStrategy()
config = ke.RunConfig(tf_random_seed=3, train_distribute=strategy, save_checkpoints_steps=2, save_summary_steps=2)
estimator = ke.Estimator(model_fn, model_dir, config)
estimator.train(input_fn, max_steps=max_steps)
values = {k: v.numpy() for k, v in estimator._store.checkpointed().items()}
digest = hashlib.sha256(b"".join(values[k].tobytes() for k in sorted(values))).hexdigest()
print(json.dumps({"task": config.task_type, "pid": os.getpid(), "replicas": strategy.num_replicas_in_sync,
                  "step": int(estimator._global_step.numpy()), "digest": digest}))
