"""Files in model_dir, export and result directories, written so a crash never leaves half of one.

Small files (JSON state, the input signature, a Keras model) are written beside their target and
renamed over it; directories (exports) are written under a temporary name, flushed, and renamed.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any, Callable


def write_atomically(path: str, write: Callable[[str], None], suffix: str = "") -> None:
    """Calls `write(tmp)` for a temporary path beside `path`, flushes it to disk and renames it
    over `path`: a crash leaves the previous file or the new one. Creates the directory."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    # A fresh name, not mkstemp's file: `write` creates it with the usual permissions (umask),
    # so a serving process of another user can read it.
    tmp = os.path.join(directory, f".tmp-{uuid.uuid4().hex}{suffix}")
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_text_atomically(path: str, text: str) -> None:
    """Writes `text` (UTF-8) to `path` atomically (see `write_atomically`)."""
    def write(tmp: str) -> None:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
    write_atomically(path, write)


def write_json_atomically(path: str, value: Any, indent: int | None = 2) -> None:
    """Writes `value` as sorted-key JSON to `path` atomically."""
    text = json.dumps(value, indent=indent, sort_keys=True)
    write_text_atomically(path, text + "\n" if indent is not None else text)


def read_json(path: str, default: Any = None) -> Any:
    """The JSON value in `path`, or `default` when the file does not exist."""
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def fsync_file(path: str) -> None:
    """Flushes one file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: str) -> None:
    """Flushes every file below `root` to disk (before a rename publishes the directory)."""
    for directory, _, names in os.walk(root):
        for name in names:
            fsync_file(os.path.join(directory, name))


def process_alive(pid: int) -> bool:
    """True if a process with this pid exists on this host (signal 0 probes without sending)."""
    if pid <= 0:  # os.kill would probe a process group.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
