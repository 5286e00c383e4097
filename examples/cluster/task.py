"""One task of a numbers-model training cluster: the same program runs on every host.

Each process reads its role from `TF_CONFIG` (chief, worker or evaluator) and calls
`train_and_evaluate`: chief and workers train the model together under
`tf.distribute.MultiWorkerMirroredStrategy`; the evaluator evaluates each new checkpoint on the
held-out numbers and exports the best one as a raw-words SavedModel under
`MODEL_DIR/export/best/<timestamp>`. MODEL_DIR must be the same directory for every task (a
shared file system across machines).

    TF_CONFIG='{"cluster": {"chief": ["host0:2222"], "worker": ["host1:2222"],
                "evaluator": ["host2:2222"]}, "task": {"type": "worker", "index": 0}}' \\
        python examples/cluster/task.py --model-dir /shared/runs/parity --max-steps 2000

The last line a task prints is a JSON summary: its role, the global step it ended at, its
result (training tasks: the last loss; the evaluator: the final evaluation) and the exports
the evaluator wrote for the final checkpoint.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True, help="shared by every task")
    parser.add_argument("--max-steps", type=int, default=2000)
    parser.add_argument("--lang", default="en", help="num2words language (default en)")
    parser.add_argument("--model", default="gru", choices=("gru", "bigru", "cnn"))
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32,
                        help="per-replica batch: the global batch is tasks x this (default 32)")
    parser.add_argument("--save-checkpoints-steps", type=int, default=200)
    parser.add_argument("--throttle-secs", type=float, default=30,
                        help="the evaluator evaluates at most this often (default 30)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Progress: the runtime logs loss and steps/s while training and each evaluation's results.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("keras_estimator").setLevel(logging.INFO)
    import tensorflow as tf

    import keras_estimator as ke
    from keras_estimator.numbers import data, models, serving

    params = {"lang": args.lang, "model": args.model, "units": args.units, "batch_size": args.batch_size}
    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # Created on every task, as TensorFlow needs.
    config = ke.RunConfig(train_distribute=strategy, tf_random_seed=0,
                          save_checkpoints_steps=args.save_checkpoints_steps, log_step_count_steps=100)
    estimator = ke.model_to_estimator(models.build_model(params), model_dir=args.model_dir, config=config)

    def train_input_fn(input_context=None):
        dataset = data.input_fn(params, ke.ModeKeys.TRAIN)
        if input_context is not None and input_context.num_input_pipelines > 1:
            # Each worker takes its own share of the batches.
            dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        return dataset

    exporter = ke.BestExporter("best", serving.serving_input_receiver_fn(params), exports_to_keep=3)
    result, exports = ke.train_and_evaluate(
        estimator,
        ke.TrainSpec(train_input_fn, max_steps=args.max_steps),
        ke.EvalSpec(lambda: data.input_fn(params, ke.ModeKeys.EVAL), steps=None, exporters=[exporter],
                    start_delay_secs=0, throttle_secs=args.throttle_secs),
    )
    summary = {
        "task": f"{config.task_type}:{config.task_id}",
        "global_step": int(result["global_step"]),
        "result": {k: round(float(v), 6) for k, v in result.items() if v is not None and k != "global_step"},
        "exports": [os.fsdecode(e) for e in exports if e is not None],
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
