"""The package's public API: every name in __all__ resolves, and loads lazily."""

import ast
import pathlib
import subprocess
import sys

import pytest

import keras_estimator as ke


def test_every_public_name_resolves():
    assert ke.__all__ == sorted(ke._EXPORTS)
    for name in ke.__all__:
        assert getattr(ke, name) is not None
    assert set(ke.__all__) <= set(dir(ke))


def test_importing_the_package_and_the_cli_parser_does_not_import_tensorflow():
    code = ("import sys, keras_estimator, keras_estimator.cli; keras_estimator.cli.build_parser(); "
            "print('tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def _type_checking_imports() -> dict[str, str]:
    """name -> module of the imports under `if TYPE_CHECKING:` in the package's __init__."""
    tree = ast.parse(pathlib.Path(ke.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    names = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom), ast.unparse(node)
        for alias in node.names:
            is_module = node.module == "keras_estimator"  # `from keras_estimator import export`.
            names[alias.asname or alias.name] = f"{node.module}.{alias.name}" if is_module else node.module
    return names


def test_the_type_checking_imports_are_the_lazy_exports():
    assert _type_checking_imports() == ke._EXPORTS


@pytest.mark.parametrize("package, missing, extra", [
    ("keras_estimator.numbers", "num2words", "numbers"),
    ("keras_estimator.tuning", "keras_tuner", "tuning"),
    ("keras_estimator.tuning", "num2words", "tuning"),
])
def test_a_missing_extra_is_named_on_import(package, missing, extra):
    # A None entry in sys.modules makes `import <missing>` fail as if it were not installed.
    code = (f"import sys; sys.modules[{missing!r}] = None\n"
            f"try:\n    import {package}\nexcept ImportError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"pip install 'keras-estimator[{extra}]'" in done.stdout, done.stdout
