"""keras_estimator.prediction and evaluation helpers: unbatching predictions, naming metric results."""

import numpy as np
import pytest
import tensorflow as tf

from keras_estimator.evaluation import metric_results
from keras_estimator.prediction import unbatch


def test_unbatch_yields_one_dict_per_example():
    rows = list(unbatch({"a": np.arange(3), "b": np.ones((3, 2))}))
    assert len(rows) == 3 and rows[1]["a"] == 1 and rows[2]["b"].shape == (2,)


def test_unbatch_yields_rows_of_a_single_array():
    assert [r.tolist() for r in unbatch(np.eye(2))] == [[1.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize("predictions, message", [
    ({"a": np.arange(3), "b": np.arange(2)}, "Batch length of predictions should be same"),
    ({"a": np.float32(1.0)}, "every prediction needs a batch dimension"),
    (np.float32(1.0), "predictions has no batch dimension"),
])
def test_unbatch_refuses_what_has_no_common_batch_dimension(predictions, message):
    with pytest.raises(ValueError, match=message):
        list(unbatch(predictions))


def test_metric_results_are_numpy_scalars_and_dict_results_are_spread():
    results = metric_results({"acc": tf.constant(0.5), "compiled": {"auc": tf.constant(0.75)}})
    assert results == {"acc": 0.5, "auc": 0.75}
    assert isinstance(results["acc"], np.float32)


@pytest.mark.parametrize("results", [{"loss": tf.constant(1.0)}, {"a": tf.constant(1.0), "b": {"a": tf.constant(2.0)}}])
def test_metric_results_refuse_reserved_and_repeated_names(results):
    with pytest.raises(ValueError, match="Two evaluation results are named"):
        metric_results(results)
