"""`gosmarter sandbox`: the emulator as a process, for the SDK, the CLI or curl."""

from __future__ import annotations

import click

from ..sandbox.__main__ import main as sandbox_main
from ._app import cli

__all__ = ["sandbox"]


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sandbox(args: tuple[str, ...]) -> None:
    """Run the local sandbox until Ctrl-C; print the settings that point at it.

    It prints `export GOSMARTER_...=...` lines: `eval` them in another shell, then
    run any gosmarter command there. Options (see `gosmarter sandbox --help`):
    --port, --seed, --companies, --certificates, --token-lifetime, and faults:
    --latency, --error-rate, --throttle-rate, --drop-rate, --fault-token-lifetime,
    --token-outage START DURATION, --token-throttle-rate.
    """
    # The sandbox's own command line is the one source of its options; this
    # command only gives it the gosmarter name.
    raise SystemExit(sandbox_main(list(args), prog="gosmarter sandbox"))
