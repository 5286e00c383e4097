"""The runtime must not import the application (numbers), tuning or the command line."""

import ast
import pathlib

RUNTIME = pathlib.Path(__file__).resolve().parent.parent / "src" / "keras_estimator"
APPLICATION = ("keras_estimator.numbers", "keras_estimator.tuning", "keras_estimator.cli")
ENTRY_POINT = "__main__.py"  # `python -m keras_estimator` runs the command line.


def test_runtime_modules_do_not_import_the_application():
    offenders = []
    for path in RUNTIME.glob("*.py"):  # Top level only: the runtime.
        if path.name == ENTRY_POINT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(APPLICATION)]
    assert offenders == []
    assert (RUNTIME / "estimator.py").exists()
