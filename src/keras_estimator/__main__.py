"""`python -m keras_estimator`: the `keras-estimator` command line."""

import sys

from keras_estimator.cli import main

if __name__ == "__main__":
    sys.exit(main())
