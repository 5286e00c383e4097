"""Exceptions raised by the runtime. Each is a subclass of a builtin users already catch."""


class InputError(ValueError):
    """What an `input_fn` returned cannot be used: not a dataset, empty, missing labels,
    or features that differ from the ones the model was trained with."""


class MissingFeatureError(InputError, KeyError):
    """`model_fn` read a feature key that the input does not provide.

    Also a `KeyError`, so code that caught the `KeyError` tf.estimator raised keeps working.
    """

    def __str__(self) -> str:  # KeyError would quote the whole message.
        return str(self.args[0]) if self.args else ""


class NanLossDuringTrainingError(RuntimeError):
    """The training loss became NaN or Inf. Raised before that step's checkpoint is written,
    so the latest checkpoint in model_dir is the last good state."""

    def __init__(self, step: int, loss: float):
        self.step = step
        self.loss = loss
        super().__init__(
            f"Loss is {loss} at global step {step}: training stopped. The latest checkpoint in "
            "model_dir holds the last good state; lower the learning rate or check the input."
        )


class CheckpointNotFoundError(ValueError):
    """An explicit `checkpoint_path` does not name a readable checkpoint."""


class ClusterTaskFailedError(RuntimeError):
    """A collective op of multi-worker training lost a peer: another task of the cluster died
    or became unreachable during `train`.

    Attributes:
        step: The last global step this task completed.
    """

    def __init__(self, step: int, model_dir: str, detail: str):
        self.step = step
        super().__init__(
            f"A cluster task stopped responding during training after global step {step} ({detail}). "
            f"Restart every task: training resumes from the chief's last checkpoint in {model_dir}."
        )
