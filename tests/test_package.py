"""The package's public API: every name in __all__ resolves, and loads lazily."""

import subprocess
import sys

import keras_estimator as ke


def test_every_public_name_resolves():
    assert set(ke.__all__) == set(ke._EXPORTS)
    for name in ke.__all__:
        assert getattr(ke, name) is not None
    assert set(ke.__all__) <= set(dir(ke))


def test_importing_the_package_and_the_cli_parser_does_not_import_tensorflow():
    code = ("import sys, keras_estimator, keras_estimator.cli; keras_estimator.cli.build_parser(); "
            "print('tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
