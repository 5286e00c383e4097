"""`MultiHead`: several named heads over one network (multi-task), as tf.estimator's."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import keras
import tensorflow as tf

from keras_estimator import export
from keras_estimator.canned import head as head_lib
from keras_estimator.canned.metric_keys import MetricKeys


class MultiHead(head_lib.Head):
    """Heads trained together: the loss is the (weighted) sum of theirs.

    Logits and labels are dicts keyed by head name (logits may also be one tensor, split in
    the heads' order by their `logits_dimension`). Predictions are keyed `<head>/<key>`
    (`"ctr/probabilities"`), metrics `<key>/<head>` (`"auc/ctr"`, with each head's loss as
    `"loss/<head>"`), export signatures `<head>` (its default) and `<head>/<signature>`, plus
    the first head's as `serving_default` and a `predict` of every prediction.

    Args:
        heads: Heads, each with a distinct `name`.
        head_weights: One float per head weighting its loss (default all 1).

    Raises:
        ValueError: for no heads, an unnamed or repeated name, or head_weights of another length.
    """

    def __init__(self, heads: Sequence[head_lib.Head], head_weights: Sequence[float] | None = None):
        heads = list(heads)
        if not heads:
            raise ValueError("MultiHead needs at least one head.")
        names = [h.name for h in heads]
        if any(n is None for n in names) or len(set(names)) != len(names):
            raise ValueError(f"Every head of a MultiHead needs its own name, got {names}.")
        if head_weights is not None and len(head_weights) != len(heads):
            raise ValueError(f"head_weights has {len(head_weights)} entries for {len(heads)} heads.")
        self.heads = heads
        self.head_weights = [float(w) for w in head_weights] if head_weights is not None else [1.0] * len(heads)
        self.name = "_".join(names)
        self.loss_reduction = heads[0].loss_reduction

    @property
    def logits_dimension(self) -> int:
        return sum(h.logits_dimension for h in self.heads)

    def _split(self, logits: Any) -> dict[str, tf.Tensor]:
        if isinstance(logits, Mapping):
            missing = [h.name for h in self.heads if h.name not in logits]
            if missing:
                raise ValueError(f"MultiHead logits have no entry for head(s) {missing}; got {sorted(logits)}.")
            return {h.name: logits[h.name] for h in self.heads}
        logits = head_lib.check_logits(logits, self.logits_dimension)
        parts = tf.split(logits, [h.logits_dimension for h in self.heads], axis=-1)
        return {h.name: part for h, part in zip(self.heads, parts)}

    def _labels(self, labels: Any) -> dict[str, Any]:
        if not isinstance(labels, Mapping):
            raise ValueError(f"MultiHead labels must be a dict keyed by head name, got {type(labels).__name__}.")
        missing = [h.name for h in self.heads if h.name not in labels]
        if missing:
            raise ValueError(f"MultiHead labels have no entry for head(s) {missing}; got {sorted(labels)}.")
        return labels

    def _per_head_losses(self, labels, logits, features, mode) -> list[tf.Tensor]:
        logits, labels = self._split(logits), self._labels(labels)
        return [h.loss(labels[h.name], logits[h.name], features, mode) for h in self.heads]

    def loss(self, labels, logits, features=None, mode=None, regularization_losses=None):
        losses = self._per_head_losses(labels, logits, features, mode)
        total = tf.add_n([w * loss for w, loss in zip(self.head_weights, losses)])
        return head_lib.add_regularization(total, regularization_losses)

    def predictions(self, logits, keys=None):
        logits = self._split(logits)
        out = {f"{h.name}/{k}": v for h in self.heads for k, v in h.predictions(logits[h.name]).items()}
        return out if keys is None else {k: out[k] for k in keys}

    def export_outputs(self, predictions):
        outputs: dict[str, Any] = {}
        for i, h in enumerate(self.heads):
            mine = {k.split("/", 1)[1]: v for k, v in predictions.items() if k.startswith(f"{h.name}/")}
            for signature, output in h.export_outputs(mine).items():
                if signature == "serving_default":  # The head's own default, under its name.
                    outputs[h.name] = output
                    if i == 0:
                        outputs["serving_default"] = output
                else:
                    outputs[f"{h.name}/{signature}"] = output
        outputs["predict"] = export.PredictOutput(predictions)
        return outputs

    def metrics(self, regularization_losses=None):
        metrics = {}
        for h in self.heads:
            metrics.update({f"{k}/{h.name}": m for k, m in h.metrics().items()})
            metrics[f"{MetricKeys.LOSS}/{h.name}"] = keras.metrics.Mean(name=f"loss_{h.name}")
        if regularization_losses:
            metrics[MetricKeys.LOSS_REGULARIZATION] = keras.metrics.Mean(name="regularization_loss")
        return metrics

    def update_metrics(self, eval_metrics, features, logits, labels, regularization_losses=None):
        split, labels = self._split(logits), self._labels(labels)
        for h in self.heads:
            suffix = f"/{h.name}"
            mine = {k[: -len(suffix)]: m for k, m in eval_metrics.items() if k.endswith(suffix)}
            loss = mine.pop(MetricKeys.LOSS)
            h.update_metrics(mine, features, split[h.name], labels[h.name])
            loss.update_state(h.loss(labels[h.name], split[h.name], features))
        head_lib.update_regularization(eval_metrics, regularization_losses)
        return eval_metrics
