"""TF_CONFIG parsing (keras_estimator.cluster) and the RunConfig properties that expose it."""

import json

import pytest

from keras_estimator import RunConfig
from keras_estimator.cluster import task_info

CLUSTER = {"chief": ["host0:2222"], "ps": ["host1:2222", "host2:2222"],
           "worker": ["host3:2222", "host4:2222", "host5:2222"]}


def tf_config(task_type, index=0, cluster=CLUSTER):
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


def test_no_tf_config_is_one_local_chief(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    config = RunConfig()
    assert (config.task_type, config.task_id, config.is_chief) == ("worker", 0, True)
    assert config.num_worker_replicas == 1 and config.global_id_in_cluster == 0 and config.cluster_spec == {}
    assert config.chief_address is None


@pytest.mark.parametrize("task_type, index, chief, global_id", [
    ("chief", 0, True, 0), ("worker", 0, False, 1), ("worker", 1, False, 2), ("worker", 2, False, 3),
    ("ps", 0, False, 4), ("ps", 1, False, 5),
])
def test_roles_as_tf_estimator_assigned_them(monkeypatch, task_type, index, chief, global_id):
    monkeypatch.setenv("TF_CONFIG", tf_config(task_type, index))
    config = RunConfig()
    assert (config.task_type, config.task_id, config.is_chief) == (task_type, index, chief)
    assert config.num_worker_replicas == 4 and config.num_ps_replicas == 2
    assert config.global_id_in_cluster == global_id
    assert config.cluster_spec["worker"] == tuple(CLUSTER["worker"])
    assert config.chief_address == "host0:2222"
    with pytest.raises(AttributeError):
        config.chief_address = "elsewhere:1"


def test_the_evaluator_is_outside_the_training_cluster(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", tf_config("evaluator"))
    config = RunConfig()
    assert (config.task_type, config.is_chief, config.num_worker_replicas, config.cluster_spec) == (
        "evaluator", False, 0, {})
    assert config.chief_address == "host0:2222"  # Watched to know when training ended.


def test_the_cluster_may_list_the_evaluator_as_tensorflow_needs_it():
    """MultiWorkerMirroredStrategy created on the evaluator requires cluster["evaluator"]."""
    listed = {**CLUSTER, "evaluator": ["host9:2222"]}
    assert task_info(tf_config("evaluator", 0, listed)) == task_info(tf_config("evaluator"))
    worker = task_info(tf_config("worker", 1, listed))
    assert worker == task_info(tf_config("worker", 1)) and "evaluator" not in worker.cluster_spec


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    (tf_config("master"), "task type 'master' is not in the cluster"),
    (tf_config("worker", 3), "index 3 is out of range: the cluster lists 3 worker"),
    (tf_config("worker", -1), "index must be an integer >= 0"),
    (tf_config("worker", "1"), "index must be an integer >= 0"),
    (tf_config("worker", 0, {"worker": ["a:1", "b:1"]}), "exactly one chief"),
    (tf_config("chief", 0, {"chief": ["a:1", "b:1"]}), "exactly one chief"),
    (tf_config("worker", 0, {"chief": ["a:1"], "worker": "b:1"}), "must be a list of 'host:port'"),
    (tf_config("worker", 0, {"chief": ["a:1"], "trainer": ["b:1"]}), "unknown task type 'trainer'"),
    (tf_config("evaluator", 0, {"chief": ["a:1"], "evaluator": ["b:1", "c:1"]}), "may list one evaluator"),
    (tf_config("evaluator", 1, {"chief": ["a:1"], "evaluator": ["b:1"]}), "one evaluator task, index 0"),
    (json.dumps({"cluster": CLUSTER, "task": {"index": 0}}), "has no 'type'"),
    (json.dumps({"task": {"type": "chief"}}), "no cluster"),
])
def test_malformed_tf_config_is_a_clear_error(monkeypatch, text, message):
    with pytest.raises(ValueError, match=message):
        task_info(text)
    monkeypatch.setenv("TF_CONFIG", text)
    with pytest.raises(ValueError, match=message):
        RunConfig()


def test_strategies_are_checked():
    with pytest.raises(ValueError, match="train_distribute must be a tf.distribute.Strategy"):
        RunConfig(train_distribute="mirrored")
    with pytest.raises(ValueError, match="eval_distribute must be a tf.distribute.Strategy"):
        RunConfig(eval_distribute=object())


def test_local_cluster_gives_distinct_loopback_ports_that_task_info_accepts():
    from keras_estimator.cluster import local_cluster

    cluster = local_cluster(workers=2, evaluator=True)
    addresses = [a for tasks in cluster.values() for a in tasks]
    assert sorted(cluster) == ["chief", "evaluator", "worker"] and len(set(addresses)) == 4
    assert all(a.startswith("localhost:") for a in addresses)
    assert task_info(tf_config("worker", 1, cluster)).num_worker_replicas == 3
    assert list(local_cluster(0)) == ["chief"]
    with pytest.raises(ValueError, match="workers must be an integer >= 0"):
        local_cluster(-1)
