"""keras_estimator.files: atomic writes (a failed write leaves the old file), JSON, fsync, pids."""

import json
import os
import stat
import subprocess
import sys

import pytest

from keras_estimator import files


def test_write_atomically_creates_the_directory_and_replaces_the_file(tmp_path):
    path = tmp_path / "new" / "state.txt"
    files.write_text_atomically(str(path), "one")
    files.write_text_atomically(str(path), "two ü")
    assert path.read_text(encoding="utf-8") == "two ü"
    assert os.listdir(path.parent) == ["state.txt"]


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("old")

    def fail(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.write_atomically(str(path), fail, suffix=".keras")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.keras"]


def test_write_atomically_passes_a_temporary_beside_the_target_with_the_suffix(tmp_path):
    seen = []

    def write(tmp):
        seen.append(tmp)
        with open(tmp, "w") as f:
            f.write("x")

    files.write_atomically(str(tmp_path / "m.keras"), write, suffix=".keras")
    assert os.path.dirname(seen[0]) == str(tmp_path) and seen[0].endswith(".keras")
    assert os.path.basename(seen[0]).startswith(".tmp-")


def test_json_is_written_with_sorted_keys_and_read_back(tmp_path):
    path = str(tmp_path / "r.json")
    files.write_json_atomically(path, {"b": 1, "a": [1, 2]})
    text = open(path).read()
    assert text.endswith("}\n") and text.index('"a"') < text.index('"b"')
    assert files.read_json(path) == {"a": [1, 2], "b": 1}
    files.write_json_atomically(path, {"z": 0, "y": None}, indent=None)
    assert open(path).read() == '{"y": null, "z": 0}'
    assert json.loads(open(path).read()) == files.read_json(path)


def test_read_json_default_when_the_file_is_missing(tmp_path):
    assert files.read_json(str(tmp_path / "none.json")) is None
    assert files.read_json(str(tmp_path / "none.json"), default={}) == {}


def test_fsync_file_and_tree(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    files.fsync_file(str(tmp_path / "b"))
    files.fsync_tree(str(tmp_path))
    with pytest.raises(FileNotFoundError):
        files.fsync_file(str(tmp_path / "missing"))


def test_process_alive():
    assert files.process_alive(os.getpid())
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert not files.process_alive(int(done.stdout))  # Exited and reaped.


def test_atomic_writes_have_the_usual_permissions(tmp_path):
    # A serving process of another user must be able to read what the trainer wrote.
    umask = os.umask(0o022)
    try:
        files.write_text_atomically(str(tmp_path / "a.json"), "{}")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "a.json").st_mode) == 0o644


@pytest.mark.parametrize("pid", [0, -1])
def test_process_alive_is_false_for_process_group_ids(pid):
    assert not files.process_alive(pid)
