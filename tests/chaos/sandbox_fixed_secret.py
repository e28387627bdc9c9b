"""`python -m tests.chaos.sandbox_fixed_secret`: the sandbox with a stable secret.

The same command line as `python -m gosmarter_async.sandbox`, but the client secret
comes from `GOSMARTER_SANDBOX_SECRET` instead of being drawn at random per process,
so that a restarted sandbox accepts the credentials its clients already hold. It
stands in for the `--client-secret` option the sandbox lacks (see the
sandbox-restart scenario's known bug).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from gosmarter_async.sandbox import Faults, RateLimit, Sandbox, serve
from gosmarter_async.sandbox.__main__ import build_parser, sandbox_from_args


def main(argv: list[str] | None = None) -> int:
    """Serve a sandbox configured by `argv` with the secret from the environment."""
    args = build_parser().parse_args(argv)
    probe = sandbox_from_args(args)
    faults: Faults = probe.faults
    sandbox = Sandbox(
        seed=args.seed,
        companies=args.companies,
        certificates_per_company=args.certificates,
        faults=faults,
        token_lifetime=args.token_lifetime,
        strict_scope=args.strict_scope,
        host=args.host,
        port=args.port,
        rate_limit=RateLimit(per_second=args.rate_limit, burst=args.rate_burst),
        upload_delay=args.upload_delay,
        client_secret=os.environ["GOSMARTER_SANDBOX_SECRET"],
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(sandbox))
    return 0


if __name__ == "__main__":
    sys.exit(main())
