"""pytest configuration: shared helpers on ``sys.path``, and the hypothesis profiles.

Loading this file puts ``tests/`` first on ``sys.path`` (pytest's default import
mode), so the shared helpers here (``layouts``, ``book_toc``) are importable from
``tests/browser/`` too.

Property tests take their budget from a hypothesis profile, never from a fixed
``@settings``: ``ci`` (the default) is quick; ``HYPOTHESIS_PROFILE=thorough``
runs ten times the examples and twice the steps of each stateful test.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=100, stateful_step_count=30, **_COMMON)
settings.register_profile("thorough", max_examples=1000, stateful_step_count=60, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
