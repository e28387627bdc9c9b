"""The `gosmarter` command group: global options, configuration, error handling."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import click
from attrs import frozen

from .._config import Settings
from ._errors import to_cli_error

__all__ = ["Context", "cli"]


@frozen
class Context:
    """What every command gets from the global options.

    Args:
        verbose: Show details and tracebacks of errors.
        env_file: The dotenv file to read settings from.
    """

    verbose: bool
    env_file: Path

    def settings(self) -> Settings:
        """Settings from the environment and the dotenv file.

        Raises:
            ConfigurationError: naming every missing or malformed value.
        """
        return Settings.from_env(self.env_file)


class _Group(click.Group):
    """A click group that turns every failure into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if isinstance(ctx.obj, Context) and ctx.obj.verbose:
                traceback.print_exception(exc)
            error = to_cli_error(exc)
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--verbose", "-v", is_flag=True, help="Show the details and traceback of errors."
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".env"),
    show_default=True,
    envvar="GOSMARTER_ENV_FILE",
    help="A dotenv file with the settings (read if it exists).",
)
@click.version_option(package_name="gosmarter-async", prog_name="gosmarter")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, env_file: Path) -> None:
    """The GoSmarter API from the command line: export mill certificates, and more.

    Settings come from the environment or a .env file: CLIENT_ID, CLIENT_SECRET,
    TENANT_ID (or TOKEN_URL), API_SCOPE and GATEWAY_URL, each also read with a
    GOSMARTER_ prefix, which wins. Options win over the environment.
    """
    ctx.obj = Context(verbose=verbose, env_file=env_file)
