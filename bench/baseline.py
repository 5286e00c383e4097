"""This tree against a baseline revision, side by side: did a change slow training or serving?

Each round runs `baseline_task.py` once per version, in alternating order, each in a fresh
process whose PYTHONPATH is that version's `src` (the baseline's is extracted with
`git archive`). Figures are each version's best round (this VM slows by ~40% for seconds at a
time); the ratio is this tree over the baseline. The raw `tf.function` loop runs in every
process as a yardstick of the machine's speed at that moment.

BENCH_BASELINE=<rev> picks the baseline (default: the last commit before the runtime split).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import common

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BASELINE = os.environ.get("BENCH_BASELINE", "677ad9a")
# Higher is better for rates; lower for times.
RATES = ("estimator", "bridge", "raw", "evaluate", "predict")
TIMES = ("first_evaluate_s", "export_s", "serve_1_p50_ms", "serve_64_p50_ms")


def _extract(rev: str, into: str) -> str:
    archive = subprocess.run(["git", "-C", ROOT, "archive", rev, "src"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return os.path.join(into, "src")


def _figures(src: str) -> dict:
    env = dict(os.environ, PYTHONPATH=src, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, os.path.join(HERE, "baseline_task.py")], env=env, cwd=tempfile.gettempdir(),
                         check=True, capture_output=True, text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    if not figures.pop("version_file").startswith(src):
        raise RuntimeError(f"baseline_task.py did not import keras_estimator from {src}")
    return figures


def run(rounds: int = 3) -> dict:
    """{"baseline": rev, "rows": [(measure, baseline, this tree, ratio)]}, or {"skipped": why}."""
    if common.QUICK:
        rounds = 1
    with tempfile.TemporaryDirectory(prefix="bench_baseline_src_") as tmp:
        try:
            old = _extract(BASELINE, tmp)
        except (OSError, subprocess.CalledProcessError) as e:
            return {"skipped": f"baseline {BASELINE} not available ({type(e).__name__})"}
        versions = {"baseline": old, "tree": os.path.join(ROOT, "src")}
        runs = common.alternate({name: (lambda src=src: _figures(src)) for name, src in versions.items()}, rounds)
    rows = []
    for key in RATES + TIMES:
        best = {name: (max if key in RATES else min)(r[key] for r in runs[name]) for name in versions}
        rows.append((key, best["baseline"], best["tree"], best["tree"] / best["baseline"]))
    return {"baseline": BASELINE, "rounds": rounds, "rows": rows}


if __name__ == "__main__":
    result = run()
    if "skipped" in result:
        print(result["skipped"])
    else:
        print(f"this tree vs {result['baseline']}, best of {result['rounds']} rounds each")
        for key, old, new, ratio in result["rows"]:
            print(f"{key:20s} {old:10.3f} {new:10.3f}  x{ratio:.2f}")
