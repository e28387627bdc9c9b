from __future__ import annotations

from gosmarter_async import _log

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"


def test_redact_headers_masks_credentials_case_insensitively() -> None:
    headers = {"Authorization": f"Bearer {JWT}", "COOKIE": "a=b", "Accept": "x"}

    redacted = _log.redact_headers(headers)

    assert {"Authorization": "[redacted]", "COOKIE": "[redacted]", "Accept": "x"} == (
        redacted
    )


def test_redact_url_drops_userinfo_and_masks_secret_params() -> None:
    url = "https://user:pw@example.com:8443/t?client_secret=s3cr3t&scope=a"

    redacted = _log.redact_url(url)

    assert "https://example.com:8443/t?client_secret=[redacted]&scope=a" == redacted


def test_redact_text_masks_jwts_bearer_values_fields_and_literals() -> None:
    text = (
        f'token {JWT} then Bearer opaque-value-123 and "client_secret": "abc" '
        "and literal hunter2"
    )

    redacted = _log.redact_text(text, secrets=["hunter2"])

    for leaked in (JWT, "opaque-value-123", '"abc"', "hunter2"):
        assert leaked not in redacted
    assert "Bearer [redacted]" in redacted


def test_excerpt_is_bounded_folded_and_marks_cuts() -> None:
    body = b"<html>\n  <body>" + b"x" * 10_000 + b"</body></html>"

    text = _log.excerpt(body, limit=100)

    assert len(text) <= 103
    assert text.startswith("<html> <body>xxx")
    assert text.endswith("...")


def test_excerpt_survives_invalid_utf8() -> None:
    text = _log.excerpt(b"ok \xff\xfe bad")

    assert text.startswith("ok ")
    assert "bad" in text
