"""Vocabularies for every num2words language, with real num2words."""

import numpy as np
import pytest
from num2words import CONVERTER_CLASSES

from keras_estimator.numbers import OOV_ID, PAD_ID, Vocabulary, number_words
from keras_estimator.numbers.vocabulary import sample_numbers

LANGS = sorted(CONVERTER_CLASSES)


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_round_trips_and_survives_save_load(lang, tmp_path):
    vocab = Vocabulary.for_language(lang, max_num=100_000, sample_size=200)
    assert vocab.size > 2
    written = 0
    for n in sample_numbers(100_000, count=50, seed=3)[::7]:
        try:
            text = number_words(int(n), lang)
        except ValueError:
            continue  # Some languages cannot write some numbers.
        ids = vocab.encode(text)
        assert PAD_ID not in ids
        assert vocab.decode(ids) == text
        written += 1
    assert written > 0
    vocab.save(tmp_path / "vocab.txt")
    loaded = Vocabulary.load(tmp_path / "vocab.txt")
    assert loaded == vocab
    assert [loaded.encode(c) for c in vocab.chars] == [vocab.encode(c) for c in vocab.chars]


def test_ids_padding_oov_and_case():
    vocab = Vocabulary.for_language("de", max_num=1000)
    ids = vocab.encode("Zweiundvierzig!")
    assert ids[-1] == OOV_ID and min(ids[:-1]) >= 2
    assert vocab.decode(ids + [PAD_ID, PAD_ID]) == "zweiundvierzig\ufffd"
    assert "ß" in vocab.chars or "ü" in vocab.chars  # Built from real output, not a-z.
    assert vocab.size == len(vocab.chars) + 2


def test_unknown_language_and_bad_entries_are_errors():
    with pytest.raises(ValueError, match="no language 'xx'"):
        Vocabulary.for_language("xx")
    with pytest.raises(ValueError, match="single characters"):
        Vocabulary(["ab"])
    with pytest.raises(ValueError, match="duplicate"):
        Vocabulary(["a", "a"])


def test_space_and_punctuation_survive_the_file_format(tmp_path):
    vocab = Vocabulary([" ", "-", ",", "'", "a"])
    vocab.save(tmp_path / "v.txt")
    assert Vocabulary.load(tmp_path / "v.txt").chars == [" ", "-", ",", "'", "a"]
    assert np.array_equal(vocab.encode("a - a"), [6, 2, 3, 2, 6])
