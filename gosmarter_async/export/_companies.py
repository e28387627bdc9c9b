"""Which companies "all companies" means: those of the user the token was issued to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..auth._token import unverified_claims
from ._errors import ExportError

if TYPE_CHECKING:
    from .._client import GoSmarterClient
    from ..auth import BearerToken, TokenProvider

__all__ = ["token_user_id", "user_company_ids"]


def token_user_id(token: BearerToken) -> str | None:
    """The user (or service principal) a token was issued to: `oid`, else `sub`.

    Entra puts the object id in `oid`; `sub` is per-application, so `oid` is the
    one the gateway's user routes expect when both are there.
    """
    claims = unverified_claims(token.value)
    for name in ("oid", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


async def user_company_ids(
    client: GoSmarterClient, token_provider: TokenProvider
) -> list[str]:
    """The ids of every company of the user the client's token belongs to.

    ASSUMPTION: `listUserCompanies` with an empty id list answers all of the user's
    companies. The public reference only says it returns "the companies with the
    given ids"; the sandbox implements the empty list this way.
    TODO(all-companies): confirm against the real gateway, or use a documented
    "my companies" operation once the API has one.

    Args:
        client: An open client.
        token_provider: The client's token provider (the client does not expose
            its own), whose token names the user.

    Returns:
        The company ids, in the gateway's order.

    Raises:
        AuthenticationError: no token could be acquired.
        ExportError: the token names no user (no `oid` or `sub` claim).
        APIStatusError: the gateway refused the listing.
    """
    token = await token_provider.get_token()
    user_id = token_user_id(token)
    if user_id is None:
        raise ExportError("the access token names no user (no oid or sub claim)")
    companies = await client.users.list_user_companies(user_id, body=[])
    return [str(company.company_id) for company in companies]
