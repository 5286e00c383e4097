"""`make bench`: every benchmark, one table, written to bench/RESULTS.md.

BENCH_QUICK=1 runs everything on tiny sizes (a smoke check that the benchmarks work; its
figures mean nothing and it does not write RESULTS.md unless BENCH_OUT is given).
"""

from __future__ import annotations

import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import baseline  # noqa: E402
import common  # noqa: E402
import compat_v1  # noqa: E402
import first_call  # noqa: E402
import premade  # noqa: E402
import multiworker  # noqa: E402
import pipeline  # noqa: E402
import scaling  # noqa: E402
import serving  # noqa: E402
import training  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def _status(ok: bool) -> str:
    return "met" if ok else "NOT met"


def rows_of(train: dict, pipe: dict, serve: dict, multi: dict) -> list[tuple[str, str, str, str]]:
    """(section, measure, value, target) rows of the one table."""
    rows = []
    for name, rate in train["rates"].items():
        target = ""
        if name in ("estimator", "bridge"):
            target = f">= 0.95x raw: {_status(train['vs_raw'][name] >= 0.95)}"
        if name.startswith(("estimator", "bridge")):
            target += ("; " if target else "") + f">= 1.4x fit: {_status(train['vs_fit'][name] >= 1.4)}"
        rows.append(("training", f"{name} (steps/s)",
                     f"{rate:.1f} = {train['vs_raw'][name]:.2f}x raw, {train['vs_fit'][name]:.2f}x fit "
                     f"(medians {train['median_vs_raw'][name]:.2f}, {train['median_vs_fit'][name]:.2f})", target))
    rows += [
        ("pipeline", "fast pipeline (examples/s)",
         f"{pipe['fast_examples_per_s']:,.0f} = {pipe['fast_x_consumption']:.1f}x consumption",
         f">= 5x: {_status(pipe['fast_x_consumption'] >= 5)}"),
        ("pipeline", "generator pipeline (examples/s)",
         f"{pipe['generator_examples_per_s']:,.0f} = {pipe['generator_x_consumption']:.1f}x consumption",
         "(not for training)"),
        ("pipeline", f"fast pipeline with bucket_boundaries={pipe['buckets']} (examples/s)",
         f"{pipe['bucketed_examples_per_s']:,.0f} = {pipe['bucketed_x_consumption']:.1f}x consumption", ""),
        ("pipeline", f"training consumption (examples/s, width {pipe['consumption_width']})",
         f"{pipe['consumption_examples_per_s']:,.0f}", ""),
        ("pipeline", f"bucket_boundaries={pipe['buckets']} (steps/s)",
         f"{pipe['bucketed_steps_per_s']:.1f} vs {pipe['padded_steps_per_s']:.1f} padded per batch "
         f"= {pipe['bucketing_gain']:.2f}x; mean width {pipe['bucketed_width']:.1f} vs {pipe['padded_width']:.1f}", ""),
        ("serving", "Estimator.evaluate (examples/s)", f"{serve['evaluate_examples_per_s']:,.0f}", ""),
        ("serving", "Estimator.predict (examples/s)", f"{serve['predict_examples_per_s']:,.0f}", ""),
        ("serving", "SavedModel, 1 word (ms p50 / p99)",
         f"{serve['single_p50_ms']:.2f} / {serve['single_p99_ms']:.2f}", ""),
        ("serving", "SavedModel, 64 words (ms p50 / p99)",
         f"{serve['batch64_p50_ms']:.2f} / {serve['batch64_p99_ms']:.2f}", ""),
        ("overheads", "first train call: build + trace + 1 step (s)", f"{serve['first_train_call_s']:.2f}", ""),
        ("overheads", "steady training step (ms)", f"{1000 * serve['steady_step_s']:.1f}", ""),
        ("overheads", "checkpoint save (ms)", f"{1000 * serve['checkpoint_save_s']:.1f}", ""),
        ("overheads", "export_saved_model (s)", f"{serve['export_s']:.2f}", ""),
        ("multi-worker", f"1 process, batch {multi['batch']} (steps/s, examples/s)",
         f"{multi['single_steps_per_s']:.1f}, {multi['single_examples_per_s']:,.0f}", ""),
        ("multi-worker", f"chief + worker on this machine, {multi['batch']} per worker (steps/s, examples/s)",
         f"{multi['cluster_steps_per_s']:.1f}, {multi['cluster_examples_per_s']:,.0f} "
         f"= {multi['examples_ratio']:.2f}x the examples/s of 1 process", "(2 cores: shows the overhead)"),
    ]
    return rows


def baseline_lines(base: dict) -> list[str]:
    """The section comparing this tree with a baseline revision, side by side."""
    if "skipped" in base:
        return ["## Against a baseline revision", "", f"Skipped: {base['skipped']}.", ""]
    return [
        f"## Against {base['baseline']}",
        "",
        f"This tree and revision {base['baseline']} (BENCH_BASELINE), one fresh process per version per "
        f"round, {base['rounds']} alternating rounds, best round of each (bench/baseline.py). Rates: higher "
        "is better (steps/s for training, examples/s for evaluate/predict); times: lower is better. The raw "
        "tf.function loop runs in every process and shows the machine's speed at that moment.",
        "",
        *markdown_table(["measure", base["baseline"], "this tree", "this tree / baseline"],
                        [(k, f"{o:.3f}", f"{n:.3f}", f"{r:.2f}x") for k, o, n, r in base["rows"]]),
        "",
    ]


def compat_v1_lines(v1: dict) -> list[str]:
    """The section comparing a compat.v1 model_fn with the same one on Keras optimizers."""
    rows = [(name, f"{rate:.1f}", f"{v1['vs_keras'][name]:.2f}x (median {v1['median_vs_keras'][name]:.2f}x)")
            for name, rate in v1["rates"].items()]
    return [
        "## compat.v1 model_fn",
        "",
        f"The numbers GRU-64 (batch 64) as a model_fn, trained by `train(steps={v1['steps']})` calls in "
        f"{v1['rounds']} alternating rounds (bench/compat_v1.py), best round each: Keras Adam through "
        "`minimize`, `tf.compat.v1.train.AdamOptimizer().minimize(loss, global_step=...)`, and the latter "
        "with a LoggingTensorHook fetching the loss every 50 steps (target: compat.v1 >= 0.95x Keras).",
        "",
        *markdown_table(["model_fn", "steps/s", "vs Keras optimizer"], rows),
        "",
    ]


def premade_lines(canned: dict) -> list[str]:
    """The section comparing premade estimators with the same network as a Keras model."""
    rows = [(name, f"{rate:,.0f}") for name, rate in canned["examples_per_s"].items()]
    ratios = ", ".join(f"{name} {r:.2f}x (median {canned['median_vs_keras'][name]:.2f}x)"
                       for name, r in canned["vs_keras"].items())
    return [
        "## Premade estimators against model_to_estimator",
        "",
        f"Generated tabular data (4 numeric features, 2 string categories, batch {canned['batch']}), "
        f"`train(steps={canned['steps']})` calls, {canned['rounds']} alternating rounds, best round each "
        "(bench/premade.py): DNNClassifier([64, 32]) and LinearClassifier (with a crossed column) against the "
        "same columns and layers as a functional Keras model (ke.DenseFeatures / ke.LinearModel) through "
        f"model_to_estimator, the same Adagrad(0.05). Premade / Keras model: {ratios}.",
        "",
        *markdown_table(["contender", "examples/s"], rows),
        "",
    ]


def first_call_lines(first: dict) -> list[str]:
    """The section comparing a fresh Estimator's first evaluate and predict with tf.estimator 2.15."""
    if "skipped" in first:
        return ["## First evaluate and predict against tf.estimator 2.15", "", f"Skipped: {first['skipped']}.", ""]
    return [
        "## First evaluate and predict against tf.estimator 2.15",
        "",
        f"One model_fn (the numbers GRU-64 in tf.keras layers, tf.compat.v1 metrics and optimizer) on "
        f"{first['examples']} examples ({first['batches']} batches of 64), a fresh process per side per round, "
        f"{first['rounds']} alternating rounds, best round each (bench/first_call.py). Seconds unless named "
        "ms; lower is better. per batch, the fixed cost of a repeated call and the first call's extra "
        "(build, trace, graph optimization) are derived from the evaluate figures the same way for both. "
        "A full garbage collection runs (untimed) before each timed call; the rows \"as run\" are other "
        "rounds without it, where CPython's full collection (0.12-0.16 s) falls in one first call or the "
        "other, so their sum is the fair comparison there.",
        "",
        *markdown_table(["measure", "tf.estimator 2.15", "this tree", "this tree / tf.estimator"],
                        [(k, f"{o:.3f}", f"{n:.3f}", f"{r:.2f}x") for k, o, n, r in first["rows"]]),
        "",
    ]


def markdown_table(header: list[str], rows: list[tuple]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)]


def main() -> None:
    # Several Estimators in one process each trace their loop once; TensorFlow's retracing
    # detector counts those across instances and warns. Expected here.
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    start = time.time()
    train = training.run()
    pipe = pipeline.run()
    serve = serving.run()
    scale = scaling.run()
    multi = multiworker.run()
    base = baseline.run()
    v1 = compat_v1.run()
    first = first_call.run()
    canned = premade.run()
    rows = rows_of(train, pipe, serve, multi)

    width = [max(len(r[i]) for r in rows) for i in range(4)]
    print("\n".join("  ".join(c.ljust(w) for c, w in zip(r, width)).rstrip() for r in rows))
    print()
    for row in scale:
        print(f"scaling  batch {row['batch']:4d} width {row['width']:4d}: {row['steps_per_s']:7.1f} steps/s "
              f"{row['examples_per_s']:9,.0f} examples/s  peak {row['peak_rss_mib']:6.0f} MiB")

    lines = [
        "# Benchmarks",
        "",
        f"`make bench`, {datetime.date.today().isoformat()}, {time.time() - start:.0f} s. Machine: {common.machine()}.",
        "",
        "Each comparison ran its contenders in alternating rounds in one process. This VM's speed "
        "drops by about 40% for seconds at a time (seen as rounds of several contenders at the same "
        "lower rate), so training figures are each contender's best round and ratios compare bests; "
        "the medians of per-round ratios follow in brackets; the pipeline's training figures are bests "
        "too. Other figures are medians over rounds. "
        f"Training: GRU-64, batch 64, English parity, {train['steps']} steps x {train['rounds']} rounds "
        f"per contender, all on the same batches padded to width {train['width']}; Estimator figures "
        "are whole `train(steps=...)` calls with the default RunConfig (restore, iterator, loops, final "
        "checkpoint). Multi-worker: the same GRU on fixed batches, one process against a chief and a "
        "worker (MultiWorkerMirroredStrategy over loopback gRPC, one process each, sharing the 2 cores), "
        f"best of {multi['steps']}-step calls over alternating rounds.",
        "",
        *markdown_table(["section", "measure", "value", "target"], rows),
        "",
        "## Scaling",
        "",
        "Estimator training (model_fn path), one process per row, synthetic "
        "sequences every row of which is the full width, best of three calls. 'of which training' is "
        "the peak resident memory while building and training, above what the process held before "
        "(TensorFlow itself and the data).",
        "",
        *markdown_table(["batch", "width", "steps/s", "examples/s", "peak RSS (MiB)", "of which training (MiB)"],
                        [(r["batch"], r["width"], f"{r['steps_per_s']:.1f}", f"{r['examples_per_s']:,.0f}",
                          f"{r['peak_rss_mib']:.0f}", f"{r['training_rss_mib']:.0f}") for r in scale]),
        "",
        *baseline_lines(base),
        *compat_v1_lines(v1),
        *first_call_lines(first),
        *premade_lines(canned),
    ]
    out = os.environ.get("BENCH_OUT") or (None if common.QUICK else os.path.join(HERE, "RESULTS.md"))
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
