"""`gosmarter token` and `gosmarter request`: a token's claims, and a raw call."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from .._client import GoSmarterClient
from .._config import Settings
from ..auth import AccessToken, ClientCredentialsTokenProvider
from ..auth._token import unverified_claims
from ._app import Context, cli

__all__ = ["request", "token"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


@cli.command()
@click.option(
    "--show-token",
    is_flag=True,
    help="Also print the access token itself (a secret: keep it off shared screens).",
)
@click.pass_obj
def token(ctx: Context, *, show_token: bool) -> None:
    """Acquire an access token and print its expiry and claims as JSON.

    The token itself is printed only with --show-token.
    """
    settings = ctx.settings()
    acquired = asyncio.run(_acquire(settings))
    described: dict[str, Any] = {
        "expires_at": acquired.expires_at.isoformat(),
        "fingerprint": acquired.fingerprint,
        "token_type": acquired.token_type,
        "claims": unverified_claims(acquired.value),
    }
    if show_token:
        described["access_token"] = acquired.value
    _print_json(described)


async def _acquire(settings: Settings) -> AccessToken:
    async with ClientCredentialsTokenProvider.from_settings(settings) as provider:
        return await provider.get_token()


def _parse_params(
    _: click.Context, __: click.Parameter, value: tuple[str, ...]
) -> list[tuple[str, str]]:
    pairs = []
    for item in value:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE")
        pairs.append((key, val))
    return pairs


def _parse_json(_: click.Context, __: click.Parameter, value: str | None) -> object:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}") from None


@cli.command()
@click.argument("method", type=click.Choice(_METHODS, case_sensitive=False))
@click.argument("path")
@click.option(
    "--json", "body", callback=_parse_json, metavar="JSON", help="A JSON request body."
)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    callback=_parse_params,
    metavar="KEY=VALUE",
    help="A query parameter (repeat for several).",
)
@click.pass_obj
def request(
    ctx: Context,
    *,
    method: str,
    path: str,
    body: object,
    params: list[tuple[str, str]],
) -> None:
    """Send one authenticated request to the gateway and print the JSON answer.

    PATH is the path under the gateway URL, e.g. /api/user/ID/companies/list.
    Retries follow the method: GET, PUT, DELETE and HEAD are retried, POST and
    PATCH only when the request never left.
    """
    if not path.startswith("/"):
        raise click.BadParameter("must start with '/'", param_hint="PATH")
    settings = ctx.settings()
    answer = asyncio.run(_call(settings, method.upper(), path, body, params))
    _print_json(answer)


async def _call(
    settings: Settings,
    method: str,
    path: str,
    body: object,
    params: list[tuple[str, str]],
) -> Any:
    async with GoSmarterClient(settings) as client:
        return await client.request(method, path, params=params or None, json=body)
