"""The bad-input corpus (issue 12, part 4).

Every case gets an error of a documented type whose message names the problem (the key, the
field, the dtype), raised before any write: the model_dir (and the export or sweep directory)
is byte-for-byte unchanged afterwards, and one that did not exist still does not exist.
docs/errors.md lists the same cases.
"""

import contextlib
import json
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from helpers import dense_model_fn, dir_state, estimator, input_fn, tree_state
from keras_estimator import numbers
from keras_estimator.export import ServingInputReceiver, build_raw_serving_input_receiver_fn

X = np.zeros((8, 4), np.float32)
Y = np.zeros((8,), np.float32)
X_SPEC = tf.TensorSpec([None, 4], tf.float32)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model_dir trained on {"x": float32 [B, 4]} features and float32 labels."""
    model_dir = tmp_path_factory.mktemp("trained")
    estimator(model_dir).train(input_fn(), steps=3)
    return model_dir


@pytest.fixture
def new_dir(tmp_path):
    """A model_dir that does not exist yet."""
    return tmp_path / "new_model_dir"


@contextlib.contextmanager
def nothing_written(*paths):
    """Asserts that every path (file or directory tree) is unchanged, or still missing."""
    before = [tree_state(p) for p in paths]
    yield
    after = [tree_state(p) for p in paths]
    assert after == before, "a failed call changed " + ", ".join(
        str(p) for p, b, a in zip(paths, before, after) if a != b
    )


@contextlib.contextmanager
def fails(error, match, *paths):
    """The body raises `error` with a message matching `match`, and writes nothing to paths."""
    with nothing_written(*paths), pytest.raises(error, match=match) as info:
        yield info


def _batches(features, labels=None, n=8):
    def fn():
        element = (features, labels) if labels is not None else features
        return tf.data.Dataset.from_tensor_slices(element).batch(n)
    return fn


def _empty(labels=True):
    element = ({"x": X}, Y) if labels else {"x": X}
    return lambda: tf.data.Dataset.from_tensor_slices(element).batch(2).take(0)


def _call(est, method, fn):
    if method == "train":
        return est.train(fn, steps=2)
    if method == "evaluate":
        return est.evaluate(fn)
    return list(est.predict(fn))


# -- 1. What input_fn returns ---------------------------------------------------------------
@pytest.mark.parametrize("method, fn, error, message", [
    pytest.param("train", _batches({"x": X, "extra": X}, Y), ke.InputError,
                 r"features in mode 'train' have unexpected key\(s\) \['extra'\]", id="features-unexpected-key"),
    pytest.param("train", _batches({"y": X}, Y), ke.InputError,
                 r"features in mode 'train' are missing key\(s\) \['x'\]", id="features-missing-key-train"),
    pytest.param("evaluate", _batches({"y": X}, Y), ke.InputError,
                 r"features in mode 'eval' are missing key\(s\) \['x'\]", id="features-missing-key-eval"),
    pytest.param("predict", _batches({"x2": X}), ke.InputError,
                 r"features in mode 'infer' are missing key\(s\) \['x'\]", id="features-missing-key-predict"),
    pytest.param("train", _batches({"x": X.astype(np.int32)}, Y), ke.InputError,
                 r"features\['x'\] has dtype int32 .* trained with float32", id="features-wrong-dtype-train"),
    pytest.param("predict", _batches({"x": X.astype(np.int64)}), ke.InputError,
                 r"features\['x'\] has dtype int64 .* trained with float32", id="features-wrong-dtype-predict"),
    pytest.param("evaluate", _batches({"x": X[:, :, None]}, Y), ke.InputError,
                 r"features\['x'\] has rank 3 .* trained with rank 2", id="features-wrong-rank"),
    # The signature records ranks, not sizes: model_fn builds a [5, 8] kernel, and restoring the
    # [4, 8] one fails naming the variable (dense/kernel), both shapes and the features.
    pytest.param("evaluate", _batches({"x": np.zeros((8, 5), np.float32)}, Y), ValueError,
                 r"(?s)dense/kernel.*features \{'x': float32\[None, 5\]\}", id="features-wrong-size"),
    pytest.param("train", _batches({"x": X}, Y.astype(np.int64)), ke.InputError,
                 r"labels has dtype int64 .* trained with float32", id="labels-wrong-dtype"),
    pytest.param("train", _batches(X, Y), ke.InputError,
                 r"features in mode 'train' are a single tensor, but the model was trained with a dict \(\['x'\]\)",
                 id="features-single-tensor"),
    pytest.param("train", _batches({"x": X}), ke.InputError,
                 r"Labels are missing: mode 'train'", id="labels-missing-train"),
    pytest.param("evaluate", _batches({"x": X}), ke.InputError,
                 r"Labels are missing: mode 'eval'", id="labels-missing-eval"),
    pytest.param("train", _empty(), ke.InputError,
                 r"mode 'train' returned an empty dataset", id="empty-dataset-train"),
    pytest.param("evaluate", _empty(), ke.InputError,
                 r"mode 'eval' returned an empty dataset", id="empty-dataset-evaluate"),
    pytest.param("predict", _empty(labels=False), ke.InputError,
                 r"mode 'infer' returned an empty dataset", id="empty-dataset-predict"),
    pytest.param("train", lambda: ({"x": tf.constant(X)}, tf.constant(Y)), ke.InputError,
                 r"must return a tf.data.Dataset .*got tuple", id="input_fn-returns-tuple"),
    pytest.param("evaluate", lambda: None, ke.InputError,
                 r"must return a tf.data.Dataset .*got NoneType", id="input_fn-returns-None"),
    pytest.param("predict", lambda: {"x": X}, ke.InputError,
                 r"must return a tf.data.Dataset .*got dict", id="input_fn-returns-dict"),
    pytest.param("train", lambda: tf.data.Dataset.from_tensor_slices(({"x": X}, Y, Y)).batch(2), ke.InputError,
                 r"yields tuples of length 3", id="dataset-of-triples"),
    pytest.param("train", _batches({1: X}, Y), ke.InputError,
                 r"features dict keys must be strings, got \[1\]", id="features-non-string-key"),
    pytest.param("train", lambda bogus: None, ValueError,
                 r"input_fn .* not expected args: \['bogus'\]", id="input_fn-unexpected-arg"),
])
def test_bad_input_fn(trained, method, fn, error, message):
    with fails(error, message, trained):
        _call(estimator(trained), method, fn)


# -- 2. What model_fn does and returns -------------------------------------------------------
def _spec_model_fn(make_spec):
    def model_fn(features, labels, mode):
        logits = keras.layers.Dense(1)(features["x"])[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels)) if labels is not None else None
        return make_spec(mode, loss, logits)
    return model_fn


def _train_spec(mode, loss, logits):
    return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.01)))


@pytest.mark.parametrize("method, make_spec, error, message", [
    pytest.param("train", lambda mode, loss, logits: {"loss": loss}, ValueError,
                 r"model_fn should return an EstimatorSpec, got dict", id="model_fn-returns-dict"),
    pytest.param("predict", lambda mode, loss, logits: logits, ValueError,
                 r"model_fn should return an EstimatorSpec, got \w*Tensor", id="model_fn-returns-tensor"),
    pytest.param("train", lambda mode, loss, logits: ke.EstimatorSpec(mode, train_op=tf.no_op()), ValueError,
                 r"EstimatorSpec for mode 'train' is missing loss", id="spec-train-missing-loss"),
    pytest.param("train", lambda mode, loss, logits: ke.EstimatorSpec(mode, loss=loss), ValueError,
                 r"EstimatorSpec for mode 'train' is missing train_op", id="spec-train-missing-train_op"),
    pytest.param("evaluate", lambda mode, loss, logits: ke.EstimatorSpec(mode, predictions=logits), ValueError,
                 r"EstimatorSpec for mode 'eval' is missing loss", id="spec-eval-missing-loss"),
    pytest.param("predict", lambda mode, loss, logits: ke.EstimatorSpec(mode), ValueError,
                 r"EstimatorSpec for mode 'infer' is missing predictions", id="spec-predict-missing-predictions"),
    pytest.param("train", lambda mode, loss, logits: _train_spec(mode, tf.stack([loss, loss]), logits), ValueError,
                 r"Loss must be scalar, given: \(2,\) \(mode 'train'\)", id="loss-not-scalar"),
    pytest.param("evaluate", lambda mode, loss, logits: ke.EstimatorSpec(mode, loss=tf.square(logits)[:, None]),
                 ValueError, r"Loss must be scalar, given: \(None, 1\) \(mode 'eval'\)", id="loss-not-scalar-eval"),
    pytest.param("evaluate", lambda mode, loss, logits: ke.EstimatorSpec(mode, loss=tf.cast(loss, tf.int32)),
                 ValueError, r"Loss must be a floating-point tensor, given dtype int32", id="loss-not-float"),
    pytest.param("evaluate", lambda mode, loss, logits: ke.EstimatorSpec(
        mode, loss=loss, eval_metric_ops={"acc": (loss, tf.no_op(), loss)}), ValueError,
                 r"eval_metric_ops\['acc'\] must be a keras.metrics.Metric .*got tuple of 3", id="metric-not-a-Metric"),
    pytest.param("predict", lambda mode, loss, logits: ke.EstimatorSpec(mode, predictions={"p": [1.0]}), ValueError,
                 r"predictions\['p'\] for mode 'infer' must be a tensor, got list", id="predictions-not-tensors"),
    pytest.param("train", lambda mode, loss, logits: ke.EstimatorSpec(ke.ModeKeys.EVAL, loss=loss), ValueError,
                 r"called in mode 'train' but returned an EstimatorSpec for mode 'eval'", id="spec-for-another-mode"),
])
def test_bad_model_fn_result(trained, method, make_spec, error, message):
    est = ke.Estimator(_spec_model_fn(make_spec), str(trained), ke.RunConfig(log_step_count_steps=None))
    with fails(error, message, trained) as info:
        _call(est, method, input_fn(repeat=False, labels=method != "predict"))
    # The runtime's own error, not TensorFlow's "in user code:" wrapper: line 1 names the problem.
    assert isinstance(info.value, ke.EstimatorSpecError)
    assert re.search(message, str(info.value).splitlines()[0]), str(info.value)


def test_model_fn_reading_a_missing_feature_names_the_key(trained):
    def model_fn(features, labels, mode):
        return dense_model_fn({"x": features["lengths"]}, labels, mode, {})

    with fails(ke.MissingFeatureError, r"features\['lengths'\].*only \['x'\]", trained) as info:
        ke.Estimator(model_fn, str(trained)).train(input_fn(), steps=1)
    assert isinstance(info.value, KeyError)  # What tf.estimator raised: existing handlers still catch it.


@pytest.mark.parametrize("features, message", [
    pytest.param({"x": np.full((8, 4), "a")}, r"model_fn failed in mode 'train' with features \{'x': string\[None, 4\]\}",
                 id="feature-dtype-error-in-model_fn"),
    pytest.param({"x": X[:, 0]}, r"model_fn failed in mode 'train' with features \{'x': float32\[None\]\}",
                 id="feature-rank-error-in-model_fn"),
])
def test_errors_inside_model_fn_name_the_feature(new_dir, features, message):
    """Without a training signature yet, the error comes from model_fn's layers; it is re-raised
    with each feature's key, dtype and shape attached."""
    with fails(ValueError, message, new_dir):
        estimator(new_dir).train(_batches(features, Y), steps=1)


# -- 3. Arguments of train, evaluate, predict -------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    pytest.param(lambda est: est.train(input_fn(), steps=0), ValueError,
                 r"Must specify steps > 0, given: 0", id="train-steps-zero"),
    pytest.param(lambda est: est.train(input_fn(), steps=1.5), ValueError,
                 r"Must specify steps > 0 as an integer, given: 1.5 of type float", id="train-steps-float"),
    pytest.param(lambda est: est.train(input_fn(), steps="3"), ValueError,
                 r"Must specify steps > 0 as an integer, given: '3' of type str", id="train-steps-str"),
    pytest.param(lambda est: est.train(input_fn(), max_steps=-1), ValueError,
                 r"Must specify max_steps > 0, given: -1", id="train-max_steps-negative"),
    pytest.param(lambda est: est.train(input_fn(), steps=1, max_steps=10), ValueError,
                 r"Can not provide both steps and max_steps", id="train-steps-and-max_steps"),
    pytest.param(lambda est: est.evaluate(input_fn(repeat=False), steps=True), ValueError,
                 r"Must specify steps > 0 as an integer, given: True of type bool", id="evaluate-steps-bool"),
    pytest.param(lambda est: est.evaluate(input_fn(repeat=False), name="../up"), ValueError,
                 r"Evaluation name '../up' must be a simple directory name", id="evaluate-bad-name"),
    pytest.param(lambda est: est.train(input_fn(), steps=1, hooks=[object()]), ValueError,
                 r"hooks must be Hook instances, got object", id="train-hook-not-a-Hook"),
    pytest.param(lambda est: est.predict(input_fn(labels=False), predict_keys=["logits", "prob"]), ValueError,
                 r"unknown key\(s\) \['prob'\]", id="predict_keys-unknown"),
    pytest.param(lambda est: est.evaluate(input_fn(repeat=False), checkpoint_path=est.model_dir + "/model.ckpt-99"),
                 ke.CheckpointNotFoundError, r"model.ckpt-99: no file .*model.ckpt-99.index",
                 id="evaluate-checkpoint_path-missing"),
    pytest.param(lambda est: est.predict(input_fn(labels=False), checkpoint_path=est.model_dir + "/nothing_here"),
                 ke.CheckpointNotFoundError, r"nothing_here", id="predict-checkpoint_path-missing"),
])
def test_bad_call_arguments(trained, call, error, message):
    with fails(error, message, trained):
        call(estimator(trained))


# -- 4. Estimator and RunConfig construction -------------------------------------------------
def _no_params(features, labels, mode):
    return dense_model_fn(features, labels, mode, {})


@pytest.mark.parametrize("make, error, message", [
    pytest.param(lambda d: ke.Estimator(_no_params, d, params={"lr": 1}), ValueError,
                 r"does not take a params argument, but params was given: \['lr'\]", id="params-not-taken"),
    pytest.param(lambda d: ke.Estimator(dense_model_fn, d, params=[("lr", 1)]), ValueError,
                 r"params must be a dict, got list", id="params-not-a-dict"),
    pytest.param(lambda d: ke.Estimator(lambda features, foo: None, d), ValueError,
                 r"model_fn .* not expected args: \['foo'\]", id="model_fn-unexpected-arg"),
    pytest.param(lambda d: ke.Estimator(lambda labels, mode: None, d), ValueError,
                 r"must take argument\(s\) \['features'\]", id="model_fn-without-features"),
    pytest.param(lambda d: ke.Estimator(dense_model_fn, d, {"save_checkpoints_steps": 1}), ValueError,
                 r"config must be a keras_estimator.RunConfig, got dict", id="config-not-a-RunConfig"),
    pytest.param(lambda d: ke.Estimator(dense_model_fn, d, ke.RunConfig(model_dir=d + "_other")), ValueError,
                 r"model_dir are set both in constructor and RunConfig, but with different values",
                 id="model_dir-differs-from-RunConfig"),
    pytest.param(lambda d: ke.RunConfig(save_checkpoints_steps=0), ValueError,
                 r"save_checkpoints_steps must be an integer >= 1, given 0", id="RunConfig-save_checkpoints_steps"),
    pytest.param(lambda d: ke.RunConfig(save_checkpoints_steps=10, save_checkpoints_secs=60), ValueError,
                 r"both save_checkpoints_steps and save_checkpoints_secs", id="RunConfig-both-cadences"),
    pytest.param(lambda d: ke.RunConfig(save_checkpoints_secs=-5), ValueError,
                 r"save_checkpoints_secs must be a positive number, given -5", id="RunConfig-save_checkpoints_secs"),
    pytest.param(lambda d: ke.RunConfig(steps_per_loop=0), ValueError,
                 r"steps_per_loop must be an integer >= 1, given 0", id="RunConfig-steps_per_loop"),
    pytest.param(lambda d: ke.RunConfig(keep_checkpoint_max=-1), ValueError,
                 r"keep_checkpoint_max must be an integer >= 0, given -1", id="RunConfig-keep_checkpoint_max"),
    pytest.param(lambda d: ke.RunConfig(log_step_count_steps="100"), ValueError,
                 r"log_step_count_steps must be an integer >= 0, given '100'", id="RunConfig-log_step_count_steps"),
    pytest.param(lambda d: ke.RunConfig(jit_compile="yes"), ValueError,
                 r"jit_compile must be True or False, given 'yes'", id="RunConfig-jit_compile"),
    pytest.param(lambda d: ke.RunConfig(train_distribute="mirrored"), ValueError,
                 r"train_distribute must be a tf.distribute.Strategy or None, given str", id="RunConfig-train_distribute"),
    pytest.param(lambda d: ke.RunConfig().replace(save_checkpoint_steps=5), ValueError,
                 r"RunConfig has no field\(s\) \['save_checkpoint_steps'\]", id="RunConfig-replace-unknown-field"),
])
def test_bad_construction(trained, make, error, message):
    with fails(error, message, trained):
        make(str(trained))


def test_model_dir_that_is_a_file(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    with fails(ValueError, r"model_dir '.*file' exists and is not a directory", a_file):
        estimator(a_file)


def test_model_dir_that_cannot_be_created(tmp_path):
    """Unwritable also as root: the parent is a regular file. Refused when the Estimator (or
    RunConfig) is made, not after training when the first checkpoint is saved."""
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    model_dir = a_file / "model"
    with fails(ValueError, r"model_dir '.*file/model' cannot be created: .*file' is a file", a_file):
        estimator(model_dir)
    with fails(ValueError, r"model_dir '.*file/model' cannot be created", a_file):
        ke.RunConfig(model_dir=str(model_dir))


# -- 5. export_saved_model -------------------------------------------------------------------
def _receiver(**specs):
    return build_raw_serving_input_receiver_fn(specs)


@pytest.mark.parametrize("receiver_fn, kwargs, error, message", [
    pytest.param(_receiver(y=X_SPEC), {}, ke.InputError,
                 r"serving_input_receiver_fn's features are missing key\(s\) \['x'\]: the model was trained with \['x'\]",
                 id="receiver-missing-feature"),
    pytest.param(_receiver(x=X_SPEC, z=tf.TensorSpec([None], tf.float32)), {}, ke.InputError,
                 r"serving_input_receiver_fn's features have unexpected key\(s\) \['z'\]", id="receiver-unexpected-feature"),
    pytest.param(_receiver(x=tf.TensorSpec([None, 4], tf.string)), {}, ke.InputError,
                 r"serving_input_receiver_fn's features\['x'\] has dtype string, but the model was trained with float32",
                 id="receiver-wrong-dtype"),
    pytest.param(_receiver(x=tf.TensorSpec([None, 4, 1], tf.float32)), {}, ke.InputError,
                 r"serving_input_receiver_fn's features\['x'\] has rank 3, but the model was trained with rank 2",
                 id="receiver-wrong-rank"),
    pytest.param("not callable", {}, ValueError,
                 r"serving_input_receiver_fn must be a function returning a ServingInputReceiver, got str",
                 id="receiver-not-callable"),
    pytest.param(lambda: {"x": tf.compat.v1.placeholder(tf.float32, [None, 4])}, {}, ValueError,
                 r"serving_input_receiver_fn must return a ServingInputReceiver, got dict", id="receiver-returns-dict"),
    pytest.param(_receiver(x=X_SPEC), {"checkpoint_path": "/nonexistent/model.ckpt-3"}, ke.CheckpointNotFoundError,
                 r"/nonexistent/model.ckpt-3", id="export-checkpoint_path-missing"),
    pytest.param(_receiver(x=X_SPEC), {"assets_extra": {"vocab.txt": "/nonexistent/vocab.txt"}}, ValueError,
                 r"assets_extra source '/nonexistent/vocab.txt' \(for 'vocab.txt'\) is not a file",
                 id="export-assets_extra-missing"),
])
def test_bad_export(trained, receiver_fn, kwargs, error, message):
    """Nothing is written: neither into model_dir nor an export base (here inside model_dir)."""
    with fails(error, message, trained):
        estimator(trained).export_saved_model(trained / "export", receiver_fn, **kwargs)


def test_export_without_a_checkpoint(new_dir, tmp_path):
    with fails(ValueError, r"Couldn't find trained model at .*new_model_dir", new_dir, tmp_path / "export"):
        estimator(new_dir).export_saved_model(tmp_path / "export", _receiver(x=X_SPEC))


# -- 6. Requests to exported SavedModels ------------------------------------------------------
NUMBERS = {"max_num": 1000, "eval_size": 32, "pool_size": 200, "batch_size": 16,
           "units": 4, "embedding_dim": 4, "model": "gru", "targets": "parity"}


@pytest.fixture(scope="module")
def numbers_export(tmp_path_factory):
    """The numbers raw-words export (a `words` string input, tokenized inside the graph)."""
    model_dir = tmp_path_factory.mktemp("numbers")
    est = ke.model_to_estimator(numbers.build_model(NUMBERS), model_dir=model_dir,
                                config=ke.RunConfig(log_step_count_steps=None, save_summary_steps=None))
    est.train(lambda: numbers.input_fn(NUMBERS), steps=1)
    path = est.export_saved_model(model_dir / "export", numbers.serving_input_receiver_fn(NUMBERS)).decode()
    return path, tf.saved_model.load(path).signatures["serving_default"], est


def test_numbers_receiver_missing_a_feature(numbers_export):
    """A raw-words receiver that forgets `lengths`: refused before the export is written."""
    _, _, est = numbers_export
    words_receiver = numbers.serving_input_receiver_fn(NUMBERS)

    def receiver_fn():
        words = tf.compat.v1.placeholder(tf.string, [None], name="words")
        return ServingInputReceiver({"sequences": words_receiver.features(words)["sequences"]}, {"words": words})

    with fails(ke.InputError, r"serving_input_receiver_fn's features are missing key\(s\) \['lengths'\]: the model "
               r"was trained with \['lengths', 'sequences'\], serving_input_receiver_fn gave \['sequences'\]",
               est.model_dir):
        est.export_saved_model(est.model_dir + "/export", receiver_fn)


@pytest.fixture(scope="module")
def dense_export(trained, tmp_path_factory):
    base = tmp_path_factory.mktemp("dense_export")
    path = estimator(trained).export_saved_model(base, _receiver(x=X_SPEC)).decode()
    return path, tf.saved_model.load(path).signatures["serving_default"]


@pytest.mark.parametrize("which, request_, error, message", [
    pytest.param("numbers", {"words": tf.constant([42])}, tf.errors.InvalidArgumentError,
                 r"expected to be a string tensor but is a int32 tensor", id="serving-words-wrong-dtype"),
    pytest.param("numbers", {"words": tf.constant([["forty-two", "one"], ["two", "three"]])},
                 tf.errors.InvalidArgumentError, r"Serving input words must hold one value per example \(shape \[batch\]\); got shape\] \[2 2\]",
                 id="serving-words-wrong-rank"),
    pytest.param("numbers", {"text": tf.constant(["forty-two"])}, TypeError,
                 r"missing a required argument: 'words'", id="serving-words-missing"),
    pytest.param("dense", {"x": tf.zeros([2, 4], tf.int32)}, tf.errors.InvalidArgumentError,
                 r"expected to be a float tensor but is a int32 tensor", id="serving-dense-wrong-dtype"),
    pytest.param("dense", {"x": tf.zeros([2, 4, 1])}, tf.errors.InvalidArgumentError,
                 r"Shape of tensor x \[2,4,1\] is not compatible with expected shape \[\?,4\]",
                 id="serving-dense-wrong-rank"),
    pytest.param("dense", {"x": tf.zeros([2, 5])}, tf.errors.InvalidArgumentError,
                 r"Shape of tensor x \[2,5\] is not compatible with expected shape \[\?,4\]",
                 id="serving-dense-wrong-shape"),
])
def test_bad_serving_requests(numbers_export, dense_export, which, request_, error, message):
    path, serve = (numbers_export if which == "numbers" else dense_export)[:2]
    with fails(error, message, path):
        serve(**request_)
    # The signature keeps serving after a bad request.
    good = {"words": tf.constant(["seven"])} if which == "numbers" else {"x": tf.zeros([1, 4])}
    assert all(np.all(np.isfinite(v.numpy())) for v in serve(**good).values())


def test_the_predictor_names_the_input_and_its_receiver_dtype(numbers_export, dense_export):
    """The raw signature says 'input #0(zero-based) was expected to be a string tensor'."""
    for (path, *_), request_, message in [
        (numbers_export, {"words": [42]}, r"Serving input 'words' of signature 'serving_default' takes string "
                                          r"\(its serving_input_receiver_fn's dtype\), got int64"),
        (dense_export, {"x": tf.zeros([2, 4], tf.int32) > 0}, r"Serving input 'x' .* takes float32 .*got bool"),
    ]:
        with fails(ke.InputError, message, path):
            ke.predictor.from_saved_model(path)(request_)
    path = numbers_export[0]
    assert ke.predictor.from_saved_model(path)({"words": ["seven"]})["parity"].shape == (1, 1)


def test_serving_empty_and_unknown_texts_give_the_oov_result(numbers_export):
    """Not errors: an empty text is a sequence of length 0, unknown characters (and invalid
    UTF-8) the out-of-vocabulary id, an empty batch an empty result."""
    path, serve, _ = numbers_export
    with nothing_written(path):
        batch = serve(words=tf.constant(["", "@#", b"\xff\xfe", "forty-two"]))["parity"].numpy()
        assert batch.shape == (4, 1) and np.all(np.isfinite(batch))
        alone = serve(words=tf.constant([""]))["parity"].numpy()
        np.testing.assert_allclose(batch[0], alone[0], atol=1e-6)
        # "@#" and the invalid bytes are both two OOV ids: the same prediction.
        np.testing.assert_allclose(batch[1], batch[2], atol=1e-6)
        assert serve(words=tf.constant([], tf.string))["parity"].shape == (0, 1)


# -- 7. Sweep specs --------------------------------------------------------------------------
@pytest.mark.parametrize("toml, field, message", [
    pytest.param('[sweep]\noracle = "grid"\n', "[sweep].oracle", r"\[sweep\].oracle must be one of random, bayesian, "
                 r"hyperband; got 'grid'", id="sweep-unknown-oracle"),
    pytest.param("[sweep]\nmax_trials = 0\n", "[sweep].max_trials", r"\[sweep\].max_trials must be an integer >= 1; got 0",
                 id="sweep-max_trials-zero"),
    pytest.param('[sweep]\nobjective = "f1"\n', "[sweep].objective", r"\[sweep\].objective must be a metric .*got 'f1'",
                 id="sweep-unknown-objective"),
    pytest.param("[data]\nbatch_size = 32\n", "[data].batch_size", r"\[data\].batch_size is a hyperparameter",
                 id="sweep-batch_size-in-data"),
    pytest.param("[search_space]\nunits = {min = 64, max = 16}\n", "[search_space].units", r"\[search_space\].units",
                 id="sweep-bad-search-range"),
    pytest.param("[sweeps]\nmax_trials = 2\n", "[sweeps]", r"\[sweeps\] is not a known section", id="sweep-unknown-section"),
    pytest.param("[sweep\nmax_trials = 2\n", None, r"sweep.toml: invalid TOML", id="sweep-invalid-toml"),
])
def test_invalid_sweep_specs(tmp_path, toml, field, message):
    from keras_estimator.tuning import SpecError, run_sweep

    spec = tmp_path / "sweep.toml"
    spec.write_text(toml)
    directory = tmp_path / "results"
    with fails(SpecError, message, directory, spec) as info:
        run_sweep(spec, directory=directory, print_fn=None)
    assert info.value.field == field


def test_resuming_a_sweep_with_another_spec(tmp_path):
    from keras_estimator.tuning import SpecError, SweepSpec, run_sweep

    directory = tmp_path / "results"
    directory.mkdir()
    (directory / "spec.json").write_text(json.dumps(SweepSpec(name="s", oracle="random").to_dict()))
    with fails(SpecError, r"holds a sweep run with a different spec \(\[sweep\].oracle changed\)", directory):
        run_sweep(SweepSpec(name="s", oracle="bayesian"), directory=directory, print_fn=None)


# -- 8. TF_CONFIG ----------------------------------------------------------------------------
_CLUSTER = {"chief": ["h0:1"], "worker": ["h1:1"]}


@pytest.mark.parametrize("tf_config, message", [
    pytest.param("{cluster: chief}", r"TF_CONFIG is not valid JSON", id="TF_CONFIG-not-json"),
    pytest.param('["chief"]', r"TF_CONFIG must be a JSON object", id="TF_CONFIG-not-an-object"),
    pytest.param({"cluster": _CLUSTER, "task": {"type": "master", "index": 0}},
                 r"task type 'master' is not in the cluster", id="TF_CONFIG-unknown-task-type"),
    pytest.param({"cluster": _CLUSTER, "task": {"type": "worker", "index": 3}},
                 r"task index 3 is out of range: the cluster lists 1 worker", id="TF_CONFIG-index-out-of-range"),
    pytest.param({"cluster": _CLUSTER, "task": {"type": "worker", "index": "0"}},
                 r"task index must be an integer >= 0, got '0'", id="TF_CONFIG-index-not-int"),
    pytest.param({"cluster": {"worker": ["h1:1", "h2:1"]}, "task": {"type": "worker", "index": 0}},
                 r"must list exactly one chief", id="TF_CONFIG-no-chief"),
    pytest.param({"cluster": {"chief": "h0:1"}, "task": {"type": "chief"}},
                 r"cluster\['chief'\] must be a list of 'host:port' strings", id="TF_CONFIG-addresses-not-a-list"),
    pytest.param({"cluster": _CLUSTER, "task": {"index": 0}}, r"'task' has no 'type'", id="TF_CONFIG-task-without-type"),
])
def test_malformed_tf_config(trained, monkeypatch, tf_config, message):
    monkeypatch.setenv("TF_CONFIG", tf_config if isinstance(tf_config, str) else json.dumps(tf_config))
    with fails(ValueError, message, trained):
        ke.Estimator(dense_model_fn, str(trained), params={})


# -- Other failures that must leave model_dir in its last good state ---------------------------
def test_a_different_model_in_the_same_model_dir_is_refused(trained):
    def bigger(features, labels, mode):
        h = keras.layers.Dense(8, activation="relu")(features["x"])
        h = keras.layers.Dense(8, activation="relu")(h)
        logits = keras.layers.Dense(1)(h)[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels))
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.01)))

    with fails(ValueError, r"has no value for variable\(s\) \[.*dense_2", trained):
        ke.Estimator(bigger, str(trained)).train(input_fn(), steps=1)


def test_a_model_dir_of_foreign_checkpoints_is_a_clear_error(tmp_path):
    foreign = tf.train.Checkpoint(step=tf.Variable(3))
    tf.train.CheckpointManager(foreign, str(tmp_path), max_to_keep=1).save()
    with fails(ValueError, "not written by keras-estimator", tmp_path):
        estimator(tmp_path).train(input_fn(), steps=1)


def test_nan_loss_stops_before_the_checkpoint_of_that_step(tmp_path):
    def model_fn(features, labels, mode):
        logits = keras.layers.Dense(1)(features["x"])[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels))
        step = ke.get_global_step()
        # The step with global step 7 goes bad (tf.cond: tf.where would leak NaN gradients).
        loss = tf.cond(step >= 7, lambda: loss * np.nan, lambda: loss)
        if mode == ke.ModeKeys.EVAL:
            return ke.EstimatorSpec(mode, loss=loss)
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.01)))

    config = ke.RunConfig(save_checkpoints_steps=5, steps_per_loop=10, log_step_count_steps=None)
    est = ke.Estimator(model_fn, str(tmp_path), config)
    with pytest.raises(ke.NanLossDuringTrainingError, match="global step 7") as info:
        est.train(input_fn(), steps=20)
    assert info.value.step == 7
    assert est.latest_checkpoint().endswith("model.ckpt-5")
    assert np.all(np.isfinite(est.get_variable_value("dense/kernel")))
    assert not (tmp_path / "model.ckpt-7.index").exists()
    # The in-memory NaN weights are not used again: the next call restores step 5.
    assert np.isfinite(est.evaluate(input_fn(repeat=False))["loss"])
    assert est.evaluate(input_fn(repeat=False))["global_step"] == 5


def test_inf_loss_is_caught_too(tmp_path):
    def model_fn(features, labels, mode):
        logits = keras.layers.Dense(1)(features["x"])[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels)) + np.inf
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.01)))

    with pytest.raises(ke.NanLossDuringTrainingError, match="Loss is inf at global step 0"):
        ke.Estimator(model_fn, str(tmp_path)).train(input_fn(), steps=3)
    assert dir_state(tmp_path) == {}


def test_minimize_outside_model_fn_is_an_error():
    with pytest.raises(RuntimeError, match="inside model_fn in ModeKeys.TRAIN"):
        ke.minimize(tf.constant(1.0), keras.optimizers.SGD())


def test_a_warm_start_that_matches_nothing_warns(tmp_path, caplog):
    foreign = tf.train.Checkpoint(step=tf.Variable(3))
    path = tf.train.CheckpointManager(foreign, str(tmp_path / "other"), max_to_keep=1).save()
    est = ke.Estimator(dense_model_fn, str(tmp_path / "m"), params={}, warm_start_from=path)
    with caplog.at_level("WARNING", logger="keras_estimator"):
        est.train(input_fn(), steps=1)
    assert "loaded no variable" in caplog.text
