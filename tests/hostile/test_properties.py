"""Property tests: whatever a server sends, parsing answers or raises our error.

Retry-After, token answers and problem details come from servers we do not control;
for any input, the parsers must return a sane value or raise the SDK's typed error,
never crash with something else or hand back nonsense (issue 6, item 4).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gosmarter_async import ProblemDetails, TokenResponseError
from gosmarter_async._retry import parse_retry_after
from gosmarter_async.auth._token import SentAt, parse_token_response

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SENT = SentAt(1000.0, NOW)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
header_names = st.sampled_from(
    ["Retry-After", "retry-after", "RETRY-AFTER", "retry-after-ms", "X-Other"]
)


@given(st.dictionaries(header_names, st.text(max_size=40), max_size=3))
def test_parse_retry_after_any_header_is_none_or_a_finite_non_negative_wait(
    headers: dict[str, str],
) -> None:
    wait = parse_retry_after(headers, NOW)

    assert wait is None or (math.isfinite(wait) and wait >= 0)


@given(st.integers(min_value=0, max_value=10**9))
def test_parse_retry_after_delay_seconds_are_read_exactly(seconds: int) -> None:
    assert float(seconds) == parse_retry_after({"Retry-After": str(seconds)}, NOW)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_parse_retry_after_http_date_is_the_time_until_it(offset: int) -> None:
    when = format_datetime(NOW + timedelta(seconds=offset), usegmt=True)

    wait = parse_retry_after({"Retry-After": when}, NOW)

    assert max(0.0, float(offset)) == wait


def _token_body(draw: Any) -> bytes:
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "access_token": json_values,
            "token_type": st.sampled_from(["Bearer", "bearer", "mac"]) | json_values,
            "expires_in": json_values | st.text(st.characters(), max_size=8),
        },
    )
    value = draw(st.one_of(shaped, json_values))
    return json.dumps(value).encode()


token_bodies = st.one_of(st.composite(_token_body)(), st.binary(max_size=200))


@settings(max_examples=300)
@given(token_bodies)
def test_token_answer_parses_or_raises_token_response_error(body: bytes) -> None:
    error: TokenResponseError | None = None
    try:
        token = parse_token_response(
            body, status=200, sent=SENT, default_lifetime=600.0
        )
    except TokenResponseError as exc:
        error = exc

    if error is not None:
        assert 200 == error.status
        assert len(error.body_excerpt) <= 203
        return
    assert isinstance(token.value, str)
    assert token.value
    assert math.isfinite(token.lifetime)
    assert token.lifetime > 0


@settings(max_examples=300)
@given(json_values)
def test_problem_details_from_any_json_is_none_or_well_typed(data: object) -> None:
    problem = ProblemDetails.from_json(data)

    if not isinstance(data, dict):
        assert problem is None
        return
    assert problem is not None
    for text in (problem.type, problem.title, problem.detail, problem.instance):
        assert text is None or isinstance(text, str)
    assert problem.status is None or type(problem.status) is int
    assert problem.request_id is None or isinstance(problem.request_id, str)
    assert problem.trace is None or isinstance(problem.trace, dict)
