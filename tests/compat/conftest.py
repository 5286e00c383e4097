"""Fixtures for tests/compat (the helpers are in compat_support.py)."""

import tempfile

import keras
import pytest


@pytest.fixture
def program_dir(tmp_path, monkeypatch):
    """Runs the program inside tmp_path: its relative paths, `tempfile.mkdtemp()` and the
    temporary model_dir an Estimator without model_dir makes all land there. Keras's automatic
    layer names restart, as in the fresh process each program was published for (a program may
    name `dense_input`, its first layer's automatic name; tests run before it made `dense_4`)."""
    keras.backend.clear_session()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    keras.utils.set_random_seed(0)
    return tmp_path
