"""What the `keras-estimator` commands print: metrics, predictions and plain-text tables."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from keras_estimator.tuning.leaderboard import text_table

__all__ = ["describe", "format_metrics", "prediction_table", "text_table"]


def format_metrics(results: Mapping[str, float]) -> str:
    """`name  value` lines, global_step last."""
    names = sorted(k for k in results if k != "global_step") + (["global_step"] if "global_step" in results else [])
    width = max(len(n) for n in names)
    return "\n".join(
        f"{n:<{width}}  {int(results[n]) if n == 'global_step' else f'{results[n]:.4f}'}" for n in names
    )


def describe(target: str, value: np.ndarray) -> str:
    """A prediction as a person reads it."""
    value = np.asarray(value).reshape(-1)
    if target == "parity":
        p = float(value[0])
        return f"{'odd' if p >= 0.5 else 'even'} ({max(p, 1 - p):.2f})"
    if target == "magnitude":
        k = int(np.argmax(value))
        return f"{k + 1} digit{'s' if k else ''} ({float(value[k]):.2f})"
    if target == "last_digit":
        k = int(np.argmax(value))
        return f"{k} ({float(value[k]):.2f})"
    if target == "value":
        return f"~{max(10 ** float(value[0]) - 1, 0):.4g}"
    return str(value.tolist())


def prediction_table(words: list[str], predictions: list[Mapping[str, np.ndarray]], targets: list[str]) -> str:
    """The predict command's table: the words, then each target's prediction as `describe` reads it."""
    rows = ([w, *(describe(t, p[t]) for t in targets)] for w, p in zip(words, predictions))
    return text_table(["words", *targets], rows)
