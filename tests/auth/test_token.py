from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import attrs
import jwt
import pytest

from gosmarter_async._errors import TokenResponseError
from gosmarter_async.auth import AccessToken
from gosmarter_async.auth._token import (
    MAX_LIFETIME,
    SentAt,
    fingerprint,
    parse_expires_in,
    parse_token_response,
)
from tests.clock import FakeClock

VALUE = "opaque-token-value-7f3a"


def _parse(body: object, clock: FakeClock, default: float = 600.0) -> AccessToken:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_token_response(
        raw, status=200, sent=SentAt.now(clock), default_lifetime=default
    )


def test_access_token_repr_shows_type_expiry_and_fingerprint_never_the_value(
    clock: FakeClock,
) -> None:
    token = _parse(
        {"access_token": VALUE, "token_type": "Bearer", "expires_in": 60}, clock
    )

    text = repr(token)

    assert VALUE not in text
    assert VALUE not in str(token)
    assert token.fingerprint in text
    assert "2026-12-03T12:01:00+00:00" in text
    assert 8 == len(token.fingerprint)


def test_access_token_authorization_is_the_bearer_header_value(
    clock: FakeClock,
) -> None:
    token = _parse(
        {"access_token": VALUE, "token_type": "bearer", "expires_in": 60}, clock
    )

    assert f"Bearer {VALUE}" == token.authorization


def test_access_token_expires_in_counts_down_on_the_monotonic_clock(
    clock: FakeClock,
) -> None:
    token = _parse(
        {"access_token": VALUE, "token_type": "Bearer", "expires_in": 3600}, clock
    )

    clock.advance(600)

    assert 3000 == token.expires_in(clock)


def test_access_token_expires_in_follows_a_wall_clock_jump_forward(
    clock: FakeClock,
) -> None:
    token = _parse(
        {"access_token": VALUE, "token_type": "Bearer", "expires_in": 3600}, clock
    )

    # A suspended laptop: wall time moved on, the monotonic clock did not.
    clock._wall += timedelta(hours=2)

    assert token.expires_in(clock) < 0


def test_parse_token_response_measures_expiry_from_the_send_time(
    clock: FakeClock,
) -> None:
    sent = SentAt.now(clock)
    clock.advance(5)  # the answer took 5 s to arrive
    body = json.dumps(
        {"access_token": VALUE, "token_type": "Bearer", "expires_in": 100}
    )

    token = parse_token_response(
        body.encode(), status=200, sent=sent, default_lifetime=600
    )

    assert 95 == token.expires_in(clock)
    assert datetime(2026, 12, 3, 12, 1, 40, tzinfo=UTC) == token.expires_at


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3599, 3599.0), ("3599", 3599.0), (" 120 ", 120.0), (90.5, 90.5), ("1e3", 1000.0)],
)
def test_parse_expires_in_accepts_numbers_and_numeric_strings(
    raw: object, expected: float
) -> None:
    assert expected == parse_expires_in(raw)


@pytest.mark.parametrize(
    "raw",
    [
        True,
        False,
        0,
        -1,
        "0",
        "-5",
        "abc",
        "",
        "nan",
        "inf",
        "1e999",
        float("nan"),
        [3600],
        {"s": 1},
    ],
)
def test_parse_expires_in_rejects_values_that_are_not_a_positive_finite_number(
    raw: object,
) -> None:
    with pytest.raises(TokenResponseError, match="expires_in"):
        parse_expires_in(raw)


def test_parse_expires_in_clamps_a_lifetime_beyond_a_day() -> None:
    assert MAX_LIFETIME == parse_expires_in(10**12)


def test_parse_token_response_accepts_expires_in_as_a_numeric_string(
    clock: FakeClock,
) -> None:
    token = _parse(
        {"access_token": VALUE, "token_type": "Bearer", "expires_in": "3599"}, clock
    )

    assert 3599 == token.expires_in(clock)


def test_parse_token_response_falls_back_to_the_jwt_exp_claim(clock: FakeClock) -> None:
    exp = clock.now() + timedelta(minutes=30)
    value = jwt.encode({"exp": int(exp.timestamp())}, "k" * 32, algorithm="HS256")

    token = _parse(
        {"access_token": value, "token_type": "Bearer", "expires_in": None}, clock
    )

    assert exp == token.expires_at
    assert 1800 == token.expires_in(clock)


def test_parse_token_response_rejects_a_jwt_already_expired(clock: FakeClock) -> None:
    exp = clock.now() - timedelta(minutes=1)
    value = jwt.encode({"exp": int(exp.timestamp())}, "k" * 32, algorithm="HS256")

    with pytest.raises(TokenResponseError, match="past"):
        _parse({"access_token": value, "token_type": "Bearer"}, clock)


def test_parse_token_response_uses_the_default_lifetime_for_an_opaque_token(
    clock: FakeClock,
) -> None:
    token = _parse({"access_token": VALUE, "token_type": "Bearer"}, clock, default=600)

    assert 600 == token.expires_in(clock)


def test_parse_token_response_uses_the_default_lifetime_for_a_jwt_without_exp(
    clock: FakeClock,
) -> None:
    value = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")

    token = _parse({"access_token": value, "token_type": "Bearer"}, clock, default=450)

    assert 450 == token.expires_in(clock)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"token_type": "Bearer", "expires_in": 60}, "access_token"),
        ({"access_token": "", "token_type": "Bearer"}, "access_token"),
        ({"access_token": VALUE, "expires_in": 60}, "token_type"),
        ({"access_token": VALUE, "token_type": "mac", "expires_in": 60}, "token_type"),
        ([1, 2], "JSON object"),
    ],
)
def test_parse_token_response_rejects_an_answer_without_a_bearer_token(
    body: object, match: str, clock: FakeClock
) -> None:
    with pytest.raises(TokenResponseError, match=match) as caught:
        _parse(body, clock)

    assert VALUE not in str(caught.value)


def test_parse_token_response_gives_a_bounded_excerpt_of_an_html_page(
    clock: FakeClock,
) -> None:
    page = (
        b"<html><body>" + b"<p>Service is down for maintenance</p>" * 500 + b"</html>"
    )

    with pytest.raises(TokenResponseError) as caught:
        _parse(page, clock)

    assert 200 == caught.value.status
    assert caught.value.body_excerpt.startswith("<html><body><p>Service is down")
    assert len(caught.value.body_excerpt) <= 203


def test_access_token_fingerprint_is_fixed_at_creation_and_not_compared(
    clock: FakeClock,
) -> None:
    token = _parse(
        {"access_token": VALUE, "token_type": "Bearer", "expires_in": 60}, clock
    )
    twin = _parse(
        {"access_token": VALUE, "token_type": "Bearer", "expires_in": 60}, clock
    )

    fields = {f.name: f for f in attrs.fields(AccessToken)}

    assert fingerprint(VALUE) == token.fingerprint
    assert (token, hash(token)) == (twin, hash(twin))
    assert (False, False) == (fields["fingerprint"].eq, fields["fingerprint"].init)


def test_parse_token_response_expiry_error_carries_the_status(
    clock: FakeClock,
) -> None:
    body = {"access_token": VALUE, "token_type": "Bearer", "expires_in": ""}

    with pytest.raises(TokenResponseError) as caught:
        _parse(body, clock)

    assert (200, "expires_in is not a number") == (
        caught.value.status,
        str(caught.value),
    )
