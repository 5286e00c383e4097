"""keras_estimator.model_dir: a train call's lock, resume point and clean-up of model_dir."""

import os

import pytest

from keras_estimator.errors import ModelDirInUseError
from keras_estimator.model_dir import TrainingSession, clean_up


def test_a_new_model_dir_is_created_only_when_writing_starts(tmp_path):
    model_dir = str(tmp_path / "new")
    with TrainingSession(model_dir, chief=True) as session:
        assert session.latest is None and session.start_step == 0
        assert not os.path.exists(model_dir)
        session.start_writing()
        assert os.path.isdir(model_dir)
    assert not os.path.exists(model_dir)  # Nothing was written into it: no trace left.


def test_a_failed_call_leaves_no_new_model_dir(tmp_path):
    model_dir = str(tmp_path / "new")
    with pytest.raises(RuntimeError):
        with TrainingSession(model_dir, chief=True) as session:
            session.start_writing()
            raise RuntimeError("input_fn failed")
    assert not os.path.exists(model_dir)


def test_the_chief_holds_the_lock_for_the_whole_call(tmp_path):
    with TrainingSession(str(tmp_path), chief=True):
        with pytest.raises(ModelDirInUseError):
            with TrainingSession(str(tmp_path), chief=True):
                pass
    with TrainingSession(str(tmp_path), chief=True):  # Released on exit.
        pass


def test_other_tasks_do_not_lock(tmp_path):
    with TrainingSession(str(tmp_path), chief=True):
        with TrainingSession(str(tmp_path), chief=False) as worker:
            worker.start_writing()


def test_clean_up_removes_what_a_killed_save_left(tmp_path):
    (tmp_path / "model.ckpt-5_temp").mkdir()
    (tmp_path / "model.ckpt-5_temp" / "part").write_text("x")
    (tmp_path / "notes.txt").write_text("keep")
    clean_up(str(tmp_path), damaged=[])
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]
