"""Damaged checkpoints (keras_estimator.checkpoints): detected naming the file, skipped for the
previous good one with a warning, never replaced by a fresh model; leftovers of killed saves."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from helpers import dir_state, estimator, input_fn
from keras_estimator import checkpoints as ckpt_lib

EVAL = input_fn(n=64, batch=32, repeat=False)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A model_dir with checkpoints at steps 5 and 10."""
    model_dir = tmp_path_factory.mktemp("pristine")
    estimator(model_dir, save_checkpoints_steps=5).train(input_fn(), steps=10)
    return model_dir


@pytest.fixture
def model_dir(pristine, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(pristine, copy)  # The state file lists paths relative to the directory.
    assert ckpt_lib.listed(str(copy)) == [str(copy / "model.ckpt-5"), str(copy / "model.ckpt-10")]
    return copy


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGES = {
    "data corrupted": (lambda d: flip_byte(d / "model.ckpt-10.data-00000-of-00001"),
                       r"data file .*model.ckpt-10.data-00000-of-00001 is damaged \(.*Checksum does not match"),
    "data truncated": (lambda d: truncate(d / "model.ckpt-10.data-00000-of-00001"),
                       r"data file .*model.ckpt-10.data-00000-of-00001 is damaged"),
    "data missing": (lambda d: os.remove(d / "model.ckpt-10.data-00000-of-00001"),
                     r"data file .*model.ckpt-10.data-\* is missing"),
    "index truncated": (lambda d: truncate(d / "model.ckpt-10.index"), r"index file .*model.ckpt-10.index cannot be read"),
    "index corrupted": (lambda d: flip_byte(d / "model.ckpt-10.index"), r"index file .*model.ckpt-10.index cannot be read"),
    "index missing": (lambda d: os.remove(d / "model.ckpt-10.index"), r"index file .*model.ckpt-10.index is missing"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damage_is_detected_naming_the_file(model_dir, damage):
    assert ckpt_lib.damage(str(model_dir / "model.ckpt-10")) is None
    make, message = DAMAGES[damage]
    make(model_dir)
    assert ckpt_lib.damage(str(model_dir / "model.ckpt-5")) is None
    problem = ckpt_lib.damage(str(model_dir / "model.ckpt-10"))
    assert problem is not None and __import__("re").search(message, problem), problem
    # Asked for by name, it is an error naming it, before anything is written.
    before = dir_state(model_dir)
    with pytest.raises(ke.CheckpointDamagedError, match=r"model.ckpt-10 is damaged: its (data|index) file"):
        estimator(model_dir).evaluate(EVAL, checkpoint_path=str(model_dir / "model.ckpt-10"))
    assert dir_state(model_dir) == before


@pytest.mark.parametrize("damage", ["data corrupted", "index truncated"])
def test_evaluate_predict_and_export_fall_back_to_the_previous_good_checkpoint(model_dir, damage, caplog, tmp_path):
    DAMAGES[damage][0](model_dir)
    before = dir_state(model_dir)
    est = estimator(model_dir)
    with caplog.at_level("WARNING", logger="keras_estimator"):
        result = est.evaluate(EVAL)
    assert result["global_step"] == 5 and np.isfinite(result["loss"])
    assert "model.ckpt-10 is damaged" in caplog.text and "Using the previous good checkpoint" in caplog.text
    assert "model.ckpt-5" in caplog.text
    predictions = list(est.predict(input_fn(n=4, batch=4, repeat=False, labels=False)))
    assert len(predictions) == 4
    receiver = ke.export.build_raw_serving_input_receiver_fn({"x": tf.TensorSpec([None, 4], tf.float32)})
    est.export_saved_model(str(tmp_path / "export"), receiver)
    after = {k: v for k, v in dir_state(model_dir).items() if not k.startswith("eval/")}  # evaluate's summaries.
    assert after == before  # Reading never moves or rewrites checkpoints.


def test_train_moves_the_damaged_checkpoint_aside_and_resumes_from_the_previous_one(model_dir, caplog):
    DAMAGES["data corrupted"][0](model_dir)
    damaged_bytes = (model_dir / "model.ckpt-10.data-00000-of-00001").read_bytes()
    est = estimator(model_dir, save_checkpoints_steps=5)
    with caplog.at_level("WARNING", logger="keras_estimator"):
        est.train(input_fn(), steps=2)
    assert "Moved damaged checkpoint" in caplog.text
    # Resumed from 5: step 7 saved; the damaged step-10 files kept for inspection, unlisted.
    assert ckpt_lib.listed(str(model_dir)) == [str(model_dir / "model.ckpt-5"), str(model_dir / "model.ckpt-7")]
    assert (model_dir / "damaged" / "model.ckpt-10.data-00000-of-00001").read_bytes() == damaged_bytes
    assert not (model_dir / "model.ckpt-10.index").exists()
    # Training on past step 10 writes a new, good step-10 checkpoint (not the damaged files).
    est.train(input_fn(), max_steps=10)
    assert ckpt_lib.damage(str(model_dir / "model.ckpt-10")) is None


def test_when_every_listed_checkpoint_is_damaged_nothing_starts_from_scratch(model_dir):
    DAMAGES["data corrupted"][0](model_dir)
    flip_byte(model_dir / "model.ckpt-5.data-00000-of-00001")
    before = dir_state(model_dir)
    for call in (lambda e: e.train(input_fn(), steps=1), lambda e: e.evaluate(EVAL)):
        with pytest.raises(ke.CheckpointDamagedError, match=r"model.ckpt-10 is damaged.*No earlier checkpoint"):
            call(estimator(model_dir))
    assert dir_state(model_dir) == before


def test_train_removes_what_a_killed_save_left(model_dir):
    temp = model_dir / "model.ckpt-15_temp"
    temp.mkdir()
    (temp / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"partial")
    (model_dir / "model.ckpt-15.index").write_bytes(b"never listed")  # Written, never listed.
    assert sorted(os.path.basename(p) for p in ckpt_lib.leftovers(str(model_dir))) == [
        "model.ckpt-15.index", "model.ckpt-15_temp"]
    estimator(model_dir, save_checkpoints_steps=5).train(input_fn(), steps=2)
    assert ckpt_lib.leftovers(str(model_dir)) == [] and not temp.exists()
    assert ckpt_lib.listed(str(model_dir))[-1].endswith("model.ckpt-12")


def test_a_train_call_with_nothing_left_to_train_removes_them_too(model_dir):
    """train(max_steps=<the latest step>) returns at once: a save killed after that step's
    checkpoint was listed, or a kill before it, still leaves nothing behind (issue 19 item 7)."""
    latest = ckpt_lib.step_of(ckpt_lib.listed(str(model_dir))[-1])
    temp = model_dir / f"model.ckpt-{latest + 5}_temp"
    temp.mkdir()
    (temp / "part-00000-of-00001.index").write_bytes(b"partial")
    estimator(model_dir).train(input_fn(), max_steps=latest)
    assert ckpt_lib.leftovers(str(model_dir)) == [] and not temp.exists()
    assert ckpt_lib.step_of(ckpt_lib.listed(str(model_dir))[-1]) == latest


def test_export_refuses_a_checkpoint_holding_nan(tmp_path):
    """A checkpoint with NaN weights (e.g. written by tf.estimator 2.15, whose NaN check ran after
    its saver) is never exported."""
    model_dir = tmp_path / "model"
    est = estimator(model_dir)
    est.train(input_fn(), steps=2)
    kernel = est._model.store.get("dense/kernel")
    kernel.assign(tf.fill(kernel.shape, np.nan))
    ckpt_lib.save(ckpt_lib.make(est._model.global_step, est._model.store.checkpointed()), str(model_dir), 3, est.config)
    receiver = ke.export.build_raw_serving_input_receiver_fn({"x": tf.TensorSpec([None, 4], tf.float32)})
    with pytest.raises(ValueError, match=r"model.ckpt-3 holds NaN or Inf in \['dense/kernel'\]: refusing"):
        estimator(model_dir).export_saved_model(str(tmp_path / "export"), receiver)
    assert not (tmp_path / "export").exists()


def test_retention_lists_only_complete_checkpoints_and_keeps_tensorflows_format(tmp_path):
    """keep_checkpoint_max as tf.estimator: the newest N listed, older files deleted after the
    state no longer lists them; any TF tool reads the state file."""
    est = estimator(tmp_path, save_checkpoints_steps=2, keep_checkpoint_max=3)
    est.train(input_fn(), steps=10)
    est.train(input_fn(), steps=2)  # Retention spans calls.
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        "model.ckpt-8", "model.ckpt-10", "model.ckpt-12"]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-12")
    assert len(state.all_model_checkpoint_timestamps) == 3
    on_disk = sorted(n for n in os.listdir(tmp_path) if n.endswith(".index"))
    assert on_disk == ["model.ckpt-10.index", "model.ckpt-12.index", "model.ckpt-8.index"]
    # The state file names checkpoints relative to model_dir, so the directory can be moved.
    assert "model_checkpoint_path: \"model.ckpt-12\"" in (tmp_path / "checkpoint").read_text()


def test_a_relative_model_dir_resumes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    estimator("runs/model", save_checkpoints_steps=2).train(input_fn(), steps=4)
    estimator("runs/model", save_checkpoints_steps=2).train(input_fn(), steps=2)
    assert ckpt_lib.listed("runs/model")[-1] == os.path.join("runs/model", "model.ckpt-6")
    assert 'model_checkpoint_path: "model.ckpt-6"' in (tmp_path / "runs/model/checkpoint").read_text()


def test_first_line_is_the_detail_damage_messages_quote():
    from keras_estimator.errors import first_line

    assert first_line(ValueError("\n  first\nsecond")) == "first"
    assert first_line(OSError()) == "OSError"
    assert first_line(KeyError("")) == "''"  # KeyError quotes its argument.
    assert first_line(tf.errors.NotFoundError(None, None, "no file\ndetail")) == "no file"
