"""Exporters (LatestExporter, BestExporter, FinalExporter) with real TensorFlow and Keras.

Each test calls `exporter.export(estimator, export_path, checkpoint_path, eval_result,
is_the_final_export)` directly on a trained helper estimator with chosen evaluation results,
so what gets exported is deterministic.
"""

import json
import os
import types

import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from helpers import FEATURES, estimator, input_fn, make_data
from keras_estimator import saved_model as saved_model_lib
from keras_estimator.exporters import EVAL_RESULT_FILE, export_dirs, loss_smaller

RECEIVER = ke.export.build_raw_serving_input_receiver_fn({"x": tf.TensorSpec([None, FEATURES], tf.float32)})
EXPORTER_CLASSES = [ke.LatestExporter, ke.BestExporter, ke.FinalExporter]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A helper estimator with checkpoints at steps 10 and 20 (different weights)."""
    est = estimator(tmp_path_factory.mktemp("model"), {"lr": 0.05}, save_checkpoints_steps=10, tf_random_seed=1)
    est.train(input_fn(), max_steps=20)
    state = tf.train.get_checkpoint_state(est.model_dir)
    ckpt10, ckpt20 = state.all_model_checkpoint_paths
    assert ckpt10.endswith("-10") and ckpt20.endswith("-20")
    return types.SimpleNamespace(est=est, ckpt10=ckpt10, ckpt20=ckpt20)


@pytest.fixture
def ticking_clock(monkeypatch):
    """Export timestamps one second apart, whatever the speed of the machine.

    Exports here take ~0.1 s, so with the real clock several land in the same second and get
    timestamps bumped past the clock; that case is covered by the frozen-clock tests at the end.
    """
    now = [int(saved_model_lib.time.time())]

    def fake_time():
        now[0] += 1
        return float(now[0])

    monkeypatch.setattr(saved_model_lib, "time", types.SimpleNamespace(time=fake_time))


def result(loss, **more):
    """An evaluation result shaped like Estimator.evaluate's (numpy scalars)."""
    return {"loss": np.float32(loss), "global_step": np.int64(20), **{k: np.float32(v) for k, v in more.items()}}


def numeric_dirs(path):
    return sorted(int(n) for n in os.listdir(path) if n.isdigit())


def saved_eval_result(export_dir):
    with open(os.path.join(export_dir, "assets.extra", EVAL_RESULT_FILE), encoding="utf-8") as f:
        return json.load(f)


X = make_data(24, seed=7)[0]


def served_logits(export_dir):
    loaded = tf.saved_model.load(os.fsdecode(export_dir))
    return loaded.signatures["serving_default"](x=tf.constant(X))["logits"].numpy()


def predicted_logits(est, checkpoint_path):
    fn = lambda: tf.data.Dataset.from_tensor_slices({"x": X}).batch(10)  # noqa: E731
    return np.array([p["logits"] for p in est.predict(fn, checkpoint_path=checkpoint_path)])


# -- BestExporter ----------------------------------------------------------------------------


def test_best_exporter_exports_only_results_that_beat_every_earlier_one(trained, tmp_path, ticking_clock):
    exporter = ke.BestExporter("best", RECEIVER)
    path = str(tmp_path / "best")
    returned = [
        exporter.export(trained.est, path, trained.ckpt20, result(loss, accuracy=0.5), False)
        for loss in (0.5, 0.7, 0.4, 0.45, 0.3)
    ]
    assert [r is not None for r in returned] == [True, False, True, False, True]
    exported = [r for r in returned if r is not None]
    assert all(isinstance(r, bytes) for r in exported)
    assert export_dirs(path) == [os.fsdecode(r) for r in exported]
    for export_dir, loss in zip(exported, (0.5, 0.4, 0.3)):
        saved = saved_eval_result(os.fsdecode(export_dir))
        assert saved == {"loss": pytest.approx(loss), "global_step": 20, "accuracy": 0.5}
        assert isinstance(saved["global_step"], int)
    assert exporter.best_eval_result(path)["loss"] == pytest.approx(0.3)


def test_best_exporter_keeps_the_newest_exports_to_keep(trained, tmp_path, ticking_clock):
    exporter = ke.BestExporter("best", RECEIVER, exports_to_keep=2)
    path = str(tmp_path / "best")
    returned = [exporter.export(trained.est, path, trained.ckpt20, result(loss), False) for loss in (0.5, 0.4, 0.3)]
    assert None not in returned
    assert export_dirs(path) == [os.fsdecode(r) for r in returned[1:]]
    assert not os.path.exists(returned[0])
    assert [saved_eval_result(d)["loss"] for d in export_dirs(path)] == pytest.approx([0.4, 0.3])


def test_a_new_best_exporter_reads_the_best_result_back_from_its_exports(trained, tmp_path, ticking_clock):
    path = str(tmp_path / "best")
    first = ke.BestExporter("best", RECEIVER, exports_to_keep=2)
    for loss in (0.5, 0.3, 0.4):
        first.export(trained.est, path, trained.ckpt20, result(loss), False)
    before = export_dirs(path)
    assert len(before) == 2

    restarted = ke.BestExporter("best", RECEIVER, exports_to_keep=2)  # As after a process restart.
    assert restarted.best_eval_result(path)["loss"] == pytest.approx(0.3)
    assert restarted.export(trained.est, path, trained.ckpt20, result(0.35), False) is None
    assert export_dirs(path) == before
    new = restarted.export(trained.est, path, trained.ckpt20, result(0.2), False)
    assert new is not None and os.path.isdir(new)
    assert export_dirs(path) == [before[1], os.fsdecode(new)]
    assert [saved_eval_result(d)["loss"] for d in export_dirs(path)] == pytest.approx([0.3, 0.2])


def test_best_exporter_uses_a_custom_compare_fn(trained, tmp_path, ticking_clock):
    calls = []

    def accuracy_larger(best_eval_result, current_eval_result):
        calls.append((best_eval_result["accuracy"], current_eval_result["accuracy"]))
        return current_eval_result["accuracy"] > best_eval_result["accuracy"]

    exporter = ke.BestExporter("best", RECEIVER, compare_fn=accuracy_larger)
    path = str(tmp_path / "best")
    # The loss gets worse while the accuracy gets better: only the accuracy decides.
    returned = [
        exporter.export(trained.est, path, trained.ckpt20, result(loss, accuracy=acc), False)
        for loss, acc in ((0.1, 0.6), (0.2, 0.8), (0.3, 0.7), (0.4, 0.9))
    ]
    assert [r is not None for r in returned] == [True, True, False, True]
    assert [saved_eval_result(d)["accuracy"] for d in export_dirs(path)] == pytest.approx([0.6, 0.8, 0.9])
    # Called as compare_fn(best, current) against the best so far.
    assert (pytest.approx(0.8), pytest.approx(0.7)) in calls
    assert (pytest.approx(0.8), pytest.approx(0.9)) in calls


def test_a_restart_compares_against_every_kept_export_not_only_the_newest(trained, tmp_path, ticking_clock):
    path = str(tmp_path / "best")
    by_loss = ke.BestExporter("best", RECEIVER)
    for loss, acc in ((0.5, 0.9), (0.3, 0.6)):
        assert by_loss.export(trained.est, path, trained.ckpt20, result(loss, accuracy=acc), False) is not None

    def accuracy_larger(best_eval_result, current_eval_result):
        return current_eval_result["accuracy"] > best_eval_result["accuracy"]

    # Restarted with another metric: the best is the older export (accuracy 0.9).
    by_accuracy = ke.BestExporter("best", RECEIVER, compare_fn=accuracy_larger)
    assert by_accuracy.best_eval_result(path)["accuracy"] == pytest.approx(0.9)
    assert by_accuracy.export(trained.est, path, trained.ckpt20, result(0.1, accuracy=0.8), False) is None
    assert by_accuracy.export(trained.est, path, trained.ckpt20, result(0.9, accuracy=0.95), False) is not None


@pytest.mark.parametrize("compare_fn", [
    lambda a, b: True,
    lambda current_eval_result, best_eval_result: True,  # Right names, wrong order.
    lambda best_eval_result: True,
    "loss",
])
def test_best_exporter_rejects_a_compare_fn_without_the_right_parameters(compare_fn):
    with pytest.raises(ValueError, match="compare_fn"):
        ke.BestExporter("best", RECEIVER, compare_fn=compare_fn)


@pytest.mark.parametrize("cls", [ke.LatestExporter, ke.BestExporter])
@pytest.mark.parametrize("keep", [0, -1, True, False, "3", 2.0])
def test_bad_exports_to_keep_is_rejected(cls, keep):
    with pytest.raises(ValueError, match="exports_to_keep"):
        cls("e", RECEIVER, exports_to_keep=keep)


@pytest.mark.parametrize("cls", [ke.LatestExporter, ke.BestExporter])
def test_exports_to_keep_accepts_positive_ints_and_none(cls):
    for keep in (1, 7, None):
        cls("e", RECEIVER, exports_to_keep=keep)


def test_loss_smaller():
    assert loss_smaller({"loss": 0.5}, {"loss": np.float32(0.4)}) is True
    assert loss_smaller({"loss": 0.4}, {"loss": 0.4}) is False
    assert loss_smaller({"loss": 0.4}, {"loss": 0.5}) is False
    with pytest.raises(ValueError, match="best_eval_result.*'loss'"):
        loss_smaller({"accuracy": 0.5}, {"loss": 0.4})
    with pytest.raises(ValueError, match="current_eval_result.*'loss'"):
        loss_smaller({"loss": 0.5}, {"accuracy": 0.4})
    with pytest.raises(ValueError, match="'loss'"):
        loss_smaller(None, {"loss": 0.4})


def test_best_exporter_needs_a_result_with_a_loss(trained, tmp_path, ticking_clock):
    exporter = ke.BestExporter("best", RECEIVER)
    path = str(tmp_path / "best")
    for empty in (None, {}):
        with pytest.raises(ValueError, match="evaluation result"):
            exporter.export(trained.est, path, trained.ckpt20, empty, False)
    assert exporter.export(trained.est, path, trained.ckpt20, result(0.5), False) is not None
    with pytest.raises(ValueError, match="current_eval_result.*'loss'"):
        exporter.export(trained.est, path, trained.ckpt20, {"accuracy": 0.9}, False)
    assert len(export_dirs(path)) == 1


# -- LatestExporter --------------------------------------------------------------------------


def test_latest_exporter_exports_every_time_and_keeps_the_newest(trained, tmp_path, ticking_clock):
    exporter = ke.LatestExporter("latest", RECEIVER, exports_to_keep=3)
    path = str(tmp_path / "latest")
    returned = []
    for i, loss in enumerate((0.5, 0.9, 0.1, 0.9, 0.9)):  # The results do not matter.
        returned.append(exporter.export(trained.est, path, trained.ckpt20, result(loss), i % 2 == 0))
        assert returned[-1] is not None and os.path.isdir(returned[-1])
    names = [int(os.path.basename(os.fsdecode(r))) for r in returned]
    assert names == sorted(names) and len(set(names)) == 5
    assert numeric_dirs(path) == names[2:]  # The two oldest were removed.
    assert export_dirs(path) == [os.fsdecode(r) for r in returned[2:]]
    assert sorted(os.listdir(path)) == sorted(str(n) for n in names[2:])
    # Only BestExporter writes its evaluation.
    assert not os.path.exists(os.path.join(os.fsdecode(returned[-1]), "assets.extra", EVAL_RESULT_FILE))


def test_latest_exporter_with_exports_to_keep_none_keeps_all(trained, tmp_path, ticking_clock):
    exporter = ke.LatestExporter("latest", RECEIVER, exports_to_keep=None)
    path = str(tmp_path / "latest")
    for _ in range(3):
        exporter.export(trained.est, path, trained.ckpt20, None, False)
    assert len(export_dirs(path)) == 3


@pytest.mark.parametrize("cls", [ke.LatestExporter, ke.BestExporter])
def test_exporting_removes_temp_dirs_left_by_a_crash(cls, trained, tmp_path, ticking_clock):
    path = tmp_path / "exports"
    stale = path / "temp-1700000000"
    (stale / "variables").mkdir(parents=True)
    (stale / "saved_model.pb").write_bytes(b"partial")
    (path / "notes").mkdir()  # Not an export: left alone.
    (path / "notes" / "readme.txt").write_text("keep me")
    exported = cls("e", RECEIVER).export(trained.est, str(path), trained.ckpt20, result(0.5), False)
    assert not stale.exists()
    assert sorted(os.listdir(path)) == sorted(["notes", os.path.basename(os.fsdecode(exported))])
    assert (path / "notes" / "readme.txt").read_text() == "keep me"


# -- FinalExporter ---------------------------------------------------------------------------


def test_final_exporter_exports_only_the_final_export(trained, tmp_path, ticking_clock):
    exporter = ke.FinalExporter("final", RECEIVER)
    path = str(tmp_path / "final")
    assert exporter.export(trained.est, path, trained.ckpt10, result(0.5), False) is None
    assert not os.path.exists(path) or export_dirs(path) == []
    exported = exporter.export(trained.est, path, trained.ckpt20, result(0.5), True)
    assert exported is not None
    assert export_dirs(path) == [os.fsdecode(exported)]


# -- All exporters ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", EXPORTER_CLASSES)
@pytest.mark.parametrize("name", ["", "a/b", "../x", "/abs", "a b", "x\n", "a\\b", None, 3, b"x"])
def test_exporter_names_must_be_simple_dir_names(cls, name):
    with pytest.raises(ValueError, match="name"):
        cls(name, RECEIVER)


@pytest.mark.parametrize("cls", EXPORTER_CLASSES)
def test_exporter_name_property_and_receiver_check(cls):
    assert cls("my_exporter-1.v2", RECEIVER).name == "my_exporter-1.v2"
    with pytest.raises(ValueError, match="serving_input_receiver_fn"):
        cls("e", "not a function")
    assert isinstance(cls("e", RECEIVER), ke.Exporter)


def test_best_exporter_default_name_and_missing_receiver():
    assert ke.BestExporter(serving_input_receiver_fn=RECEIVER).name == "best_exporter"
    with pytest.raises(ValueError, match="serving_input_receiver_fn"):
        ke.BestExporter()


@pytest.mark.parametrize("cls", EXPORTER_CLASSES)
def test_each_export_serves_the_checkpoint_it_was_given(cls, trained, tmp_path, ticking_clock):
    expected10 = predicted_logits(trained.est, trained.ckpt10)
    expected20 = predicted_logits(trained.est, trained.ckpt20)
    assert not np.allclose(expected10, expected20, atol=1e-3)  # The two checkpoints differ.
    exporter = cls("e", RECEIVER)
    path = str(tmp_path / "e")
    first = exporter.export(trained.est, path, trained.ckpt10, result(0.5), True)
    second = exporter.export(trained.est, path, trained.ckpt20, result(0.4), True)
    np.testing.assert_allclose(served_logits(first), expected10, atol=1e-6)
    np.testing.assert_allclose(served_logits(second), expected20, atol=1e-6)
    assert tf.saved_model.load(os.fsdecode(second)).signatures["serving_default"].structured_input_signature[1] == {
        "x": tf.TensorSpec([None, FEATURES], tf.float32, name="x")
    }


def test_assets_extra_and_as_text_reach_the_export(trained, tmp_path, ticking_clock):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("a\nb\n")
    exporter = ke.BestExporter("best", RECEIVER, assets_extra={"data/vocab.txt": str(vocab)}, as_text=True)
    exported = os.fsdecode(exporter.export(trained.est, str(tmp_path / "best"), trained.ckpt20, result(0.5), False))
    with open(os.path.join(exported, "assets.extra", "data", "vocab.txt"), encoding="utf-8") as f:
        assert f.read() == "a\nb\n"
    assert saved_eval_result(exported)["loss"] == pytest.approx(0.5)
    assert os.path.exists(os.path.join(exported, "saved_model.pbtxt"))
    assert not os.path.exists(os.path.join(exported, "saved_model.pb"))


def test_export_dirs_lists_complete_exports_oldest_first(tmp_path):
    assert export_dirs(str(tmp_path / "missing")) == []
    for name in ("10", "9", "100", "temp-11", "abc", "12a"):
        (tmp_path / name).mkdir()
    (tmp_path / "11").write_text("a file, not an export")
    assert export_dirs(str(tmp_path)) == [str(tmp_path / n) for n in ("9", "10", "100")]




@pytest.fixture
def frozen_clock(monkeypatch):
    """Every export in the same second: what happens when exports take less than a second."""
    now = float(int(saved_model_lib.time.time()))
    monkeypatch.setattr(saved_model_lib, "time", types.SimpleNamespace(time=lambda: now))


def test_latest_exporter_keeps_the_newest_exports_within_one_second(trained, tmp_path, frozen_clock):
    exporter = ke.LatestExporter("latest", RECEIVER, exports_to_keep=1)
    path = str(tmp_path / "latest")
    for _ in range(3):
        exported = exporter.export(trained.est, path, trained.ckpt20, None, False)
        assert os.path.isdir(exported), f"{exported} was returned but removed"


def test_best_exporter_keeps_its_best_export_within_one_second(trained, tmp_path, frozen_clock):
    exporter = ke.BestExporter("best", RECEIVER, exports_to_keep=1)
    path = str(tmp_path / "best")
    for loss in (0.5, 0.4, 0.3):
        exporter.export(trained.est, path, trained.ckpt20, result(loss), False)
    assert exporter.best_eval_result(path)["loss"] == pytest.approx(0.3)


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_names_are_rejected(name):
    with pytest.raises(ValueError, match="name"):
        ke.LatestExporter(name, RECEIVER)
