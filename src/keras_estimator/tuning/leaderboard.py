"""A sweep's leaderboard: one row per trial, as a plain-text table and as CSV.

`text_table` is also the command line's table (predictions, the demo).
"""

from __future__ import annotations

import csv
import io
import math
import os
from typing import Any, Iterable

import keras_tuner

from keras_estimator.files import read_json
from keras_estimator.tuning.timed import TIMING_FILE

_FIXED = ("trial", "status", "objective", "steps", "seconds")


def leaderboard(tuner: keras_tuner.Tuner) -> list[dict[str, Any]]:
    """One row per trial (trial, status, objective, steps, seconds, hyperparameters), completed
    trials best first, then the others."""
    rows = []
    for trial in tuner.oracle.trials.values():
        timing = read_json(os.path.join(tuner.get_trial_dir(trial.trial_id), TIMING_FILE), {})
        rows.append({
            "trial": trial.trial_id,
            "status": str(trial.status),
            "objective": None if trial.score is None else float(trial.score),
            "steps": timing.get("steps"),
            "seconds": None if timing.get("seconds") is None else round(float(timing["seconds"]), 2),
            **{k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")},
        })
    sign = -1.0 if tuner.oracle.objective.direction == "max" else 1.0
    rows.sort(key=lambda r: (r["objective"] is None, sign * (r["objective"] or 0.0), r["trial"]))
    return rows


def format_leaderboard(rows: list[dict[str, Any]], objective: str) -> str:
    """The leaderboard as a plain-text table."""
    if not rows:
        return "(no trials)"
    hp_keys = sorted({k for r in rows for k in r} - set(_FIXED))
    header = ["trial", "status", objective, "steps", "seconds"] + hp_keys
    return text_table(header, ([_cell(r.get(k)) for k in [*_FIXED, *hp_keys]] for r in rows))


def text_table(header: list[str], rows: Iterable[list[str]]) -> str:
    """Left-aligned columns two spaces apart, the header underlined with dashes."""
    rows = [header, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def leaderboard_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV text, one column per key (in order of first appearance)."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)
