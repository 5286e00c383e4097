"""TensorFlow's migration guide "Migrate the SavedModel workflow", its Estimator export part.

Source: tensorflow/docs, site/en/guide/migrate/saved_model.ipynb at commit
9eab37cc1b71f813e3348426c89921c6b895a579
(https://github.com/tensorflow/docs/blob/9eab37cc1b71f813e3348426c89921c6b895a579/site/en/guide/migrate/saved_model.ipynb),
Copyright The TensorFlow Authors, Apache License 2.0.

Changed: only the imports (`import tensorflow as tf` / `import tensorflow.compat.v1 as tf1`
became `import keras_estimator.tensorflow as tf` / `... .compat.v1 as tf1`). The Estimator
cells are verbatim (module level, calling lines in `run_program`, which returns the estimator
and the moved export); the notebook's `!rm -rf estimator-model` runs in an empty tmp_path and
is left out, and its `!saved_model_cli run ... --input_exprs input=[10]` is the test's
`tf.saved_model.load(...).signatures["serving_default"](input=[10.])`. The SavedModelBuilder,
simple_save and tf.Module cells do not use the Estimator and are left out. Relative paths
('estimator-checkpoints', 'exported-estimator', 'estimator-model') are under tmp_path.

Idioms: a model_fn without variables whose train_op is
`tf1.train.get_global_step().assign_add(1)`; a constant loss; a single predictions tensor;
export_outputs={DEFAULT_SERVING_SIGNATURE_DEF_KEY: tf.estimator.export.PredictOutput(...)};
build_raw_serving_input_receiver_fn of a constant (a dummy batch); export_saved_model;
shutil.move of the returned bytes path.
"""

import shutil

import pytest

import keras_estimator.tensorflow as tf  # was: import tensorflow as tf
import keras_estimator.tensorflow.compat.v1 as tf1  # was: import tensorflow.compat.v1 as tf1


def remove_dir(path):
  try:
    shutil.rmtree(path)
  except:  # noqa: E722
    pass

def add_two(input):
  return input + 2


def model_fn(features, labels, mode):
  output = add_two(features['input'])
  step = tf1.train.get_global_step()
  return tf.estimator.EstimatorSpec(
      mode,
      predictions=output,
      train_op=step.assign_add(1),
      loss=tf.constant(0.),
      export_outputs={
          tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY: \
          tf.estimator.export.PredictOutput({'output': output})})


def run_program():
  est = tf.estimator.Estimator(model_fn, 'estimator-checkpoints')

  def train_fn():
    return tf.data.Dataset.from_tensors({'input': 3.})
  est.train(train_fn, steps=1)

  serving_input_fn = tf.estimator.export.build_raw_serving_input_receiver_fn(
      {'input': tf.constant(3.)})  # Pass in a dummy input batch.
  estimator_path = est.export_saved_model('exported-estimator', serving_input_fn)

  import shutil
  shutil.move(estimator_path, 'estimator-model')
  return est, train_fn


def test_saved_model_export(program_dir):
    est, train_fn = run_program()
    assert est.latest_checkpoint().endswith("-1")
    # Was: !saved_model_cli run --dir estimator-model --tag_set serve
    #          --signature_def serving_default --input_exprs input=[10]
    imported = tf.saved_model.load("estimator-model")
    served = imported.signatures["serving_default"](input=tf.constant([10.]))
    assert set(served) == {"output"}
    assert served["output"].numpy().tolist() == [12.0]
    # The program does not evaluate or predict; both are checked on its own train_fn.
    eval_result = est.evaluate(train_fn, steps=1)
    assert set(eval_result) == {"loss", "global_step"}
    assert eval_result["loss"] == 0.0 and eval_result["global_step"] == 1
    # train_fn yields one unbatched scalar: no examples to split (tf.estimator failed there with
    # an IndexError; here a ValueError says to ask for batches), so it is predicted as a batch.
    with pytest.raises(ValueError, match="no batch dimension; use yield_single_examples=False"):
        next(est.predict(train_fn))
    assert [float(p) for p in est.predict(train_fn, yield_single_examples=False)] == [5.0]  # no keys
