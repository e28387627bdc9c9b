"""Settings, the environment variable names, and every default with its reason."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from attrs import field, frozen
from dotenv import dotenv_values

from ._errors import ConfigurationError

__all__ = [
    "DEFAULT_GATEWAY_URL",
    "ENV_PREFIX",
    "Settings",
    "check_url",
    "is_loopback_host",
]

# The public gateway, as the API reference gives it.
DEFAULT_GATEWAY_URL = "https://api.gosmarter.ai"

# Entra External ID's token endpoint for a tenant (the API docs' TOKEN_URL).
TOKEN_URL_TEMPLATE = "https://{tenant}.ciamlogin.com/{tenant}/oauth2/v2.0/token"  # noqa: S105 (a URL, not a password)

# Names as the API documentation spells them; each is also read with this prefix,
# which wins, so that a shell with another tool's CLIENT_ID can still point at us.
ENV_PREFIX = "GOSMARTER_"
ENV_NAMES = (
    "CLIENT_ID",
    "CLIENT_SECRET",
    "TENANT_ID",
    "TOKEN_URL",
    "API_SCOPE",
    "GATEWAY_URL",
)

# A tenant is a subdomain label of ciamlogin.com (RFC 1035 letters, digits, hyphens).
_TENANT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def is_loopback_host(host: str | None) -> bool:
    """Whether `host` is a loopback name or address (127.0.0.0/8, ::1, localhost)."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, name: str) -> str | None:
    """Return a problem with `url` as a place to send credentials, or None.

    Credentials travel only over https: a bearer token or a client secret sent over
    plain http can be read by anyone on the path (RFC 6750 §5.3, RFC 6749 §3.2).
    Loopback is the exception, for the sandbox and local proxies.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"{name} is not a valid URL"
    if parts.scheme not in ("https", "http") or not host:
        return f"{name} must be an absolute https:// URL"
    if parts.scheme == "http" and not is_loopback_host(host):
        return (
            f"{name} must use https:// (plain http is allowed only for loopback hosts)"
        )
    if parts.username or parts.password:
        return f"{name} must not carry credentials in the URL"
    return None


def _mask(value: str) -> str:
    return "'***'" if value else "''"


@frozen(kw_only=True)
class Settings:
    """Where and how the SDK authenticates and which gateway it calls.

    Construct it directly, or from the environment with `Settings.from_env()`.

    Args:
        client_id: The application (client) id registered in Entra External ID.
        client_secret: The client secret; masked in the repr.
        token_url: The OAuth 2.0 token endpoint.
        scope: The scope to request, e.g. `api://<API_ID>/.default`.
        gateway_url: The gateway's base URL.
        tenant_id: The tenant, when the token URL was derived from it.

    Raises:
        ConfigurationError: naming every missing or malformed value at once.
    """

    client_id: str
    client_secret: str = field(repr=_mask)
    token_url: str
    scope: str
    gateway_url: str = DEFAULT_GATEWAY_URL
    tenant_id: str | None = None

    def __attrs_post_init__(self) -> None:
        problems = _problems(
            {
                "CLIENT_ID": self.client_id,
                "CLIENT_SECRET": self.client_secret,
                "API_SCOPE": self.scope,
                "TOKEN_URL": self.token_url,
                "GATEWAY_URL": self.gateway_url,
            }
        )
        if problems:
            raise ConfigurationError(problems)

    @classmethod
    def from_env(
        cls,
        env_file: str | os.PathLike[str] | None = ".env",
        *,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Read settings from the environment and an optional dotenv file.

        For each name, the first of these wins: `GOSMARTER_<NAME>` in the
        environment, `<NAME>` in the environment, then the same two in the file.
        A missing file is not an error. `TOKEN_URL` defaults to Entra External ID's
        endpoint for `TENANT_ID`; `GATEWAY_URL` to the public gateway.

        Args:
            env_file: A dotenv file to read, or None for none.
            environ: The environment to read instead of `os.environ`.

        Raises:
            ConfigurationError: naming every missing or malformed value at once.
        """
        values = _read_sources(env_file, os.environ if environ is None else environ)
        problems: list[str] = []
        tenant = values.get("TENANT_ID")
        token_url = values.get("TOKEN_URL")
        if token_url is None and tenant is not None:
            if _TENANT.match(tenant):
                token_url = TOKEN_URL_TEMPLATE.format(tenant=tenant)
            else:
                problems.append(
                    "TENANT_ID must be a tenant name (letters, digits, hyphens)"
                )
        elif token_url is None:
            problems.append("TOKEN_URL (or TENANT_ID) is not set")
        for name, what in (
            ("CLIENT_ID", "client id"),
            ("CLIENT_SECRET", "client secret"),
            ("API_SCOPE", "scope"),
        ):
            if values.get(name) is None:
                problems.append(f"{name} ({what}) is not set")
        problems.extend(
            _problems(
                {
                    "CLIENT_ID": values.get("CLIENT_ID"),
                    "CLIENT_SECRET": values.get("CLIENT_SECRET"),
                    "API_SCOPE": values.get("API_SCOPE"),
                    "TOKEN_URL": token_url,
                    "GATEWAY_URL": values.get("GATEWAY_URL", DEFAULT_GATEWAY_URL),
                }
            )
        )
        if problems:
            raise ConfigurationError(problems)
        return cls(
            client_id=values["CLIENT_ID"],
            client_secret=values["CLIENT_SECRET"],
            token_url=token_url or "",
            scope=values["API_SCOPE"],
            gateway_url=values.get("GATEWAY_URL", DEFAULT_GATEWAY_URL),
            tenant_id=tenant,
        )


def _problems(values: Mapping[str, str | None]) -> list[str]:
    # Keyed by the environment names; None means "not given", which the caller
    # has reported already (or derived a value for).
    problems: list[str] = []
    for name, value in values.items():
        if value is None:
            continue
        if not value.strip():
            problems.append(f"{name} is empty")
        elif name.endswith("_URL"):
            problem = check_url(value, name)
            if problem:
                problems.append(problem)
        elif value != value.strip():
            problems.append(f"{name} has leading or trailing whitespace")
    return problems


def _read_sources(
    env_file: str | os.PathLike[str] | None, environ: Mapping[str, str]
) -> dict[str, str]:
    file_values: Mapping[str, str | None] = {}
    if env_file is not None and os.path.isfile(env_file):
        file_values = dotenv_values(env_file)
    found: dict[str, str] = {}
    for name in ENV_NAMES:
        for source in (environ, file_values):
            value = source.get(ENV_PREFIX + name) or source.get(name)
            if value is not None and value != "":
                found[name] = value
                break
    return found
