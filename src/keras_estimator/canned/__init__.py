"""Premade estimators and heads: tf.estimator's canned models, written on the public API."""
