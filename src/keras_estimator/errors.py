"""Exceptions raised by the runtime. Each is a subclass of a builtin users already catch."""


def first_line(exc: BaseException) -> str:
    """The first non-empty line of `str(exc)` (stripped), or the exception's type name when its
    message is empty: a one-line detail for a message that quotes another error."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


class InputError(ValueError):
    """What an `input_fn` returned cannot be used: not a dataset, empty, missing labels,
    or features that differ from the ones the model was trained with."""


class MissingFeatureError(InputError, KeyError):
    """`model_fn` read a feature key that the input does not provide.

    Also a `KeyError`, so code that caught the `KeyError` tf.estimator raised keeps working.
    """

    def __str__(self) -> str:  # KeyError would quote the whole message.
        return str(self.args[0]) if self.args else ""


class EstimatorSpecError(ValueError):
    """What `model_fn` returned cannot be used: not an `EstimatorSpec` (or one for another mode),
    a field its mode needs is missing, a loss that is not a float scalar, predictions that are
    not tensors, an `eval_metric_ops` value that is neither a metric nor a `(value, update_op)`
    tuple. Raised as itself, not wrapped by TensorFlow's "in user code:" trace, so its first
    line names the problem; a `ValueError`, as tf.estimator raised."""


class NanLossDuringTrainingError(RuntimeError):
    """The training loss, or a weight after an update, became NaN or Inf. Raised before that
    step's checkpoint is written, so the latest checkpoint in model_dir is the last good state.

    Attributes:
        step: The global step of the bad step.
        loss: The loss (NaN or Inf), or None when the loss was finite but the update of that
            step made a weight non-finite.
        variable: The first non-finite variable in that case, else None.
    """

    def __init__(self, step: int, loss: float | None, variable: str | None = None):
        self.step = step
        self.loss = loss
        self.variable = variable
        what = (f"Loss is {loss} at global step {step}" if variable is None else
                f"Variable {variable} holds NaN or Inf after global step {step}")
        super().__init__(
            f"{what}: training stopped before that step's checkpoint. The latest checkpoint in "
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


class CheckpointDamagedError(ValueError):
    """A checkpoint's files are missing, truncated or corrupted, and no earlier listed
    checkpoint is readable (or the damaged one was asked for by `checkpoint_path`).

    Attributes:
        path: The checkpoint prefix, e.g. `model_dir/model.ckpt-200`.
        problem: What is wrong, naming the file.
    """

    def __init__(self, path: str, problem: str, detail: str = ""):
        self.path = path
        self.problem = problem
        super().__init__(f"Checkpoint {path} is damaged: {problem}.{' ' + detail if detail else ''}")


class ModelDirInUseError(RuntimeError):
    """Another process is training into the same model_dir: two trainings would overwrite each
    other's checkpoints. The lock goes away with that process, also when it crashes."""

    def __init__(self, model_dir: str):
        self.model_dir = model_dir
        super().__init__(
            f"model_dir {model_dir} is in use: another process is training into it. Wait for it to "
            "finish or train into another model_dir (the lock is released when that process exits, "
            "also if it is killed)."
        )
