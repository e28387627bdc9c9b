from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gosmarter_async.cli import cli
from gosmarter_async.cli._errors import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_USAGE,
)
from gosmarter_async.export import verify
from gosmarter_async.sandbox import Sandbox

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def invoke(*args: str, **env: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env or None)


def assert_one_line_error(result: Result, code: int, *fragments: str) -> None:
    assert code == result.exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines), result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


def test_demo_exports_verifies_and_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "demo"

    result = invoke(
        "demo", "--companies", "1", "--certificates", "3", "--out", str(out)
    )

    assert 0 == result.exit_code, result.output
    for row in (
        "certificates",
        "heats",
        "bytes",
        "requests",
        "retries",
        "token requests",
    ):
        assert row in result.stdout
    assert re.search(r"certificates\s*│\s*3\s*│", result.stdout)
    assert re.search(r"verified\s*│\s*yes", result.stdout)
    assert verify(out).ok


def test_export_all_companies_exports_every_company(
    sandbox_env: Sandbox, tmp_path: Path
) -> None:
    result = invoke("export", "--all-companies", "--out", str(tmp_path))

    assert 0 == result.exit_code, result.output
    assert sorted(sandbox_env.company_ids) == sorted(
        p.name for p in tmp_path.iterdir() if p.is_dir()
    )
    assert 8 == verify(tmp_path).certificates


def test_export_one_company_with_a_subset_of_files(
    sandbox_env: Sandbox, tmp_path: Path
) -> None:
    company = sandbox_env.company_ids[0]

    result = invoke(
        "export",
        "--company",
        company,
        "--out",
        str(tmp_path),
        "--include",
        "details,csv",
    )

    assert 0 == result.exit_code, result.output
    assert [company] == [p.name for p in tmp_path.iterdir() if p.is_dir()]
    assert not list(tmp_path.rglob("mtc.pdf"))
    assert 4 == len(list(tmp_path.rglob("details.json")))


def test_export_unknown_company_is_one_line_and_exit_api(
    sandbox_env: Sandbox, tmp_path: Path
) -> None:
    result = invoke("export", "--company", UNKNOWN, "--out", str(tmp_path))

    assert_one_line_error(result, EXIT_API, "404", UNKNOWN)


def test_export_missing_configuration_is_one_line_and_exit_usage(
    tmp_path: Path,
) -> None:
    result = invoke("export", "--company", UNKNOWN, "--out", str(tmp_path))

    assert_one_line_error(result, EXIT_USAGE, "CLIENT_ID", "CLIENT_SECRET")


def test_export_unwritable_out_is_one_line_and_exit_usage(
    sandbox_env: Sandbox, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    out = blocker / "out"

    result = invoke(
        "export", "--company", sandbox_env.company_ids[0], "--out", str(out)
    )

    assert_one_line_error(result, EXIT_USAGE, "cannot write to", str(out))


def test_export_wrong_secret_is_exit_auth_and_never_shows_the_secret(
    sandbox_env: Sandbox, tmp_path: Path
) -> None:
    secret = "a-wrong-but-secret-value-0123456789"

    result = invoke(
        "--verbose",
        "export",
        "--all-companies",
        "--out",
        str(tmp_path),
        GOSMARTER_CLIENT_SECRET=secret,
    )

    assert EXIT_AUTH == result.exit_code
    assert "invalid_client" in result.stderr
    assert secret not in result.output
    assert sandbox_env.settings.client_secret not in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--out", "x"], "--company ID"),
        (["--out", "x", "--all-companies", "--company", UNKNOWN], "--company ID"),
        (["--out", "x", "--company", "not-a-uuid"], "not a company id"),
        (["--out", "x", "--all-companies", "--include", "pdf"], "choose one or more"),
        (["--out", "x", "--all-companies", "--since", "yesterday"], "ISO 8601"),
        (["--out", "x", "--all-companies", "--concurrency", "0"], "--concurrency"),
    ],
)
def test_export_bad_options_are_usage_errors(args: list[str], fragment: str) -> None:
    result = invoke("export", *args)

    assert EXIT_USAGE == result.exit_code
    assert fragment in result.stderr
    assert "Traceback" not in result.output


def test_token_prints_claims_but_not_the_token(sandbox_env: Sandbox) -> None:
    result = invoke("token")

    assert 0 == result.exit_code, result.output
    described = json.loads(result.stdout)
    assert sandbox_env.user_id in (
        described["claims"]["oid"],
        described["claims"]["sub"],
    )
    assert "access_token" not in described
    assert not JWT.search(result.output)


def test_token_show_token_prints_the_token(sandbox_env: Sandbox) -> None:
    result = invoke("token", "--show-token")

    assert 0 == result.exit_code, result.output
    assert JWT.fullmatch(json.loads(result.stdout)["access_token"])


def test_request_prints_the_json_answer(sandbox_env: Sandbox) -> None:
    company = sandbox_env.company_ids[0]

    result = invoke(
        "request",
        "get",
        f"/api/company/{company}/mill-certifications",
        "--param",
        "pageSize=2",
    )

    assert 0 == result.exit_code, result.output
    page = json.loads(result.stdout)
    assert (2, 4) == (len(page["items"]), page["totalCount"])


def test_request_post_sends_the_json_body(sandbox_env: Sandbox) -> None:
    company = sandbox_env.company_ids[1]

    result = invoke(
        "request",
        "POST",
        f"/api/user/{sandbox_env.user_id}/companies/list",
        "--json",
        json.dumps([company]),
    )

    assert 0 == result.exit_code, result.output
    assert [company] == [c["companyId"] for c in json.loads(result.stdout)]


def test_request_bad_json_is_a_usage_error() -> None:
    result = invoke("request", "POST", "/x", "--json", "{nope")

    assert EXIT_USAGE == result.exit_code
    assert "not valid JSON" in result.stderr


def test_verbose_shows_the_traceback_of_an_expected_error(tmp_path: Path) -> None:
    result = invoke("--verbose", "token")

    assert EXIT_USAGE == result.exit_code
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


def test_env_file_option_is_read(sandbox: Sandbox, tmp_path: Path) -> None:
    env_file = tmp_path / "sandbox.env"
    s = sandbox.settings
    env_file.write_text(
        f"CLIENT_ID={s.client_id}\nCLIENT_SECRET={s.client_secret}\n"
        f"TOKEN_URL={s.token_url}\nAPI_SCOPE={s.scope}\nGATEWAY_URL={s.gateway_url}\n"
    )

    result = invoke("--env-file", str(env_file), "token")

    assert 0 == result.exit_code, result.output
