"""Schemathesis against the sandbox: the emulator must stay faithful to the spec.

For every operation of `openapi/gosmarter-gateway.yaml`, Hypothesis generates
requests from the schema and Schemathesis checks each answer: no 5xx, a documented
status, content type, headers and body schema. The sandbox runs as its own process
with a bearer token from its own token endpoint.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import pytest

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (nox -s conformance does)"
)
from hypothesis import HealthCheck, settings  # noqa: E402 (after the skip)

from tests.conformance.prism import SPEC  # noqa: E402 (after the skip)

schema = schemathesis.openapi.from_path(SPEC)

# Enough examples to cover every parameter's shape; small enough that all eleven
# operations run in seconds on a shared two-core machine.
EXAMPLES = 25


def _token(env: dict[str, str]) -> str:
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": env["GOSMARTER_CLIENT_ID"],
            "client_secret": env["GOSMARTER_CLIENT_SECRET"],
            "scope": env["GOSMARTER_API_SCOPE"],
        }
    ).encode()
    url = env["GOSMARTER_TOKEN_URL"]
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, data=form, timeout=10) as answer:
        body: dict[str, Any] = json.load(answer)
    return str(body["access_token"])


@pytest.fixture(scope="module")
def gateway(sandbox_env: dict[str, str]) -> tuple[str, dict[str, str]]:
    headers = {"Authorization": f"Bearer {_token(sandbox_env)}"}
    return sandbox_env["GOSMARTER_GATEWAY_URL"], headers


# schemathesis's decorator is untyped; the test's own signature is typed.
@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_sandbox_answers_conform_to_the_spec(
    case: Any, gateway: tuple[str, dict[str, str]]
) -> None:
    base_url, headers = gateway

    case.call_and_validate(base_url=base_url, headers=headers, timeout=10)
