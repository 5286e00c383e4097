"""`tf.compat.v1.layers` for model_fn: the TF1 layers Keras 3 removed, on TF1 variables.

`import keras_estimator.tensorflow as tf` makes `tf.compat.v1.layers` this module (and
`import keras_estimator.tensorflow.compat.v1 as tf` makes it `tf.layers`), so a TF1 model_fn
runs unchanged. Each layer creates its variables with `tf.compat.v1.get_variable` in a
variable scope named after it (`dense/kernel`, `conv2d_1/bias`, `batch_normalization/moving_mean`,
inside any enclosing `tf.compat.v1.variable_scope`); the Estimator keeps them by those names
across modes, traces and processes and checkpoints them under them. `training=` works as in
TF1: dropout only when true, batch_normalization's moving averages updated only when true (the
updates are in `tf.compat.v1.GraphKeys.UPDATE_OPS`).
"""

from keras_estimator.layers_v1.base import Layer
from keras_estimator.layers_v1.convolutional import Conv1D, Conv2D, Conv3D, conv1d, conv2d, conv3d
from keras_estimator.layers_v1.core import Dense, Dropout, Flatten, dense, dropout, flatten
from keras_estimator.layers_v1.normalization import BatchNormalization, batch_normalization
from keras_estimator.layers_v1.pooling import (
    AveragePooling1D, AveragePooling2D, AveragePooling3D, MaxPooling1D, MaxPooling2D, MaxPooling3D,
    average_pooling1d, average_pooling2d, average_pooling3d, max_pooling1d, max_pooling2d, max_pooling3d,
)

__all__ = [
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "BatchNormalization", "Conv1D",
    "Conv2D", "Conv3D", "Dense", "Dropout", "Flatten", "Layer", "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "average_pooling1d", "average_pooling2d", "average_pooling3d",
    "batch_normalization", "conv1d", "conv2d", "conv3d", "dense", "dropout", "flatten",
    "max_pooling1d", "max_pooling2d", "max_pooling3d",
]
