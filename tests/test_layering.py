"""Layering of src/keras_estimator, read with ast: what imports what, sizes, private names.

The runtime must not import the application (numbers), tuning or the command line; no module
imports itself through a cycle; nobody reaches into another module's or object's private names;
Keras's and TensorFlow's private APIs are used in `_compat.py` only. The checks are in
tests/layering_support.py; every failure lists its offenders as "path:line: what".
"""

import ast
import pathlib
import textwrap

import layering_support as layering
import pytest

RUNTIME = pathlib.Path(__file__).resolve().parent.parent / "src" / "keras_estimator"
APPLICATION = ("keras_estimator.numbers", "keras_estimator.tuning", "keras_estimator.cli")
ENTRY_POINT = "__main__.py"  # `python -m keras_estimator` runs the command line.

MAX_MODULE_LINES = 350
MAX_CLASS_LINES = 250
MAX_FUNCTION_CODE_LINES = 40
LONG_FUNCTIONS_ALLOWED = {"cli/main.py:build_parser"}  # One argparse declaration per option.
# The package root re-exports everything lazily; `python -m` runs __main__: neither is a layer.
NOT_IN_CYCLES = {"__init__.py", ENTRY_POINT}


def assert_none(offenders: list[str]) -> None:
    if offenders:
        pytest.fail(f"{len(offenders)} offender(s):\n" + "\n".join(offenders), pytrace=False)


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


def test_no_module_is_too_long():
    offenders = layering.find_long_modules(layering.modules(), MAX_MODULE_LINES)
    assert_none(offenders)


def test_no_class_is_too_long():
    offenders = layering.find_long_classes(layering.modules(), MAX_CLASS_LINES)
    assert_none(offenders)


def test_no_function_is_too_long():
    offenders = layering.find_long_functions(
        layering.modules(), MAX_FUNCTION_CODE_LINES, LONG_FUNCTIONS_ALLOWED)
    assert_none(offenders)


def test_no_import_cycles():
    offenders = layering.find_import_cycles(layering.modules(), NOT_IN_CYCLES)
    assert_none(offenders)


def test_no_private_names_are_imported_across_modules():
    offenders = layering.find_private_imports(layering.modules())
    assert_none(offenders)


def test_no_private_members_of_other_objects_are_used():
    offenders = layering.find_private_member_uses(layering.modules(), layering.COMPAT)
    assert_none(offenders)


def test_keras_and_tensorflow_private_apis_are_used_only_in_compat():
    offenders = layering.find_private_api_imports(layering.modules(), layering.COMPAT)
    assert_none(offenders)


# The layers of docs/architecture.md: a module imports only from its own layer or those below.
LAYERS = {
    0: ["errors", "mode_keys", "validation", "files", "_compat", "cluster", "run_config", "fn_args",
        "hooks", "session_run_hook"],
    1: ["spec", "export", "export.export_output", "export.serving_input", "context", "variable_store",
        "checkpoints", "datasets", "signature", "model", "optimization", "graph_collections", "hook_list", "pruned_steps",
        "inputs", "inputs.numpy_io", "inputs.pandas_io", "parsing_utils", "vocab_info", "keras_inputs", "keras_rebuild",
        "strategies", "warm_start", "feature_columns",
        # tf.compat.v1.layers for model_fn (keras_estimator.tensorflow answers it with these).
        "layers_v1", "layers_v1.base", "layers_v1.core", "layers_v1.convolutional", "layers_v1.pooling",
        "layers_v1.normalization"],
    2: ["steps", "summaries", "saver", "model_dir", "model_dir_lock", "peer_health", "timers", "basic_hooks"],
    3: ["train_loop", "evaluation", "prediction", "saved_model"],
    4: ["estimator", "keras_bridge", "predictor"],
    5: ["exporters", "training", "early_stopping", "experimental", "extenders",
        # Premade estimators and heads: model_fns written on the public API.
        "canned", "canned.metric_keys", "canned.linear_model", "canned.head", "canned.classification_heads",
        "canned.regression_heads", "canned.multi_label_head", "canned.multi_head", "canned.optimizers", "canned.premade",
        "canned.dnn", "canned.linear", "canned.dnn_linear_combined", "canned.baseline", "canned.v1"],
    # `import keras_estimator.tensorflow as tf`: TensorFlow with tf.estimator's names back.
    6: ["tensorflow", "tensorflow.overrides", "tensorflow.compat", "tensorflow.compat.v1", "tensorflow.compat.v2",
        "tensorflow.compat.v1.train", "tensorflow.keras", "tensorflow.keras_estimator",
        "tensorflow.keras_layers", "tensorflow.compat.v1.estimator", "tensorflow.keras_optimizers",
        "tensorflow.keras_optimizers_legacy"],
}


def test_runtime_modules_import_only_their_own_layer_or_those_below():
    layer_of = {f"keras_estimator.{name}": layer for layer, names in LAYERS.items() for name in names}
    graph = layering.import_graph(layering.modules(), NOT_IN_CYCLES)
    runtime = {name for name in graph if not name.startswith(APPLICATION)}
    assert sorted(runtime - set(layer_of)) == [], "a runtime module has no layer: add it to LAYERS and docs"
    offenders = [
        f"{name}: imports {target} (L{layer_of[target]}) from L{layer_of[name]}"
        for name in sorted(runtime) for target in graph[name]
        if layer_of.get(target, -1) > layer_of[name]
    ]
    assert_none(offenders)


def test_the_checks_find_what_they_look_for(tmp_path):
    """The checker itself, on a made-up package: each check reports its offender."""
    files = {
        "__init__.py": "",
        "a.py": "import keras_estimator.b\nfrom keras_estimator.b import _hidden\n",
        "b.py": """
            from tensorflow.python.ops import array_ops
            from keras_estimator import _compat
            def f(x, y):
                \"\"\"A docstring
                on two lines.\"\"\"
                from keras_estimator import a
                return x._secret, getattr(y, "_other"), self._mine, x.__class__
            class C:
                def __eq__(self, other):
                    return self._v == other._v
            """,
        "_compat.py": "import keras.src\nx = object()._anything\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    mods = layering.modules(tmp_path)
    cycle = "cycle keras_estimator.a -> keras_estimator.b -> keras_estimator.a"
    assert [o.split(" (")[0] for o in layering.find_import_cycles(mods, NOT_IN_CYCLES)] == [cycle]
    assert layering.find_private_imports(mods) == ["a.py:2: imports _hidden from keras_estimator.b"]
    assert layering.find_private_member_uses(mods, layering.COMPAT) == [
        "b.py:8: uses x._secret", "b.py:8: uses getattr(y, '_other')"]
    assert layering.find_private_api_imports(mods, layering.COMPAT) == [
        "b.py:2: imports tensorflow.python.ops.array_ops"]
    # f: 5 physical lines, 2 of them its docstring.
    assert layering.find_long_functions(mods, 2, set()) == ["b.py:4: f has 3 code lines"]
    assert layering.find_long_functions(mods, 2, {"b.py:f"}) == []
    assert layering.find_long_modules(mods, 10) == ["b.py:1: 11 lines"]
    assert layering.find_long_classes(mods, 2) == ["b.py:9: class C has 3 lines"]
