"""Estimator.export_saved_model: layout, signatures, failures and crashes."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import estimator, input_fn, make_data

import keras_estimator as ke
from keras_estimator import export

HELPERS_DIR = os.path.dirname(os.path.abspath(__file__))
RAW = export.build_raw_serving_input_receiver_fn({"x": tf.TensorSpec([None, 4], tf.float32)})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("saved_model")
    est = estimator(model_dir, {"lr": 0.05}, save_checkpoints_steps=5)
    est.train(input_fn(), steps=10)
    return est


def _logits(est, x, checkpoint_path=None):
    data = lambda: tf.data.Dataset.from_tensors({"x": x})  # noqa: E731
    return next(est.predict(data, checkpoint_path=checkpoint_path, yield_single_examples=False))["logits"]


def test_export_layout_and_predictions(trained, tmp_path):
    path = trained.export_saved_model(tmp_path, RAW)
    assert isinstance(path, bytes)
    path = path.decode()
    assert os.path.dirname(path) == str(tmp_path) and os.path.basename(path).isdigit()
    assert abs(int(os.path.basename(path)) - time.time()) < 600
    assert os.listdir(tmp_path) == [os.path.basename(path)]  # No temporary directory left.
    x, _ = make_data(16, seed=3)
    served = tf.saved_model.load(path).signatures["serving_default"](x=tf.constant(x))
    assert sorted(served) == ["class", "logits"]
    np.testing.assert_allclose(served["logits"].numpy(), _logits(trained, x), rtol=0, atol=1e-6)
    # Only the variables serving uses, under their checkpoint names: no optimizer state.
    names = [n for n, _ in tf.train.list_variables(os.path.join(path, "variables", "variables"))]
    model_names = sorted(
        n.split("/.ATTRIBUTES")[0].replace("model_variables/", "").replace(".S", "/")
        for n in names if n.startswith("model_variables/")
    )
    assert model_names == ["dense/bias", "dense/kernel", "dense_1/bias", "dense_1/kernel"]
    assert not any("adam" in n for n in names)


def test_two_exports_in_one_second_get_distinct_versions(trained, tmp_path):
    first = trained.export_saved_model(tmp_path, RAW)
    second = trained.export_saved_model(tmp_path, RAW)
    assert first != second
    assert sorted(os.listdir(tmp_path), key=int) == [os.path.basename(p.decode()) for p in (first, second)]


def test_export_of_a_given_checkpoint(trained, tmp_path):
    older = os.path.join(trained.model_dir, "model.ckpt-5")
    path = trained.export_saved_model(tmp_path, RAW, checkpoint_path=older).decode()
    x, _ = make_data(8, seed=4)
    served = tf.saved_model.load(path).signatures["serving_default"](x=tf.constant(x))["logits"].numpy()
    np.testing.assert_allclose(served, _logits(trained, x, checkpoint_path=older), atol=1e-6)
    assert np.abs(served - _logits(trained, x)).max() > 1e-4  # Not the latest weights.


def test_as_text_and_assets_extra(trained, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("release 7")
    path = trained.export_saved_model(tmp_path / "exports", RAW, assets_extra={"notes/note.txt": str(note)},
                                      as_text=True).decode()
    assert "saved_model.pbtxt" in os.listdir(path) and "saved_model.pb" not in os.listdir(path)
    assert open(os.path.join(path, "assets.extra", "notes", "note.txt")).read() == "release 7"
    x, _ = make_data(4)
    assert tf.saved_model.load(path).signatures["serving_default"](x=tf.constant(x))["logits"].shape == (4,)


def test_parsing_receiver_takes_serialized_examples(trained, tmp_path):
    receiver = export.build_parsing_serving_input_receiver_fn({"x": tf.io.FixedLenFeature([4], tf.float32)})
    path = trained.export_saved_model(tmp_path, receiver).decode()
    x, _ = make_data(8, seed=5)
    examples = [
        tf.train.Example(features=tf.train.Features(feature={
            "x": tf.train.Feature(float_list=tf.train.FloatList(value=row))})).SerializeToString()
        for row in x
    ]
    serve = tf.saved_model.load(path).signatures["serving_default"]
    served = serve(examples=tf.constant(examples))["logits"].numpy()
    np.testing.assert_allclose(served, _logits(trained, x), atol=1e-6)


def _signatures_model_fn(features, labels, mode):
    logits = keras.layers.Dense(2, name="logits")(features["x"])
    probabilities = tf.nn.softmax(logits)
    if mode == ke.ModeKeys.PREDICT:
        classes = tf.tile(tf.constant([["negative", "positive"]]), [tf.shape(logits)[0], 1])
        return ke.EstimatorSpec(mode, predictions={"probabilities": probabilities}, export_outputs={
            "serving_default": export.ClassificationOutput(scores=probabilities, classes=classes),
            "regress": export.RegressionOutput(probabilities[:, 1]),
            "predict": export.PredictOutput({"p": probabilities}),
        })
    loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(tf.cast(labels, tf.int32), logits, from_logits=True))
    return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.1)))


def test_export_outputs_become_signatures(tmp_path):
    est = ke.Estimator(_signatures_model_fn, str(tmp_path / "model"))
    est.train(input_fn(), steps=2)
    path = est.export_saved_model(tmp_path / "export", RAW).decode()
    loaded = tf.saved_model.load(path)
    assert sorted(loaded.signatures) == ["predict", "regress", "serving_default"]
    x = tf.constant(make_data(3)[0])
    default = loaded.signatures["serving_default"](x=x)
    assert sorted(default) == ["classes", "scores"]
    assert default["classes"].numpy()[0].tolist() == [b"negative", b"positive"]
    np.testing.assert_allclose(loaded.signatures["regress"](x=x)["outputs"].numpy(), default["scores"].numpy()[:, 1], atol=1e-6)
    np.testing.assert_allclose(loaded.signatures["predict"](x=x)["p"].numpy(), default["scores"].numpy(), atol=1e-6)


def _export_outputs_fn(outputs):
    def model_fn(features, labels, mode):
        logits = keras.layers.Dense(1)(features["x"])[:, 0]
        if mode == ke.ModeKeys.PREDICT:
            return ke.EstimatorSpec(mode, predictions={"logits": logits},
                                    export_outputs={k: v(logits) for k, v in outputs.items()})
        loss = tf.reduce_mean(tf.square(logits - labels))
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.1)))
    return model_fn


def test_a_single_export_output_is_also_the_default(tmp_path):
    est = ke.Estimator(_export_outputs_fn({"regress": export.RegressionOutput}), str(tmp_path / "model"))
    est.train(input_fn(), steps=1)
    path = est.export_saved_model(tmp_path / "export", RAW).decode()
    assert sorted(tf.saved_model.load(path).signatures) == ["regress", "serving_default"]


def test_several_export_outputs_need_a_default(tmp_path):
    est = ke.Estimator(_export_outputs_fn({"a": export.RegressionOutput, "b": export.PredictOutput}), str(tmp_path / "model"))
    est.train(input_fn(), steps=1)
    with pytest.raises(ValueError, match="none of them is named 'serving_default'"):
        est.export_saved_model(tmp_path / "export", RAW)
    assert not (tmp_path / "export").exists()


def test_export_errors_write_nothing(trained, tmp_path):
    base = tmp_path / "export"
    with pytest.raises(ValueError, match="Couldn't find trained model"):
        estimator(tmp_path / "empty").export_saved_model(base, RAW)
    with pytest.raises(ValueError, match="serving_input_receiver_fn must be a function"):
        trained.export_saved_model(base, {"x": 1})
    with pytest.raises(ValueError, match="must return a ServingInputReceiver"):
        trained.export_saved_model(base, lambda: {"x": tf.compat.v1.placeholder(tf.float32, [None, 4])})
    wrong_key = export.build_raw_serving_input_receiver_fn({"y": tf.TensorSpec([None, 4], tf.float32)})
    with pytest.raises(ke.InputError, match=r"missing key\(s\) \['x'\]"):
        trained.export_saved_model(base, wrong_key)
    wrong_dtype = export.build_raw_serving_input_receiver_fn({"x": tf.TensorSpec([None, 4], tf.string)})
    with pytest.raises(ke.InputError, match="dtype string"):
        trained.export_saved_model(base, wrong_dtype)
    with pytest.raises(ValueError, match="is not a file"):
        trained.export_saved_model(base, RAW, assets_extra={"a.txt": str(tmp_path / "missing.txt")})
    with pytest.raises(ke.CheckpointNotFoundError):
        trained.export_saved_model(base, RAW, checkpoint_path=str(tmp_path / "nope"))
    assert not base.exists() or not os.listdir(base)


_EXPORT_FOREVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {helpers_dir!r})
    import tensorflow as tf
    from helpers import estimator
    from keras_estimator import export
    est = estimator(sys.argv[1])
    receiver = export.build_raw_serving_input_receiver_fn({{"x": tf.TensorSpec([None, 4], tf.float32)}})
    while True:
        est.export_saved_model(sys.argv[2], receiver)
        print("EXPORTED", flush=True)
""")


def test_sigkill_during_export_leaves_no_partial_version(trained, tmp_path):
    """Serving loads any all-digit directory: each must be a complete SavedModel."""
    base = tmp_path / "export"
    code = _EXPORT_FOREVER.format(helpers_dir=HELPERS_DIR)
    rng = random.Random(7)
    for _ in range(2):
        child = subprocess.Popen([sys.executable, "-c", code, trained.model_dir, str(base)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = child.stdout.readline()  # The first export is done: kill during a later one.
            assert line.startswith("EXPORTED"), child.stderr.read()[-3000:]
            time.sleep(rng.uniform(0.0, 1.5))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    versions = [n for n in os.listdir(base) if n.isdigit()]
    x = tf.constant(make_data(2)[0])
    for name in versions:
        served = tf.saved_model.load(str(base / name)).signatures["serving_default"](x=x)
        assert served["logits"].shape == (2,)
    assert all(n.isdigit() or n.startswith("temp-") for n in os.listdir(base))
