"""train_and_evaluate, TrainSpec and EvalSpec with real TensorFlow and Keras."""

import json
import os
import socket
import shutil
import types

import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from helpers import FEATURES, estimator, input_fn, make_data
from keras_estimator.exporters import EVAL_RESULT_FILE, export_dirs

RECEIVER = ke.export.build_raw_serving_input_receiver_fn({"x": tf.TensorSpec([None, FEATURES], tf.float32)})


class EvalRecorder(ke.Hook):
    """Records the global step of every evaluation it runs in."""

    def __init__(self):
        self.steps = []

    def begin(self, context):
        assert context.mode == ke.ModeKeys.EVAL
        self.steps.append(context.global_step)


class TrainRecorder(ke.Hook):
    def __init__(self):
        self.steps = []

    def after_run(self, context):
        self.steps.append(context.global_step)


class RecordingExporter(ke.Exporter):
    """A real Exporter that writes nothing and records what train_and_evaluate asks of it."""

    def __init__(self, name="recorder"):
        self._name = name
        self.calls = []

    @property
    def name(self):
        return self._name

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        self.calls.append(types.SimpleNamespace(
            estimator=estimator, export_path=export_path, checkpoint_step=int(checkpoint_path.rsplit("-", 1)[1]),
            result=dict(eval_result), final=is_the_final_export,
        ))
        return None


def eval_summary_steps(directory):
    """Global steps of the `loss` summaries evaluate wrote to directory (one per evaluation)."""
    steps = []
    for f in tf.io.gfile.glob(os.path.join(directory, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(f):
            steps.extend(event.step for value in event.summary.value if value.tag == "loss")
    return sorted(steps)


def checkpoint_steps(model_dir):
    state = tf.train.get_checkpoint_state(str(model_dir))
    return [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]


X = make_data(16, seed=7)[0]


def served_logits(export_dir):
    loaded = tf.saved_model.load(os.fsdecode(export_dir))
    return loaded.signatures["serving_default"](x=tf.constant(X))["logits"].numpy()


def predicted_logits(est, step):
    fn = lambda: tf.data.Dataset.from_tensor_slices({"x": X}).batch(8)  # noqa: E731
    path = os.path.join(est.model_dir, f"model.ckpt-{step}")
    return np.array([p["logits"] for p in est.predict(fn, checkpoint_path=path)])


def make_estimator(model_dir):
    return estimator(model_dir, {"lr": 0.05}, save_checkpoints_steps=10, tf_random_seed=1)


EVAL_INPUT = input_fn(n=64, batch=16, repeat=False, seed=3)  # 4 batches; EvalSpec.steps takes fewer.


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """train_and_evaluate to step 30, a checkpoint every 10 steps, no throttling."""
    model_dir = tmp_path_factory.mktemp("full")
    evals, train_hook, recorder = EvalRecorder(), TrainRecorder(), RecordingExporter()
    exporters = [
        ke.LatestExporter("latest", RECEIVER, exports_to_keep=2),
        ke.BestExporter("best", RECEIVER),
        recorder,
        ke.FinalExporter("final", RECEIVER),
    ]
    est = make_estimator(model_dir)
    result, exports = ke.train_and_evaluate(
        est,
        ke.TrainSpec(input_fn(), max_steps=30, hooks=[train_hook]),
        ke.EvalSpec(EVAL_INPUT, steps=2, hooks=[evals], exporters=exporters, throttle_secs=0),
    )
    return types.SimpleNamespace(
        model_dir=str(model_dir), est=est, result=result, exports=exports, evals=evals.steps,
        train_steps=train_hook.steps, calls=recorder.calls,
        export_listing={d: sorted(os.listdir(model_dir / "export" / d)) for d in os.listdir(model_dir / "export")},
    )


def test_every_checkpoint_is_evaluated_and_exported(full_run):
    assert checkpoint_steps(full_run.model_dir) == [10, 20, 30]
    assert full_run.evals == [10, 20, 30]
    assert eval_summary_steps(os.path.join(full_run.model_dir, "eval")) == [10, 20, 30]
    assert full_run.train_steps[-1] == 30  # TrainSpec hooks run in training.
    # Each exporter gets the checkpoint just evaluated and that evaluation's result.
    calls = full_run.calls
    assert [(c.checkpoint_step, c.result["global_step"], c.final) for c in calls] == [
        (10, 10, False), (20, 20, False), (30, 30, True),
    ]
    assert all(c.estimator is full_run.est for c in calls)
    assert {c.export_path for c in calls} == {os.path.join(full_run.model_dir, "export", "recorder")}
    assert [c.result["examples"] for c in calls] == [32.0] * 3  # EvalSpec.steps=2 batches of 16.
    assert len({float(c.result["loss"]) for c in calls}) == 3


def test_final_result_and_export_results(full_run):
    result, exports = full_run.result, full_run.exports
    assert result["global_step"] == 30
    assert set(result) == {"loss", "accuracy", "examples", "global_step"}
    assert float(result["loss"]) == float(full_run.calls[-1].result["loss"])
    assert len(exports) == 4  # Aligned with EvalSpec.exporters.
    latest, best, recorded, final = exports
    assert recorded is None
    export = os.path.join(full_run.model_dir, "export")
    assert os.fsdecode(latest) == export_dirs(os.path.join(export, "latest"))[-1]
    assert export_dirs(os.path.join(export, "final")) == [os.fsdecode(final)]
    # Both serve the final checkpoint.
    expected = predicted_logits(full_run.est, 30)
    np.testing.assert_allclose(served_logits(final), expected, atol=1e-6)
    np.testing.assert_allclose(served_logits(latest), expected, atol=1e-6)
    # The model learns, so every evaluation beats the earlier ones and the final one is exported.
    losses = [float(c.result["loss"]) for c in full_run.calls]
    assert losses[0] > losses[1] > losses[2]
    assert os.fsdecode(best) == export_dirs(os.path.join(export, "best"))[-1]
    assert read_eval_result(os.fsdecode(best))["global_step"] == 30


def test_exporters_write_what_they_should(full_run):
    listing = full_run.export_listing
    assert set(listing) == {"latest", "best", "final"}  # RecordingExporter wrote nothing.
    assert len(listing["final"]) == 1  # Exported exactly once.
    latest = sorted(int(n) for n in listing["latest"])
    assert len(latest) == 2 and [str(n) for n in latest] == sorted(listing["latest"], key=int)
    export = os.path.join(full_run.model_dir, "export")
    # Latest exported every checkpoint and kept the newest two (20 and 30).
    older, newer = export_dirs(os.path.join(export, "latest"))
    np.testing.assert_allclose(served_logits(older), predicted_logits(full_run.est, 20), atol=1e-6)
    # Best exported each evaluation that improved on every earlier one.
    losses = [float(c.result["loss"]) for c in full_run.calls]
    improved = [loss for i, loss in enumerate(losses) if i == 0 or loss < min(losses[:i])]
    best_dirs = export_dirs(os.path.join(export, "best"))
    assert [d["loss"] for d in map(read_eval_result, best_dirs)] == pytest.approx(improved)
    assert [d["global_step"] for d in map(read_eval_result, best_dirs)] == [
        c.result["global_step"] for c in full_run.calls if float(c.result["loss"]) in improved
    ]


def read_eval_result(export_dir):
    import json

    with open(os.path.join(export_dir, "assets.extra", EVAL_RESULT_FILE), encoding="utf-8") as f:
        return json.load(f)


def test_evaluating_during_training_does_not_change_training(full_run, tmp_path):
    plain = make_estimator(tmp_path)
    plain.train(input_fn(), max_steps=30)
    names = plain.get_variable_names()
    assert names == full_run.est.get_variable_names()
    for name in names:
        np.testing.assert_array_equal(plain.get_variable_value(name), full_run.est.get_variable_value(name), err_msg=name)


def test_when_max_steps_is_reached_the_latest_checkpoint_is_evaluated_without_training(full_run, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(full_run.model_dir, model_dir)
    checkpoint_files = sorted(f for f in os.listdir(model_dir) if f.startswith("model.ckpt") or f == "checkpoint")
    evals, train_hook, recorder = EvalRecorder(), TrainRecorder(), RecordingExporter()
    exporters = [recorder, ke.FinalExporter("final", RECEIVER), ke.BestExporter("best", RECEIVER)]
    best_before = export_dirs(str(model_dir / "export" / "best"))
    result, exports = ke.train_and_evaluate(
        make_estimator(model_dir),
        ke.TrainSpec(input_fn(), max_steps=30, hooks=[train_hook]),
        ke.EvalSpec(EVAL_INPUT, steps=2, hooks=[evals], exporters=exporters, throttle_secs=0),
    )
    assert train_hook.steps == []  # No training...
    assert sorted(f for f in os.listdir(model_dir) if f.startswith("model.ckpt") or f == "checkpoint") == checkpoint_files
    assert checkpoint_steps(model_dir) == [10, 20, 30]
    assert evals.steps == [30]  # ...one evaluation of the latest checkpoint, exported as final.
    assert result["global_step"] == 30
    np.testing.assert_allclose(result["loss"], full_run.result["loss"], rtol=1e-6)
    assert [(c.checkpoint_step, c.final) for c in recorder.calls] == [(30, True)]
    assert len(exports) == 3 and exports[0] is None
    assert len(export_dirs(str(model_dir / "export" / "final"))) == 2
    assert os.fsdecode(exports[1]) == export_dirs(str(model_dir / "export" / "final"))[-1]
    # The same result is not better than the best export of the first run.
    assert exports[2] is None and export_dirs(str(model_dir / "export" / "best")) == best_before


def test_large_throttle_evaluates_only_the_first_and_final_checkpoints(tmp_path):
    evals, recorder = EvalRecorder(), RecordingExporter()
    result, exports = ke.train_and_evaluate(
        make_estimator(tmp_path),
        ke.TrainSpec(input_fn(), max_steps=30),
        ke.EvalSpec(EVAL_INPUT, steps=1, name="x", hooks=[evals], exporters=recorder, throttle_secs=3600),
    )
    assert checkpoint_steps(tmp_path) == [10, 20, 30]  # Step 20 was saved but not evaluated.
    assert evals.steps == [10, 30]
    assert [(c.checkpoint_step, c.final) for c in recorder.calls] == [(10, False), (30, True)]
    assert result["global_step"] == 30 and exports == [None]
    # EvalSpec.name: summaries go to eval_x.
    assert eval_summary_steps(str(tmp_path / "eval_x")) == [10, 30]
    assert not os.path.exists(tmp_path / "eval")


def test_max_steps_none_trains_to_the_end_of_the_data_and_exports_it_as_final(tmp_path):
    evals, recorder = EvalRecorder(), RecordingExporter()
    exporters = [recorder, ke.FinalExporter("final", RECEIVER), ke.LatestExporter("latest", RECEIVER)]
    est = make_estimator(tmp_path)
    result, exports = ke.train_and_evaluate(
        est,
        ke.TrainSpec(input_fn(n=96, batch=8, repeat=False)),  # 12 batches.
        ke.EvalSpec(EVAL_INPUT, steps=1, hooks=[evals], exporters=exporters, throttle_secs=0),
    )
    assert checkpoint_steps(tmp_path) == [10, 12]
    assert evals.steps == [10, 12]  # The final checkpoint is evaluated once.
    assert result["global_step"] == 12
    assert recorder.calls[0].checkpoint_step == 10 and not recorder.calls[0].final
    assert (recorder.calls[-1].checkpoint_step, recorder.calls[-1].final) == (12, True)
    assert all(c.result["global_step"] == c.checkpoint_step for c in recorder.calls)
    assert export_dirs(str(tmp_path / "export" / "final")) == [os.fsdecode(exports[1])]
    latest = export_dirs(str(tmp_path / "export" / "latest"))
    assert len(latest) == 2 and latest[-1] == os.fsdecode(exports[2])  # Step 12 exported once.
    expected = predicted_logits(est, 12)
    np.testing.assert_allclose(served_logits(exports[1]), expected, atol=1e-6)
    np.testing.assert_allclose(served_logits(latest[0]), predicted_logits(est, 10), atol=1e-6)


# -- Specs -----------------------------------------------------------------------------------


def test_specs_keep_their_arguments():
    fn = input_fn()
    hook, exporter = ke.Hook(), RecordingExporter()
    train = ke.TrainSpec(fn, max_steps=5, hooks=[hook])
    assert (train.input_fn, train.max_steps, train.hooks) == (fn, 5, (hook,))
    assert ke.TrainSpec(fn).max_steps is None
    evals = ke.EvalSpec(fn, steps=None, name="holdout", hooks=[hook], exporters=exporter, start_delay_secs=0,
                        throttle_secs=1)
    assert (evals.input_fn, evals.steps, evals.name, evals.hooks, evals.exporters) == (
        fn, None, "holdout", (hook,), (exporter,))
    assert (evals.start_delay_secs, evals.throttle_secs) == (0.0, 1.0)
    default = ke.EvalSpec(fn)
    assert (default.steps, default.name, default.exporters, default.throttle_secs) == (100, None, (), 600.0)
    assert ke.EvalSpec(fn, exporters=None).exporters == ()


@pytest.mark.parametrize("make, message", [
    (lambda: ke.TrainSpec("not callable"), "callable"),
    (lambda: ke.TrainSpec(None), "callable"),
    (lambda: ke.TrainSpec(input_fn(), max_steps=0), "max_steps"),
    (lambda: ke.TrainSpec(input_fn(), max_steps=-5), "max_steps"),
    (lambda: ke.TrainSpec(input_fn(), max_steps=2.5), "max_steps"),
    (lambda: ke.TrainSpec(input_fn(), max_steps=True), "max_steps"),
    (lambda: ke.TrainSpec(input_fn(), hooks=[object()]), "Hook"),
    (lambda: ke.EvalSpec("not callable"), "callable"),
    (lambda: ke.EvalSpec(input_fn(), steps=0), "steps"),
    (lambda: ke.EvalSpec(input_fn(), steps=-1), "steps"),
    (lambda: ke.EvalSpec(input_fn(), throttle_secs=-1), "throttle_secs"),
    (lambda: ke.EvalSpec(input_fn(), throttle_secs="10"), "throttle_secs"),
    (lambda: ke.EvalSpec(input_fn(), throttle_secs=True), "throttle_secs"),
    (lambda: ke.EvalSpec(input_fn(), start_delay_secs=-0.5), "start_delay_secs"),
    (lambda: ke.EvalSpec(input_fn(), hooks=[object()]), "Hook"),
    (lambda: ke.EvalSpec(input_fn(), exporters=[object()]), "Exporter"),
    (lambda: ke.EvalSpec(input_fn(), exporters=[RecordingExporter(), "best"]), "Exporter"),
    (lambda: ke.EvalSpec(input_fn(), exporters=[ke.LatestExporter("e", RECEIVER), ke.FinalExporter("e", RECEIVER)]),
     "distinct names"),
])
def test_invalid_specs_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_train_and_evaluate_rejects_wrong_argument_types(tmp_path):
    est = estimator(tmp_path / "model")
    train, evals = ke.TrainSpec(input_fn(), max_steps=1), ke.EvalSpec(input_fn(), steps=1)
    for args, message in [
        ((object(), train, evals), "estimator"),
        ((est, evals, train), "train_spec"),
        ((est, train, None), "eval_spec"),
        ((est, (input_fn(), 1, ()), evals), "train_spec"),
    ]:
        with pytest.raises(ValueError, match=message):
            ke.train_and_evaluate(*args)
    assert not os.path.exists(tmp_path / "model") or os.listdir(tmp_path / "model") == []


def test_a_single_non_exporter_is_rejected_with_value_error():
    with pytest.raises(ValueError, match="Exporter"):
        ke.EvalSpec(input_fn(), exporters=object())


# -- train_and_evaluate's roles in a cluster (TF_CONFIG); the multi-process runs are in
# -- tests/test_multiworker.py.
def cluster_config(monkeypatch, task_type, chief_port):
    cluster = {"chief": [f"localhost:{chief_port}"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": task_type, "index": 0}}))


def closed_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.fixture
def trained_to_20(tmp_path):
    model_dir = tmp_path / "model"
    make_estimator(model_dir).train(input_fn(), max_steps=20)  # Checkpoints at 10 and 20.
    return model_dir


def evaluator_run(model_dir, max_steps, exporters=()):
    est = make_estimator(model_dir)
    assert est.config.task_type == "evaluator"
    return ke.train_and_evaluate(est, ke.TrainSpec(input_fn(), max_steps=max_steps),
                                 ke.EvalSpec(EVAL_INPUT, exporters=list(exporters), start_delay_secs=0))


def test_the_evaluator_evaluates_the_final_checkpoint_and_returns(monkeypatch, trained_to_20):
    cluster_config(monkeypatch, "evaluator", closed_port())
    before = checkpoint_steps(trained_to_20)
    recorder = RecordingExporter()
    result, exports = evaluator_run(trained_to_20, 20, [recorder])
    assert result["global_step"] == 20 and exports == [None]
    assert [(c.checkpoint_step, c.final) for c in recorder.calls] == [(20, True)]  # Once, as the final.
    assert eval_summary_steps(trained_to_20 / "eval") == [20]
    assert checkpoint_steps(trained_to_20) == before  # The evaluator trains nothing.


def test_the_evaluator_fails_clearly_when_the_chief_is_gone_before_the_end(monkeypatch, trained_to_20):
    from keras_estimator.training import _ContinuousEvaluator

    monkeypatch.setattr(_ContinuousEvaluator, "STARTUP_GRACE_SECS", 0.0)  # The chief never answers.
    port = closed_port()
    cluster_config(monkeypatch, "evaluator", port)
    with pytest.raises(ke.ClusterTaskFailedError, match=f"chief at localhost:{port} is gone .*max_steps 50"):
        evaluator_run(trained_to_20, 50)


def test_a_chief_records_where_training_ended_for_the_evaluator(monkeypatch, trained_to_20):
    """A chief whose hook stopped it early: the evaluator takes its last checkpoint as final."""
    from keras_estimator.training import _ContinuousEvaluator

    class StopAt25(ke.Hook):
        def next_step(self, global_step):
            return 25

        def after_run(self, context):
            if context.global_step >= 25:
                context.request_stop()

    cluster_config(monkeypatch, "chief", closed_port())
    chief = make_estimator(trained_to_20)
    stop_at_25 = StopAt25()
    result, exports = ke.train_and_evaluate(
        chief, ke.TrainSpec(input_fn(), max_steps=50, hooks=[stop_at_25]), ke.EvalSpec(EVAL_INPUT))
    end = json.loads((trained_to_20 / "training_end.json").read_text())
    assert end == {"global_step": result["global_step"], "max_steps": 50} and exports == []
    assert result["global_step"] == 25 and np.isfinite(result["loss"])
    assert not (trained_to_20 / "eval").exists()  # The chief does not evaluate.

    monkeypatch.setattr(_ContinuousEvaluator, "STARTUP_GRACE_SECS", 0.0)
    cluster_config(monkeypatch, "evaluator", closed_port())
    result_eval, _ = evaluator_run(trained_to_20, 50)
    assert result_eval["global_step"] == result["global_step"]


def test_cluster_roles_that_cannot_run_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"task": {"type": "evaluator", "index": 0}}))
    with pytest.raises(ValueError, match="evaluator task needs TF_CONFIG's cluster, with its chief"):
        evaluator_run(tmp_path / "model", 10)
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"chief": ["localhost:1"], "ps": ["localhost:2"]}, "task": {"type": "ps", "index": 0}}))
    with pytest.raises(ValueError, match="parameter-server training is not supported"):
        ke.train_and_evaluate(make_estimator(tmp_path / "model"), ke.TrainSpec(input_fn(), max_steps=5),
                              ke.EvalSpec(EVAL_INPUT))
    assert not (tmp_path / "model").exists()
