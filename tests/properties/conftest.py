"""hypothesis profiles for the property suite, chosen by HYPOTHESIS_PROFILE.

- ci (default, `make test`): few examples, derandomized so CI is reproducible, no example
  database written into the checkout.
- deep (`make test-deep`): at least 500 examples per property, the example database kept so a
  failure found once is replayed first next time.
"""

import os

from hypothesis import HealthCheck, settings

# TensorFlow traces on first calls (seconds), so no per-example deadline.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

settings.register_profile("ci", max_examples=12, derandomize=True, database=None, print_blob=True, **_COMMON)
settings.register_profile("deep", max_examples=500, print_blob=True, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
