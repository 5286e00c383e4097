"""TensorFlow's migration guide "Migrating model checkpoints", its Estimator part (a TF1
checkpoint, then a TF2 object-based one warm-started from it).

Source: tensorflow/docs, site/en/guide/migrate/migrating_checkpoints.ipynb at commit
96a0845f205ebacf6debd776d45e8cef7d97ea27
(https://github.com/tensorflow/docs/blob/96a0845f205ebacf6debd776d45e8cef7d97ea27/site/en/guide/migrate/migrating_checkpoints.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: only the imports (`import tensorflow as tf` / `import tensorflow.compat.v1 as tf1`
became `import keras_estimator.tensorflow as tf` / `... .compat.v1 as tf1`). The two
Estimator cells and `print_checkpoint` are verbatim (module level, calling lines in
`run_program`); their `!rm -rf est-tf1` / `!rm -rf est-tf2` run in an empty tmp_path and are
left out; the Session/Saver cells not using the Estimator are left out. Relative model_dirs
('est-tf1', 'est-tf2') are under tmp_path. The program's own final assert is kept.

Idioms: tf1.get_variable with tf1.constant_initializer inside model_fn;
tf1.train.get_or_create_global_step; train_op = tf.group(v.assign_add(2),
train_step.assign_add(1)); a constant loss; a scalar predictions tensor;
EstimatorSpec(scaffold=None) and scaffold=tf1.train.Scaffold(saver=tf.train.Checkpoint(...));
Estimator(warm_start_from=<model_dir>); get_variable_value of an object-based checkpoint key;
input_fn yielding unbatched (features, labels) scalars.
"""

import pytest

import keras_estimator.tensorflow as tf  # was: import tensorflow as tf
import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1


def print_checkpoint(save_path):
  reader = tf.train.load_checkpoint(save_path)
  shapes = reader.get_variable_to_shape_map()
  dtypes = reader.get_variable_to_dtype_map()
  print(f"Checkpoint at '{save_path}':")
  for key in shapes:
    print(f"  (key='{key}', shape={shapes[key]}, dtype={dtypes[key].name}, "
          f"value={reader.get_tensor(key)})")


# A model_fn that saves a TF1 checkpoint
def model_fn_tf1_ckpt(features, labels, mode):
  # This model adds 2 to the variable `v` in every train step.
  train_step = tf1.train.get_or_create_global_step()
  v = tf1.get_variable('var', shape=[], dtype=tf.float32, 
                       initializer=tf1.constant_initializer(0))
  return tf.estimator.EstimatorSpec(
      mode,
      predictions=v,
      train_op=tf.group(v.assign_add(2), train_step.assign_add(1)),
      loss=tf.constant(1.),
      scaffold=None
  )

# A model_fn that saves a TF2 checkpoint
def model_fn_tf2_ckpt(features, labels, mode):
  # This model adds 2 to the variable `v` in every train step.
  train_step = tf1.train.get_or_create_global_step()
  v = tf1.get_variable('var', shape=[], dtype=tf.float32, 
                       initializer=tf1.constant_initializer(0))
  ckpt = tf.train.Checkpoint(var_list={'var': v}, step=train_step)
  return tf.estimator.EstimatorSpec(
      mode,
      predictions=v,
      train_op=tf.group(v.assign_add(2), train_step.assign_add(1)),
      loss=tf.constant(1.),
      scaffold=tf1.train.Scaffold(saver=ckpt)
  )


def run_program():
  est = tf.estimator.Estimator(model_fn_tf1_ckpt, 'est-tf1')

  def train_fn():
    return tf.data.Dataset.from_tensor_slices(([1,2,3], [4,5,6]))
  est.train(train_fn, steps=1)

  latest_checkpoint = tf.train.latest_checkpoint('est-tf1')
  print_checkpoint(latest_checkpoint)  

  est = tf.estimator.Estimator(model_fn_tf2_ckpt, 'est-tf2',
                               warm_start_from='est-tf1')

  def train_fn():
    return tf.data.Dataset.from_tensor_slices(([1,2,3], [4,5,6]))
  est.train(train_fn, steps=1)

  latest_checkpoint = tf.train.latest_checkpoint('est-tf2')
  print_checkpoint(latest_checkpoint)  

  assert est.get_variable_value('var_list/var/.ATTRIBUTES/VARIABLE_VALUE') == 4
  return est, train_fn


@pytest.mark.xfail(strict=True, reason=(
    "EstimatorSpec(scaffold=Scaffold(saver=tf.train.Checkpoint(var_list=..., step=...))): the "
    "checkpoint keeps keras_estimator's keys ('var', 'global_step'), not the Checkpoint's "
    "object-based ones ('var_list/var/.ATTRIBUTES/VARIABLE_VALUE') that the program reads back "
    "(NOT in issue 18's list: scaffold savers are accepted and unused)"))
def test_migrating_checkpoints(program_dir, capsys):
    est, train_fn = run_program()  # asserts the warm-started var: 2 (est-tf1) + 2 = 4
    printed = capsys.readouterr().out
    assert "Checkpoint at 'est-tf1/model.ckpt-1'" in printed
    assert "var_list/var/.ATTRIBUTES/VARIABLE_VALUE" in printed  # est-tf2's object-based keys
    # The program does not evaluate; evaluate is checked on its own train_fn.
    eval_result = est.evaluate(train_fn)
    assert set(eval_result) == {"loss", "global_step"}
    assert eval_result["loss"] == 1.0 and eval_result["global_step"] == 1
    # predictions is an unbatched scalar variable: the program never predicts.
