"""The bugs the chaos scenarios exposed, each pinned by a deterministic test.

The first (MTC renders not retried) is fixed and stays as a regression test.

Each is `xfail(strict=True)` until its fix lands (the fix is proposed in the chaos
report to the lead); an XPASS then fails the run, and the mark must go, together
with the scenario's `known_bug`.
"""

from __future__ import annotations

from pathlib import Path

from gosmarter_async import RetryPolicy
from gosmarter_async._client import GoSmarterClient
from gosmarter_async.export import export_certificates
from gosmarter_async.export._layout import cert_dir
from gosmarter_async.sandbox import Faults, Sandbox
from tests.chaos.harness import SandboxProcess, leftovers

# Enough attempts that a retried call fails only with probability 0.5**30; MTC
# renders are retried only when the caller says they are safe (e28e407).
PATIENT = RetryPolicy(max_attempts=30, assume_idempotent=True).without_waits()


async def test_mtc_generation_is_retried_after_503s_when_assumed_idempotent() -> None:
    faults = Faults(error_rate=0.5, seed=11)
    async with Sandbox(seed=2, companies=1, certificates_per_company=20) as sandbox:
        company = sandbox.company_ids[0]
        async with GoSmarterClient(sandbox.settings, retry=PATIENT) as client:
            resource = client.mill_certifications
            ids = [
                str(s.mill_certification_id)
                async for s in resource.iter_mill_certifications(company)
            ]
            sandbox.faults = faults

            # Without retries, 20 calls all succeed with probability 1e-6.
            for cert_id in ids:
                stream = resource.generate_material_test_certificate(company, cert_id)
                pdf = await stream.read()

                assert pdf.startswith(b"%PDF")


def test_sandbox_process_restarted_with_the_same_secret_env_keeps_it(
    tmp_path: Path,
) -> None:
    sandbox = SandboxProcess(
        ("--seed", "5", "--companies", "1"), tmp_path / "log", secret="kept-1a2b"
    )
    try:
        sandbox.start()
        before = sandbox.env["GOSMARTER_CLIENT_SECRET"]
        sandbox.kill()
        sandbox.start()
        after = sandbox.env["GOSMARTER_CLIENT_SECRET"]
    finally:
        sandbox.stop()

    assert "kept-1a2b" == before == after


async def test_export_rerun_removes_part_files_a_killed_stream_save_left(
    tmp_path: Path,
) -> None:
    async with Sandbox(seed=2, companies=1, certificates_per_company=3) as sandbox:
        company = sandbox.company_ids[0]
        async with GoSmarterClient(sandbox.settings) as client:
            first = await anext(
                aiter(client.mill_certifications.iter_mill_certifications(company))
            )
            directory = cert_dir(tmp_path, company, str(first.mill_certification_id))
            directory.mkdir(parents=True)
            # What _streams._temporary_beside names a save in progress.
            (directory / ".scans.zip.k1ll3d.part").write_bytes(b"PK\x03\x04 half")

            await export_certificates(client, out_dir=tmp_path, company_ids=[company])

    assert [] == leftovers(tmp_path)
