"""Helpers for the sandbox tests: tokens, authorised requests, spec schemas."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gosmarter_async.sandbox import Sandbox

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "gosmarter-gateway.yaml"


async def get_token(session: aiohttp.ClientSession, sandbox: Sandbox) -> str:
    settings = sandbox.settings
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        "scope": settings.scope,
    }
    async with session.post(settings.token_url, data=form) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    return str(body["access_token"])


class Api:
    """Authorised calls to one sandbox's gateway."""

    def __init__(
        self, session: aiohttp.ClientSession, sandbox: Sandbox, token: str
    ) -> None:
        self.session = session
        self.sandbox = sandbox
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, **kwargs: Any
    ) -> tuple[int, Mapping[str, str], bytes]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        url = self.sandbox.url + path
        async with self.session.request(
            method, url, headers=headers, **kwargs
        ) as response:
            return response.status, response.headers.copy(), await response.read()

    def certs(self, company_id: str) -> str:
        return f"/api/company/{company_id}/mill-certifications"


@functools.cache
def _spec() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    return dict(yaml.safe_load(SPEC.read_text(encoding="utf-8")))


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """Validate `instance` against a schema of the spec (OpenAPI 3.0 dialect)."""
    oas = pytest.importorskip("openapi_schema_validator")
    root = {**schema, "components": _spec()["components"]}
    validator = oas.OAS30Validator(root, format_checker=oas.oas30_format_checker)
    validator.validate(instance)


def schema_ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def array_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": schema_ref(name)}


def operation_ids() -> set[str]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {
        op["operationId"]
        for item in _spec()["paths"].values()
        for method, op in item.items()
        if method in methods
    }


def response_schema(operation_id: str, status: str) -> dict[str, Any] | None:
    for item in _spec()["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                content = op["responses"][status].get("content", {})
                media = content.get("application/json")
                return None if media is None else dict(media["schema"])
    raise KeyError(operation_id)
