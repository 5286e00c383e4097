"""tf.estimator.inputs: input_fns over in-memory data (numpy arrays, pandas DataFrames).

`numpy_input_fn` and `pandas_input_fn` have tf.estimator's signatures and return an input_fn
whose `tf.data.Dataset` yields `(features, labels)` batches (or features alone without `y`),
with the dtypes of the data (float64 stays float64, as in tf.estimator's queues).
"""

from keras_estimator.inputs.numpy_io import numpy_input_fn
from keras_estimator.inputs.pandas_io import pandas_input_fn

__all__ = ["numpy_input_fn", "pandas_input_fn"]
