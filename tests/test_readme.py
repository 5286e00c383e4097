"""The README's code runs as written (with fewer training steps)."""

import os
import re

import pytest

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")


def _block(marker: str) -> str:
    text = open(README, encoding="utf-8").read()
    match = re.search(rf"<!-- readme-test: {marker} -->\n```python\n(.*?)```", text, re.S)
    assert match, f"README has no python block marked {marker!r}"
    return match.group(1)


@pytest.mark.slow
def test_three_paths_on_one_model(tmp_path, monkeypatch):
    code = _block("three-paths")
    short = code.replace("steps_per_epoch=150", "steps_per_epoch=20").replace("steps=150", "steps=20")
    assert short.count("=20") == 2, "the README's step counts changed: update this test"
    monkeypatch.chdir(tmp_path)
    exec(compile(short, "README.md", "exec"), {})
    assert os.path.exists(tmp_path / "runs/parity_en/model.ckpt-20.index")
    assert [n for n in os.listdir(tmp_path / "exports/parity_en") if n.isdigit()]
