"""The `gosmarter` command line: demo, export, sandbox, token and request.

A thin layer over the library: every command parses options, calls the SDK, and
prints; failures become one line on stderr and an exit code per kind (see
`gosmarter_async.cli._errors`).
"""

from . import _calls, _export, _sandbox
from ._app import cli

__all__ = ["cli", "main"]

# Imported for their side effect: each module adds its commands to `cli`.
del _calls, _export, _sandbox


def main() -> None:
    """Run the `gosmarter` console script."""
    cli(prog_name="gosmarter")
