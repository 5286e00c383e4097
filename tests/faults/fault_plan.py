"""How many kills each scenario gets: `make test-faults` (FAULTS=full) or the quick subset that
`make test` runs. FAULT_SEED changes the kill moments (the report prints it)."""

import os

CHECKPOINT_EVERY = 5  # Steps between checkpoints in every scenario: the most a kill may lose.

FULL = os.environ.get("FAULTS") == "full"
SEED = int(os.environ.get("FAULT_SEED", "0"))
KILLS = {  # scenario: (full, quick)
    "train": (20, 2),
    "export": (10, 1),
    "train_and_evaluate": (14, 1),
    "sweep": (6, 0),
}


def kills(scenario: str) -> int:
    return KILLS[scenario][0 if FULL else 1]
