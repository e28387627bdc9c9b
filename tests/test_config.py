from __future__ import annotations

from pathlib import Path

import pytest

from gosmarter_async import ConfigurationError, Settings
from gosmarter_async._config import DEFAULT_GATEWAY_URL

SECRET = "cfg-s3cret-value-77"
BASE = {
    "CLIENT_ID": "client-1",
    "CLIENT_SECRET": SECRET,
    "TOKEN_URL": "https://login.example.test/t/oauth2/v2.0/token",
    "API_SCOPE": "api://gosmarter/.default",
}


def test_settings_from_env_reads_the_documented_names() -> None:
    settings = Settings.from_env(None, environ=BASE)

    assert ("client-1", SECRET, BASE["TOKEN_URL"], BASE["API_SCOPE"]) == (
        settings.client_id,
        settings.client_secret,
        settings.token_url,
        settings.scope,
    )
    assert DEFAULT_GATEWAY_URL == settings.gateway_url


def test_settings_from_env_prefixed_name_wins_over_the_plain_one() -> None:
    environ = {**BASE, "GOSMARTER_CLIENT_ID": "ours", "CLIENT_ID": "other-tool"}

    settings = Settings.from_env(None, environ=environ)

    assert "ours" == settings.client_id


def test_settings_from_env_empty_prefixed_value_falls_back_to_the_plain_one() -> None:
    environ = {**BASE, "GOSMARTER_API_SCOPE": ""}

    settings = Settings.from_env(None, environ=environ)

    assert BASE["API_SCOPE"] == settings.scope


def test_settings_from_env_environment_wins_over_the_dotenv_file(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "GOSMARTER_CLIENT_ID=from-file-prefixed\n"
        "CLIENT_SECRET=file-secret\n"
        "GOSMARTER_API_SCOPE=api://file/.default\n"
        "API_SCOPE=api://plain-file/.default\n"
        "TENANT_ID=filetenant\n"
    )
    environ = {"CLIENT_ID": "from-env-plain"}

    settings = Settings.from_env(env_file, environ=environ)

    assert "from-env-plain" == settings.client_id
    assert "file-secret" == settings.client_secret
    assert "api://file/.default" == settings.scope
    assert "filetenant" == settings.tenant_id


def test_settings_from_env_reads_dot_env_in_the_working_directory() -> None:
    Path(".env").write_text("".join(f"{k}={v}\n" for k, v in BASE.items()))

    settings = Settings.from_env(environ={})

    assert "client-1" == settings.client_id


def test_settings_from_env_missing_file_is_not_an_error(tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path / "absent.env", environ=BASE)

    assert "client-1" == settings.client_id


def test_settings_from_env_derives_the_token_url_from_the_tenant() -> None:
    environ = {k: v for k, v in BASE.items() if k != "TOKEN_URL"}
    environ["TENANT_ID"] = "contoso"

    settings = Settings.from_env(None, environ=environ)

    assert (
        "https://contoso.ciamlogin.com/contoso/oauth2/v2.0/token" == settings.token_url
    )


def test_settings_from_env_explicit_token_url_wins_over_the_tenant() -> None:
    settings = Settings.from_env(None, environ={**BASE, "TENANT_ID": "contoso"})

    assert BASE["TOKEN_URL"] == settings.token_url


def test_settings_from_env_names_every_missing_value_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(None, environ={})

    assert [
        "TOKEN_URL (or TENANT_ID) is not set",
        "CLIENT_ID (client id) is not set",
        "CLIENT_SECRET (client secret) is not set",
        "API_SCOPE (scope) is not set",
    ] == caught.value.problems
    assert isinstance(caught.value, ValueError)


def test_settings_from_env_names_missing_and_malformed_values_together() -> None:
    environ = {
        "CLIENT_ID": " padded",
        "TOKEN_URL": "http://login.example.test/token",
        "GATEWAY_URL": "ftp://gateway.example.test",
        "API_SCOPE": "api://x/.default",
    }

    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(None, environ=environ)

    assert [
        "CLIENT_SECRET (client secret) is not set",
        "CLIENT_ID has leading or trailing whitespace",
        "TOKEN_URL must use https:// (plain http is allowed only for loopback hosts)",
        "GATEWAY_URL must be an absolute https:// URL",
    ] == caught.value.problems


def test_settings_from_env_malformed_tenant_is_reported_once() -> None:
    environ = {k: v for k, v in BASE.items() if k != "TOKEN_URL"}
    environ["TENANT_ID"] = "not a tenant!"

    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(None, environ=environ)

    assert [
        "TENANT_ID must be a tenant name (letters, digits, hyphens)"
    ] == caught.value.problems


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/token", "http://localhost:9000/token", "http://[::1]/t"],
)
def test_settings_accepts_plain_http_for_loopback(url: str) -> None:
    settings = Settings.from_env(
        None, environ={**BASE, "TOKEN_URL": url, "GATEWAY_URL": url}
    )

    assert url == settings.token_url


@pytest.mark.parametrize(
    ("name", "url", "problem"),
    [
        ("TOKEN_URL", "http://login.example.test/t", "TOKEN_URL must use https://"),
        ("GATEWAY_URL", "http://api.example.test", "GATEWAY_URL must use https://"),
        ("TOKEN_URL", "https://user:pw@login.example.test/t", "credentials"),
    ],
)
def test_settings_refuses_unsafe_urls(name: str, url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        Settings.from_env(None, environ={**BASE, name: url})


def test_settings_repr_masks_the_secret() -> None:
    settings = Settings.from_env(None, environ=BASE)

    text = repr(settings)

    assert SECRET not in text
    assert "client_secret='***'" in text


def test_settings_errors_never_quote_the_secret() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings(
            client_id="c",
            client_secret=f" {SECRET}",
            token_url="http://login.example.test/t",
            scope="s",
        )

    assert SECRET not in str(caught.value)
    assert "CLIENT_SECRET has leading or trailing whitespace" in caught.value.problems
