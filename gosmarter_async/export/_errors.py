"""The export's own exceptions, under the SDK's `GoSmarterError`.

::

    GoSmarterError
    └── ExportError                  the export cannot write where it was told to
        └── ExportInterruptedError   stopped midway; what completed is kept
"""

from __future__ import annotations

from .._errors import GoSmarterError

__all__ = ["ExportError", "ExportInterruptedError"]


class ExportError(GoSmarterError):
    """The export cannot proceed: typically an output directory it cannot write."""


class ExportInterruptedError(ExportError):
    """The export stopped midway (network lost, server failing, disk full).

    Every certificate in the journal is complete and verified on the next run, so
    running the same export again resumes where this one stopped. The cause is the
    exception's `__cause__`.

    Args:
        completed: Certificates done (exported or resumed) when it stopped.
        total: Certificates listed when it stopped.
        reason: The cause in one line.
    """

    def __init__(self, completed: int, total: int, reason: str = "") -> None:
        self.completed = completed
        self.total = total
        self.reason = reason
        because = f" ({reason})" if reason else ""
        super().__init__(
            f"export interrupted after {completed} of {total} certificates listed "
            f"so far{because}; rerun the same command to resume"
        )
