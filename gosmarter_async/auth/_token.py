"""The access token value object and the parsing of a token endpoint's answer.

Expiry is measured from when the request was sent (the issuer's clock started no
earlier), on the monotonic clock, and also checked against wall time: the monotonic
deadline is immune to wall-clock steps, the wall deadline catches a machine that was
suspended (Linux's monotonic clock stops during suspend).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt as _jwt
from attrs import Factory, evolve, field, frozen

from .._errors import TokenResponseError
from .._log import auth_log, excerpt

if TYPE_CHECKING:
    from .._clock import Clock

__all__ = ["AccessToken", "SentAt", "parse_expires_in", "parse_token_response"]

# Entra access tokens live 60-90 minutes and at most 24 hours; a longer lifetime is
# clamped so that a bogus answer cannot make an effectively immortal token.
MAX_LIFETIME = 24 * 3600.0


def fingerprint(value: str) -> str:
    """A short, non-reversible name for a token: the first 8 hex digits of SHA-256."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]


@frozen(repr=False)
class AccessToken:
    """A bearer token and when it stops being valid.

    Its repr shows the type, the expiry and a fingerprint, never the value. The
    fingerprint is computed once, with the token: the provider needs it on every
    cache hit (issue 5 measured two SHA-256 digests per `get_token`).

    Args:
        value: The token itself; a secret.
        token_type: The token type the issuer named (always bearer here).
        expires_at: When the token expires, timezone-aware UTC.
        obtained_at_mono: The monotonic time the request for it was sent.
        expires_at_mono: The monotonic time it expires.
    """

    value: str = field(repr=False)
    token_type: str
    expires_at: datetime
    _obtained_at_mono: float = field(alias="obtained_at_mono")
    _expires_at_mono: float = field(alias="expires_at_mono")
    fingerprint: str = field(
        default=Factory(lambda self: fingerprint(self.value), takes_self=True),
        init=False,
        eq=False,
        repr=False,
    )
    """A short, non-reversible name for this token, safe to log."""

    @property
    def authorization(self) -> str:
        """The Authorization header value, `Bearer <token>` (RFC 6750 §2.1)."""
        return f"Bearer {self.value}"

    @property
    def lifetime(self) -> float:
        """Seconds the token was valid for when it was requested."""
        return self._expires_at_mono - self._obtained_at_mono

    def reissue_of(self, earlier: AccessToken) -> AccessToken:
        """This token, counted as issued when `earlier` was, if it has the same value.

        An issuer that hands back the token it already gave keeps its first
        lifetime, so that the refresh windows, which are fractions of the lifetime
        for short-lived tokens, do not shrink with each answer.

        Args:
            earlier: The token held before this answer.

        Returns:
            `self`, or a copy with the earlier start when the values match.
        """
        if earlier.value != self.value:
            return self
        start = min(earlier._obtained_at_mono, self._obtained_at_mono)
        return evolve(self, obtained_at_mono=start)

    def expires_in(self, clock: Clock) -> float:
        """Seconds left before expiry, the smaller of monotonic and wall reckoning.

        Args:
            clock: The clock the token was obtained on.

        Returns:
            Seconds left; zero or negative once expired.
        """
        by_mono = self._expires_at_mono - clock.monotonic()
        by_wall = (self.expires_at - clock.now()).total_seconds()
        return min(by_mono, by_wall)

    def __repr__(self) -> str:
        return (
            f"AccessToken(token_type={self.token_type!r}, "
            f"expires_at={self.expires_at.isoformat()!r}, "
            f"fingerprint={self.fingerprint!r})"
        )


@frozen
class SentAt:
    """When a token request was sent, on both clocks."""

    mono: float
    wall: datetime

    @classmethod
    def now(cls, clock: Clock) -> SentAt:
        """Read both clocks of `clock`."""
        return cls(clock.monotonic(), clock.now())


def parse_expires_in(raw: object) -> float:
    """Read `expires_in` (RFC 6749 §5.1): a positive number of seconds.

    Accepts an int, a finite float, or a numeric string (Entra once sent "3599").

    Args:
        raw: The JSON value.

    Returns:
        The lifetime in seconds, clamped to `MAX_LIFETIME`.

    Raises:
        TokenResponseError: for booleans, non-numbers, NaN, infinities, zero or less.
    """
    # bool is an int subclass: `true` must not become a one-second token.
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise TokenResponseError(
            f"expires_in must be a number of seconds, got {type(raw).__name__}"
        )
    try:
        seconds = float(raw)
    except ValueError:
        raise TokenResponseError("expires_in is not a number") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise TokenResponseError("expires_in must be a finite number above zero")
    return min(seconds, MAX_LIFETIME)


def unverified_claims(value: str) -> dict[str, Any]:
    """The claims of a JWT access token, read without checking its signature.

    We are not the token's audience: the claims serve to know when to refresh,
    whom the token names, and what to display. The API verifies the token.

    Args:
        value: The token.

    Returns:
        The claims, or an empty dict for an opaque (non-JWT) token.
    """
    try:
        claims = _jwt.decode(value, options={"verify_signature": False})
    except _jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _lifetime_from_jwt(value: str, sent: SentAt) -> float | None:
    exp = unverified_claims(value).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    if not math.isfinite(exp):
        return None
    return float(exp) - sent.wall.timestamp()


def _lifetime(
    data: Mapping[str, object], value: str, default: float, sent: SentAt
) -> float:
    raw = data.get("expires_in")
    if raw is not None:
        return parse_expires_in(raw)
    from_jwt = _lifetime_from_jwt(value, sent)
    if from_jwt is None:
        auth_log.debug("token answer has no expiry; assuming %.0f s", default)
        return default
    if from_jwt <= 0:
        raise TokenResponseError("the token's exp claim is already in the past")
    return min(from_jwt, MAX_LIFETIME)


def parse_token_response(
    body: bytes,
    *,
    status: int,
    sent: SentAt,
    default_lifetime: float,
    secrets: tuple[str, ...] = (),
) -> AccessToken:
    """Turn a successful token endpoint answer (RFC 6749 §5.1) into an `AccessToken`.

    Args:
        body: The raw response body.
        status: The HTTP status, for error messages.
        sent: When the request was sent.
        default_lifetime: Seconds to assume without `expires_in` or a JWT `exp`.
        secrets: Literal values to mask in an excerpt of a malformed body.

    Returns:
        The token, expiring `expires_in` seconds after `sent`.

    Raises:
        TokenResponseError: when the body is not JSON, or lacks a usable token.
    """
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise TokenResponseError(
            "token endpoint answered with something other than a JSON object",
            status=status,
            body_excerpt=excerpt(body, limit=200, secrets=secrets),
        )
    value = data.get("access_token")
    if not isinstance(value, str) or not value:
        raise TokenResponseError("token answer has no access_token", status=status)
    token_type = data.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        # RFC 6749 §7.1: a client must not use a token type it does not understand.
        raise TokenResponseError(
            "token answer's token_type is not Bearer", status=status
        )
    try:
        lifetime = _lifetime(data, value, default_lifetime, sent)
    except TokenResponseError as exc:
        # The expiry checks know nothing of the answer; say which status it had.
        raise TokenResponseError(str(exc), status=status) from None
    return AccessToken(
        value=value,
        token_type=token_type,
        expires_at=(sent.wall + timedelta(seconds=lifetime)).astimezone(UTC),
        obtained_at_mono=sent.mono,
        expires_at_mono=sent.mono + lifetime,
    )
