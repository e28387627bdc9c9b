"""The sandbox's signing key, the access tokens it issues, and their verification.

Tokens look like Entra External ID's v2.0 access tokens for the client-credentials
flow: RS256, a `kid` naming the key in the JWKS, and the claims iss, aud (the API's
application id URI), exp, nbf, iat, azp (the client), roles, sub and oid (the
caller's object id, which the Users endpoints compare with the path's userId), tid.
The key is generated when the sandbox starts and never leaves the process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

import jwt as _jwt
from attrs import define, field, frozen
from cryptography.hazmat.primitives.asymmetric import rsa

from .._clock import Clock

__all__ = ["Credentials", "Identity", "InvalidTokenError"]

# Clock skew tolerated on exp and nbf, as API gateways commonly allow.
LEEWAY_SECONDS = 5


class InvalidTokenError(Exception):
    """The bearer token is not one this sandbox issued, or no longer valid."""


@frozen(kw_only=True)
class Credentials:
    """The sandbox's tenant, API and client registration.

    Args:
        tenant_id: The tenant (directory) id, in URLs and the tid claim.
        api_id: The API's application id; its id URI is `api://<api_id>`.
        client_id: The one registered client.
        client_secret: Its secret; masked in the repr.
        user_id: The object id the tokens carry as oid and sub.
    """

    tenant_id: str
    api_id: str
    client_id: str
    client_secret: str = field(repr=lambda _: "'***'")
    user_id: str

    @property
    def app_id_uri(self) -> str:
        """The API's application id URI, the tokens' audience."""
        return f"api://{self.api_id}"

    @property
    def default_scope(self) -> str:
        """The `.default` scope of the API, as client credentials request it."""
        return f"{self.app_id_uri}/.default"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@define
class Identity:
    """Signs and verifies the sandbox's access tokens.

    Args:
        credentials: The tenant, API and client.
        clock: The server's clock (iat, nbf, exp and verification use its wall time).
        token_lifetime: Seconds a token lives.
        base_url: The server's URL, set once it listens (the issuer derives from it).
    """

    credentials: Credentials
    clock: Clock
    token_lifetime: int
    base_url: str = ""
    _key: rsa.RSAPrivateKey = field(init=False, repr=False)
    kid: str = field(init=False)

    def __attrs_post_init__(self) -> None:
        # 2048-bit RSA: the size Entra's signing keys use; generation takes ~20 ms.
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = self._thumbprint()

    @property
    def tenant_url(self) -> str:
        """The tenant's base URL on this server."""
        return f"{self.base_url}/{self.credentials.tenant_id}"

    @property
    def issuer(self) -> str:
        """The iss claim, shaped as Entra's v2.0 issuer."""
        return f"{self.tenant_url}/v2.0"

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return f"{self.tenant_url}/oauth2/v2.0/token"

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK (RFC 7517) with its kid."""
        public = self._key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64url_uint(public.n),
            "e": _b64url_uint(public.e),
        }

    def _thumbprint(self) -> str:
        # RFC 7638: SHA-256 of the required members in lexicographic order.
        public = self._key.public_key().public_numbers()
        members = {
            "e": _b64url_uint(public.e),
            "kty": "RSA",
            "n": _b64url_uint(public.n),
        }
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
        digest = hashlib.sha256(canonical.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def issue(self, lifetime: int | None = None) -> tuple[str, int]:
        """Sign an access token for the client.

        Args:
            lifetime: Seconds it lives, or None for the configured lifetime.

        Returns:
            The compact JWT and its lifetime in seconds.
        """
        seconds = self.token_lifetime if lifetime is None else lifetime
        now = int(self.clock.now().timestamp())
        creds = self.credentials
        claims = {
            "aud": creds.app_id_uri,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + seconds,
            "azp": creds.client_id,
            "azpacr": "1",
            "idtyp": "app",
            "oid": creds.user_id,
            "sub": creds.user_id,
            "roles": ["MillCertifications.ReadWrite", "Entitlements.Read"],
            "tid": creds.tenant_id,
            "uti": uuid.uuid4().hex,
            "ver": "2.0",
        }
        token = _jwt.encode(
            claims, self._key, algorithm="RS256", headers={"kid": self.kid}
        )
        return token, seconds

    def verify(self, token: str) -> dict[str, Any]:
        """Check a bearer token's signature, kid, aud, iss, exp and nbf.

        exp and nbf are checked against the server's clock (not PyJWT's), with
        `LEEWAY_SECONDS` of tolerance.

        Args:
            token: The compact JWT.

        Returns:
            Its claims.

        Raises:
            InvalidTokenError: naming the first check that failed.
        """
        try:
            header = _jwt.get_unverified_header(token)
            if header.get("kid") != self.kid:
                raise InvalidTokenError("The token's signing key is unknown.")
            claims: dict[str, Any] = _jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                audience=self.credentials.app_id_uri,
                issuer=self.issuer,
                options={
                    "require": ["exp", "nbf", "iat", "iss", "aud", "oid"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except _jwt.InvalidAudienceError as exc:
            raise InvalidTokenError("The token's audience is invalid.") from exc
        except _jwt.InvalidIssuerError as exc:
            raise InvalidTokenError("The token's issuer is invalid.") from exc
        except _jwt.InvalidSignatureError as exc:
            raise InvalidTokenError("The token's signature is invalid.") from exc
        except _jwt.PyJWTError as exc:
            raise InvalidTokenError("The token is malformed.") from exc
        now = self.clock.now().timestamp()
        if claims["exp"] + LEEWAY_SECONDS <= now:
            raise InvalidTokenError("The token is expired.")
        if claims["nbf"] - LEEWAY_SECONDS > now:
            raise InvalidTokenError("The token is not valid yet.")
        return claims

    def discovery(self) -> dict[str, Any]:
        """The OpenID Connect discovery document of the tenant."""
        return {
            "issuer": self.issuer,
            "token_endpoint": self.token_url,
            "jwks_uri": f"{self.tenant_url}/discovery/v2.0/keys",
            "authorization_endpoint": f"{self.tenant_url}/oauth2/v2.0/authorize",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "client_secret_basic",
            ],
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": ["code", "id_token", "code id_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
        }

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set holding the signing key."""
        return {"keys": [self.jwk()]}
