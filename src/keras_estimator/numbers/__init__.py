"""The reference application: numbers written as words (num2words), read character by character.

It sits beside the runtime: `keras_estimator` never imports it. Needs the `numbers` extra.
"""

try:
    import num2words  # noqa: F401
except ImportError as e:
    raise ImportError("keras_estimator.numbers needs num2words: pip install 'keras-estimator[numbers]'") from e

# Importing models registers its custom layers, so saved numbers models load anywhere.
from keras_estimator.numbers.models import ARCHITECTURES, build_model
from keras_estimator.numbers.data import (
    TARGETS, input_fn, numbers_input_fn, resolve_params, target_values,
)
from keras_estimator.numbers.serving import WordsReceiver, serving_input_receiver_fn, words_input_fn
from keras_estimator.numbers.vocabulary import OOV_ID, PAD_ID, Vocabulary, number_words

__all__ = [
    "ARCHITECTURES", "OOV_ID", "PAD_ID", "TARGETS", "Vocabulary", "WordsReceiver", "build_model", "input_fn",
    "number_words", "numbers_input_fn", "resolve_params", "serving_input_receiver_fn", "target_values", "words_input_fn",
]
