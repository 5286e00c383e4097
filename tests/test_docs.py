"""The manual runs as written: every ```python block in README.md and docs/*.md is executed.

One test per block (id: file and block index). Each block runs in-process in a fresh temporary
working directory, with a fresh namespace. An HTML comment on the line right before a block
changes that:

- `<!-- docs-test: skip (reason) -->`: not run (a cluster, a server, a premade program).
- `<!-- docs-test: continue -->`: runs in the namespace and directory of the page's previous
  block (which runs first if it has not).
- `<!-- docs-test: three-paths -->`: the fit / model_to_estimator / export block of
  docs/keras.md, run with fewer steps and checked (checkpoint and export written).
- `<!-- docs-test: seed-example -->`: the seed article's program in docs/migration.md: its
  definitions, and model_fn called on one batch (tests/test_seed_example.py trains it).

Also checked: page lengths (README <= 150 lines, each docs page <= 250), that every relative
link points to an existing file (and heading, for `#anchors` into Markdown files), and that the
README links every docs page.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
README = os.path.join(ROOT, "README.md")
PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
FILES = [README, *PAGES]
OTHER_MARKDOWN = [os.path.join(ROOT, "export", "README.md"), os.path.join(ROOT, "tuning", "README.md")]

_FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_MARKER = re.compile(r"<!-- docs-test: ([\w-]+)(?: \((.+)\))? -->")
_DIRECTIVES = {"skip", "continue", "three-paths", "seed-example"}


@dataclasses.dataclass(frozen=True)
class Block:
    file: str  # relative to the repository root
    index: int  # 0-based among the file's python blocks
    code: str
    directive: str | None
    reason: str | None
    line: int

    @property
    def id(self) -> str:
        return f"{self.file}[{self.index}]"


def _blocks(path: str) -> list[Block]:
    text = open(path, encoding="utf-8").read()
    rel = os.path.relpath(path, ROOT)
    found = []
    for index, match in enumerate(_FENCE.finditer(text)):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        marker = _MARKER.fullmatch(before)
        directive, reason = (marker.group(1), marker.group(2)) if marker else (None, None)
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(rel, index, match.group(1), directive, reason, line))
    return found


BLOCKS = [block for path in FILES for block in _blocks(path)]
_BY_KEY = {(b.file, b.index): b for b in BLOCKS}


def test_blocks_found():
    assert len(BLOCKS) >= 10, "the manual lost its examples"
    for block in BLOCKS:
        assert block.directive in (None, *_DIRECTIVES), f"{block.id}: unknown docs-test directive {block.directive!r}"
        if block.directive == "skip":
            assert block.reason, f"{block.id}: a skipped block needs a reason: <!-- docs-test: skip (why) -->"
        if block.directive == "continue":
            assert block.index > 0, f"{block.id}: nothing to continue"
    assert [b for b in BLOCKS if b.directive == "three-paths"], "the three-paths block is gone"


# -- running blocks ---------------------------------------------------------------------------
_done: dict[tuple[str, int], tuple[dict, str]] = {}


# Blocks run with fewer steps (and less data): directive -> (text, replacement), each of which
# must occur exactly once in the block.
_SHORTER = {
    "three-paths": [
        ("steps_per_epoch=150", "steps_per_epoch=20"), ("steps=150", "steps=20"),
        ('"eval_size": 1000}', '"eval_size": 1000, "pool_size": 3000}'),
    ],
}

# The seed article's program (docs/migration.md) is trained by tests/test_seed_example.py; here its
# definitions run and model_fn is called once, eagerly, on one EVAL batch.
_SEED_CHECK = """
params = {"batch_size": 8, "learning_rate": 0.01, "seed": 0}
features, labels = next(iter(input_fn(params, ke.ModeKeys.EVAL)))
spec = model_fn(features, labels, ke.ModeKeys.EVAL, params)
assert spec.loss.shape == () and "accuracy" in spec.eval_metric_ops
"""


def _shorter(block: Block) -> str:
    code = block.code
    if block.directive == "seed-example":
        definitions, found, _ = code.partition("\nparams = {")
        assert found, f"{block.id}: no 'params = {{' line after the definitions: update tests/test_docs.py"
        return definitions + "\n" + _SEED_CHECK
    for text, replacement in _SHORTER.get(block.directive, []):
        assert code.count(text) == 1, f"{block.id}: expected {text!r} once: update tests/test_docs.py"
        code = code.replace(text, replacement)
    return code


def _run(block: Block, tmp_path_factory) -> tuple[dict, str]:
    key = (block.file, block.index)
    if key in _done:
        return _done[key]
    if block.directive == "continue":
        previous = [b for b in BLOCKS if b.file == block.file and b.index < block.index and b.directive != "skip"]
        assert previous, f"{block.id}: no earlier block to continue"
        namespace, directory = _run(previous[-1], tmp_path_factory)
    else:
        namespace = {"__name__": "__docs__"}
        directory = str(tmp_path_factory.mktemp(re.sub(r"\W", "_", block.id)))
    code = _shorter(block)
    # Line numbers in tracebacks are the Markdown file's.
    compiled = compile("\n" * block.line + code, os.path.join(ROOT, block.file), "exec")
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        exec(compiled, namespace)
    finally:
        os.chdir(cwd)
    _done[key] = (namespace, directory)
    return namespace, directory


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block_runs(block: Block, tmp_path_factory):
    if block.directive == "skip":
        pytest.skip(block.reason)
    _, directory = _run(block, tmp_path_factory)
    if block.directive == "three-paths":
        # What tests/test_readme.py checked: the Estimator checkpointed at the last step and the
        # export wrote a version directory.
        assert os.path.exists(os.path.join(directory, "runs/parity_en/model.ckpt-20.index"))
        assert [n for n in os.listdir(os.path.join(directory, "exports/parity_en")) if n.isdigit()]


# -- structure --------------------------------------------------------------------------------
def test_page_lengths():
    lines = {os.path.relpath(p, ROOT): len(open(p, encoding="utf-8").read().splitlines()) for p in FILES}
    assert lines["README.md"] <= 150, lines
    too_long = {name: n for name, n in lines.items() if name != "README.md" and n > 250}
    assert not too_long, f"docs pages over 250 lines: {too_long}"


_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: str) -> set[str]:
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # '#' in code is no heading
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def _links(path: str) -> list[str]:
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return [m.group(1) for m in _LINK.finditer(text)]


@pytest.mark.parametrize("path", FILES + OTHER_MARKDOWN, ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links(path):
    broken = []
    for link in _links(path):
        if re.match(r"[a-z]+:", link):  # https:, mailto:
            continue
        target, _, anchor = link.partition("#")
        file = os.path.normpath(os.path.join(os.path.dirname(path), target)) if target else path
        if not os.path.exists(file):
            broken.append(f"{link}: no file {os.path.relpath(file, ROOT)}")
        elif anchor and file.endswith(".md") and anchor not in _anchors(file):
            broken.append(f"{link}: no heading #{anchor} in {os.path.relpath(file, ROOT)}")
    assert not broken, f"{os.path.relpath(path, ROOT)}: broken links:\n" + "\n".join(broken)


def test_readme_links_every_page():
    linked = {os.path.normpath(os.path.join(ROOT, link.partition("#")[0])) for link in _links(README)}
    missing = [os.path.relpath(p, ROOT) for p in PAGES if p not in linked]
    assert not missing, f"README's read-next table does not link {missing}"


def test_readme_names_the_commands():
    text = open(README, encoding="utf-8").read()
    assert "make demo" in text and "make test" in text
