"""Character vocabularies for numbers written as words, one per num2words language."""

from __future__ import annotations

import os
from typing import Iterable, Sequence

import numpy as np
from num2words import num2words

PAD_ID = 0
OOV_ID = 1
_FIRST_ID = 2
_OOV_CHAR = "\ufffd"


def number_words(number: int, lang: str) -> str:
    """`number` written in `lang`, lower-cased (serving lower-cases raw text the same way).

    Raises:
        ValueError: if num2words does not know `lang` or cannot write this number in it.
    """
    try:
        return num2words(int(number), lang=lang).lower()
    except NotImplementedError as e:
        raise ValueError(f"num2words has no language {lang!r}.") from e
    except Exception as e:  # Some languages fail on some numbers (e.g. "am" on 1999).
        raise ValueError(f"num2words cannot write {number} in {lang!r}: {e}") from e


def sample_numbers(max_num: int, count: int = 3000, seed: int = 0) -> np.ndarray:
    """Numbers that show every character a language uses below max_num: all small numbers,
    powers of ten and their neighbours, and a random sample."""
    small = np.arange(min(max_num, 1200))
    powers = [p + d for p in (10 ** np.arange(1, 19)) for d in (-1, 0, 1) if 0 <= p + d < max_num]
    rng = np.random.default_rng(seed)
    randoms = rng.integers(0, max_num, size=count) if max_num > 0 else []
    return np.unique(np.concatenate([small, np.asarray(powers, dtype=np.int64), randoms]))


class Vocabulary:
    """Maps characters to ids: 0 is padding, 1 is out-of-vocabulary, characters from 2.

    Args:
        chars: The characters, in id order (the first gets id 2). Duplicates are an error.

    Raises:
        ValueError: for duplicate or multi-character entries.
    """

    def __init__(self, chars: Sequence[str]):
        chars = list(chars)
        bad = [c for c in chars if len(c) != 1 or c == "\n"]
        if bad:
            raise ValueError(f"Vocabulary entries must be single characters (not newline), got {bad[:5]}.")
        if len(set(chars)) != len(chars):
            raise ValueError("Vocabulary has duplicate characters.")
        self._chars = chars
        self._ids = {c: i + _FIRST_ID for i, c in enumerate(chars)}

    @classmethod
    def for_language(
        cls, lang: str = "en", max_num: int = 1_000_000, seed: int = 0, sample_size: int = 3000
    ) -> "Vocabulary":
        """The characters num2words uses for numbers below `max_num` in `lang`: all numbers below
        1200, powers of ten and their neighbours, and `sample_size` random numbers.

        Raises:
            ValueError: if num2words does not know `lang`.
        """
        number_words(1, lang)  # Unknown language: fail with a clear error first.
        chars: set[str] = set()
        for n in sample_numbers(max_num, count=sample_size, seed=seed):
            try:
                chars.update(number_words(int(n), lang))
            except ValueError:
                continue  # A number this language cannot write adds no characters.
        return cls(sorted(chars))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Vocabulary":
        """Reads a file written by `save` (one character per line, in id order)."""
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        return cls(text.split("\n")[:-1] if text else [])

    def save(self, path: str | os.PathLike) -> None:
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("".join(c + "\n" for c in self._chars))

    @property
    def chars(self) -> list[str]:
        return list(self._chars)

    @property
    def size(self) -> int:
        """Number of ids, padding and OOV included: the Embedding input_dim."""
        return len(self._chars) + _FIRST_ID

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and other._chars == self._chars

    def encode(self, text: str) -> list[int]:
        """Ids of the lower-cased characters of `text`; unknown characters map to 1."""
        return [self._ids.get(c, OOV_ID) for c in text.lower()]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of `ids`; padding is dropped, out-of-vocabulary ids become U+FFFD."""
        out = []
        for i in ids:
            i = int(i)
            if i == PAD_ID:
                continue
            out.append(self._chars[i - _FIRST_ID] if i >= _FIRST_ID and i - _FIRST_ID < len(self._chars) else _OOV_CHAR)
        return "".join(out)
