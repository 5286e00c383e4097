"""The numbers export: a SavedModel that takes raw words, tokenized inside the graph."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from keras_estimator import numbers

PARAMS = {"max_num": 10_000, "eval_size": 192, "pool_size": 2000, "batch_size": 32,
          "units": 16, "embedding_dim": 8, "model": "bigru", "targets": "parity,magnitude"}
WORDS = ["forty-two", "Seven", "one thousand two hundred and thirty-four", "", "zzz ÿ€", "NINE"]
SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("numbers_serving")
    est = ke.model_to_estimator(numbers.build_model(PARAMS), model_dir=model_dir,
                                config=ke.RunConfig(log_step_count_steps=None))
    est.train(lambda: numbers.input_fn(PARAMS), steps=10)
    receiver = numbers.serving_input_receiver_fn(PARAMS)
    path = est.export_saved_model(model_dir / "export", receiver).decode()
    return est, receiver.vocabulary, path


def _estimator_predictions(est, vocabulary, words):
    """Estimator.predict on the words encoded in Python, as the training pipeline does."""
    encoded = [vocabulary.encode(w) for w in words]
    width = max(1, max(len(e) for e in encoded))
    features = {
        "sequences": np.array([e + [numbers.PAD_ID] * (width - len(e)) for e in encoded], np.int32),
        "lengths": np.array([len(e) for e in encoded], np.int32),
    }
    return next(est.predict(lambda: tf.data.Dataset.from_tensors(features), yield_single_examples=False))


def test_fresh_process_without_keras_estimator_serves_raw_words(exported, tmp_path):
    est, vocabulary, path = exported
    expected = _estimator_predictions(est, vocabulary, WORDS)
    np.savez(tmp_path / "expected.npz", **expected)
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        import tensorflow as tf
        serve = tf.saved_model.load({path!r}).signatures["serving_default"]
        out = serve(words=tf.constant({WORDS!r}))
        expected = np.load({str(tmp_path / "expected.npz")!r})
        assert sorted(out) == sorted(expected.files), (sorted(out), expected.files)
        for key in expected.files:
            np.testing.assert_allclose(out[key].numpy(), expected[key], rtol=0, atol=1e-6)
        assert not any(m.startswith("keras_estimator") for m in sys.modules)
        print("SERVED", sorted(out))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SERVED ['magnitude', 'parity']" in result.stdout


def test_saved_model_cli_shows_and_runs_the_signature(exported):
    _, _, path = exported
    shown = subprocess.run([SAVED_MODEL_CLI, "show", "--all", "--dir", path],
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    serving = shown.stdout.split("signature_def['serving_default']")[1]
    assert "inputs['words']" in serving and "DT_STRING" in serving
    assert "outputs['parity']" in serving and "outputs['magnitude']" in serving
    run = subprocess.run(
        [SAVED_MODEL_CLI, "run", "--dir", path, "--tag_set", "serve", "--signature_def",
         "serving_default", "--input_exprs", "words=['forty-two','seven']"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Result for output key parity" in run.stdout


def test_vocabulary_ships_as_an_asset(exported):
    _, vocabulary, path = exported
    assert numbers.Vocabulary.load(os.path.join(path, "assets", numbers.serving.VOCABULARY_ASSET)) == vocabulary


def test_defined_results_for_odd_text(exported):
    est, vocabulary, path = exported
    serve = tf.saved_model.load(path).signatures["serving_default"]
    alone = {w: serve(words=tf.constant([w])) for w in ["forty-two", "", "@#€"]}
    batch = serve(words=tf.constant(["forty-two", "", "@#€", "FORTY-TWO"]))
    for i, word in enumerate(["forty-two", "", "@#€"]):
        for key in ("parity", "magnitude"):
            assert np.all(np.isfinite(batch[key].numpy()))
            # Batch co-members and padding never change a prediction.
            np.testing.assert_allclose(batch[key][i], alone[word][key][0], atol=1e-6)
    # Upper case is lower-cased; unknown characters are the out-of-vocabulary id.
    np.testing.assert_allclose(batch["parity"][3], batch["parity"][0], atol=1e-6)
    oov = next(est.predict(lambda: tf.data.Dataset.from_tensors(
        {"sequences": np.full((1, 3), numbers.OOV_ID, np.int32), "lengths": np.array([3], np.int32)}),
        yield_single_examples=False))
    np.testing.assert_allclose(batch["parity"][2], oov["parity"][0], atol=1e-6)
    # Invalid UTF-8 is replaced (out of vocabulary), not an error.
    assert np.all(np.isfinite(serve(words=tf.constant([b"\xff\xfe"]))["parity"].numpy()))


def test_bad_serving_inputs_get_an_error_or_a_defined_result(exported):
    _, _, path = exported
    serve = tf.saved_model.load(path).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a string tensor"):
        serve(words=tf.constant([42]))
    # Python's loader reshapes inputs to the signature's [batch]: a scalar is a batch of one.
    one = serve(words=tf.constant(["forty-two"]))["parity"].numpy()
    np.testing.assert_allclose(serve(words=tf.constant("forty-two"))["parity"].numpy(), one, atol=1e-6)
    assert serve(words=tf.constant([], tf.string))["parity"].shape == (0, 1)
    # The session path TensorFlow Serving takes rejects a wrong rank by name.
    run = subprocess.run(
        [SAVED_MODEL_CLI, "run", "--dir", path, "--tag_set", "serve", "--signature_def",
         "serving_default", "--input_exprs", "words=[['forty-two']]"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode != 0 and "Cannot feed value of shape (1, 1)" in run.stderr
    assert serve(words=tf.constant(["seven"]))["parity"].shape == (1, 1)  # Still serving.


def test_receiver_rejects_a_non_vocabulary():
    with pytest.raises(ValueError, match="Vocabulary"):
        numbers.WordsReceiver(["a", "b"])
