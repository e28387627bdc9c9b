"""The retry policies a bulk export runs under."""

from __future__ import annotations

from .._retry import RetryPolicy

__all__ = ["BULK_RETRY", "BULK_TOKEN_RETRY"]

# An export is a long batch job nobody is watching: it rides out faults that an
# interactive call would report, such as a gateway restart (about 2 s of refused
# connections), while a dead server still fails the run within a minute. These are
# the values the chaos suite (tests/chaos, issue 6) runs 2,000 certificates under.
BULK_RETRY = RetryPolicy(
    max_attempts=12, initial_backoff=0.1, max_backoff=2.0, deadline=60.0
)

# Token requests get more, short attempts: they bridge a 10 s token endpoint outage.
BULK_TOKEN_RETRY = RetryPolicy(
    max_attempts=20, initial_backoff=0.25, max_backoff=2.0, deadline=30.0
)
