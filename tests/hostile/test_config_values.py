"""Configuration values that are empty, padded with whitespace or of the wrong scheme.

Each is refused with a ConfigurationError that names the setting, all at once, and
never echoes the secret (issue 6, item 4).
"""

from __future__ import annotations

import pytest

from gosmarter_async import ConfigurationError, Settings

GOOD = {
    "GOSMARTER_CLIENT_ID": "client-1",
    "GOSMARTER_CLIENT_SECRET": "s3cret-value-xyz",
    "GOSMARTER_TOKEN_URL": "https://login.example.com/t/oauth2/v2.0/token",
    "GOSMARTER_API_SCOPE": "api://x/.default",
    "GOSMARTER_GATEWAY_URL": "https://api.example.com",
}


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("GOSMARTER_CLIENT_ID", "   ", "CLIENT_ID is empty"),
        ("GOSMARTER_CLIENT_ID", " client-1", "CLIENT_ID has leading or trailing"),
        ("GOSMARTER_CLIENT_SECRET", "s3cret-value-xyz\n", "CLIENT_SECRET has"),
        ("GOSMARTER_CLIENT_SECRET", "\t", "CLIENT_SECRET is empty"),
        ("GOSMARTER_API_SCOPE", "api://x/.default ", "API_SCOPE has"),
        ("GOSMARTER_TOKEN_URL", "http://login.example.com/t", "TOKEN_URL must use"),
        ("GOSMARTER_TOKEN_URL", "ftp://login.example.com/t", "TOKEN_URL must be"),
        ("GOSMARTER_TOKEN_URL", "login.example.com/t", "TOKEN_URL must be"),
        ("GOSMARTER_GATEWAY_URL", "  ", "GATEWAY_URL is empty"),
        ("GOSMARTER_GATEWAY_URL", "http://api.example.com", "GATEWAY_URL must use"),
        ("GOSMARTER_GATEWAY_URL", "https://u:p@api.example.com", "credentials"),
    ],
)
def test_settings_from_env_bad_value_is_named(name: str, value: str, said: str) -> None:
    environ = {**GOOD, name: value}

    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(None, environ=environ)

    assert any(said in problem for problem in caught.value.problems)
    assert "s3cret-value-xyz" not in str(caught.value)


def test_settings_every_bad_value_is_reported_at_once() -> None:
    environ = {
        "GOSMARTER_CLIENT_ID": " ",
        "GOSMARTER_CLIENT_SECRET": " padded ",
        "GOSMARTER_TOKEN_URL": "http://example.com/token",
        "GOSMARTER_API_SCOPE": "x",
        "GOSMARTER_GATEWAY_URL": "gopher://api.example.com",
    }

    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(None, environ=environ)

    named = " ".join(caught.value.problems)
    for setting in ("CLIENT_ID", "CLIENT_SECRET", "TOKEN_URL", "GATEWAY_URL"):
        assert setting in named
    assert "padded" not in str(caught.value)
