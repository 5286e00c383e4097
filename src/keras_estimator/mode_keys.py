"""The modes an Estimator calls `model_fn` and `input_fn` with."""


class ModeKeys:
    """Standard names for model modes, identical to `tf.estimator.ModeKeys`.

    - `TRAIN`: training; `EstimatorSpec` needs `loss` and `train_op`.
    - `EVAL`: evaluation; `EstimatorSpec` needs `loss`.
    - `PREDICT`: inference; `EstimatorSpec` needs `predictions`.
    """

    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"

    ALL = (TRAIN, EVAL, PREDICT)

    @classmethod
    def validate(cls, mode: str) -> str:
        """Returns `mode`, or raises `ValueError` if it is not one of the three modes."""
        if mode not in cls.ALL:
            raise ValueError(f"Unknown mode {mode!r}; expected one of {list(cls.ALL)}.")
        return mode
