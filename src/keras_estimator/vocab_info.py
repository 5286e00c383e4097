"""`VocabInfo`: tf.estimator.VocabInfo, the vocabulary of a warm-started embedding.

tf.estimator's `VocabInfo` was `tf.compat.v1.train.VocabInfo`, which TensorFlow 2.21 still
has: it is re-exported here unchanged, so `isinstance` checks and pickles made with either name
agree. It is a namedtuple `(new_vocab, new_vocab_size, num_oov_buckets, old_vocab,
old_vocab_size=-1, backup_initializer=None, axis=0)`.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["VocabInfo"]

VocabInfo = tf.compat.v1.train.VocabInfo
