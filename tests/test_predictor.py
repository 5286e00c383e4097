"""predictor.from_saved_model: an export called from Python, requests checked by input name."""

import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke


@pytest.fixture(scope="module")
def export_base(tmp_path_factory):
    """An export base with two versions; the newer adds 1 to `total`."""
    base = tmp_path_factory.mktemp("exports")
    for version, offset in ((1, 0.0), (2, 1.0)):
        module = tf.Module()

        @tf.function(input_signature=[{"words": tf.TensorSpec([None], tf.string, name="words"),
                                       "ids": tf.TensorSpec([None], tf.int32, name="ids"),
                                       "x": tf.TensorSpec([None, 2], tf.float32, name="x")}])
        def serve(request, offset=offset):
            total = tf.reduce_sum(request["x"], 1) + tf.cast(request["ids"], tf.float32) + offset
            return {"total": total, "length": tf.strings.length(request["words"])}

        module.serve = serve
        tf.saved_model.save(module, str(base / str(version)),
                            signatures={"serving_default": serve.get_concrete_function(),
                                        "other": serve.get_concrete_function()})
    return base


GOOD = {"words": ["one", "three"], "ids": [1, 2], "x": np.array([[0.5, 0.5], [1.0, 2.0]])}


def test_lists_and_float64_arrays_are_converted_and_the_newest_version_answers(export_base):
    predict = ke.predictor.from_saved_model(export_base)
    assert predict.export_dir.endswith("2")
    assert sorted(predict.input_specs) == ["ids", "words", "x"] and predict.output_names == ["length", "total"]
    outputs = predict(GOOD)
    np.testing.assert_allclose(outputs["total"], [3.0, 6.0])  # 1 + 1 + 1, 3 + 2 + 1
    np.testing.assert_array_equal(outputs["length"], [3, 5])
    one = ke.predictor.from_saved_model(export_base / "1", signature_def_key="other")
    np.testing.assert_allclose(one({**GOOD, "words": tf.constant(["a", "b"])})["total"], [2.0, 5.0])


@pytest.mark.parametrize("change, message", [
    ({"words": [42, 7]}, r"Serving input 'words' of signature 'serving_default' takes string "
                         r"\(its serving_input_receiver_fn's dtype\), got int64"),
    ({"words": tf.constant([1.5, 2.5])}, r"input 'words' .* takes string .*got float32"),
    ({"ids": [1.5, 2.0]}, r"input 'ids' .* takes int32 .*got float64"),
    ({"ids": ["1", "2"]}, r"input 'ids' .* takes int32 .*got strings"),
    ({"ids": [1, 2**40]}, r"input 'ids' holds values out of the range of int32"),
    ({"x": [["a", "b"], ["c", "d"]]}, r"input 'x' .* takes float32 .*got strings"),
    ({"words": np.array(["one", 2], dtype=object)}, r"input 'words' .* takes string .*got Python objects \(int, str\)"),
])
def test_a_value_of_another_dtype_is_refused_naming_the_input(export_base, change, message):
    predict = ke.predictor.from_saved_model(export_base)
    with pytest.raises(ke.InputError, match=message):
        predict({**GOOD, **change})


def test_missing_and_unknown_inputs_are_named(export_base):
    predict = ke.predictor.from_saved_model(export_base)
    with pytest.raises(ke.InputError, match=r"missing \['x'\], unknown \['z'\]"):
        predict({"words": ["a"], "ids": [1], "z": [1.0]})
    with pytest.raises(ke.InputError, match="must be a dict"):
        predict(["a"])


def test_bad_export_dirs_and_signatures(export_base, tmp_path):
    with pytest.raises(FileNotFoundError, match="no SavedModel"):
        ke.predictor.from_saved_model(tmp_path)
    with pytest.raises(ValueError, match=r"no signature 'predict'; it has \['other', 'serving_default'\]"):
        ke.predictor.from_saved_model(export_base, signature_def_key="predict")
